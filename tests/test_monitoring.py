"""Play 4 and Play 5: monitoring (LS401-LS403) and the response drill (LS501-LS502)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TODAY, Result, line_of, where

Run = Callable[..., Result]
Write = Callable[[str, str], Path]

MONITORING = """
    monitoring:
      metrics: [distinct-2, vocabulary-richness]
      eval_set: tail-evals
      alert: {metric: distinct-2, max_drop: 0.05}
      compare_to: previous"""
ROLLBACK = """
    rollback:
      checkpoint: models:/assistant/known-good
      last_drill: 2026-10-01"""


def assistant(model: str = MONITORING + ROLLBACK, evals: str = "provenance: human, frozen: true",
              extra_steps: str = "") -> str:
    """A reviewed, capped, anchored and documented feedback loop; ``model`` is the model's body."""
    body = model.strip("\n")
    return f"""
loopscan: 1
pipeline: assistant
owner: maria.chen
datasets:
  messages: {{uri: "s3://a/messages/", provenance: human}}
  drafts: {{uri: "s3://a/drafts/", provenance: ai}}
  reviewed: {{uri: "s3://a/reviewed/", provenance: mixed, synthetic_fraction: 0.5}}
  anchor: {{uri: "s3://a/anchor/", provenance: human, frozen: true}}
  tail-evals: {{uri: "s3://a/evals/", {evals}}}
models:
  llm:
    uri: models:/assistant
{body}
steps:
  serve:
    kind: generate
    inputs: [llm, messages]
    outputs: [drafts]
  review:
    kind: gate
    method: human-review
    inputs: [drafts]
    outputs: [reviewed]
  finetune:
    kind: train
    inputs: [{{ref: reviewed, share: 0.2}}, {{ref: anchor, share: 0.8}}]
    outputs: [llm]
    mixing: {{max_synthetic: 0.2, anchor: anchor, log: "mlflow://a/ratio"}}{extra_steps}
loops:
  feedback:
    through: [serve, review, finetune]
    why: Reviewed replies teach the assistant current answers.
    safeguards: [review, finetune]
"""


def check(run: Run) -> list[dict[str, Any]]:
    result = run("check", ".", "-f", "json", "--today", TODAY)
    assert result.code in (0, 1), result.err
    return result.json()["findings"]


def findings(run: Run, rule: str) -> list[dict[str, Any]]:
    return [f for f in check(run) if f["rule"] == rule]




def test_the_complete_loop_reports_nothing(project: Write, run: Run) -> None:
    project("assistant.yaml", assistant())
    assert check(run) == []


# ---- LS401 ----------------------------------------------------------------------------------

def test_ls401_reports_a_model_on_a_loop_without_monitoring(project: Write, run: Run) -> None:
    path = project("assistant.yaml", assistant(model=ROLLBACK))
    found = findings(run, "LS401")
    assert where(found) == [("assistant.yaml", line_of(path, "llm:"), "assistant:llm")]
    assert "lies on the loop through 'serve'" in found[0]["message"]


def test_ls401_reports_a_model_that_only_feeds_a_generate_step(project: Write, run: Run) -> None:
    path = project("bot.yaml", """
        loopscan: 1
        pipeline: bot
        owner: daniel
        datasets:
          questions: {provenance: human}
          answers: {provenance: ai}
        models:
          answerer: {uri: "models:/answerer"}
        steps:
          answer: {kind: generate, inputs: [answerer, questions], outputs: [answers]}
        """)
    found = findings(run, "LS401")
    assert where(found) == [("bot.yaml", line_of(path, "answerer:"), "bot:answerer")]
    assert "feeds generate step 'answer'" in found[0]["message"]
    assert findings(run, "LS501") == []  # not on a loop: no rollback required


def test_ls401_leaves_models_that_generate_nothing_alone(project: Write, run: Run) -> None:
    project("student.yaml", """
        loopscan: 1
        pipeline: student
        owner: lena
        datasets:
          corpus: {provenance: human}
        models:
          student: {uri: "models:/student"}
        steps:
          train: {kind: train, inputs: [corpus], outputs: [student]}
        """)
    assert [f["rule"] for f in check(run) if f["rule"].startswith(("LS4", "LS5"))] == []


# ---- LS402 ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "needle", "words"), [
    ("compare_to: previous", "compare_to: baseline", "compare_to: baseline", "compares with 'baseline' only"),
    ("\n      compare_to: previous", "", "monitoring:", "does not compare each generation"),
    ("\n      alert: {metric: distinct-2, max_drop: 0.05}", "", "monitoring:", "has no alert threshold"),
    ("metrics: [distinct-2, vocabulary-richness]", "metrics: []", "metrics: []", "tracks no diversity metrics"),
    ("metric: distinct-2,", "metric: perplexity,", "metric: perplexity", "alerts on 'perplexity'"),
])
def test_ls402_reports_each_gap_at_its_place(
    project: Write, run: Run, old: str, new: str, needle: str, words: str
) -> None:
    path = project("assistant.yaml", assistant(model=MONITORING.replace(old, new) + ROLLBACK))
    found = findings(run, "LS402")
    assert where(found) == [("assistant.yaml", line_of(path, needle), "assistant:llm")]
    assert words in found[0]["message"]


# ---- LS403 ----------------------------------------------------------------------------------

def test_ls403_reports_an_eval_set_that_is_not_frozen(project: Write, run: Run) -> None:
    path = project("assistant.yaml", assistant(evals="provenance: human"))
    found = findings(run, "LS403")
    assert where(found) == [("assistant.yaml", line_of(path, "eval_set: tail-evals"), "assistant:llm")]
    assert "is not frozen" in found[0]["message"]


def test_ls403_reports_an_eval_set_that_a_step_writes(project: Write, run: Run) -> None:
    path = project("assistant.yaml", assistant(extra_steps="""
  add-cases:
    kind: transform
    inputs: [reviewed]
    outputs: [tail-evals]"""))
    found = findings(run, "LS403")
    assert where(found) == [("assistant.yaml", line_of(path, "eval_set: tail-evals"), "assistant:llm")]
    assert "written by 'add-cases'" in found[0]["message"]


def test_ls403_reports_monitoring_without_an_eval_set(project: Write, run: Run) -> None:
    path = project("assistant.yaml", assistant(model=MONITORING.replace("\n      eval_set: tail-evals", "") + ROLLBACK))
    assert where(findings(run, "LS403")) == [("assistant.yaml", line_of(path, "monitoring:"), "assistant:llm")]


# ---- LS501 and LS502 ------------------------------------------------------------------------

def test_ls501_reports_a_model_on_a_loop_without_a_checkpoint(project: Write, run: Run) -> None:
    path = project("assistant.yaml", assistant(model=MONITORING))
    found = findings(run, "LS501")
    assert where(found) == [("assistant.yaml", line_of(path, "llm:"), "assistant:llm")]
    assert "loop through 'serve'" in found[0]["message"]


def test_ls501_points_at_a_rollback_block_without_checkpoint(project: Write, run: Run) -> None:
    path = project("assistant.yaml", assistant(
        model=MONITORING + ROLLBACK.replace("\n      checkpoint: models:/assistant/known-good", "")))
    assert where(findings(run, "LS501")) == [("assistant.yaml", line_of(path, "rollback:"), "assistant:llm")]


@pytest.mark.parametrize(("drill", "stale"), [("2026-08-24", False), ("2026-08-23", True)])
def test_ls502_allows_exactly_drill_every_days(project: Write, run: Run, drill: str, stale: bool) -> None:
    path = project("assistant.yaml", assistant(model=MONITORING + ROLLBACK.replace("2026-10-01", drill)))
    found = findings(run, "LS502")
    if stale:  # 93 days before 2026-11-24; the policy allows 92
        assert where(found) == [("assistant.yaml", line_of(path, "last_drill:"), "assistant:llm")]
        assert "93 days ago" in found[0]["message"]
    else:
        assert found == []


def test_ls502_reports_a_drill_never_run(project: Write, run: Run) -> None:
    path = project("assistant.yaml", assistant(
        model=MONITORING + ROLLBACK.replace("\n      last_drill: 2026-10-01", "")))
    found = findings(run, "LS502")
    assert where(found) == [("assistant.yaml", line_of(path, "rollback:"), "assistant:llm")]
    assert found[0]["severity"] == "warning"


def test_ls502_reads_the_interval_from_the_config(project: Write, run: Run) -> None:
    project("loopscan.yaml", "policy: {drill_every_days: 30}\n")
    project("assistant.yaml", assistant())
    assert "54 days ago" in findings(run, "LS502")[0]["message"]


def test_ls402_documents_exactly_the_diversity_metrics_it_knows() -> None:
    # `loopscan explain LS402` is where a user learns which names count; the list and the matcher must agree.
    import re

    from loopscan.registry import builtin_rules
    from loopscan.rules.monitoring.ls402_incomplete_monitoring import DIVERSITY_METRICS, is_diversity_metric

    [rule] = [item for item in builtin_rules() if item.id == "LS402"]
    listed = rule.doc.split("any name with `diversity` in it:", 1)[1].split("## ", 1)[0]
    documented = re.findall(r"`([^`]+)`", listed)
    assert set(DIVERSITY_METRICS) - {"diversity"} <= set(documented)
    assert all(is_diversity_metric(name) for name in documented)
    for accuracy in ("accuracy", "dev-accuracy", "exact-match", "bleu", "perplexity", "win-rate"):
        assert not is_diversity_metric(accuracy), accuracy
    for written in ("Distinct-2", "self_bleu", "Vocabulary Richness", "token_entropy", "semantic-diversity"):
        assert is_diversity_metric(written), written
