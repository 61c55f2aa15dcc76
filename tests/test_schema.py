"""LS002: a manifest that breaks the schema is reported at the node to change, with its field path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from loopscan.sources.schema import pipeline_schema
from tests.conftest import EXAMPLES, Result

Run = Callable[..., Result]
Project = Callable[[str, str], Path]

HEAD = """
    loopscan: 1
    pipeline: support
    owner: maria
    """


def check(run: Run) -> Result:
    return run("check", ".", "-f", "json", "--select", "LS00")


def schema_findings(result: Result) -> list[dict[str, Any]]:
    return [f for f in result.json()["findings"] if f["rule"] == "LS002"]


def position(path: Path, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based line and column where the ``occurrence``-th ``needle`` starts in ``path``."""
    text = path.read_text(encoding="utf-8")
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def only_schema_finding(run: Run) -> dict[str, Any]:
    result = check(run)
    assert result.code == 1
    found = schema_findings(result)
    assert len(found) == 1, found
    return found[0]


def at(finding: dict[str, Any]) -> tuple[int, int]:
    return finding["line"], finding["column"]


def test_the_shipped_schema_is_valid_json_schema_2020_12() -> None:
    schema = pipeline_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", sorted(EXAMPLES.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_example_manifest_matches_the_schema(path: Path, run: Run) -> None:
    result = run("check", str(path), "-f", "json", "--select", "LS002")
    assert schema_findings(result) == []


def test_unknown_field_is_reported_at_the_key_with_a_suggestion_and_its_path(project: Project, run: Run) -> None:
    path = project("p.yaml", HEAD + """
    datasets:
      transcripts:
        uri: s3://acme/transcripts/
        provenence: mixed
    """)
    finding = only_schema_finding(run)
    assert at(finding) == position(path, "provenence")
    assert finding["message"] == "unknown field 'provenence' (did you mean 'provenance'?) in datasets.transcripts"


def test_unknown_top_level_field_is_reported_at_the_key(project: Project, run: Run) -> None:
    path = project("p.yaml", HEAD + "stepz: {}\n")
    finding = only_schema_finding(run)
    assert at(finding) == position(path, "stepz")
    assert "did you mean 'steps'?" in finding["message"]


def test_wrong_enum_value_is_reported_at_the_value(project: Project, run: Run) -> None:
    path = project("p.yaml", HEAD + """
    steps:
      finetune:
        kind: trian
    """)
    finding = only_schema_finding(run)
    assert at(finding) == position(path, "trian")
    assert finding["message"].startswith("steps.finetune.kind: 'trian' is not one of:")
    assert "train" in finding["message"]


def test_missing_required_field_is_reported_at_the_mapping_that_lacks_it(project: Project, run: Run) -> None:
    path = project("p.yaml", HEAD + """
    datasets:
      raw: {provenance: ai}
    steps:
      review:
        method: human-review
        inputs: [raw]
    """)
    finding = only_schema_finding(run)
    assert at(finding) == position(path, "method")
    assert finding["message"] == ("steps.review: 'kind' is a required property; "
                                  "step 'review' is left out of the analysis")


def test_a_manifest_without_a_pipeline_name_is_reported_at_its_first_key(project: Project, run: Run) -> None:
    path = project("p.yaml", """
        # The support assistant.
        loopscan: 1
        owner: maria
        """)
    finding = only_schema_finding(run)
    assert at(finding) == position(path, "loopscan")
    assert "'pipeline' is a required property" in finding["message"]


@pytest.mark.parametrize("written", ["2026-02-30", "2026-13-01", "31.12.2026", "next week"])
def test_bad_date_is_reported_at_the_value_with_its_path(project: Project, run: Run, written: str) -> None:
    path = project("p.yaml", HEAD + f"""
    overrides:
      - rule: LS301
        target: support
        reason: Migration, tracked in OPS-1.
        approved_by: maria
        approved: 2026-11-01
        expires: {written}
    """)
    finding = only_schema_finding(run)
    assert at(finding) == position(path, written)
    assert finding["message"].startswith("overrides[0].expires: ")
    assert "date" in finding["message"]


def test_a_date_written_as_a_number_is_a_type_error(project: Project, run: Run) -> None:
    path = project("p.yaml", HEAD + """
    models:
      llm:
        rollback: {checkpoint: "models:/llm/good", last_drill: 20261001}
    """)
    finding = only_schema_finding(run)
    assert at(finding) == position(path, "20261001")
    assert finding["message"] == ("models.llm.rollback.last_drill: must be a string, not a number; "
                                  "model 'llm' is left out of the analysis")


def test_wrong_format_version_is_reported_at_the_value(project: Project, run: Run) -> None:
    path = project("p.yaml", "loopscan: 2\npipeline: p\n")
    finding = only_schema_finding(run)
    assert at(finding) == position(path, "2")
    assert finding["message"] == "loopscan: must be 1, not 2; the file is left out of the analysis until this is fixed"


def test_share_out_of_range_names_the_share_not_the_reference_form(project: Project, run: Run) -> None:
    """A ``{ref, share}`` input is judged as a mapping: the error is the share's, at the share."""
    path = project("p.yaml", HEAD + """
    datasets:
      anchor: {provenance: human, frozen: true}
    steps:
      finetune:
        kind: train
        inputs:
          - {ref: anchor, share: 1.5}
    """)
    finding = only_schema_finding(run)
    assert at(finding) == position(path, "1.5")
    assert finding["message"] == ("steps.finetune.inputs[0].share: 1.5 is greater than the maximum of 1; "
                                  "step 'finetune' is left out of the analysis")


def test_unknown_field_in_a_reference_mapping_gets_a_suggestion(project: Project, run: Run) -> None:
    path = project("p.yaml", HEAD + """
    datasets:
      anchor: {provenance: human, frozen: true}
    steps:
      finetune:
        kind: train
        inputs:
          - {ref: anchor, shares: 0.5}
    """)
    finding = only_schema_finding(run)
    assert at(finding) == position(path, "shares")
    assert finding["message"] == "unknown field 'shares' (did you mean 'share'?) in steps.finetune.inputs[0]"


def test_an_input_that_is_neither_text_nor_a_mapping_is_a_type_error(project: Project, run: Run) -> None:
    path = project("p.yaml", HEAD + """
    steps:
      finetune:
        kind: train
        inputs: [7]
    """)
    finding = only_schema_finding(run)
    assert at(finding) == position(path, "7")
    assert finding["message"].startswith("steps.finetune.inputs[0]: must be a string")


def test_an_id_with_a_colon_is_reported_at_that_key(project: Project, run: Run) -> None:
    path = project("p.yaml", HEAD + """
    datasets:
      fine: {provenance: human}
      team:raw: {provenance: ai}
    """)
    finding = only_schema_finding(run)
    assert at(finding) == position(path, "team:raw")
    assert finding["message"].startswith("datasets: id 'team:raw'")


def test_every_schema_error_is_reported_in_file_order(project: Project, run: Run) -> None:
    path = project("p.yaml", HEAD + """
    datasets:
      raw: {provenance: robot}
    steps:
      review: {kind: gate, methd: dedup}
    """)
    result = check(run)
    assert [at(f) for f in schema_findings(result)] == [position(path, "robot"), position(path, "methd")]


def test_a_manifest_with_an_unknown_key_is_still_analysed(project: Project, run: Run) -> None:
    """The unknown key is reported and ignored; the rest is analysed (tests/test_partial_manifests.py has more)."""
    path = project("p.yaml", HEAD + """
    steps:
      train: {kind: train, inputs: [nothing], colour: red}
    """)
    result = check(run)
    assert [(f["rule"], f["line"], f["column"]) for f in result.json()["findings"]] == [
        ("LS004", *position(path, "nothing")), ("LS002", *position(path, "colour"))]
    assert result.json()["summary"]["pipelines"] == 1


def test_a_manifest_whose_head_breaks_the_schema_is_not_analysed_further(project: Project, run: Run) -> None:
    """Its references are not resolved (no LS004 on top of the LS002) and it adds no pipeline."""
    project("p.yaml", HEAD.replace("loopscan: 1", "loopscan: 2") + """
    steps:
      train: {kind: train, inputs: [nothing], colour: red}
    """)
    result = check(run)
    assert [f["rule"] for f in result.json()["findings"]] == ["LS002", "LS002"]
    assert result.json()["summary"]["pipelines"] == 0
