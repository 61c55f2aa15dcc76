"""Where rules come from: loopscan's own modules, installed plugins, and rule folders.

* ``loopscan.checks.*`` (the per-node checks) and ``loopscan.rules.*`` (the
  loop rules, shipped from the top-level ``rules/`` folder);
* the entry-point group ``loopscan.rules``: each entry names a module (whose
  :class:`Rule` objects are taken) or a single :class:`Rule`;
* ``--rules-dir DIR``: every ``*.py`` file in DIR. Rule modules are code, so a
  folder named in a scanned repository's config is loaded only when the user
  trusts that config (see the CLI's ``--trust-config``).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from loopscan.rule import Rule

BUILTIN_PACKAGES = ("loopscan.checks", "loopscan.rules")
ENTRY_POINT_GROUP = "loopscan.rules"


class RuleLoadError(Exception):
    """A rule module could not be loaded, or two rules share an id."""


def rules_in(module: ModuleType) -> list[Rule]:
    """The :class:`Rule` objects a module defines, in the order it defines them."""
    return [value for value in vars(module).values() if isinstance(value, Rule)]


def builtin_rules() -> list[Rule]:
    """Every rule that ships with loopscan."""
    found: list[Rule] = []
    for package_name in BUILTIN_PACKAGES:
        package = importlib.import_module(package_name)
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            found.extend(rules_in(importlib.import_module(f"{package_name}.{info.name}")))
    return found


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
