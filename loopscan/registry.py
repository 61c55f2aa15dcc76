"""Where rules come from: loopscan's own modules, installed plugins, and rule folders.

* ``loopscan.rules``: the built-in rules, one module per rule in a folder per
  play, shipped from the top-level ``rules/`` folder;
* the entry-point group ``loopscan.rules``: each entry names a module (whose
  :class:`Rule` objects are taken) or a single :class:`Rule`;
* ``--rules-dir DIR``: every ``*.py`` file in DIR. Rule modules are code, so a
  folder named in a scanned repository's config is loaded only when the user
  trusts that config (see the CLI's ``--trust-config``).

The ids a user writes (``--select``, ``--ignore``, the config's ``ignore`` and
``severity``) are checked against the loaded rules by :func:`choose`: a typo
in ``--select``, or an ignore entry such as ``L`` or ``""``, would otherwise
leave no rule to run, and the run would say "No findings".
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import pkgutil
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from difflib import get_close_matches
from pathlib import Path
from types import ModuleType
from typing import Any

from loopscan.config import RuleIdUse, rule_id_syntax_problem
from loopscan.rule import Rule

BUILTIN_PACKAGE = "loopscan.rules"
ENTRY_POINT_GROUP = "loopscan.rules"


class RuleLoadError(Exception):
    """A rule module could not be loaded, or two rules share an id."""


class RuleIdError(Exception):
    """A rule id the user wrote cannot be right; the message says where, why and the fix."""


def rules_in(module: ModuleType) -> list[Rule]:
    """The :class:`Rule` objects a module defines, in the order it defines them."""
    return [value for value in vars(module).values() if isinstance(value, Rule)]


def builtin_rules() -> list[Rule]:
    """Every rule that ships with loopscan."""
    return [rule for module in builtin_rule_modules() for rule in rules_in(module)]


def builtin_rule_modules() -> list[ModuleType]:
    """Every module of ``loopscan.rules`` and its play folders, sorted by name (package ``__init__``s excluded)."""
    package = importlib.import_module(BUILTIN_PACKAGE)
    infos = pkgutil.walk_packages(package.__path__, prefix=f"{BUILTIN_PACKAGE}.")
    return [importlib.import_module(info.name) for info in sorted(infos, key=lambda i: i.name) if not info.ispkg]


def plugin_rules() -> list[Rule]:
    """Rules from installed packages that declare the ``loopscan.rules`` entry point."""
    from importlib.metadata import entry_points

    found: list[Rule] = []
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            loaded: Any = entry.load()
        except Exception as err:  # a broken plugin must not look like a broken manifest
            raise RuleLoadError(f"cannot load rule plugin {entry.name!r} ({entry.value}): {err}") from err
        found.extend([loaded] if isinstance(loaded, Rule) else rules_in(loaded))
    return found


def rules_from_dir(folder: Path) -> list[Rule]:
    """Rules from every ``*.py`` file in ``folder`` (not recursive), sorted by file name."""
    if not folder.is_dir():
        raise RuleLoadError(f"rules folder '{folder}' does not exist")
    found: list[Rule] = []
    for path in sorted(folder.glob("*.py")):
        # A digest, not hash(): the module name must not change with PYTHONHASHSEED.
        digest = hashlib.sha256(str(path.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        name = f"loopscan_rules_dir_{digest}_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise RuleLoadError(f"cannot load rule module '{path}'")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as err:
            raise RuleLoadError(f"cannot load rule module '{path}': {type(err).__name__}: {err}") from err
        found.extend(rules_in(module))
    return found


def all_rules(rule_dirs: Iterable[Path] = ()) -> list[Rule]:
    """Built-in, plugin and folder rules, sorted by id; two rules with one id is an error."""
    collected = [*builtin_rules(), *plugin_rules()]
    for folder in rule_dirs:
        collected.extend(rules_from_dir(folder))
    by_id: dict[str, Rule] = {}
    for item in collected:
        if item.id in by_id and by_id[item.id] is not item:
            raise RuleLoadError(f"two rules share the id {item.id}: {by_id[item.id].name!r} and {item.name!r}")
        by_id[item.id] = item
    return sorted(by_id.values(), key=lambda r: r.id)


def selected(rules: Iterable[Rule], select: Iterable[str] = (), ignore: Iterable[str] = ()) -> Iterator[Rule]:
    """Rules whose id starts with a ``select`` prefix (all when empty) and no ``ignore`` prefix.

    >>> from loopscan.rule import rule
    >>> rs = [rule(i, i, severity="error", play=0)(lambda p: []) for i in ("LS101", "LS301", "LS302")]
    >>> [r.id for r in selected(rs, select=["LS3"], ignore=["LS302"])]
    ['LS301']
    """
    select, ignore = tuple(select), tuple(ignore)
    for item in rules:
        if (not select or item.id.startswith(select)) and not item.id.startswith(ignore):
            yield item


def choose(rules: Sequence[Rule], uses: Sequence[RuleIdUse], config_rules_unloaded: bool = False) -> list[Rule]:
    """The rules to run: ``selected`` by the ``select`` and ``ignore`` uses, once every use is checked.

    Raises :class:`RuleIdError` for the first use that is misspelt or names no
    loaded rule (``L`` names none: it cuts ``LS`` short). ``config_rules_unloaded``:
    the config's ``rules_dirs`` were not loaded (not trusted), so an id in the
    config may name one of their rules, and is not an error for being absent.

    >>> from loopscan.rule import rule
    >>> rs = [rule(i, i, severity="error", play=0)(lambda p: []) for i in ("LS101", "LS301", "LS302")]
    >>> [r.id for r in choose(rs, [RuleIdUse("LS3", "--select", "select")])]
    ['LS301', 'LS302']
    >>> choose(rs, [RuleIdUse("LS3O1", "--select", "select")])
    Traceback (most recent call last):
    ...
    loopscan.registry.RuleIdError: --select 'LS3O1' is not the id or id prefix of any loaded rule (did you mean \
'LS301'?); use a rule id or id prefix such as LS3 or LS301; 'loopscan rules' lists them
    """
    for use in uses:
        _check_use(use, rules, config_rules_unloaded)
    select = [str(use.value) for use in uses if use.kind == "select"]
    ignore = [str(use.value) for use in uses if use.kind == "ignore"]
    return list(selected(rules, select, ignore))


def _check_use(use: RuleIdUse, rules: Sequence[Rule], config_rules_unloaded: bool) -> None:
    """Raise :class:`RuleIdError` when ``use`` is misspelt, or names none of ``rules`` the way it must."""
    spelling = rule_id_syntax_problem(use.value)
    if spelling is not None:
        problem, suggestion = spelling
        raise RuleIdError(use.message(problem, _suggestion(use, rules, suggestion)))
    problem_or_none = _existence_problem(use, rules)
    if problem_or_none is None:
        return
    problem, absent = problem_or_none
    if not absent:  # the id is close to right already: the problem says what to change
        raise RuleIdError(use.message(problem))
    if use.from_config and config_rules_unloaded:
        return  # it may name a rule of the config's rules_dirs, which were not loaded
    hint = "; the config's rules_dirs were not loaded (--trust-config loads them)" if config_rules_unloaded else ""
    raise RuleIdError(use.message(problem, _suggestion(use, rules, None), hint))


def _family(rule_id: str) -> str:
    """The letters an id starts with: ``LS`` of ``LS301``. A prefix keeps them whole."""
    match = re.match(r"[A-Z]*", rule_id)
    return match.group() if match else ""


def _prefixes(rule_id: str) -> list[str]:
    """``LS301`` -> ``LS``, ``LS3``, ``LS30``, ``LS301``: what selects it."""
    return [rule_id[:end] for end in range(max(len(_family(rule_id)), 1), len(rule_id) + 1)]


def _existence_problem(use: RuleIdUse, rules: Sequence[Rule]) -> tuple[str, bool] | None:
    """What is wrong with a well-spelt id given the loaded rules, and whether it is that none has it.

    None when it names some of them: a prefix such as ``LS3`` (not ``L``: that
    cuts into the letters of ``LS``), or for ``severity`` one exact id.
    """
    value = str(use.value)
    ids = sorted(rule.id for rule in rules)
    if value in ids:
        return None
    whole = [rule_id for rule_id in ids if value in _prefixes(rule_id)]
    if whole and not use.exact:
        return None
    if whole:
        shown = ", ".join(whole[:3]) + (", ..." if len(whole) > 3 else "")
        return f"is an id prefix (of {shown}), not one rule's id", False
    cut = [rule_id for rule_id in ids if rule_id.startswith(value)]
    if cut and not use.exact:
        return f"cuts the letters {_family(cut[0])!r} short: it is not a rule id or id prefix", False
    return ("is not the id of any loaded rule" if use.exact else "is not the id or id prefix of any loaded rule"), True


def _suggestion(use: RuleIdUse, rules: Sequence[Rule], fallback: str | None) -> str | None:
    """The id or prefix the user probably meant (``ls301`` -> ``LS301``), among the loaded rules."""
    ids = sorted(rule.id for rule in rules)
    # A bare family (``LS``) is never suggested: as an ignore entry it switches off every rule of it.
    choices = ids if use.exact else sorted({p for rule_id in ids for p in _prefixes(rule_id)[1:]} | set(ids))
    wanted = fallback or "".join(str(use.value).split()).upper()
    if wanted in choices:
        return wanted
    close = get_close_matches(wanted, choices, n=1)
    return close[0] if close else None
