"""LS204 missing-anchor: a train step has no frozen, human-provenance anchor set among its training targets."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.analysis.facts import Facts
from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Step
from loopscan.wording import shown


@rule("LS204", "missing-anchor", severity="error", play=2, scope="step", kinds=("train",))
def check(project: Project, step: Step) -> Iterator[Problem]:
    """A train step has no frozen, human-provenance anchor set among its training targets.

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
    also be an input of the step. Only the step's training `targets` count
    (every dataset input, unless its `role` says otherwise): a frozen human
    set of `prompts` that an RL step conditions on anchors nothing, because
    the step never learns to reproduce it.

    A train step whose every output is a model used only as a `scorer` (a
    reward model, a quality classifier: it outputs scores, not text that
    trains a model) is not checked.


    ## Example
    ```yaml
    steps:
      finetune-catalog-lm:
        kind: train
        inputs: [catalog-corpus, search-queries]   # neither is a frozen human set
        outputs: [catalog-lm]
      rl-tune:
        kind: train
        inputs:
          - {ref: catalog-lm, role: init}
          - {ref: reward-model, role: scorer}
          - {ref: curated-questions, role: prompts}   # frozen and human, but only prompts
        outputs: [catalog-lm-rl]
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
    For an RL step, mix a human target set into what it learns from (a
    `targets` input, such as human demonstrations it is also trained on), or
    train the reward model instead, whose training this rule leaves alone.
    """
    facts = project.facts
    if facts.trains_only_scorers(step):
        return
    inputs = [node for _, node in facts.targets(step)]
    named = step.mixing.anchor if step.mixing is not None else None
    if named is None:
        if all(_anchor_faults(facts, node, inputs) for node in inputs):
            yield Problem(f"train step '{step.id}' has no frozen, human-provenance anchor set among its "
                          "training targets",
                          step.location, pipeline=step.pipeline, node=step.qualified)
        return
    node = project.nodes.get(named)
    if node is None:  # LS004 reports the reference
        return
    faults = _anchor_faults(facts, node, inputs)
    if faults:
        yield Problem(f"anchor '{shown(facts, node, step.pipeline)}' of train step '{step.id}' "
                      f"{' and '.join(faults)}",
                      named.location, pipeline=step.pipeline, node=step.qualified)


def _anchor_faults(facts: Facts, node: str, inputs: list[str]) -> list[str]:
    """Why ``node`` cannot anchor a step that reads ``inputs`` ([] when it can)."""
    provenance = facts.provenance_flow.value
    artifact = facts.artifact(node)
    faults = []
    if node not in inputs:
        faults.append("is not one of its training targets (inputs with role targets)")
    if artifact is None or not artifact.frozen:
        faults.append("is not frozen")
    if provenance[node] != "human":
        faults.append(f"is of '{provenance[node]}' provenance, not human")
    return faults
