"""Play 2: mixing ratios, rules LS201-LS206, and the ratio arithmetic at its edges."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest

from loopscan.analysis.mixing import over, portion, synthetic_share
from tests.conftest import Result, line_of, rule_findings, where

Run = Callable[..., Result]
Write = Callable[[str, str], Path]






def training(inputs: str, mixing: str, datasets: str = "") -> str:
    """A manifest with one train step; ``inputs`` and ``mixing`` are its YAML flow values."""
    return f"""
        loopscan: 1
        pipeline: tune
        owner: ana
        datasets:
          generated: {{uri: "s3://tune/generated/", provenance: ai}}
          more-generated: {{uri: "s3://tune/generated-2/", provenance: ai}}
          chats: {{uri: "s3://tune/chats/", provenance: mixed}}
          measured: {{uri: "s3://tune/measured/", provenance: mixed, synthetic_fraction: 0.5}}
          anchor: {{uri: "s3://anchor/v1/", provenance: human, frozen: true}}
          notes: {{uri: "s3://tune/notes/", provenance: human}}
        {datasets}
        models:
          m: {{uri: "models:/m"}}
        steps:
          finetune:
            kind: train
            inputs: {inputs}
            outputs: [m]
            mixing: {mixing}
        """


COMPLETE = "{max_synthetic: 0.3, anchor: anchor, log: mlflow://tune/ratio}"
REFRESH = """
          refresh:
            kind: transform
            inputs: [{source}]
            outputs: [{target}]
          finetune:"""


def with_refresh(text: str, source: str, target: str) -> str:
    """The manifest with a step ``refresh`` that writes ``source`` into ``target``."""
    return text.replace("\n          finetune:", REFRESH.format(source=source, target=target))


# ---- the arithmetic -------------------------------------------------------------------------

def test_shares_are_added_exactly() -> None:
    share = synthetic_share([portion("a", 0.1, "ai", None), portion("b", 0.2, "ai", None)])
    assert share == Fraction(3, 10)
    assert 0.1 + 0.2 > 0.3  # why floats would not do
    assert not over(share, 0.3)


@pytest.mark.parametrize(("provenance", "fraction", "weight"), [
    ("ai", None, 1), ("human", None, 0), ("unknown", None, 1), ("mixed", None, 1), ("mixed", 0.25, Fraction(1, 4)),
])
def test_each_provenance_weighs_its_synthetic_part(provenance: str, fraction: float | None, weight: Fraction) -> None:
    assert portion("x", 1, provenance, fraction).weight == weight


# ---- LS203 at the edges ---------------------------------------------------------------------

def test_ls203_passes_a_mix_exactly_at_its_cap(project: Write, run: Run) -> None:
    project("tune.yaml", training(
        "[{ref: generated, share: 0.1}, {ref: more-generated, share: 0.2}, {ref: anchor, share: 0.7}]", COMPLETE))
    assert rule_findings(run, "LS203") == []


def test_ls203_reports_a_mix_just_above_its_cap(project: Write, run: Run) -> None:
    path = project("tune.yaml", training(
        "[{ref: generated, share: 0.1}, {ref: more-generated, share: 0.201}, {ref: anchor, share: 0.699}]",
        COMPLETE))
    found = rule_findings(run, "LS203")
    assert where(found) == [("tune.yaml", line_of(path, "mixing:"), "tune:finetune")]
    assert "30.1% synthetic" in found[0]["message"] and "its cap 30%" in found[0]["message"]


def test_ls203_counts_mixed_data_of_unknown_fraction_as_synthetic(project: Write, run: Run) -> None:
    project("tune.yaml", training("[{ref: chats, share: 0.4}, {ref: anchor, share: 0.6}]", COMPLETE))
    found = rule_findings(run, "LS203")
    assert len(found) == 1 and "40% synthetic" in found[0]["message"]


def test_ls203_uses_a_declared_synthetic_fraction(project: Write, run: Run) -> None:
    project("tune.yaml", training("[{ref: measured, share: 0.6}, {ref: anchor, share: 0.4}]", COMPLETE))
    assert rule_findings(run, "LS203") == []  # 0.6 x 0.5 = 0.3, at the cap


def test_ls203_holds_an_uncapped_train_step_to_the_policy_ceiling(project: Write, run: Run) -> None:
    path = project("tune.yaml", training("[{ref: generated, share: 0.5}, {ref: anchor, share: 0.5}]",
                                         "{anchor: anchor, log: mlflow://tune/ratio}"))
    found = rule_findings(run, "LS203")
    assert where(found) == [("tune.yaml", line_of(path, "finetune:"), "tune:finetune")]
    assert "the policy ceiling 30%" in found[0]["message"]


# ---- LS201, LS202, LS206 --------------------------------------------------------------------

def test_ls201_reports_a_train_step_without_a_cap(project: Write, run: Run) -> None:
    path = project("tune.yaml", training("[generated, anchor]", "{anchor: anchor, log: mlflow://tune/ratio}"))
    assert where(rule_findings(run, "LS201")) == [("tune.yaml", line_of(path, "mixing:"), "tune:finetune")]


def test_ls201_and_ls206_point_at_the_step_when_there_is_no_mixing_block(project: Write, run: Run) -> None:
    path = project("tune.yaml", training("[generated, anchor]", COMPLETE).replace(f"mixing: {COMPLETE}", ""))
    expected = [("tune.yaml", line_of(path, "finetune:"), "tune:finetune")]
    assert where(rule_findings(run, "LS201")) == expected
    assert where(rule_findings(run, "LS206")) == expected


def test_ls201_ls202_ls206_pass_a_complete_mixing_block(project: Write, run: Run) -> None:
    project("tune.yaml", training("[generated, anchor]", COMPLETE))
    assert rule_findings(run, "LS201") == rule_findings(run, "LS202") == rule_findings(run, "LS206") == []


def test_ls202_reports_a_cap_above_the_policy_ceiling(project: Write, run: Run) -> None:
    path = project("tune.yaml", training(
        "[generated, anchor]", "{max_synthetic: 0.31, anchor: anchor, log: mlflow://tune/ratio}"))
    found = rule_findings(run, "LS202")
    assert where(found) == [("tune.yaml", line_of(path, "mixing:"), "tune:finetune")]
    assert "0.31" in found[0]["message"] and "0.3" in found[0]["message"]


def test_ls202_reads_the_ceiling_from_the_config(project: Write, run: Run) -> None:
    project("loopscan.yaml", "policy: {max_synthetic: 0.4}\n")
    project("tune.yaml", training("[generated, anchor]",
                                  "{max_synthetic: 0.35, anchor: anchor, log: mlflow://tune/ratio}"))
    assert rule_findings(run, "LS202") == []


def test_ls206_reports_a_missing_ratio_log(project: Write, run: Run) -> None:
    path = project("tune.yaml", training("[generated, anchor]", "{max_synthetic: 0.3, anchor: anchor}"))
    found = rule_findings(run, "LS206")
    assert where(found) == [("tune.yaml", line_of(path, "mixing:"), "tune:finetune")]
    assert found[0]["severity"] == "warning"


# ---- LS204 ----------------------------------------------------------------------------------

def test_ls204_reports_a_train_step_without_a_frozen_human_input(project: Write, run: Run) -> None:
    path = project("tune.yaml", training("[generated, notes]", "{max_synthetic: 0.3, log: mlflow://tune/ratio}"))
    assert where(rule_findings(run, "LS204")) == [("tune.yaml", line_of(path, "finetune:"), "tune:finetune")]


def test_ls204_accepts_a_frozen_human_input_that_mixing_does_not_name(project: Write, run: Run) -> None:
    project("tune.yaml", training("[generated, anchor]", "{max_synthetic: 0.3, log: mlflow://tune/ratio}"))
    assert rule_findings(run, "LS204") == []


@pytest.mark.parametrize(("anchor", "inputs", "fault"), [
    ("notes", "[generated, notes]", "is not frozen"),
    ("anchor", "[generated, notes]", "is not one of its training targets"),
])
def test_ls204_reports_a_named_anchor_that_cannot_anchor(
    project: Write, run: Run, anchor: str, inputs: str, fault: str
) -> None:
    path = project("tune.yaml", training(inputs, f"{{max_synthetic: 0.3, anchor: {anchor}, log: mlflow://t/r}}"))
    found = rule_findings(run, "LS204")
    assert where(found) == [("tune.yaml", line_of(path, "mixing:"), "tune:finetune")]
    assert fault in found[0]["message"]


def test_ls204_reports_a_frozen_anchor_that_ai_data_is_written_into(project: Write, run: Run) -> None:
    text = with_refresh(training("[generated, anchor]", COMPLETE), "generated", "anchor")
    path = project("tune.yaml", text)
    found = rule_findings(run, "LS204")
    assert where(found) == [("tune.yaml", line_of(path, "mixing:"), "tune:finetune")]
    assert "is of 'mixed' provenance, not human" in found[0]["message"]


# ---- LS205 ----------------------------------------------------------------------------------


def test_ls205_reports_a_step_that_writes_a_frozen_set(project: Write, run: Run) -> None:
    text = with_refresh(training("[generated, anchor]", COMPLETE), "notes", "anchor")
    path = project("tune.yaml", text)
    found = rule_findings(run, "LS205")
    assert where(found) == [("tune.yaml", line_of(path, "outputs: [anchor]"), "tune:refresh")]
    assert "writes frozen set 'anchor'" in found[0]["message"]


def test_ls205_reports_a_write_through_an_overlapping_uri(project: Write, run: Run) -> None:
    everything = '  everything: {uri: "s3://anchor/", provenance: human}'
    text = with_refresh(training("[generated, anchor]", COMPLETE, datasets=everything), "notes", "everything")
    path = project("tune.yaml", text)
    found = rule_findings(run, "LS205")
    assert where(found) == [("tune.yaml", line_of(path, "outputs: [everything]"), "tune:refresh")]
    assert "'everything' overlaps it" in found[0]["message"]


def test_ls205_reports_an_anchor_declared_replace(project: Write, run: Run) -> None:
    text = training("[generated, anchor]", COMPLETE).replace(
        'anchor: {uri: "s3://anchor/v1/", provenance: human, frozen: true}',
        'anchor: {uri: "s3://anchor/v1/", provenance: human, frozen: true, retention: replace}')
    path = project("tune.yaml", text)
    assert where(rule_findings(run, "LS205")) == [("tune.yaml", line_of(path, "retention: replace"), "tune:anchor")]


def test_ls205_passes_an_anchor_nobody_writes(project: Write, run: Run) -> None:
    project("tune.yaml", training("[generated, anchor]", COMPLETE))
    assert rule_findings(run, "LS205") == []
