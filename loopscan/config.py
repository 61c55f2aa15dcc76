"""Project configuration: ``loopscan.yaml`` or ``[tool.loopscan]`` in ``pyproject.toml``.

The nearest of the two, from the working directory upward, is used;
``--config FILE`` names one directly. A config that cannot be used stops the
run with exit 2 and a message that names the file, the line and the key.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopscan.findings import Severity

CONFIG_NAMES = ("loopscan.yaml", "loopscan.yml")


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Policy:
    """The organisation's numbers that the rules enforce."""

    max_synthetic: float = 0.3
    gate_methods: tuple[str, ...] = ("human-review", "classifier", "score-filter", "dedup")
    drill_every_days: int = 92
    override_max_days: int = 90


@dataclass(frozen=True)
class Config:
    """Everything a run is configured with; defaults when no file is found."""

    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None
    paths: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    policy: Policy = field(default_factory=Policy)
    severity: dict[str, Severity] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    rules_dirs: tuple[str, ...] = ()


_KEYS = {"paths", "exclude", "policy", "severity", "ignore", "rules_dirs"}
_POLICY_KEYS = {
    "max_synthetic": (float, int),
    "gate_methods": (list,),
    "drill_every_days": (int,),
    "override_max_days": (int,),
}


def find_config(start: Path) -> Path | None:
    """The nearest ``loopscan.yaml`` or ``pyproject.toml`` with ``[tool.loopscan]``.

    Walks from ``start`` up to the file system root; the first folder that has
    either wins (``loopscan.yaml`` first when a folder has both).
    """
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            if (folder / name).is_file():
                return folder / name
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _pyproject_table(pyproject) is not None:
            return pyproject
    return None


def load_config(explicit: Path | None = None, start: Path | None = None) -> Config:
    """Load ``explicit`` or the nearest config; raise :class:`ConfigError` when unusable."""
    if explicit is not None and not explicit.is_file():
        raise ConfigError(f"config file '{explicit}' does not exist")
    source = explicit or find_config(start or Path.cwd())
    if source is None:
        return Config(root=start or Path.cwd())
    if source.name == "pyproject.toml":
        table = _pyproject_table(source)
        return parse_config(table or {}, source, lambda key: " [tool.loopscan]")
    return _load_yaml_config(source)


def parse_config(data: Any, source: Path, where: Any) -> Config:
    """Check and convert a config mapping; ``where(key)`` tells where a key was written."""
    shown = _shown(source)
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: the configuration must be a mapping")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        allowed = ", ".join(sorted(_KEYS))
        raise ConfigError(f"{shown}{where((unknown[0],))}: unknown config key {unknown[0]!r} (known: {allowed})")

    def strings(key: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{shown}{where((key,))}: {key!r} must be a list of strings")
        return tuple(value)

    policy = data.get("policy", {})
    if not isinstance(policy, dict):
        raise ConfigError(f"{shown}{where(('policy',))}: 'policy' must be a mapping")
    for key, value in policy.items():
        types = _POLICY_KEYS.get(key)
        if types is None:
            known = ", ".join(_POLICY_KEYS)
            raise ConfigError(f"{shown}{where(('policy', key))}: unknown policy key {key!r} (known: {known})")
        if isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(f"{shown}{where(('policy', key))}: policy.{key} has the wrong type")
    if not 0 <= policy.get("max_synthetic", 0) <= 1:
        raise ConfigError(f"{shown}{where(('policy', 'max_synthetic'))}: policy.max_synthetic must be within 0..1")

    severity = data.get("severity", {})
    if not isinstance(severity, dict):
        raise ConfigError(f"{shown}{where(('severity',))}: 'severity' must map rule ids to error|warning|info")
    severities: dict[str, Severity] = {}
    for rule_id, level in severity.items():
        try:
            severities[str(rule_id)] = Severity.parse(str(level))
        except ValueError as err:
            raise ConfigError(f"{shown}{where(('severity', rule_id))}: {err}") from None

    defaults = Policy()
    return Config(
        root=source.parent,
        source=source,
        paths=strings("paths"),
        exclude=strings("exclude"),
        policy=Policy(
            max_synthetic=float(policy.get("max_synthetic", defaults.max_synthetic)),
            gate_methods=tuple(policy.get("gate_methods", defaults.gate_methods)),
            drill_every_days=policy.get("drill_every_days", defaults.drill_every_days),
            override_max_days=policy.get("override_max_days", defaults.override_max_days),
        ),
        severity=severities,
        ignore=strings("ignore"),
        rules_dirs=strings("rules_dirs"),
    )


def _load_yaml_config(source: Path) -> Config:
    from loopscan.yamlsource import load_bytes

    try:
        loaded = load_bytes(source.read_bytes(), _shown(source))
    except OSError as err:
        raise ConfigError(f"cannot read config '{_shown(source)}': {err.strerror}") from None
    if loaded.problems:
        first = loaded.problems[0].problem
        raise ConfigError(f"{first.location}: {first.message}")
    if not loaded.documents or loaded.documents[0].data is None:
        return Config(root=source.parent, source=source)
    document = loaded.documents[0]

    def where(path: tuple[Any, ...]) -> str:
        location = document.key_location(path)
        return f":{location.line}:{location.column}"

    return parse_config(document.data, source, where)


def _pyproject_table(pyproject: Path) -> dict[str, Any] | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(pyproject.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"cannot read '{_shown(pyproject)}': {err}") from None
    table = data.get("tool", {}).get("loopscan")
    return table if isinstance(table, dict) else None


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    return display_path(str(path))


def display_path(path: str) -> str:
    """``/work/repo/a/b.yaml`` -> ``a/b.yaml`` when the working directory is /work/repo."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    return absolute if relative.startswith("..") else relative
