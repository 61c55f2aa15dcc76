"""``loopscan lineage draft``: draft manifests from observed lineage that ``check`` accepts at once."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import Result
from tests.lineage_events import DATA, client_writing_to, dataset, marquez_seed, organisation, run_job

INTEGRITY = ("LS001", "LS002", "LS003", "LS004", "LS005", "LS006")


def _check_json(run: Callable[..., Result], *args: str) -> dict[str, object]:
    result = run("check", *args, "-f", "json")
    assert result.code in (0, 1), result.err
    document: dict[str, object] = result.json()
    return document


def test_the_marquez_seed_drafts_one_manifest_that_check_accepts_with_no_false_loop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    monkeypatch.chdir(tmp_path)
    seed = marquez_seed(tmp_path)
    result = run("lineage", "draft", seed.name, "-o", "drafts")
    assert result.code == 0, result.err
    assert result.err == "wrote 1 draft manifest for 13 jobs into drafts\n"
    assert sorted(path.name for path in (tmp_path / "drafts").iterdir()) == ["food_delivery.yaml"]
    manifest = yaml.safe_load((tmp_path / "drafts" / "food_delivery.yaml").read_text())
    assert manifest["pipeline"] == "food_delivery"
    assert len(manifest["datasets"]) == 13
    assert {step["kind"] for step in manifest["steps"].values()} == {"transform"}
    assert {step["job"] for step in manifest["steps"].values()} == {
        f"food_delivery/{event['job']['name']}" for event in json.loads(seed.read_text())}
    assert manifest["datasets"]["public.menus"] == {"uri": "food_delivery:public.menus", "provenance": "unknown"}
    assert manifest["steps"]["etl_menus"]["outputs"] == ["public.menus"]
    found = _check_json(run, "drafts", "--lineage", seed.name)
    findings = found["findings"]
    assert isinstance(findings, list)
    assert [f["rule"] for f in findings if f["rule"] in INTEGRITY or f["rule"].startswith("LS7")] == []
    assert found["loops"] == []


def test_each_job_group_gets_a_draft_with_its_tagged_provenance(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    monkeypatch.chdir(tmp_path)
    events = organisation(tmp_path)
    client = client_writing_to(events)
    parent = "0195a6b2-3000-7000-8000-000000000001"
    run_job(client, "nightly/dag", parent)
    run_job(client, "etl/extract", "0195a6b2-3000-7000-8000-000000000002", [dataset("s3://src", "a/")],
            [dataset("s3://lake", "tickets/")], parent=("nightly/dag", parent))
    result = run("lineage", "draft", str(events), "-o", "drafts")
    assert result.code == 0, result.err
    drafts = {path.name: yaml.safe_load(path.read_text()) for path in (tmp_path / "drafts").iterdir()}
    assert sorted(drafts) == ["chat.yaml", "curation.yaml", "ml.yaml", "nightly-dag.yaml", "support.yaml"]
    assert sorted(drafts["nightly-dag.yaml"]["steps"]) == ["dag", "extract"]
    assert drafts["chat.yaml"]["datasets"]["answers-2026-03-01"] == {
        "uri": "s3://chat/answers/2026-03-01/", "provenance": "ai"}
    text = (tmp_path / "drafts" / "curation.yaml").read_text()
    assert "    kind: transform  # fill in: ingest | transform | gate | train | generate | evaluate\n" in text
    assert "    provenance: unknown  # fill in: human | ai | mixed | unknown\n" in text
    found = _check_json(run, "drafts", "--lineage", str(events))
    findings = found["findings"]
    assert isinstance(findings, list)
    assert [f["rule"] for f in findings if f["rule"] in INTEGRITY] == []
    assert [f["rule"] for f in findings if f["rule"].startswith("LS7")] == []  # every job is now a step


def test_symlinked_datasets_are_drafted_once_under_their_identity(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(DATA / "spark_dataproc_simple_producer_test-1.json", tmp_path / "spark.json")
    assert run("lineage", "draft", "spark.json", "-o", "drafts").code == 0
    [draft] = [yaml.safe_load(path.read_text()) for path in (tmp_path / "drafts").iterdir()]
    assert [item["uri"] for item in draft["datasets"].values()] == [
        "hdfs://dataproc-producer-test-m/user/hive/warehouse/t1",
        "hdfs://dataproc-producer-test-m/user/hive/warehouse/t2"]


def test_drafts_never_overwrite_and_need_events(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Callable[..., Result]) -> None:
    monkeypatch.chdir(tmp_path)
    seed = marquez_seed(tmp_path)
    assert run("lineage", "draft", seed.name, "-o", "drafts").code == 0
    again = run("lineage", "draft", seed.name, "-o", "drafts")
    assert again.code == 2
    assert "not overwriting drafts/food_delivery.yaml" in again.err
    (tmp_path / "broken.jsonl").write_text("{not json\n")
    empty = run("lineage", "draft", "broken.jsonl", "-o", "other")
    assert empty.code == 2
    assert "broken.jsonl:1:2: LS001 not valid JSON" in empty.err
    assert "no run events could be read" in empty.err
    assert not (tmp_path / "other").exists()
