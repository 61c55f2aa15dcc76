"""The compiled validity test agrees with jsonschema on every document, valid or not.

:mod:`loopscan.sources.validity` is the fast path of LS002 and of the config check: a
document it calls valid is never shown to jsonschema. So it must never call
valid what jsonschema rejects (a missed LS002), and should not reject what
jsonschema accepts (a slow path). Hypothesis mutates real manifests and
configs at random places and compares the two answers.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from loopscan.sources.schema import CONFIG_SCHEMA, PIPELINE_SCHEMA, load_schema
from loopscan.sources.validity import Unsupported, compile_schema, is_valid
from loopscan.sources.yamlsource import load_text
from tests.conftest import EXAMPLES

EXAMPLE_DATA = [load_text(path.read_text("utf-8"), path.name).documents[0].data
                for path in sorted(EXAMPLES.rglob("*.yaml"))]
CONFIG_DATA = {
    "paths": ["pipelines"], "exclude": ["**/templates/**"], "ignore": ["LS104"], "rules_dirs": ["lint"],
    "severity": {"LS305": "error"},
    "policy": {"max_synthetic": 0.2, "gate_methods": ["human-review"], "drill_every_days": 30,
               "override_max_days": 60},
}
FIELD_NAMES = sorted({"loopscan", "pipeline", "owner", "datasets", "models", "steps", "loops", "overrides", "uri",
                      "provenance", "frozen", "retention", "synthetic_fraction", "monitoring", "rollback", "kind",
                      "inputs", "outputs", "method", "mixing", "max_synthetic", "anchor", "log", "through",
                      "safeguards", "rule", "target", "reason", "approved_by", "approved", "expires", "ref",
                      "share", "metrics", "eval_set", "alert", "metric", "max_drop", "compare_to", "checkpoint",
                      "last_drill", "paths", "exclude", "ignore", "severity", "policy", "gate_methods",
                      "drill_every_days", "override_max_days", "rules_dirs", "description"})
WORDS = ["human", "ai", "mixed", "unknown", "train", "gate", "generate", "ingest", "transform", "evaluate",
         "human-review", "classifier", "other", "previous", "baseline", "replace", "accumulate", "error", "info",
         "2026-11-24", "2026-02-30", "2026-1-1", "s3://lake/a/", "models:/m", "a:b", "bad id", "ok-id_1.2", "",
         "LS301"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 200), st.sampled_from([0.0, 0.5, 1.0, 1.5, -0.1, 2.0]),
    st.sampled_from(WORDS), st.text(max_size=6),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES + WORDS), st.integers(0, 3)), inner, max_size=3),
    ),
    max_leaves=6,
)


def jsonschema_valid(name: str, data: Any) -> bool:
    validator = Draft202012Validator(load_schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)
    return next(iter(validator.iter_errors(data)), None) is None


def paths_in(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``data`` (the root included)."""
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found.extend(paths_in(value, (*path, key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.extend(paths_in(value, (*path, index)))
    return found


def mutated(data: Any, path: tuple[Any, ...], action: str, key: Any, value: Any) -> Any:
    """A copy of ``data`` with the value at ``path`` replaced, or a key added to or removed from it."""
    if not path:
        if action == "replace":
            return value
        if isinstance(data, dict):
            copy = dict(data)
            if action == "remove" and copy:
                copy.pop(key if key in copy else next(iter(copy)))
            else:
                copy[key] = value
            return copy
        if isinstance(data, list):
            return [*data, value] if action == "add" else data[1:]
        return value
    head, *rest = path
    if isinstance(data, dict):
        return {k: (mutated(v, tuple(rest), action, key, value) if k == head else v) for k, v in data.items()}
    return [mutated(v, tuple(rest), action, key, value) if i == head else v for i, v in enumerate(data)]


def mutations(bases: list[Any]) -> st.SearchStrategy[Any]:
    @st.composite
    def make(draw: st.DrawFn) -> Any:
        data = draw(st.sampled_from(bases))
        for _ in range(draw(st.integers(1, 2))):
            path = draw(st.sampled_from(paths_in(data)))
            action = draw(st.sampled_from(["replace", "add", "remove"]))
            key = draw(st.one_of(st.sampled_from(FIELD_NAMES + WORDS), st.integers(0, 2)))
            data = mutated(data, path, action, key, draw(values))
        return data

    return make()


def test_the_shipped_schemas_compile() -> None:
    for name in (PIPELINE_SCHEMA, CONFIG_SCHEMA):
        compile_schema(load_schema(name))


@pytest.mark.parametrize("data", EXAMPLE_DATA, ids=range(len(EXAMPLE_DATA)))
def test_every_example_is_valid_on_the_fast_path(data: Any) -> None:
    assert is_valid(PIPELINE_SCHEMA, data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations(EXAMPLE_DATA))
def test_manifests_agree_with_jsonschema(data: Any) -> None:
    assert is_valid(PIPELINE_SCHEMA, data) == jsonschema_valid(PIPELINE_SCHEMA, data)


@settings(max_examples=300, deadline=None)
@given(mutations([CONFIG_DATA, {}]))
def test_configs_agree_with_jsonschema(data: Any) -> None:
    assert is_valid(CONFIG_SCHEMA, data) == jsonschema_valid(CONFIG_SCHEMA, data)


@given(values)
def test_any_value_agrees_with_jsonschema(data: Any) -> None:
    assert is_valid(PIPELINE_SCHEMA, data) == jsonschema_valid(PIPELINE_SCHEMA, data)


def test_an_unknown_keyword_is_refused_not_ignored() -> None:
    with pytest.raises(Unsupported):
        compile_schema({"type": "object", "patternProperties": {"^x": {"type": "string"}}})
    with pytest.raises(Unsupported):
        compile_schema({"maxItems": 3})


@given(st.lists(st.one_of(st.sampled_from(["synthetic", "quality"]), st.integers(0, 2), st.booleans(),
                          st.floats(0, 2), st.none(), st.lists(st.integers(0, 1), max_size=2),
                          st.dictionaries(st.sampled_from("ab"), st.integers(0, 1), max_size=2)), max_size=4))
def test_unique_items_agree_with_jsonschema(items: list[Any]) -> None:
    # `detects: [synthetic, synthetic]` is a schema error; 1 and true are different items, 1 and 1.0 the same.
    # Lists of lists or mappings are left to jsonschema (the fast path says "ask"), never called valid wrongly.
    schema = {"type": "array", "uniqueItems": True}
    fast = compile_schema(schema)(items)
    expected = Draft202012Validator(schema).is_valid(items)
    if any(isinstance(item, (list, dict)) for item in items):
        assert expected or not fast
    else:
        assert fast == expected
