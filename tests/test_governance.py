"""Governance: one owner (LS601), overrides (LS602-LS605) end to end, and `loopscan overrides`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TODAY, Result, line_of, where
from tests.test_monitoring import MONITORING, ROLLBACK, assistant

Run = Callable[..., Result]
Write = Callable[[str, str], Path]


def check(run: Run, *extra: str) -> Result:
    result = run("check", ".", "-f", "json", "--today", TODAY, *extra)
    assert result.code in (0, 1), result.err
    return result


def findings(run: Run, rule: str) -> list[dict[str, Any]]:
    return [f for f in check(run).json()["findings"] if f["rule"] == rule]




# ---- a complete loop ------------------------------------------------------------------------

GENERATOR = """
    loopscan: 1
    pipeline: writer
    owner: priya
    datasets:
      attributes: {uri: "s3://seller/attributes/", provenance: human}
      drafts: {uri: "s3://lake/listings/generated/", provenance: ai}
    steps:
      draft:
        kind: generate
        inputs: ["models:/catalog-lm", attributes]
        outputs: [drafts]
    loops:
      listings:
        through: [draft, "ranking:review", "ranking:finetune"]
        why: Sellers keep drafted text; the catalog model learns current listings from it.
        safeguards: ["ranking:review", "ranking:finetune"]
"""

TRAINER = """
    loopscan: 1
    pipeline: ranking
    owner: jonas
    datasets:
      listings: {uri: "s3://lake/listings/", provenance: mixed}
      reviewed: {uri: "s3://ranking/reviewed/", provenance: mixed, synthetic_fraction: 0.2}
      anchor: {uri: "s3://anchor/catalog/v1/", provenance: human, frozen: true}
      tail-queries: {uri: "s3://ranking/evals/tail/", provenance: human, frozen: true}
    models:
      catalog-lm:
        uri: models:/catalog-lm
        monitoring:
          metrics: [distinct-2, rare-case-coverage]
          eval_set: tail-queries
          alert: {metric: distinct-2, max_drop: 0.04}
          compare_to: previous
        rollback:
          checkpoint: models:/catalog-lm/known-good
          last_drill: 2026-10-15
    steps:
      review:
        kind: gate
        method: score-filter
        inputs: [listings]
        outputs: [reviewed]
      finetune:
        kind: train
        inputs: [{ref: reviewed, share: 0.5}, {ref: anchor, share: 0.5}]
        outputs: [catalog-lm]
        mixing: {max_synthetic: 0.1, anchor: anchor, log: "mlflow://ranking/ratio"}
"""


def test_a_complete_well_formed_loop_across_two_teams_reports_nothing(project: Write, run: Run) -> None:
    project("writer.yaml", GENERATOR)
    project("ranking.yaml", TRAINER)
    result = check(run)
    assert result.json()["findings"] == []
    assert result.json()["loops"][0]["documented"] is True
    text = run("check", ".", "--today", TODAY)
    assert (text.code, text.out) == (0, "No findings in 2 manifest files.\n")


# ---- LS601 ----------------------------------------------------------------------------------

OWNED = """
    loopscan: 1
    pipeline: notes
    {owner}
    datasets:
      kept: {{provenance: human}}
"""


@pytest.mark.parametrize(("owner", "words"), [
    ("owner: [maria.chen, jonas.berg]", "names 2 owners (maria.chen, jonas.berg)"),
    ("owner: maria.chen, jonas.berg", "names 2 owners"),
    ("owner: maria.chen and jonas.berg", "names 2 owners"),
    ("owner: [maria.chen]", "is a list"),
    ('owner: " "', "has no owner"),
])
def test_ls601_reports_an_owner_that_is_not_one_name(project: Write, run: Run, owner: str, words: str) -> None:
    path = project("notes.yaml", OWNED.format(owner=owner))
    found = findings(run, "LS601")
    assert where(found) == [("notes.yaml", line_of(path, "owner:"), None)]
    assert words in found[0]["message"] and found[0]["pipeline"] == "notes"


def test_ls601_reports_a_pipeline_without_owner_at_its_name(project: Write, run: Run) -> None:
    path = project("notes.yaml", OWNED.format(owner=""))
    assert where(findings(run, "LS601")) == [("notes.yaml", line_of(path, "pipeline: notes"), None)]


def test_ls601_reports_a_step_owned_by_several_people(project: Write, run: Run) -> None:
    path = project("notes.yaml", OWNED.format(owner="owner: ana") + """
    steps:
      copy: {kind: transform, owner: "ana & omar", inputs: [kept]}
    """)
    assert where(findings(run, "LS601")) == [("notes.yaml", line_of(path, "copy:"), "notes:copy")]


def test_ls601_passes_one_owner(project: Write, run: Run) -> None:
    project("notes.yaml", OWNED.format(owner="owner: maria.chen"))
    assert findings(run, "LS601") == []


# ---- overrides, end to end ------------------------------------------------------------------

def with_override(approved: str, expires: str, model: str = ROLLBACK, approver: str = "maria.chen") -> str:
    """The assistant loop (without monitoring unless ``model`` has it) and one override of LS401."""
    return assistant(model=model) + f"""
overrides:
  - rule: LS401
    target: llm
    reason: Dashboard migration, tracked in OPS-1234.
    approved_by: {approver}
    approved: {approved}
    expires: {expires}
"""


def test_an_override_in_force_suppresses_its_finding(project: Write, run: Run) -> None:
    project("assistant.yaml", with_override("2026-11-01", "2026-12-31"))
    result = check(run)
    assert result.code == 0
    [finding] = result.json()["findings"]
    assert (finding["rule"], finding["node"]) == ("LS401", "assistant:llm")
    assert finding["suppressed"] == {"reason": "Dashboard migration, tracked in OPS-1234.",
                                     "approved_by": "maria.chen", "expires": "2026-12-31"}
    summary = result.json()["summary"]
    assert (summary["error"], summary["warning"], summary["suppressed"]) == (0, 0, 1)
    text = run("check", ".", "--today", TODAY)
    assert text.code == 0 and "LS401" not in text.out
    assert text.out == "No findings in 1 manifest file, 1 suppressed by overrides.\n"


def test_ls603_reports_an_expired_override_which_then_suppresses_nothing(project: Write, run: Run) -> None:
    path = project("assistant.yaml", with_override("2026-09-01", "2026-11-01"))
    result = check(run)
    assert result.code == 1
    by_rule = {f["rule"]: f for f in result.json()["findings"]}
    assert sorted(by_rule) == ["LS401", "LS603"]
    assert "suppressed" not in by_rule["LS401"]
    assert (by_rule["LS603"]["line"], by_rule["LS603"]["pipeline"]) == (line_of(path, "expires:"), "assistant")
    assert "expired on 2026-11-01 (23 days ago)" in by_rule["LS603"]["message"]


def test_ls604_reports_an_override_longer_than_the_policy_allows(project: Write, run: Run) -> None:
    path = project("assistant.yaml", with_override("2026-11-01", "2027-03-01"))
    found = check(run).json()["findings"]
    assert sorted(f["rule"] for f in found) == ["LS401", "LS604"]
    [too_long] = [f for f in found if f["rule"] == "LS604"]
    assert too_long["line"] == line_of(path, "expires:")
    assert "runs 120 days" in too_long["message"] and "(90)" in too_long["message"]


def test_ls604_reads_the_longest_span_from_the_config(project: Write, run: Run) -> None:
    project("loopscan.yaml", "policy: {override_max_days: 120}\n")
    project("assistant.yaml", with_override("2026-11-01", "2027-03-01"))
    assert [f.get("suppressed") is not None for f in check(run).json()["findings"]] == [True]


def test_ls602_reports_an_incomplete_override(project: Write, run: Run) -> None:
    path = project("assistant.yaml", with_override("2026-11-01", "2026-12-31").replace(
        "    approved_by: maria.chen\n", ""))
    found = check(run).json()["findings"]
    assert sorted(f["rule"] for f in found) == ["LS401", "LS602"]
    [incomplete] = [f for f in found if f["rule"] == "LS602"]
    assert incomplete["line"] == line_of(path, "- rule: LS401")
    assert "lacks approved_by" in incomplete["message"]


def test_ls605_reports_an_override_that_matches_no_finding(project: Write, run: Run) -> None:
    path = project("assistant.yaml", with_override("2026-11-01", "2026-12-31", model=MONITORING + ROLLBACK))
    result = check(run)
    assert result.code == 0  # a warning
    found = result.json()["findings"]
    assert [(f["rule"], f["line"], f["severity"]) for f in found] == [
        ("LS605", line_of(path, "- rule: LS401"), "warning")]


# ---- loopscan overrides ---------------------------------------------------------------------

REVIEWED = """
    loopscan: 1
    pipeline: notes
    owner: ana
    datasets:
      kept: {provenance: human}
    overrides:
      - {rule: LS101, target: kept, reason: Later., approved_by: ana, approved: 2026-11-20, expires: 2027-01-23}
      - {rule: LS102, target: kept, reason: Soon., approved_by: ana, approved: 2026-11-01, expires: 2026-12-04}
      - {rule: LS103, target: kept, reason: Gone., approved_by: ana, approved: 2026-09-01, expires: 2026-11-20}
      - {rule: LS104, target: kept, reason: Undated., approved_by: ana}
"""


def test_the_review_lists_every_override_soonest_first(project: Write, run: Run) -> None:
    path = project("notes.yaml", REVIEWED)
    result = run("overrides", ".", "--today", TODAY, "-f", "json")
    assert result.code == 1  # one has expired
    listed = result.json()["overrides"]
    assert [(o["rule"], o["days_left"], o["status"]) for o in listed] == [
        ("LS104", None, "incomplete"), ("LS103", -4, "expired"), ("LS102", 10, "in force"), ("LS101", 60, "in force")]
    assert listed[2] == {
        "rule": "LS102", "target": "kept", "pipeline": "notes", "reason": "Soon.", "approved_by": "ana",
        "approved": "2026-11-01", "expires": "2026-12-04", "days_left": 10, "status": "in force",
        "file": "notes.yaml", "line": line_of(path, "rule: LS102"),
    }
    assert result.json()["summary"] == {"overrides": 4, "expired": 1, "incomplete": 1, "too long": 0, "in force": 2}


def test_the_review_table_shows_days_left_and_reasons(project: Write, run: Run) -> None:
    project("notes.yaml", REVIEWED)
    result = run("overrides", ".", "--today", TODAY, "--expiring-within", "30")
    assert result.code == 1
    rows = result.out.splitlines()
    assert rows[0].split() == ["EXPIRES", "DAYS", "LEFT", "STATUS", "RULE", "TARGET", "APPROVED", "BY", "WHERE",
                               "REASON"]
    assert [row.split()[0] for row in rows[1:4]] == ["-", "2026-11-20", "2026-12-04"]
    assert "Soon." in rows[3] and " 10 " in rows[3]
    assert "LS101" not in result.out  # expires in 60 days, outside the window
    assert rows[-1] == "3 overrides on 2026-11-24: 1 expired, 1 incomplete, 1 in force."


def test_the_review_passes_when_nothing_has_expired(project: Write, run: Run) -> None:
    project("notes.yaml", REVIEWED)
    result = run("overrides", ".", "--today", "2026-11-19", "-f", "json")
    assert result.code == 0
    assert [o["days_left"] for o in result.json()["overrides"]][1:] == [1, 15, 65]


def test_the_review_says_when_there_is_nothing_to_review(project: Write, run: Run) -> None:
    project("notes.yaml", OWNED.format(owner="owner: ana"))
    result = run("overrides", ".", "--today", TODAY)
    assert (result.code, result.out) == (0, "No overrides to review on 2026-11-24.\n")
