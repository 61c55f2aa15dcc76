"""Observed lineage beside the manifests: steps tied to jobs, observed edges, and ``check --lineage``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from openlineage.client.event_v2 import RunState

from loopscan.sources.discover import Candidate
from loopscan.sources.load import load_files
from tests.conftest import TODAY, Result, sarif_errors
from tests.lineage_events import (
    CHAT_MANIFEST,
    DATA,
    RUNS,
    TRAINING_MANIFEST,
    client_writing_to,
    dataset,
    marquez_seed,
    organisation,
    run_job,
)


def test_a_step_names_its_job_and_a_malformed_job_breaks_the_schema(
        project: Callable[[str, str], Path], run: Callable[..., Result]) -> None:
    path = project("p.yaml", """
        loopscan: 1
        pipeline: p
        datasets:
          raw: {uri: "s3://b/raw/", provenance: human}
        steps:
          clean: {kind: transform, inputs: [raw], job: "airflow-prod/etl.clean_raw"}
          tidy: {kind: transform, inputs: [raw], job: "no-slash"}
        """)
    result = run("check", "p.yaml", "-f", "json", "--select", "LS002")
    assert result.findings() == [("LS002", "p.yaml", 7)]
    assert "steps.tidy.job" in result.json()["findings"][0]["message"]
    loaded = load_files([Candidate(str(path), "p.yaml")])
    steps = loaded.manifests[0].steps
    assert steps["clean"].job == "airflow-prod/etl.clean_raw"


def _org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: bool) -> str:
    monkeypatch.chdir(tmp_path)
    return str(organisation(tmp_path, **options).relative_to(tmp_path))


def _lines_of(path: Path, needle: str) -> list[int]:
    return [number for number, line in enumerate(path.read_text().splitlines(), 1) if needle in line]


def test_the_organisation_s_hidden_loop_undeclared_flow_and_job_are_found_from_the_real_client_s_events(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    events = _org(tmp_path, monkeypatch)
    result = run("check", ".", "--lineage", events, "-f", "json", "--select", "LS7", "--today", TODAY)
    assert result.code == 1
    found = result.json()["findings"]
    assert [(f["rule"], f["file"], f["line"], f["column"]) for f in found] == [
        ("LS701", "chat.yaml", 9, 3),
        ("LS702", "chat.yaml", 13, 5),
        ("LS705", events, 3, 1),
        ("LS704", "training.yaml", 23, 29),
    ]
    hidden, undeclared, job, ratio = found
    assert hidden["message"] == ("observed lineage closes a loop through generate step 'answer' that no manifest "
                                 "declares: the flows of 'chat/serve-answers', 'curation/copy-answers' and "
                                 "'ml/train-assistant' close it")
    assert hidden["cycle"] == ["chat:answer", "s3://chat/answers/2026-03-01/", "curation/copy-answers (job)",
                               "s3://lake/train/chat/2026-03-01/", "training:finetune", "chat:assistant"]
    event_lines = {job: _lines_of(tmp_path / events, f'"runId": "{run_id}"') for job, run_id in RUNS.items()}
    assert [(e["job"], e["run_id"], e["event_type"], e["event_time"], e["file"], e["line"])
            for e in hidden["evidence"]] == [
        ("chat/serve-answers", RUNS["chat/serve-answers"], "START", "2026-03-01T10:00:00Z", events,
         event_lines["chat/serve-answers"][0]),
        ("curation/copy-answers", RUNS["curation/copy-answers"], "START", "2026-03-01T10:00:00Z", events,
         event_lines["curation/copy-answers"][0]),
        ("ml/train-assistant", RUNS["ml/train-assistant"], "COMPLETE", "2026-03-01T10:30:00Z", events,
         event_lines["ml/train-assistant"][1]),  # it read the copied answers: the event with their row count
        ("ml/train-assistant", RUNS["ml/train-assistant"], "START", "2026-03-01T10:00:00Z", events,
         event_lines["ml/train-assistant"][0]),  # it wrote the model the chat product serves
    ]
    assert undeclared["message"] == ("step 'answer' was observed writing s3://chat/feedback/2026-03-01/, "
                                     "which its outputs do not list")
    assert job["message"] == ("job curation/copy-answers matches no declared step and reads "
                              "'s3://chat/answers/2026-03-01/' and writes 's3://lake/train/chat/2026-03-01/'")
    assert ratio["message"] == (f"run {RUNS['ml/train-assistant']} of job ml/train-assistant read a synthetic "
                                "share of 0.6 (600 of 1,000 rows), above the cap 0.2 of 'finetune'")
    assert ratio["evidence"][0]["line"] == event_lines["ml/train-assistant"][1]  # the event with the row counts


def test_without_the_lineage_the_organisation_has_no_loop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    _org(tmp_path, monkeypatch)
    result = run("check", ".", "-f", "json", "--today", TODAY)
    assert result.json()["loops"] == []
    assert not [f for f in result.json()["findings"] if f["rule"].startswith("LS7")]


def test_a_gate_whose_job_stopped_emitting_runs_is_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    events = _org(tmp_path, monkeypatch)
    assert run("check", ".", "--lineage", events, "-f", "json", "--select", "LS703").findings() == []
    (tmp_path / "stopped").mkdir()
    events = _org(tmp_path / "stopped", monkeypatch, gate_ran=False)
    result = run("check", ".", "--lineage", events, "-f", "json", "--select", "LS703")
    [found] = result.json()["findings"]
    assert (found["file"], found["line"], found["column"]) == ("training.yaml", 15, 10)
    assert found["message"] == ("gate 'review' (job support/review-tickets) has no completed run in the lineage "
                                "while 'finetune' ran")
    assert [e["job"] for e in found["evidence"]] == ["ml/train-assistant"]


def test_a_ratio_that_cannot_be_observed_is_said_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    events = _org(tmp_path, monkeypatch, row_counts=False)
    result = run("check", ".", "--lineage", events, "-f", "json", "--select", "LS704")
    [found] = result.json()["findings"]
    assert found["message"].startswith("the synthetic share of the runs of 'finetune' could not be observed")


def test_text_shows_the_job_run_and_time_of_the_evidence_and_sarif_the_event_locations(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    events = _org(tmp_path, monkeypatch)
    text = run("check", ".", "--lineage", events, "--select", "LS701", "--no-color").out
    line = _lines_of(tmp_path / events, RUNS["curation/copy-answers"])[0]
    training = _lines_of(tmp_path / events, RUNS["ml/train-assistant"])
    assert (f"    evidence:\n"
            f"      - job chat/serve-answers, run {RUNS['chat/serve-answers']}, 2026-03-01T10:00:00Z ({events}:1)\n"
            f"      - job curation/copy-answers, run {RUNS['curation/copy-answers']}, 2026-03-01T10:00:00Z "
            f"({events}:{line})\n") in text
    sarif = json.loads(run("check", ".", "--lineage", events, "--select", "LS701", "-f", "sarif").out)
    assert sarif_errors(sarif) == []
    [result] = sarif["runs"][0]["results"]
    related = result["relatedLocations"]
    assert [(item["id"], item["physicalLocation"]["artifactLocation"]["uri"],
             item["physicalLocation"]["region"]["startLine"]) for item in related] == [
        (0, events, 1), (1, events, line), (2, events, training[1]), (3, events, training[0])]
    assert related[1]["message"]["text"].startswith("job curation/copy-answers, run ")


def test_the_marquez_seed_metadata_loads_with_no_false_loop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    monkeypatch.chdir(tmp_path)
    seed = marquez_seed(tmp_path)
    result = run("check", ".", "--lineage", seed.name, "-f", "json")
    assert result.code == 0
    assert result.json()["findings"] == []
    assert result.json()["loops"] == []


def test_a_job_that_merges_into_its_own_table_is_a_loop_only_when_it_is_a_generate_step(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(DATA / "marquez-event_large.json", tmp_path)
    for kind, expected in (("transform", []), ("generate", [("LS701", "p.yaml", 5)])):
        (tmp_path / "p.yaml").write_text(
            "loopscan: 1\npipeline: p\ndatasets:\n  table: {uri: \"my-datasource-namespace:instance.schema.table\", "
            f"provenance: human}}\nsteps:\n  merge: {{kind: {kind}, job: my-scheduler-namespace/myjob.mytask}}\n")
        result = run("check", ".", "--lineage", "marquez-event_large.json", "-f", "json", "--select", "LS701")
        assert [(f["rule"], f["file"], f["line"] - 1) for f in result.json()["findings"]] == expected


def test_failed_runs_count_only_when_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "chat.yaml").write_text(CHAT_MANIFEST)
    (tmp_path / "training.yaml").write_text(TRAINING_MANIFEST)
    client = client_writing_to(tmp_path / "events.jsonl")
    run_job(client, "curation/copy-answers", RUNS["curation/copy-answers"],
            [dataset("s3://chat", "answers/")], [dataset("s3://lake", "train/chat/")], end=RunState.FAIL)
    assert run("check", ".", "--lineage", "events.jsonl", "-f", "json", "--select", "LS701").findings() == []
    result = run("check", ".", "--lineage", "events.jsonl", "--lineage-include-failed", "-f", "json",
                 "--select", "LS701")
    assert result.findings() == [("LS701", "chat.yaml", 9)]


def test_broken_events_are_findings_of_the_check_and_never_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "events.jsonl").write_text('{"eventType": \n' + "[" * 100_000 + "]" * 100_000 + "\n"
                                           + json.dumps({"eventType": "START", "job": {"name": "a\x1b[2J"}}) + "\n")
    result = run("check", ".", "--lineage", "events.jsonl", "--lineage", "missing.jsonl", "--no-color")
    assert result.code == 1
    assert "Traceback" not in result.out + result.err
    assert "events.jsonl:1:15: LS001 [error] not valid JSON: Expecting value" in result.out
    assert "events.jsonl:2:1: LS002 [error] the event is nested too deeply to read" in result.out
    assert "events.jsonl:3:1: LS002 [error] the event breaks the OpenLineage schema" in result.out
    assert "missing.jsonl:1:1: LS001 [error] cannot read the lineage file: missing.jsonl does not exist" in result.out
    assert "\x1b[2J" not in result.out


def test_the_config_names_the_lineage_when_the_command_line_does_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    _org(tmp_path, monkeypatch)
    (tmp_path / "loopscan.yaml").write_text("lineage: [events/]\n")
    assert [rule for rule, _, _ in run("check", "-f", "json", "--select", "LS70").findings()] == [
        "LS701", "LS702", "LS705", "LS704"]
    (tmp_path / "loopscan.yaml").write_text("lineage: events/\n")
    broken = run("check", "-f", "json")
    assert broken.code == 2
    assert "config key 'lineage'" in broken.err


def test_markdown_github_and_junit_show_the_evidence_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    events = _org(tmp_path, monkeypatch)
    first = f"job curation/copy-answers, run {RUNS['curation/copy-answers']}, 2026-03-01T10:00:00Z ({events}:3)"
    for output_format in ("markdown", "github", "junit"):
        out = run("check", ".", "--lineage", events, "--select", "LS705", "-f", output_format).out
        assert first in out, output_format
    github = run("check", ".", "--lineage", events, "--select", "LS701", "-f", "github").out
    assert github.rstrip().endswith("; and 3 more observations)")
