"""``loopscan trace`` on the cross-team example, with observed lineage, and its cost on the interlinked benchmark."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from openlineage.client.event_v2 import RunState

from tests.conftest import EXAMPLES, TODAY, Result
from tests.lineage_events import (
    CHAT_MANIFEST,
    RUNS,
    TRAINING_MANIFEST,
    client_writing_to,
    dataset,
    organisation,
    run_job,
)

Run = Callable[..., Result]
MARKETPLACE = str(EXAMPLES / "marketplace")


def test_upstream_of_the_ranking_model_names_the_generate_step_the_path_and_the_missing_safeguards(run: Run) -> None:
    result = run("trace", "ranking-train:catalog-lm", MARKETPLACE, "--upstream", "-f", "json")
    assert result.code == 0, result.err
    up = result.json()["upstream"]
    assert ["listing-writer:draft-listings", "ai"] in up["sources"]
    assert up["path"] == ["listing-writer:draft-listings", "listing-writer:drafted-listings", "catalog-etl:listings",
                          "catalog-etl:normalize", "catalog-etl:listings-normalized", "catalog-etl:build-corpus",
                          "catalog-etl:catalog-corpus"]
    assert up["gates"] == [] and up["caps"] == [] and up["anchor"] is None
    assert up["checkpoint"] == "models:/catalog-lm/known-good" and up["last_drill"] == "2026-09-15"
    text = run("trace", "ranking-train:catalog-lm", MARKETPLACE, "--checklist").out
    assert "gates on the way: none" in text and "caps on the way: none" in text
    assert "[ ] roll back to models:/catalog-lm/known-good" in text


def test_downstream_of_the_drafts_reaches_the_catalog_corpus_and_the_ranking_model(run: Run) -> None:
    result = run("trace", "listing-writer:drafted-listings", MARKETPLACE, "--downstream", "-f", "json")
    assert result.code == 0, result.err
    down = result.json()["downstream"]
    assert "catalog-etl:catalog-corpus" in down["datasets"]
    assert down["models"] == ["ranking-train:catalog-lm"]
    assert down["loops"] == ["listing-writer:draft-listings"]


def test_an_unknown_node_is_a_usage_error(run: Run) -> None:
    result = run("trace", "ranking-train:catalog-l", MARKETPLACE)
    assert result.code == 2 and "catalog-lm" in result.err


def test_trace_on_the_interlinked_benchmark_takes_at_most_twice_check(run: Run, tmp_path: Path) -> None:
    from tests.test_performance import benchmark_module

    files = benchmark_module("generate").write_project(tmp_path, 200, interlinked=True)
    model = f"{files[0].stem}:model"
    start = time.perf_counter()
    run("check", str(tmp_path), "--today", TODAY, "-f", "json")
    checked = time.perf_counter() - start
    start = time.perf_counter()
    up = run("trace", model, str(tmp_path), "--upstream", "-f", "json")
    traced = time.perf_counter() - start
    assert up.code == 0, up.err
    assert up.json()["upstream"]["nodes"] > 1000
    assert traced <= 2 * checked, (traced, checked)


def test_upstream_of_an_on_policy_model_starts_at_its_own_step_and_leaves_prompts_out(
        run: Run, tmp_path: Path) -> None:
    manifest = """\
loopscan: 1
pipeline: rlhf
owner: dana
datasets:
  questions: {uri: "s3://lab/questions/", provenance: human, frozen: true}
  pairs: {uri: "s3://lab/pairs/", provenance: mixed, synthetic_fraction: 0.5}
models:
  sft: {uri: "models:/sft"}
  reward: {uri: "models:/reward"}
  policy:
    uri: "models:/policy"
    rollback: {checkpoint: "models:/policy/v3", last_drill: 2026-11-02}
steps:
  train-reward:
    kind: train
    inputs: [pairs, {ref: sft, role: init}]
    outputs: [reward]
  ppo:
    kind: train
    on_policy: true
    inputs: [{ref: sft, role: init}, {ref: reward, role: scorer}, {ref: questions, role: prompts}]
    outputs: [policy]
    mixing: {max_synthetic: 0.5}
"""
    (tmp_path / "rlhf.yaml").write_text(manifest, encoding="utf-8")
    result = run("trace", "rlhf:policy", str(tmp_path), "--upstream", "-f", "json")
    assert result.code == 0, result.err
    up = result.json()["upstream"]
    assert up["trained_by"] == ["rlhf:ppo"]
    assert up["targets"] == []  # the questions are prompts: it conditions on them, it does not learn them
    assert up["sources"] == [["rlhf:ppo", "ai"]]  # it learns from its own samples
    assert up["caps"] == ["rlhf:ppo"] and up["checkpoint"] == "models:/policy/v3"


def test_a_trace_past_mermaids_limits_is_cut_down_to_its_essentials_and_says_so(run: Run, tmp_path: Path) -> None:
    from loopscan.render.mermaid import MAX_EDGES, MAX_TEXT_SIZE
    from tests.test_performance import benchmark_module

    files = benchmark_module("generate").write_project(tmp_path, 10, interlinked=True)
    model = f"{files[0].stem}:model"
    whole = run("trace", model, str(tmp_path), "-f", "json").json()["upstream"]
    result = run("trace", model, str(tmp_path), "-f", "mermaid")
    assert result.code == 0, result.err
    assert result.err.count("\n") == 1 and "the whole trace is too large for Mermaid (" in result.err
    assert "drawing only the model, its training targets, the path, the sources, gates and caps" in result.err
    assert len(result.out) <= MAX_TEXT_SIZE and result.out.count("-->") + result.out.count("-.->") <= MAX_EDGES
    assert f"(essentials of {whole['nodes']:,} nodes)" in result.out.splitlines()[1]
    assert " input not drawn" in result.out or " inputs not drawn" in result.out
    assert result.out.count(" data enters here") == len(whole["sources"]) > 1  # every source is still drawn


def test_a_trace_past_mermaids_limits_even_cut_down_is_refused_with_what_to_use(run: Run, tmp_path: Path) -> None:
    from tests.test_performance import benchmark_module

    files = benchmark_module("generate").write_project(tmp_path, 40, interlinked=True)
    result = run("trace", f"{files[0].stem}:model", str(tmp_path), "-f", "mermaid")
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1
    assert "too large for Mermaid even cut down" in result.err and "use -f text or -f json" in result.err


def test_a_downstream_trace_past_mermaids_limits_keeps_the_start_models_and_generate_steps(
        run: Run, tmp_path: Path) -> None:
    from tests.test_performance import benchmark_module

    files = benchmark_module("generate").write_project(tmp_path, 10, interlinked=True)
    start = f"{files[0].stem}:model"
    whole = run("trace", start, str(tmp_path), "--downstream", "-f", "json").json()["downstream"]
    result = run("trace", start, str(tmp_path), "--downstream", "-f", "mermaid")
    assert result.code == 0, result.err
    assert "drawing only the start, the models and the generate steps" in result.err
    assert "-f json lists every model, generate step, dataset and fork" in result.err
    boxes = [line for line in result.out.splitlines() if line.startswith("    n")]
    assert len(boxes) == 1 + len(whole["models"]) + len(whole["generates"])
    assert sum("traced from here" in line for line in boxes) == 1
    assert any(" output not drawn" in line or " outputs not drawn" in line for line in boxes)


def test_md_wraps_the_mermaid_trace_for_a_ticket_and_needs_mermaid(run: Run) -> None:
    plain = run("trace", "ranking-train:catalog-lm", MARKETPLACE, "-f", "mermaid").out
    block = run("trace", "ranking-train:catalog-lm", MARKETPLACE, "-f", "mermaid", "--md")
    assert block.code == 0 and block.out == f"```mermaid\n{plain}```\n"
    refused = run("trace", "ranking-train:catalog-lm", MARKETPLACE, "--md")
    assert refused.code == 2 and "use it with -f mermaid" in refused.err


ASSISTANT = "training:assistant"
COPY_JOB = "curation/copy-answers (job)"
OBSERVED_PATH = ["chat:answer", "s3://chat/answers/2026-03-01/", COPY_JOB, "s3://lake/train/chat/2026-03-01/",
                 "training:train-set"]


def _organisation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The organisation of the lineage tests: its manifests, and the events the real client wrote for one day."""
    monkeypatch.chdir(tmp_path)
    return str(organisation(tmp_path).relative_to(tmp_path))


def _first_line_of_run(events: Path, run_id: str) -> int:
    return next(number for number, line in enumerate(events.read_text().splitlines(), 1) if run_id in line)


def test_with_the_lineage_the_trace_of_the_model_reaches_the_chat_product_through_the_undeclared_job(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run) -> None:
    events = _organisation(tmp_path, monkeypatch)
    declared = run("trace", ASSISTANT, ".", "--upstream", "-f", "json")
    assert declared.code == 0, declared.err
    up = declared.json()["upstream"]
    assert up["sources"] == [] and up["path"] == [] and up["observed"] == []
    assert "chat:answer" not in declared.out

    result = run("trace", ASSISTANT, ".", "--upstream", "--lineage", events, "-f", "json")
    assert result.code == 0, result.err
    up = result.json()["upstream"]
    assert ["chat:answer", "ai"] in up["sources"]
    assert up["path"] == OBSERVED_PATH
    assert up["gates"] == ["training:review"] and up["caps"] == ["training:finetune"]
    copy_line = _first_line_of_run(tmp_path / events, RUNS["curation/copy-answers"])
    copied = {"job": "curation/copy-answers", "run_id": RUNS["curation/copy-answers"], "event_type": "START",
              "event_time": "2026-03-01T10:00:00Z", "file": events, "line": copy_line}
    observed = {(edge["tail"], edge["head"]): edge["evidence"] for edge in up["observed"]}
    assert observed[("s3://chat/answers/2026-03-01/", COPY_JOB)] == copied
    assert observed[(COPY_JOB, "s3://lake/train/chat/2026-03-01/")] == copied
    assert observed[("chat:answer", "s3://chat/answers/2026-03-01/")]["job"] == "chat/serve-answers"
    # the edge from the copied set into its declared artifact is a URI link the manifests make: not observed
    assert ("s3://lake/train/chat/2026-03-01/", "training:train-set") not in observed

    assert up["undeclared_jobs"] == ["curation/copy-answers"]

    text = run("trace", ASSISTANT, ".", "--lineage", events, "--checklist").out
    assert "  [ ] declare or stop these jobs no manifest names: curation/copy-answers\n" in text
    assert "no manifest names" not in run("trace", ASSISTANT, ".", "--checklist").out
    assert ("  a path of AI data: chat:answer -(observed)-> s3://chat/answers/2026-03-01/ -(observed)-> "
            f"{COPY_JOB} -(observed)-> s3://lake/train/chat/2026-03-01/ -> training:train-set\n") in text
    assert "  observed in the lineage, not declared:\n" in text
    assert (f"    s3://chat/answers/2026-03-01/ -> {COPY_JOB}: job curation/copy-answers, "
            f"run {RUNS['curation/copy-answers']}, 2026-03-01T10:00:00Z ({events}:{copy_line})\n") in text


def test_downstream_of_the_chat_answers_with_the_lineage_reaches_the_trained_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run) -> None:
    events = _organisation(tmp_path, monkeypatch)
    declared = run("trace", "chat:answers", ".", "--downstream", "-f", "json").json()["downstream"]
    assert ASSISTANT not in declared["models"] and declared["observed"] == []
    down = run("trace", "chat:answers", ".", "--downstream", "--lineage", events, "-f", "json").json()["downstream"]
    assert ASSISTANT in down["models"] and down["loops"] == ["chat:answer"]
    assert (COPY_JOB, "s3://lake/train/chat/2026-03-01/") in {(e["tail"], e["head"]) for e in down["observed"]}


def test_mermaid_draws_the_observed_edges_dashed_and_labelled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run) -> None:
    events = _organisation(tmp_path, monkeypatch)
    observed = run("trace", ASSISTANT, ".", "--lineage", events, "-f", "json").json()["upstream"]["observed"]
    result = run("trace", ASSISTANT, ".", "--lineage", events, "-f", "mermaid")
    assert result.code == 0, result.err
    assert result.out.count('-.->|"observed"|') == len(observed) == 5
    assert '-.->|"observed in the lineage, not declared"|' in result.out  # the legend
    assert '"observed' not in run("trace", ASSISTANT, ".", "-f", "mermaid").out


def test_failed_runs_reach_the_trace_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "chat.yaml").write_text(CHAT_MANIFEST)
    (tmp_path / "training.yaml").write_text(TRAINING_MANIFEST)
    client = client_writing_to(tmp_path / "events.jsonl")
    run_job(client, "curation/copy-answers", RUNS["curation/copy-answers"],
            [dataset("s3://chat", "answers/")], [dataset("s3://lake", "train/chat/")], end=RunState.FAIL)
    completed = run("trace", ASSISTANT, ".", "--lineage", "events.jsonl", "-f", "json").json()["upstream"]
    assert completed["path"] == [] and completed["observed"] == []
    failed_too = run("trace", ASSISTANT, ".", "--lineage", "events.jsonl", "--lineage-include-failed",
                     "-f", "json").json()["upstream"]
    assert failed_too["path"][0] == "chat:answer" and COPY_JOB in failed_too["path"]
    assert {edge["evidence"]["event_type"] for edge in failed_too["observed"]} == {"START"}


def test_a_broken_events_file_is_said_with_its_line_and_the_trace_still_printed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run) -> None:
    _organisation(tmp_path, monkeypatch)
    (tmp_path / "broken.jsonl").write_text('{"eventType": \n' + "[" * 100_000 + "]" * 100_000 + "\n")
    result = run("trace", ASSISTANT, ".", "--lineage", "broken.jsonl", "--lineage", "missing.jsonl")
    assert result.code == 1
    assert "Traceback" not in result.out + result.err
    assert result.out.startswith(f"upstream of {ASSISTANT}: ")
    assert result.err.splitlines() == [
        "broken.jsonl:1:15: LS001 not valid JSON: Expecting value; the trace leaves it out",
        "broken.jsonl:2:1: LS002 the event is nested too deeply to read; the trace leaves it out",
        "missing.jsonl:1:1: LS001 cannot read the lineage file: missing.jsonl does not exist; the trace leaves it out",
    ]


def test_the_config_names_the_lineage_when_the_command_line_does_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run) -> None:
    _organisation(tmp_path, monkeypatch)
    (tmp_path / "loopscan.yaml").write_text("lineage: [events/]\n")
    result = run("trace", ASSISTANT, "-f", "json")
    assert result.code == 0, result.err
    assert result.json()["upstream"]["path"] == OBSERVED_PATH
