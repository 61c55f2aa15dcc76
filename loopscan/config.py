"""Project configuration: ``loopscan.yaml`` or ``[tool.loopscan]`` in ``pyproject.toml``.

The nearest of the two, from the working directory upward, is used;
``--config FILE`` names one directly. A config that cannot be used stops the
run with exit 2 and a message that names the file, the line and the key.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopscan.findings import Severity

CONFIG_NAMES = ("loopscan.yaml", "loopscan.yml")

RULE_ID_PATTERN = r"^[A-Z][A-Z0-9_.-]*$"
"""What a rule id or id prefix looks like: upper-case, letters first (the config schema says the same)."""
PREFIX_FIX = "use a rule id or id prefix such as LS3 or LS301; 'loopscan rules' lists them"
EXACT_FIX = "use one rule id such as LS301, not a prefix; 'loopscan rules' lists them"

_RULE_ID = re.compile(RULE_ID_PATTERN)
_NON_FINITE = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
"""YAML's spellings of infinity and not-a-number; the YAML loader keeps them as strings."""
_POLICY_NUMBERS = {
    "max_synthetic": "a finite number between 0 and 1; write a share such as 0.3",
    "drill_every_days": "a whole number of days; write one such as 92",
    "override_max_days": "a whole number of days; write one such as 90",
}


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


@dataclass(frozen=True)
class RuleIdUse:
    """One rule id or id prefix as the user wrote it, and where, so that a wrong one can be pointed at.

    ``where`` is ``--select``, ``--ignore``, ``loopscan.yaml:3:5: ignore[0]`` or
    ``pyproject.toml [tool.loopscan]: severity key``; ``kind`` is ``select``,
    ``ignore`` or ``severity`` (a severity entry names one rule, not a prefix).
    """

    value: object
    where: str
    kind: str
    from_config: bool = False

    @property
    def exact(self) -> bool:
        return self.kind == "severity"

    def message(self, problem: str, suggestion: str | None = None, hint: str = "") -> str:
        """``--select 'ls3' is not a rule id: ids are upper-case (did you mean 'LS3'?); use ...``."""
        mean = f" (did you mean {suggestion!r}?)" if suggestion else ""
        return f"{self.where} {self.value!r} {problem}{mean}{hint}; {EXACT_FIX if self.exact else PREFIX_FIX}"


def rule_id_syntax_problem(value: object) -> tuple[str, str | None] | None:
    """What is wrong with ``value`` as a rule id or prefix whatever the rules, and the id it may mean.

    >>> rule_id_syntax_problem("LS3") is None, rule_id_syntax_problem("ls301"), rule_id_syntax_problem("")
    (True, ('is not a rule id: ids are upper-case', 'LS301'), ('is empty', None))
    """
    if not isinstance(value, str):
        return "is not a rule id", None
    if not value.strip():
        return "is empty", None
    if _RULE_ID.fullmatch(value):
        return None
    fixed = "".join(value.split()).upper()
    if not _RULE_ID.fullmatch(fixed):
        return "is not a rule id", None
    return ("is not a rule id: ids are upper-case" if value.strip() != value.strip().upper()
            else "is not a rule id: ids have no spaces"), fixed


@dataclass(frozen=True)
class Policy:
    """The organisation's numbers that the rules enforce."""

    max_synthetic: float = 0.3
    gate_methods: tuple[str, ...] = ("human-review", "classifier", "score-filter", "dedup")
    loop_gate_detects: tuple[str, ...] = ("synthetic", "quality", "incorrect")
    """A gate stops a loop when it detects one of these (its ``detects``, or its method's default)."""
    diversity_metrics: tuple[str, ...] = ()
    """Metric names that count as diversity monitoring (LS402) beside the known ones."""
    drill_every_days: int = 92
    override_max_days: int = 90


@dataclass(frozen=True)
class Config:
    """Everything a run is configured with; defaults when no file is found."""

    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None
    paths: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    lineage: tuple[str, ...] = ()
    """OpenLineage event files or folders ``check`` reads when given no ``--lineage``."""
    policy: Policy = field(default_factory=Policy)
    severity: dict[str, Severity] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    rules_dirs: tuple[str, ...] = ()
    rule_ids: tuple[RuleIdUse, ...] = field(default=(), compare=False, repr=False)
    """Each ``ignore`` entry and ``severity`` key with where it was written, for the check against the
    loaded rules (only then is it known whether an id names a rule)."""


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
        # Found even when [tool.loopscan] is not a table, so that load_config says so instead of passing it by.
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
        if table is not None and not isinstance(table, dict):
            raise ConfigError(f"{_shown(source)} [tool.loopscan]: must be a table, not {_toml_type(table)}; "
                              "write the settings as keys under a [tool.loopscan] header, e.g. ignore = [\"LS003\"]")
        return parse_config(table or {}, source, lambda key: " [tool.loopscan]")
    return _load_yaml_config(source)


def parse_config(data: Any, source: Path, where: Callable[[tuple[Any, ...]], str]) -> Config:
    """Check ``data`` against ``schemas/config.schema.json`` and convert it.

    ``where(path)`` tells where a key was written (``:3:5``), for the message.
    """
    from loopscan.sources.schema import CONFIG_SCHEMA, schema_errors

    shown = _shown(source)
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: the configuration must be a mapping")
    # Before the schema, whose words for these would be wrong ("must be a number, not a string" for .nan).
    _check_policy_numbers(data, shown, where)
    rule_ids = _rule_id_uses(data, shown, where)
    _check_rule_id_syntax(rule_ids)
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
        lineage=tuple(data.get("lineage", ())),
        policy=Policy(
            max_synthetic=float(policy.get("max_synthetic", defaults.max_synthetic)),
            gate_methods=tuple(policy.get("gate_methods", defaults.gate_methods)),
            loop_gate_detects=tuple(policy.get("loop_gate_detects", defaults.loop_gate_detects)),
            diversity_metrics=tuple(policy.get("diversity_metrics", defaults.diversity_metrics)),
            drill_every_days=policy.get("drill_every_days", defaults.drill_every_days),
            override_max_days=policy.get("override_max_days", defaults.override_max_days),
        ),
        severity={str(rule_id): Severity.parse(level) for rule_id, level in data.get("severity", {}).items()},
        ignore=tuple(data.get("ignore", ())),
        rules_dirs=tuple(data.get("rules_dirs", ())),
        rule_ids=tuple(rule_ids),
    )


def _check_policy_numbers(data: dict[Any, Any], shown: str, where: Callable[[tuple[Any, ...]], str]) -> None:
    """``nan`` and ``inf`` (TOML), ``.nan`` and ``.inf`` (YAML, read as strings) are not usable numbers.

    Compared with a minimum or maximum, nan passes both; said to be a string, .nan puzzles the user.
    """
    policy = data.get("policy")
    if not isinstance(policy, dict):
        return
    for key, expected in _POLICY_NUMBERS.items():
        value = policy.get(key)
        written = _non_finite(value)
        if written is not None:
            raise ConfigError(f"{shown}{where(('policy', key))}: config key 'policy.{key}': "
                              f"{written} is not {expected}")


def _non_finite(value: Any) -> str | None:
    """How a non-finite number was written (``.nan``, ``-inf``), or None for anything else."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, str) and _NON_FINITE.fullmatch(value):
        return value
    return None


def _rule_id_uses(data: dict[Any, Any], shown: str, where: Callable[[tuple[Any, ...]], str]) -> list[RuleIdUse]:
    """The ``ignore`` entries and ``severity`` keys, each with where it was written.

    Only the parts of the right type: a wrong type is the schema's to report.
    """
    uses: list[RuleIdUse] = []
    ignore = data.get("ignore")
    if isinstance(ignore, list):
        uses.extend(RuleIdUse(value, f"{shown}{where(('ignore', index))}: ignore[{index}]", "ignore", True)
                    for index, value in enumerate(ignore) if isinstance(value, str))
    severity = data.get("severity")
    if isinstance(severity, dict):
        uses.extend(RuleIdUse(key, f"{shown}{where(('severity', key))}: severity key", "severity", True)
                    for key in severity)
    return uses


def _check_rule_id_syntax(uses: list[RuleIdUse]) -> None:
    """An empty, lower-case or badly spelt id stops every command, not only those that load rules."""
    for use in uses:
        problem = rule_id_syntax_problem(use.value)
        if problem is not None:
            raise ConfigError(use.message(*problem))


def config_from_bytes(source: Path, raw: bytes) -> Config | None:
    """The config written in ``raw`` as if it were the file ``source`` (the config of a git revision).

    None for a ``pyproject.toml`` without ``[tool.loopscan]``; :class:`ConfigError` as :func:`load_config`.
    """
    if source.name != "pyproject.toml":
        return _load_yaml_config(source, raw)
    table = _pyproject_table(source, raw)
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{_shown(source)} [tool.loopscan]: must be a table, not {_toml_type(table)}")
    return None if table is None else parse_config(table, source, lambda key: " [tool.loopscan]")


def _load_yaml_config(source: Path, raw: bytes | None = None) -> Config:
    from loopscan.sources.yamlsource import load_bytes

    try:
        loaded = load_bytes(source.read_bytes() if raw is None else raw, _shown(source))
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


def _pyproject_table(pyproject: Path, raw: bytes | None = None) -> Any:
    """The value of ``tool.loopscan`` (a table, unless written wrongly), or None when there is none."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        data = tomllib.loads(pyproject.read_text("utf-8") if raw is None else raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"cannot read '{_shown(pyproject)}': {err}") from None
    tool = data.get("tool")
    return tool.get("loopscan") if isinstance(tool, dict) else None


def _toml_type(value: Any) -> str:
    """``'strict'`` -> ``a string``: a TOML value's type, in words."""
    if isinstance(value, bool):
        return "true or false"
    words = {str: "a string", int: "an integer", float: "a number", list: "an array"}
    return next((word for kind, word in words.items() if isinstance(value, kind)), "a date or time")


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    return display_path(str(path))


def display_path(path: str) -> str:
    """``/work/repo/a/b.yaml`` -> ``a/b.yaml`` when the working directory is /work/repo."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    return absolute if relative.startswith("..") else relative
