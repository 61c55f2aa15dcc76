"""Validate data against the schemas loopscan ships (manifests: LS002; the config).

Each validator is compiled once and reused for every file: a valid document
is recognised by the predicates of :mod:`loopscan.sources.validity`, and jsonschema
(imported only then) describes the errors of one that is not. Each error is
reported at the node it is about: an unknown key at the key, a wrong value at
the value, a missing field at the mapping that lacks it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from loopscan.findings import Location, Problem
from loopscan.sources.yamlsource import YamlDocument
from loopscan.wording import did_you_mean

PIPELINE_SCHEMA = "pipeline.schema.json"
CONFIG_SCHEMA = "config.schema.json"


@dataclass(frozen=True)
class SchemaError:
    """One schema error, in words: ``field`` is the dotted path, ``detail`` what is wrong."""

    path: tuple[Any, ...]
    field: str
    detail: str
    on_key: bool = False
    """True when the error is about the key at ``path`` (unknown or badly named), not its value."""
    unknown_key: bool = False
    """True when the key at ``path`` is one the schema does not know (a misspelt field, say)."""


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema as shipped inside the package (``schemas/`` in the repository)."""
    return json.loads(resources.files("loopscan.schemas").joinpath(name).read_text("utf-8"))


def pipeline_schema() -> dict[str, Any]:
    """The manifest schema."""
    return load_schema(PIPELINE_SCHEMA)


@cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_errors(name: str, data: Any) -> list[SchemaError]:
    """Every error of ``data`` against the shipped schema ``name``, in words.

    >>> [e.detail for e in schema_errors(CONFIG_SCHEMA, {"ignor": []})]
    ["unknown key 'ignor' (did you mean 'ignore'?)"]
    """
    from loopscan.sources.validity import is_valid

    if is_valid(name, data):  # the compiled fast path: jsonschema is asked only to describe errors
        return []
    return [described for error in _leaf_errors(_validator(name).iter_errors(data)) for described in _described(error)]


def validate(document: YamlDocument) -> Iterator[Problem]:
    """Yield one problem per schema error, sorted by position in the file.

    >>> from loopscan.sources.yamlsource import load_text
    >>> doc = load_text("loopscan: 1\\npipeline: p\\nowner: x\\nstepz: {}\\n", "p.yaml").documents[0]
    >>> [(str(p.location), p.message) for p in validate(doc)]
    [('p.yaml:4:1', "unknown field 'stepz' (did you mean 'steps'?)")]
    """
    for error in sorted_errors(document, schema_errors(PIPELINE_SCHEMA, document.data)):
        yield Problem(manifest_message(error), error_location(document, error))


def error_location(document: YamlDocument, error: SchemaError) -> Location:
    """Where a manifest's schema error is reported: at the key it is about, else at the value."""
    return document.key_location(error.path) if error.on_key else document.location(error.path)


def sorted_errors(document: YamlDocument, errors: list[SchemaError]) -> list[SchemaError]:
    """The errors in the order of the file: by line, column and message."""

    def position(error: SchemaError) -> tuple[int, int, str]:
        location = error_location(document, error)
        return location.line, location.column, manifest_message(error)

    return sorted(errors, key=position)


def manifest_message(error: SchemaError) -> str:
    """``unknown field 'x' in steps.s``, or ``steps.s.kind: 'y' is not one of: ...``."""
    if error.detail.startswith("unknown key"):
        message = "unknown field" + error.detail[len("unknown key"):]
        return f"{message} in {error.field}" if error.field else message
    return f"{error.field or 'manifest'}: {error.detail}"


def _leaf_errors(errors: Any) -> Iterator[Any]:
    """For a oneOf/anyOf failure, the errors of the branch that came closest."""
    for error in errors:
        if error.validator in ("oneOf", "anyOf") and error.context:
            yield from _leaf_errors(_closest_branch(error))
        else:
            yield error


def _closest_branch(error: Any) -> list[Any]:
    """The errors of the one branch written for this kind of value, else jsonschema's best guess.

    A reference ``{ref: d, share: 1.5}`` fails the string branch on its type and
    the mapping branch on ``share``; the user meant the mapping, so the error
    to report is the share's, not "must be a string".
    """
    from jsonschema.exceptions import best_match

    branches: dict[Any, list[Any]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [subs for subs in branches.values()
               if not any(sub.validator == "type" and not sub.relative_path for sub in subs)]
    return fitting[0] if len(fitting) == 1 else [best_match(error.context)]


def _described(error: Any) -> list[SchemaError]:
    """One jsonschema error in words; one per key when a mapping holds several unknown keys."""
    path = tuple(error.absolute_path)
    field = _field_path(path)
    if error.validator == "additionalProperties":
        extra = _extra_keys(error)
        if extra:
            known = error.schema.get("properties", {})
            return [SchemaError((*path, key), field, f"unknown key {key!r}" + did_you_mean(key, known),
                                on_key=True, unknown_key=True) for key in extra]
    if "propertyNames" in error.absolute_schema_path:  # the error is about a key, not a value
        detail = f"id {error.instance!r} may hold only letters, digits, '-', '_' and '.'"
        return [SchemaError((*path, error.instance), field, detail, on_key=True)]
    if error.validator == "required":
        return [SchemaError(path, field, error.message)]
    return [SchemaError(path, field, _short(error))]


def _field_path(path: tuple[Any, ...]) -> str:
    """``('steps', 'review', 'inputs', 0)`` -> ``steps.review.inputs[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _extra_keys(error: Any) -> list[str]:
    allowed = set(error.schema.get("properties", {}))
    instance = error.instance if isinstance(error.instance, dict) else {}
    return sorted(str(key) for key in instance if key not in allowed)


def _short(error: Any) -> str:
    """jsonschema's message, without repeating a long instance back at the user."""
    if error.validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return f"{error.instance!r} is not one of: {allowed}"
    if error.validator == "const":
        return f"must be {error.validator_value!r}, not {error.instance!r}"
    if error.validator == "type":
        return f"must be {_type_words(error.validator_value)}, not {_type_words(type(error.instance).__name__)}"
    if error.validator == "format":
        return f"{error.instance!r} is not a valid {error.validator_value} (YYYY-MM-DD)"
    return error.message


_TYPE_WORDS = {
    "object": "a mapping", "dict": "a mapping", "array": "a list", "list": "a list",
    "string": "a string", "str": "a string", "number": "a number", "float": "a number",
    "int": "a number", "integer": "an integer", "boolean": "true or false", "bool": "true or false",
    "NoneType": "empty", "null": "empty",
}


def _type_words(name: Any) -> str:
    if isinstance(name, list):
        return " or ".join(_type_words(n) for n in name)
    return _TYPE_WORDS.get(str(name), str(name))
