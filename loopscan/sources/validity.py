"""A compiled validity test for the shipped schemas: the fast path of LS002 and of the config check.

jsonschema walks its validator objects and resolves every ``$ref`` for each
value it checks, which made schema validation the largest part of a scan of
thousands of manifests. Almost every document is valid, and a valid document
needs no error messages, so :func:`compile_schema` writes a schema once as
Python source (a function per ``$ref`` target, every other keyword an inline
test, as fastjsonschema does), and :func:`is_valid` answers in a fraction of
the time. Only when it says no does :mod:`loopscan.sources.schema` ask jsonschema
for the errors, in words, at the offending node; so the messages come from one place.

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
from dataclasses import dataclass
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


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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

_INLINE_DEPTH = 12
"""How deep children are written inline; deeper ones are functions (Python limits nested blocks to 20)."""
_INLINED_REFERENCES = 2000
"""How many references are written inline in all, before the rest become calls: a bound on the source."""
_GUARDED = {"object": "dict", "array": "list", "string": "str"}
"""The types whose keywords test the type first: once a value is known to be one, the test is left out."""

def _exactly_one(branches: tuple[Predicate, ...], value: Any) -> bool:
    matched = 0
    for branch in branches:
        if branch(value):
            matched += 1
            if matched > 1:
                return False
    return matched == 1


@dataclass
class _Split:
    """The lines of a conjunction, kept in two parts: the cheap tests, then those that walk into children."""

    cheap: list[str]
    deep: list[str]


class _Program:
    """The Python source of the compiled schemas, and the values it refers to by name."""

    def __init__(self) -> None:
        self.functions: list[str] = []
        self.typed: dict[str, str] = {}
        """The variables of the function being written whose Python type a line above has tested."""
        self.inlining: list[tuple[int, str]] = []
        """The references being written inline, by compiler and pointer: one met again is a call."""
        self.inlined = 0
        self.namespace: dict[str, Any] = {"_json_equal": json_equal, "_no_repeats": _no_repeats,
                                          "_is_date": is_date, "_exactly_one": _exactly_one}
        self.count = 0

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def constant(self, value: Any) -> str:
        """A name the source uses for ``value``: strings and integers are written as literals."""
        if type(value) in (str, int):
            return repr(value)
        name = self.fresh("_c")
        self.namespace[name] = value
        return name

    def define(self, name: str, body: list[str]) -> None:
        self.functions.append("\n".join([f"def {name}(v):", *body, "    return True"]))

    def build(self) -> dict[str, Any]:
        """Run the source; its functions by name."""
        exec(compile("\n\n".join(self.functions), "<loopscan compiled schema>", "exec"), self.namespace)
        return self.namespace


class _Compiler:
    """Writes one schema document as Python source; each ``$ref`` target is one function, shared.

    A schema's keywords become ``if not <test>: return False`` lines, and the
    children that ``properties``, ``items`` and ``allOf`` walk into are written
    inline, inside the loop or the lookup, so that a value costs one call per
    reference it passes through, not one per keyword. ``anyOf``, ``oneOf`` and
    ``not`` need a child's answer, so each of their branches is a function.
    ``others`` compiles the documents that references by absolute URI name (by
    their ``$id``); ``formats`` False compiles ``format`` as the annotation
    jsonschema takes it for when it is given no format checker.
    """

    def __init__(self, root: dict[str, Any], program: _Program, others: dict[str, _Compiler] | None = None,
                 formats: bool = True) -> None:
        self.root = root
        self.program = program
        self.references: dict[str, str] = {}
        self.others = others if others is not None else {}
        self.formats = formats

    def resolve(self, pointer: str) -> tuple[_Compiler, str, Any]:
        """The compiler of the document a reference points into, the pointer within it, and the schema there."""
        if not pointer.startswith("#"):
            base, _, fragment = pointer.partition("#")
            other = self.others.get(base)
            if other is None:
                raise Unsupported(f"a reference to an unknown document: {pointer}")
            return other.resolve("#" + fragment)
        target: Any = self.root
        for part in filter(None, pointer[1:].split("/")):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise Unsupported(f"unresolvable reference {pointer}")
            target = target[part]
        return self, pointer, target

    def reference(self, pointer: str) -> str:
        """The function of a reference, written on first use."""
        compiler, local, target = self.resolve(pointer)
        found = compiler.references.get(local)
        if found is not None:
            return found
        name = compiler.references[local] = self.program.fresh("ref")  # named first: a reference to itself
        compiler.define(name, target)
        return name

    def function(self, schema: Any) -> str:
        """A function of its own for ``schema``."""
        name = self.program.fresh("schema")
        self.define(name, schema)
        return name

    def define(self, name: str, schema: Any) -> None:
        program = self.program
        typed, program.typed = program.typed, {}  # what is known of ``v`` belongs to the function around
        program.define(name, self.lines(schema, "v", 1))
        program.typed = typed

    def guarded(self, var: str, type_name: str, depth: int, build: Callable[[int], list[str]]) -> list[str]:
        """The lines ``build`` writes at a depth, under a test that ``var`` is a ``type_name`` unless one above
        has made it known."""
        if self.program.typed.get(var) == type_name:
            return build(depth)
        return self.block(f"if isinstance({var}, {type_name}):", build(depth + 1), depth)

    def is_a(self, var: str, type_name: str) -> str:
        """The test that ``var`` is a ``type_name``, or "" when a line above has made it known."""
        return "" if self.program.typed.get(var) == type_name else f"isinstance({var}, {type_name})"

    def lines(self, schema: Any, var: str, depth: int) -> list[str]:
        """The lines that return False when the value in ``var`` fails ``schema``, indented ``depth`` levels."""
        split = self.split(schema, var, depth)
        return split.cheap + split.deep

    def split(self, schema: Any, var: str, depth: int) -> _Split:
        """The lines of :meth:`lines`, the cheap tests apart from those that walk into children.

        The cheap tests of every ``allOf`` branch and inlined reference go first, so that a value that fails
        one (an event of another kind, without a required key) is never walked. The order of a conjunction
        does not change its answer; a type test is always cheap, so it still comes before every line that
        leaves it out because a line above made it known.
        """
        indent = "    " * depth
        split = _Split([], [])
        if schema is True:
            return split
        if schema is False:
            split.cheap.append(indent + "return False")
            return split
        if not isinstance(schema, dict):
            raise Unsupported(f"a schema is a mapping or a boolean, not {schema!r}")
        if depth > _INLINE_DEPTH:
            split.deep.append(f"{indent}if not {self.function(schema)}({var}): return False")
            return split
        names = sorted((name for name in schema if name not in ANNOTATIONS),
                       key=lambda name: (name in _DEEP, name != "type"))
        for name in names:
            method = getattr(self, "k_" + name.lstrip("$"), None)
            if method is None:
                raise Unsupported(f"keyword {name!r}")
            test = method(schema[name], schema, var, depth)
            if isinstance(test, _Split):
                split.cheap += test.cheap
                split.deep += test.deep
            elif test:
                lines = [f"{indent}if not ({test}): return False"] if isinstance(test, str) else test
                (split.deep if name in _DEEP else split.cheap).extend(lines)
        return split

    def block(self, header: str, body: list[str], depth: int) -> list[str]:
        """``header`` with ``body`` under it, or nothing when there is nothing to check."""
        return [f"{'    ' * depth}{header}", *body] if body else []

    def k_ref(self, pointer: str, schema: dict[str, Any], var: str, depth: int) -> str | _Split:
        compiler, local, target = self.resolve(pointer)
        key = (id(compiler), local)
        program = self.program
        if key in program.inlining or program.inlined >= _INLINED_REFERENCES:
            return f"{self.reference(pointer)}({var})"
        program.inlined += 1
        program.inlining.append(key)
        try:
            return compiler.split(target, var, depth)
        finally:
            program.inlining.pop()

    def k_defs(self, definitions: Any, schema: dict[str, Any], var: str, depth: int) -> None:
        return None  # written when referenced

    def k_type(self, names: str | list[str], schema: dict[str, Any], var: str, depth: int) -> str | None:
        tests = {"object": f"isinstance({var}, dict)", "array": f"isinstance({var}, list)",
                 "string": f"isinstance({var}, str)", "boolean": f"isinstance({var}, bool)",
                 "null": f"{var} is None", "number": f"isinstance({var}, (int, float)) and not isinstance({var}, bool)",
                 "integer": f"isinstance({var}, int) and not isinstance({var}, bool) "
                            f"or isinstance({var}, float) and {var}.is_integer()"}
        wanted = [names] if isinstance(names, str) else list(names)
        if not wanted or any(name not in tests for name in wanted):
            raise Unsupported(f"type {names!r}")
        if len(wanted) == 1 and wanted[0] in _GUARDED:
            type_name = _GUARDED[wanted[0]]
            if self.program.typed.get(var) == type_name:
                return None
            self.program.typed[var] = type_name  # the line is written next, and returns when it fails
        return " or ".join(f"({tests[name]})" for name in wanted)

    def k_const(self, constant: Any, schema: dict[str, Any], var: str, depth: int) -> str:
        return f"_json_equal({self.program.constant(_scalar_constant(constant))}, {var})"

    def k_enum(self, choices: list[Any], schema: dict[str, Any], var: str, depth: int) -> str:
        allowed = [_scalar_constant(choice) for choice in choices]
        if all(isinstance(choice, str) for choice in allowed):
            return f"isinstance({var}, str) and {var} in {self.program.constant(frozenset(allowed))}"
        return f"any(_json_equal(choice, {var}) for choice in {self.program.constant(tuple(allowed))})"

    def k_pattern(self, pattern: str, schema: dict[str, Any], var: str, depth: int) -> str:
        search = self.program.constant(re.compile(pattern).search)
        guard = self.is_a(var, "str")
        return f"not {guard} or {search}({var}) is not None" if guard else f"{search}({var}) is not None"

    def _bound(self, kind: str, operator: str, bound: Any, var: str) -> str:
        if not _is_number(bound):
            raise Unsupported(f"a bound of {bound!r}")
        measured = f"len({var})" if kind in ("str", "list") else var
        guard = self.is_a(var, kind) if kind != "number" else \
            f"isinstance({var}, (int, float)) and not isinstance({var}, bool)"
        test = f"{measured} {operator} {self.program.constant(bound)}"
        return f"not ({guard}) or {test}" if guard else test

    def k_minLength(self, least: int, schema: dict[str, Any], var: str, depth: int) -> str:
        return self._bound("str", ">=", least, var)

    def k_maxLength(self, most: int, schema: dict[str, Any], var: str, depth: int) -> str:
        return self._bound("str", "<=", most, var)

    def k_minItems(self, least: int, schema: dict[str, Any], var: str, depth: int) -> str:
        return self._bound("list", ">=", least, var)

    def k_minimum(self, least: float, schema: dict[str, Any], var: str, depth: int) -> str:
        return self._bound("number", ">=", least, var)

    def k_maximum(self, most: float, schema: dict[str, Any], var: str, depth: int) -> str:
        return self._bound("number", "<=", most, var)

    def k_uniqueItems(self, unique: bool, schema: dict[str, Any], var: str, depth: int) -> str | None:
        if not unique:
            return None
        guard = self.is_a(var, "list")
        return f"not {guard} or _no_repeats({var})" if guard else f"_no_repeats({var})"

    def k_format(self, name: str, schema: dict[str, Any], var: str, depth: int) -> str | None:
        if not self.formats:
            return None
        if name != "date":
            raise Unsupported(f"format {name!r}")
        return f"_is_date({var})"

    def k_required(self, names: list[str], schema: dict[str, Any], var: str, depth: int) -> str | None:
        if not names:
            return None
        present = " and ".join(f"{self.program.constant(name)} in {var}" for name in names)
        guard = self.is_a(var, "dict")
        return f"not {guard} or ({present})" if guard else present

    def k_items(self, items: Any, schema: dict[str, Any], var: str, depth: int) -> list[str]:
        if "prefixItems" in schema:
            raise Unsupported("items with prefixItems")
        item = self.program.fresh("x")
        return self.guarded(var, "list", depth, lambda at: self.block(
            f"for {item} in {var}:", self.lines(items, item, at + 1), at))

    def k_propertyNames(self, names: Any, schema: dict[str, Any], var: str, depth: int) -> list[str]:
        key = self.program.fresh("x")
        return self.guarded(var, "dict", depth, lambda at: self.block(
            f"for {key} in {var}:", self.lines(names, key, at + 1), at))

    def k_allOf(self, branches: list[Any], schema: dict[str, Any], var: str, depth: int) -> _Split:
        split = _Split([], [])
        for branch in branches:
            part = self.split(branch, var, depth)
            split.cheap += part.cheap
            split.deep += part.deep
        return split

    def k_anyOf(self, branches: list[Any], schema: dict[str, Any], var: str, depth: int) -> str | _Split:
        if len(branches) == 1:  # one branch is a conjunction: written inline, as ``allOf`` is
            return self.k_allOf(branches, schema, var, depth)
        return " or ".join(f"{self.function(branch)}({var})" for branch in branches) or "False"

    def k_not(self, negated: Any, schema: dict[str, Any], var: str, depth: int) -> str:
        return f"not {self.function(negated)}({var})"

    def k_oneOf(self, branches: list[Any], schema: dict[str, Any], var: str, depth: int) -> str | _Split:
        if len(branches) == 1:
            return self.k_allOf(branches, schema, var, depth)
        if not branches:
            return "False"
        if len(branches) <= 4:  # a sum of few calls costs less than a loop over them
            return " + ".join(f"{self.function(branch)}({var})" for branch in branches) + " == 1"
        functions = "".join(f"{self.function(branch)}, " for branch in branches)
        return f"_exactly_one(({functions}), {var})"

    def k_properties(self, properties: dict[str, Any], schema: dict[str, Any], var: str, depth: int) -> list[str]:
        if "patternProperties" in schema:
            raise Unsupported("patternProperties")
        return self.guarded(var, "dict", depth, lambda at: self._properties(properties, schema, var, at))

    def _properties(self, properties: dict[str, Any], schema: dict[str, Any], var: str, depth: int) -> list[str]:
        indent = "    " * depth
        body: list[str] = []
        # ``required`` is a cheap test, so it ran above: a required key is there, and needs no ``in``
        required = set(schema.get("required", ()))
        for key, sub in properties.items():
            item, name = self.program.fresh("x"), self.program.constant(key)
            if key in required:
                checks = self.lines(sub, item, depth)
                body += [f"{indent}{item} = {var}[{name}]", *checks] if checks else []
                continue
            checks = self.lines(sub, item, depth + 1)
            if checks:  # ``in`` and a subscript: cheaper than a call of ``get``
                body += [f"{indent}if {name} in {var}:", f"{indent}    {item} = {var}[{name}]", *checks]
        extra = schema.get("additionalProperties", True)
        if extra is not True:
            named = self.program.constant(frozenset(properties))
            if extra is False:
                body.append(f"{indent}if not {named}.issuperset({var}): return False")
            else:
                key, item = self.program.fresh("k"), self.program.fresh("x")
                others = self.block(f"if {key} not in {named}:", self.lines(extra, item, depth + 2), depth + 1)
                body += self.block(f"for {key}, {item} in {var}.items():", others, depth)
        return body

    def k_additionalProperties(self, extra: Any, schema: dict[str, Any], var: str, depth: int) -> list[str] | None:
        if "properties" in schema:
            return None  # checked with the properties
        if "patternProperties" in schema:
            raise Unsupported("patternProperties")
        item = self.program.fresh("x")
        return self.guarded(var, "dict", depth, lambda at: self.block(
            f"for {item} in {var}.values():", self.lines(extra, item, at + 1), at))


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
    program = _Program()
    others: dict[str, _Compiler] = {}
    for resource in resources:
        others[resource["$id"]] = _Compiler(resource, program, others, formats)
    name = _Compiler(schema, program, others, formats).function(schema)
    predicate: Predicate = program.build()[name]
    return predicate


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
