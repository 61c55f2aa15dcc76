"""LS704 observed-ratio-over-cap: a completed run of a train step read a synthetic share above its cap."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from loopscan.analysis.mixing import exact, over, synthetic_weight
from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.lineage import DatasetUse, Run
from loopscan.wording import number


@rule("LS704", "observed-ratio-over-cap", severity="error", play=7)
def check(project: Project) -> Iterator[Problem]:
    """A completed run of a train step read a synthetic share above its cap, by the sizes its events report.

    ## Why is this bad?
    A cap in a manifest (`mixing.max_synthetic`) is a promise about every
    run. Play 2 of the playbook keeps the synthetic share of a training mix
    below it, because collapse sets in as real data is displaced. OpenLineage
    events report what a run really read: the `inputStatistics` input facet
    (`rowCount`, `size`) or `dataQualityMetrics.rowCount`. The share is the
    part of those rows (or bytes) that came from data of `ai` provenance
    (`mixed` data counts with its `synthetic_fraction`, else whole; `unknown`
    counts whole). An input's provenance is its manifest declaration, else a
    `provenance=human|ai|mixed|unknown` entry of its `tags` facet, else what
    the observed flows bring into it, else `unknown`.

    When no run of a capped train step reports row counts or sizes for all its
    inputs, the share cannot be observed, and this is said once.

    ## Example
    ```yaml
    steps:
      finetune: {kind: train, job: ml/train-assistant, inputs: [curated, anchor],
                 mixing: {max_synthetic: 0.2}}
    # a run read 600 rows of AI answers and 400 of human tickets: a share of 0.6
    ```

    ## Fix
    Cut the synthetic input of the run back to the cap, or raise the cap in
    review with the evidence it rests on.
    """
    observed = project.observed
    if observed is None:
        return
    unobserved = []
    for manifest in project.manifests:
        for step in manifest.steps.values():
            if step.kind != "train" or step.job is None or step.mixing is None or step.mixing.max_synthetic is None:
                continue
            cap = step.mixing.max_synthetic
            runs = observed.runs_of(step.job)
            measured = [(run, found) for run in runs if (found := _share(project, run)) is not None]
            if runs and not measured:
                unobserved.append(step)
            for run, (share, synthetic, total, unit) in measured:
                if over(share, cap):
                    yield Problem(
                        f"run {run.run_id} of job {run.job} read a synthetic share of {number(share)} "
                        f"({number(synthetic)} of {total:,} {unit}), above the cap {number(exact(cap))} of "
                        f"'{step.id}'",
                        step.at("mixing", "max_synthetic"), pipeline=step.pipeline, node=step.qualified,
                        evidence=tuple(dict.fromkeys(use.event for use in run.inputs.values())))
    if unobserved:
        step = unobserved[0]
        more = f" (and {len(unobserved) - 1} more capped train steps)" if len(unobserved) > 1 else ""
        yield Problem(f"the synthetic share of the runs of '{step.id}'{more} could not be observed: their events "
                      "report no rowCount or size of every input (inputStatistics or dataQualityMetrics)",
                      step.at("mixing", "max_synthetic"), pipeline=step.pipeline, node=step.qualified)


def _share(project: Project, run: Run) -> tuple[Fraction, Fraction, int, str] | None:
    """The synthetic share of what the run read, the synthetic amount, the total and its unit; None if unknown."""
    uses = list(run.inputs.values())
    if not uses:
        return None
    for unit, amount in (("rows", _rows), ("bytes", _size)):
        amounts = [amount(use) for use in uses]
        if all(value is not None for value in amounts):
            total = sum(value or 0 for value in amounts)
            if total == 0:
                return None
            synthetic = sum((value or 0) * _weight(project, use) for use, value in zip(uses, amounts, strict=True))
            return Fraction(synthetic) / total, Fraction(synthetic), total, unit
    return None


def _rows(use: DatasetUse) -> int | None:
    return use.rows


def _size(use: DatasetUse) -> int | None:
    return use.size


def _weight(project: Project, use: DatasetUse) -> Fraction:
    """The synthetic part of one input, by its provenance."""
    observed = project.observed
    assert observed is not None
    node = observed.node_of(use.uri)
    artifact = project.facts.artifact(node)
    provenance = project.facts.provenance.get(node, "unknown")
    return synthetic_weight(provenance, artifact.synthetic_fraction if artifact is not None else None)
