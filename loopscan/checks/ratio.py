"""LS2xx mixing ratio (Play 2): every training run capped, the cap kept, a frozen human anchor, a ratio log.

The arithmetic is :mod:`loopscan.analysis.mixing` over the inputs' declared shares and
their inferred provenance (``project.facts.provenance_flow``).
"""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.analysis.mixing import Portion, exact, over, portion, synthetic_share
from loopscan.checks._select import datasets, steps
from loopscan.checks._wording import number, shown
from loopscan.findings import Location, Problem
from loopscan.rule import Project, rule
from loopscan.sources.manifest import Artifact, Step


def _mixing_place(step: Step) -> Location:
    """Where a missing ``mixing`` field belongs: its ``mixing`` block, or the step."""
    return step.key_at("mixing") if step.mixing is not None else step.location


def _artifact(project: Project, node: str) -> Artifact | None:
    decl = project.dataflow.nodes[node]["decl"]
    return decl if isinstance(decl, Artifact) else None


@rule("LS201", "missing-cap", severity="error", play=2)
def missing_cap(project: Project) -> Iterator[Problem]:
    """A train step declares no `mixing.max_synthetic`.

    ## Why is this bad?
    Play 2 of the playbook (set and enforce mixing ratios) calls a healthy
    proportion of verified human data in every training run "the single most
    effective defense against collapse", and asks for a maximum
    synthetic-data percentage for each run. Bertrand et al. ("On the
    Stability of Iterative Retraining of Generative Models on their own
    Data", ICLR 2024) prove iterative retraining stable only while enough of
    each mix is real data; without a cap nothing stops the synthetic share
    from growing run after run.

    ## Example
    ```yaml
    steps:
      finetune:
        kind: train
        inputs: [accepted-completions]
        outputs: [code-model]
    ```

    ## Fix
    State the ceiling for this run, at or below the policy's
    (`policy.max_synthetic`, 0.3 by default):
    ```yaml
      finetune:
        kind: train
        inputs: [accepted-completions, human-code-anchor]
        outputs: [code-model]
        mixing:
          max_synthetic: 0.2
    ```
    """
    for step in steps(project, "train"):
        if step.mixing is None or step.mixing.max_synthetic is None:
            yield Problem(f"train step '{step.id}' declares no synthetic-data cap (mixing.max_synthetic)",
                          _mixing_place(step), pipeline=step.pipeline, node=step.qualified)


@rule("LS202", "cap-above-ceiling", severity="error", play=2)
def cap_above_ceiling(project: Project) -> Iterator[Problem]:
    """A mixing cap is above the policy's ceiling (`policy.max_synthetic`).

    ## Why is this bad?
    Play 2 of the playbook: define a maximum synthetic-data percentage and
    "block any job that exceeds the ceiling without explicit, documented
    override". The ceiling is the organisation's, set once in the config; a
    pipeline that raises its own cap past it quietly opts out. The default,
    0.3, follows Bertrand et al. ("On the Stability of Iterative Retraining
    of Generative Models on their own Data", ICLR 2024), whose stability
    result needs synthetic data to stay under about a third of the mix.

    ## Example
    ```yaml
    steps:
      finetune:
        kind: train
        mixing:
          max_synthetic: 0.5         # the policy allows 0.3
    ```

    ## Fix
    Lower the cap to the ceiling or below. If this run really needs more, add
    an override with a reason, an approver and an expiry date, so that the
    exception is reviewed:
    ```yaml
    overrides:
      - rule: LS202
        target: finetune
        reason: Bootstrapping the new locale; human data arrives in Q1 (ML-881).
        approved_by: maria.chen
        approved: 2026-11-01
        expires: 2027-01-15
    ```
    """
    ceiling = project.policy.max_synthetic
    for step in steps(project):
        cap = step.mixing.max_synthetic if step.mixing is not None else None
        if cap is not None and exact(cap) > exact(ceiling):
            yield Problem(f"step '{step.id}' caps synthetic data at {number(cap)}, above the policy ceiling "
                          f"{number(ceiling)} (policy.max_synthetic)",
                          step.at("mixing", "max_synthetic"), pipeline=step.pipeline, node=step.qualified)


@rule("LS203", "ratio-over-cap", severity="error", play=2)
def ratio_over_cap(project: Project) -> Iterator[Problem]:
    """The declared shares and synthetic fractions of a step's inputs give a synthetic share above its cap.

    ## Why is this bad?
    Play 2 of the playbook makes the cap "a gate, not a suggestion". A cap
    that the declared mix itself exceeds is a promise the manifest already
    breaks, and Bertrand et al. ("On the Stability of Iterative Retraining
    of Generative Models on their own Data", ICLR 2024) tie the stability of
    retraining to the real share of each mix.

    The synthetic share is the sum, over inputs with a `share`, of the share
    times the input's synthetic part by its inferred provenance: `ai` 1,
    `human` 0, `mixed` its `synthetic_fraction` (1 when unknown), `unknown`
    1. The sum is exact: a mix exactly at its cap passes. A train step
    without a cap is held to the policy ceiling.

    ## Example
    ```yaml
    datasets:
      transcripts: {provenance: mixed}          # no synthetic_fraction: counts as 1
      anchor-v3: {provenance: human, frozen: true}
    steps:
      finetune:
        kind: train
        inputs:
          - {ref: transcripts, share: 0.4}
          - {ref: anchor-v3, share: 0.6}
        mixing: {max_synthetic: 0.2, anchor: anchor-v3}   # the mix is 0.4 synthetic
    ```

    ## Fix
    Give the human anchor a larger share, or declare the measured
    `synthetic_fraction` of the mixed input:
    ```yaml
      transcripts: {provenance: mixed, synthetic_fraction: 0.5}   # 0.4 * 0.5 = 0.2
    ```
    """
    flow = project.facts.provenance_flow
    for step in steps(project):
        cap = step.mixing.max_synthetic if step.mixing is not None else None
        if cap is None and step.kind != "train":
            continue
        portions = _portions(project, step, flow.value)
        if not portions:
            continue
        share = synthetic_share(portions)
        limit = cap if cap is not None else project.policy.max_synthetic
        if not over(share, limit):
            continue
        which = f"its cap {number(limit)}" if cap is not None else f"the policy ceiling {number(limit)}"
        terms = " + ".join(f"{shown(p.node, step.pipeline)} {number(p.share)} x {number(p.weight)}"
                           for p in portions if p.synthetic)
        place = step.at("mixing", "max_synthetic") if cap is not None else step.location
        yield Problem(f"the inputs of '{step.id}' are {number(share)} synthetic ({terms}), above {which}",
                      place, pipeline=step.pipeline, node=step.qualified)


def _portions(project: Project, step: Step, provenance: dict[str, str]) -> list[Portion]:
    """Each input with a declared share, weighted by its inferred provenance."""
    found = []
    for ref in step.inputs:
        node = project.nodes.get(ref)
        if ref.share is None or node is None:
            continue
        artifact = _artifact(project, node)
        fraction = artifact.synthetic_fraction if artifact is not None and artifact.provenance == "mixed" else None
        found.append(portion(node, ref.share, provenance[node], fraction))
    return found


@rule("LS204", "missing-anchor", severity="error", play=2)
def missing_anchor(project: Project) -> Iterator[Problem]:
    """A train step has no frozen, human-provenance anchor set among its inputs.

    ## Why is this bad?
    Play 2 of the playbook: "Preserve a curated, frozen human-data anchor set
    that is reused across generations and never replaced wholesale." Fresh
    human data in every generation is what keeps a self-consuming loop from
    degrading (Alemohammad et al., "Self-Consuming Generative Models Go
    MAD", 2023), and Shumailov et al. ("AI models collapse when trained on
    recursively generated data", Nature, 2024) find that keeping a tenth of
    the original human data in every generation leaves only minor
    degradation where training on generated data alone collapses. An anchor
    that is not frozen drifts; one that is not human anchors nothing.

    The anchor is the input that `mixing.anchor` names; without one, any
    frozen input of inferred `human` provenance counts. A named anchor must
    also be an input of the step.

    ## Example
    ```yaml
    steps:
      finetune-catalog-lm:
        kind: train
        inputs: [catalog-corpus, search-queries]   # neither is a frozen human set
        outputs: [catalog-lm]
    ```

    ## Fix
    Add a curated human set, mark it frozen, and name it:
    ```yaml
    datasets:
      catalog-anchor:
        uri: s3://acme-anchor/catalog/v1/
        provenance: human
        frozen: true
    steps:
      finetune-catalog-lm:
        kind: train
        inputs: [catalog-corpus, search-queries, catalog-anchor]
        mixing: {max_synthetic: 0.3, anchor: catalog-anchor}
    ```
    """
    provenance = project.facts.provenance_flow.value
    for step in steps(project, "train"):
        inputs = [node for node in (project.nodes.get(ref) for ref in step.inputs) if node is not None]
        named = step.mixing.anchor if step.mixing is not None else None
        if named is None:
            if all(_anchor_faults(project, node, inputs, provenance) for node in inputs):
                yield Problem(f"train step '{step.id}' has no frozen, human-provenance anchor set among its inputs",
                              step.location, pipeline=step.pipeline, node=step.qualified)
            continue
        node = project.nodes.get(named)
        if node is None:  # LS004 reports the reference
            continue
        faults = _anchor_faults(project, node, inputs, provenance)
        if faults:
            yield Problem(f"anchor '{shown(node, step.pipeline)}' of train step '{step.id}' "
                          f"{' and '.join(faults)}",
                          named.location, pipeline=step.pipeline, node=step.qualified)


def _anchor_faults(project: Project, node: str, inputs: list[str], provenance: dict[str, str]) -> list[str]:
    """What keeps ``node`` from anchoring a step with these inputs; [] when it can."""
    artifact = _artifact(project, node)
    faults = []
    if node not in inputs:
        faults.append("is not one of its inputs")
    if artifact is None or not artifact.frozen:
        faults.append("is not frozen")
    if provenance[node] != "human":
        faults.append(f"is of '{provenance[node]}' provenance, not human")
    return faults


@rule("LS205", "anchor-overwritten", severity="error", play=2)
def anchor_overwritten(project: Project) -> Iterator[Problem]:
    """A step writes a frozen set, or an anchor or frozen set is declared `retention: replace`.

    ## Why is this bad?
    Play 2 of the playbook keeps a frozen human anchor "reused across
    generations and never replaced wholesale", and Play 4 compares every
    model generation on a fixed evaluation set. A write into either, even
    through a storage prefix that overlaps it, turns the fixed reference into
    one more moving part: an anchor that takes in the latest run's output
    stops anchoring, and an eval set that changes can no longer show a
    decline in diversity.

    ## Example
    ```yaml
    datasets:
      anchor-v3:
        uri: s3://acme-anchor/support/v3/
        provenance: human
        frozen: true
    steps:
      refresh-anchor:
        kind: transform
        inputs: [transcripts]
        outputs: [anchor-v3]         # writes the frozen anchor
    ```

    ## Fix
    Write new data to a new set (`anchor-v4`) and switch to it on purpose,
    after review; keep anchors and eval sets `retention: accumulate` (or
    leave retention out).
    """
    for node, writes in project.facts.writes.items():
        frozen = _artifact(project, node)
        if frozen is None or not frozen.frozen:
            continue
        for write in writes:
            step = project.dataflow.nodes[write.step]["decl"]
            via = "" if write.into == node else f" (its output '{shown(write.into, step.pipeline)}' overlaps it)"
            for ref in step.outputs:
                if project.nodes.get(ref) == write.into:
                    yield Problem(f"step '{step.id}' writes frozen set '{shown(node, step.pipeline)}'{via}",
                                  ref.location, pipeline=step.pipeline, node=step.qualified)
    anchors = {project.nodes.get(step.mixing.anchor) for step in steps(project)
               if step.mixing is not None and step.mixing.anchor is not None}
    for dataset in datasets(project):
        if dataset.retention == "replace" and (dataset.frozen or dataset.qualified in anchors):
            what = "frozen set" if dataset.frozen else "anchor"
            yield Problem(f"{what} '{dataset.id}' is declared retention: replace, so each run would replace "
                          "it wholesale", dataset.at("retention"), pipeline=dataset.pipeline, node=dataset.qualified)


@rule("LS206", "missing-ratio-log", severity="warning", play=2)
def missing_ratio_log(project: Project) -> Iterator[Problem]:
    """A train step does not say where the actual mixing ratio of each run is logged.

    ## Why is this bad?
    Play 2 of the playbook ends with "Log the actual mixing ratio of every
    run for later audit". A declared cap is an intention; the logged ratio is
    what the audit in Play 5 ("audit recent training data for synthetic
    contamination") and the playbook's recurring review read. Without a log,
    a cap that stopped holding looks exactly like one that holds: the plays
    decay silently.

    ## Example
    ```yaml
    steps:
      finetune:
        kind: train
        mixing:
          max_synthetic: 0.2
          anchor: anchor-v3
    ```

    ## Fix
    Name where each run records its actual ratio:
    ```yaml
        mixing:
          max_synthetic: 0.2
          anchor: anchor-v3
          log: mlflow://support/finetune/mixing-ratio
    ```
    """
    for step in steps(project, "train"):
        if step.mixing is None or not step.mixing.log:
            yield Problem(f"train step '{step.id}' does not say where the mixing ratio of each run is logged "
                          "(mixing.log)", _mixing_place(step), pipeline=step.pipeline, node=step.qualified)
