"""Project configuration: ``loopscan.yaml`` or ``[tool.loopscan]`` in ``pyproject.toml``.

The nearest of the two, from the working directory upward, is used;
``--config FILE`` names one directly. A config that cannot be used stops the
run with exit 2 and a message that names the file, the line and the key.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
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


def parse_config(data: Any, source: Path, where: Callable[[tuple[Any, ...]], str]) -> Config:
    """Check ``data`` against ``schemas/config.schema.json`` and convert it.

    ``where(path)`` tells where a key was written (``:3:5``), for the message.
    """
    from loopscan.schema import CONFIG_SCHEMA, schema_errors

    shown = _shown(source)
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: the configuration must be a mapping")
    errors = schema_errors(CONFIG_SCHEMA, data)
    if errors:
        first = errors[0]
        detail = first.detail.replace("unknown key", "unknown config key", 1)
        if first.on_key:
            message = f"{detail} in {first.field}" if first.field else detail
        else:
            message = f"config key {first.field!r}: {detail}"
        raise ConfigError(f"{shown}{where(first.path)}: {message}")

    policy = data.get("policy", {})
    defaults = Policy()
    return Config(
        root=source.parent,
        source=source,
        paths=tuple(data.get("paths", ())),
        exclude=tuple(data.get("exclude", ())),
        policy=Policy(
            max_synthetic=float(policy.get("max_synthetic", defaults.max_synthetic)),
            gate_methods=tuple(policy.get("gate_methods", defaults.gate_methods)),
            drill_every_days=policy.get("drill_every_days", defaults.drill_every_days),
            override_max_days=policy.get("override_max_days", defaults.override_max_days),
        ),
        severity={str(rule_id): Severity.parse(level) for rule_id, level in data.get("severity", {}).items()},
        ignore=tuple(data.get("ignore", ())),
        rules_dirs=tuple(data.get("rules_dirs", ())),
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
