"""A compiled validity test for the shipped schemas: the fast path of LS002 and of the config check.

jsonschema walks its validator objects and resolves every ``$ref`` for each
value it checks, which made schema validation the largest part of a scan of
thousands of manifests. Almost every document is valid, and a valid document
needs no error messages, so :func:`compile_schema` turns a schema into plain
Python predicates once, and :func:`is_valid` answers in a fraction of the
time. Only when it says no does :mod:`loopscan.sources.schema` ask jsonschema for the
errors, in words, at the offending node; so the messages come from one place.

The predicates follow jsonschema's Draft 2020-12 semantics for exactly the
keywords the shipped schemas use (``bool`` is neither a number nor an
integer, ``1.0`` is an integer, ``pattern`` searches, ``format: date`` is
checked as jsonschema's format checker does). A schema with any other
keyword is refused (:class:`Unsupported`), and the caller falls back to
jsonschema for every document: a wrong "valid" is never possible, at worst
a slow one. Nothing is imported from jsonschema here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any

Predicate = Callable[[Any], bool]

ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated",
                         "readOnly", "writeOnly", "example"})
"""Keywords that describe a schema and never fail a value."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


class Unsupported(Exception):
    """The schema uses a keyword (or a value of one) that this compiler does not know."""


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Predicate] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "number": _is_number,
    "integer": lambda value: (isinstance(value, int) and not isinstance(value, bool))
    or (isinstance(value, float) and value.is_integer()),
}


def json_equal(one: Any, two: Any) -> bool:
    """Equality as JSON Schema means it for scalars: ``True`` is not ``1``, ``1`` is ``1.0``.

    >>> json_equal(1, 1.0), json_equal(1, True), json_equal("a", "a"), json_equal(None, 0)
    (True, False, True, False)
    """
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    if one is None or two is None:
        return one is None and two is None
    return one == two


def is_date(value: Any) -> bool:
    """jsonschema's ``format: date``: a non-string passes; a string must be a real YYYY-MM-DD date.

    >>> is_date("2026-02-28"), is_date("2026-02-30"), is_date("2026-2-1"), is_date(20260101)
    (True, False, False, True)
    """
    if not isinstance(value, str):
        return True
    if not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _scalar_constant(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        raise Unsupported("enum and const take only scalars here")
    return value


def _no_repeats(items: list[Any]) -> bool:
    """True when no two scalar items are JSON-equal; False (ask jsonschema) for lists of lists or mappings.

    >>> _no_repeats(["a", "b"]), _no_repeats(["a", "a"]), _no_repeats([1, True]), _no_repeats([1, 1.0])
    (True, False, True, False)
    """
    for index, item in enumerate(items):
        if isinstance(item, (list, dict)):
            return False
        if any(json_equal(item, other) for other in items[index + 1:]):
            return False
    return True


_DEEP = frozenset({"properties", "additionalProperties", "items", "propertyNames", "allOf", "anyOf", "oneOf",
                   "$ref"})
"""Keywords that walk into a value's children or other schemas: checked after the rest of their schema."""


class _Compiler:
    """Compiles one schema document; ``$ref`` targets are compiled once each and shared.

    ``others`` compiles the documents that references by absolute URI name (by
    their ``$id``); ``formats`` False compiles ``format`` as the annotation
    jsonschema takes it for when it is given no format checker.
    """

    def __init__(self, root: dict[str, Any], others: dict[str, _Compiler] | None = None,
                 formats: bool = True) -> None:
        self.root = root
        self.compiled: dict[str, Predicate] = {}
        self.others = others or {}
        self.formats = formats

    def reference(self, pointer: str) -> Predicate:
        """The predicate of a ``#/...`` reference (or of one into a document of ``others``), compiled on first use."""
        if not pointer.startswith("#"):
            base, _, fragment = pointer.partition("#")
            other = self.others.get(base)
            if other is None:
                raise Unsupported(f"a reference to an unknown document: {pointer}")
            return other.reference("#" + fragment)
        found = self.compiled.get(pointer)
        if found is not None:
            return found
        slot: list[Predicate] = []
        self.compiled[pointer] = lambda value: slot[0](value)  # for a reference to itself
        target: Any = self.root
        for part in filter(None, pointer[1:].split("/")):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise Unsupported(f"unresolvable reference {pointer}")
            target = target[part]
        slot.append(self.schema(target))
        self.compiled[pointer] = slot[0]
        return slot[0]

    def schema(self, schema: Any) -> Predicate:
        """The predicate of one (sub)schema: all of its keywords must hold."""
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise Unsupported(f"a schema is a mapping or a boolean, not {schema!r}")
        # the cheap checks first: a value that fails one is never walked by the checks of its children
        names = sorted((name for name in schema if name not in ANNOTATIONS), key=lambda name: name in _DEEP)
        keywords = (self.keyword(name, schema[name], schema) for name in names)
        checks = [check for check in keywords if check is not None]
        if not checks:
            return _always
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            first, second = checks
            return lambda value: first(value) and second(value)

        if len(checks) == 3:
            first, second, third = checks
            return lambda value: first(value) and second(value) and third(value)
        return lambda value: all(check(value) for check in checks)

    def keyword(self, name: str, value: Any, schema: dict[str, Any]) -> Predicate | None:
        """One keyword's predicate; None for a keyword that only works with a sibling."""
        method = getattr(self, "k_" + name.lstrip("$"), None)
        if method is None:
            raise Unsupported(f"keyword {name!r}")
        return method(value, schema)

    def k_ref(self, pointer: str, schema: dict[str, Any]) -> Predicate:
        return self.reference(pointer)

    def k_defs(self, definitions: Any, schema: dict[str, Any]) -> None:
        return None  # compiled when referenced

    def k_type(self, names: str | list[str], schema: dict[str, Any]) -> Predicate:
        wanted = [names] if isinstance(names, str) else list(names)
        if any(name not in _TYPES for name in wanted):
            raise Unsupported(f"type {names!r}")
        checks = [_TYPES[name] for name in wanted]
        if len(checks) == 1:
            return checks[0]
        return lambda value: any(check(value) for check in checks)

    def k_const(self, constant: Any, schema: dict[str, Any]) -> Predicate:
        expected = _scalar_constant(constant)
        return lambda value: json_equal(expected, value)

    def k_enum(self, choices: list[Any], schema: dict[str, Any]) -> Predicate:
        allowed = [_scalar_constant(choice) for choice in choices]
        if all(isinstance(choice, str) for choice in allowed):
            strings = frozenset(allowed)
            return lambda value: isinstance(value, str) and value in strings
        return lambda value: any(json_equal(choice, value) for choice in allowed)

    def k_pattern(self, pattern: str, schema: dict[str, Any]) -> Predicate:
        search = re.compile(pattern).search
        return lambda value: not isinstance(value, str) or search(value) is not None

    def k_minLength(self, least: int, schema: dict[str, Any]) -> Predicate:
        return lambda value: not isinstance(value, str) or len(value) >= least

    def k_maxLength(self, most: int, schema: dict[str, Any]) -> Predicate:
        return lambda value: not isinstance(value, str) or len(value) <= most

    def k_minItems(self, least: int, schema: dict[str, Any]) -> Predicate:
        return lambda value: not isinstance(value, list) or len(value) >= least

    def k_uniqueItems(self, unique: bool, schema: dict[str, Any]) -> Predicate:
        if not unique:
            return _always
        return lambda value: not isinstance(value, list) or _no_repeats(value)

    def k_minimum(self, least: float, schema: dict[str, Any]) -> Predicate:
        return lambda value: not _is_number(value) or value >= least

    def k_maximum(self, most: float, schema: dict[str, Any]) -> Predicate:
        return lambda value: not _is_number(value) or value <= most

    def k_format(self, name: str, schema: dict[str, Any]) -> Predicate | None:
        if not self.formats:
            return None
        if name != "date":
            raise Unsupported(f"format {name!r}")
        return is_date

    def k_required(self, names: list[str], schema: dict[str, Any]) -> Predicate:
        needed = tuple(names)
        return lambda value: not isinstance(value, dict) or all(map(value.__contains__, needed))

    def k_items(self, items: Any, schema: dict[str, Any]) -> Predicate:
        if "prefixItems" in schema:
            raise Unsupported("items with prefixItems")
        each = self.schema(items)
        return lambda value: not isinstance(value, list) or all(map(each, value))

    def k_propertyNames(self, names: Any, schema: dict[str, Any]) -> Predicate:
        each = self.schema(names)
        return lambda value: not isinstance(value, dict) or all(map(each, value))

    def k_allOf(self, branches: list[Any], schema: dict[str, Any]) -> Predicate:
        compiled = [self.schema(branch) for branch in branches]
        if len(compiled) == 1:
            return compiled[0]
        if len(compiled) == 2:
            first, second = compiled
            return lambda value: first(value) and second(value)
        return lambda value: all(branch(value) for branch in compiled)

    def k_anyOf(self, branches: list[Any], schema: dict[str, Any]) -> Predicate:
        compiled = [self.schema(branch) for branch in branches]
        if len(compiled) == 1:
            return compiled[0]
        return lambda value: any(branch(value) for branch in compiled)

    def k_not(self, negated: Any, schema: dict[str, Any]) -> Predicate:
        compiled = self.schema(negated)
        return lambda value: not compiled(value)

    def k_oneOf(self, branches: list[Any], schema: dict[str, Any]) -> Predicate:
        compiled = [self.schema(branch) for branch in branches]

        def exactly_one(value: Any) -> bool:
            matched = 0
            for branch in compiled:
                if branch(value):
                    matched += 1
                    if matched > 1:
                        return False
            return matched == 1

        return exactly_one

    def k_properties(self, properties: dict[str, Any], schema: dict[str, Any]) -> Predicate:
        if "patternProperties" in schema:
            raise Unsupported("patternProperties")
        named = {key: self.schema(sub) for key, sub in properties.items()}
        extra = schema.get("additionalProperties", True)
        others = None if extra is True else self.schema(extra)
        if others is None:  # only the named keys are checked: look those up rather than walk every key
            checked = tuple((key, sub) for key, sub in named.items() if sub is not _always)

            def check_named(value: Any) -> bool:
                if not isinstance(value, dict):
                    return True
                for key, sub in checked:  # noqa: SIM110  (a loop: all() over a generator is slower here)
                    if key in value and not sub(value[key]):
                        return False
                return True

            return check_named

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for key, item in value.items():
                sub = named.get(key) if isinstance(key, str) else None
                if sub is not None:
                    if not sub(item):
                        return False
                elif others is not None and not others(item):
                    return False
            return True

        return check

    def k_additionalProperties(self, extra: Any, schema: dict[str, Any]) -> Predicate | None:
        if "properties" in schema:
            return None  # checked with the properties, in one pass over the keys
        if "patternProperties" in schema:
            raise Unsupported("patternProperties")
        if extra is True:
            return None
        each = self.schema(extra)
        return lambda value: not isinstance(value, dict) or all(map(each, value.values()))


def compile_schema(schema: dict[str, Any], resources: tuple[dict[str, Any], ...] = (),
                   formats: bool = True) -> Predicate:
    """A predicate that is True exactly when jsonschema finds no error in a value (Draft 2020-12).

    ``resources`` are the documents its references may name by their ``$id``;
    ``formats`` False matches a jsonschema validator given no format checker
    (``format`` is then an annotation). Raises :class:`Unsupported` for a
    schema that uses a keyword it does not know.

    >>> valid = compile_schema({"type": "object", "required": ["a"], "additionalProperties": False,
    ...                         "properties": {"a": {"type": "integer", "minimum": 1}}})
    >>> valid({"a": 2}), valid({"a": 0}), valid({"a": True}), valid({"a": 1, "b": 2}), valid({})
    (True, False, False, False, False)
    """
    others: dict[str, _Compiler] = {}
    for resource in resources:
        others[resource["$id"]] = _Compiler(resource, others, formats)
    return _Compiler(schema, others, formats).schema(schema)


@cache
def _predicate(name: str) -> Predicate | None:
    """The compiled predicate of a shipped schema, or None when it cannot be compiled."""
    from loopscan.sources.schema import load_schema

    try:
        return compile_schema(load_schema(name))
    except Unsupported:
        return None


def is_valid(name: str, data: Any) -> bool:
    """True when ``data`` certainly matches the shipped schema ``name``; False means "ask jsonschema".

    >>> is_valid("config.schema.json", {"ignore": ["LS104"]}), is_valid("config.schema.json", {"ignor": []})
    (True, False)
    """
    predicate = _predicate(name)
    return predicate is not None and predicate(data)
