"""LS401 missing-monitoring: a model that feeds a generate step, or lies on a loop, has no diversity monitoring."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import ExposedModel, rule
from loopscan.wording import why_exposed


@rule("LS401", "missing-monitoring", severity="error", play=4, scope="model")
def check(project: Project, exposed: ExposedModel) -> Iterator[Problem]:
    """A model that feeds a generate step, or lies on a loop, has no diversity monitoring.

    ## Why is this bad?
    Play 4 of the playbook (monitor for diversity loss): "Collapse shows up
    first as shrinking output diversity, long before quality scores fall off
    a cliff." Shumailov et al. ("AI models collapse when trained on
    recursively generated data", Nature, 2024) show the tails of the
    distribution disappearing first, while average metrics still look
    healthy. A model whose output is generated into data, or that is
    retrained on a loop, needs diversity metrics tracked in production.

    ## Example
    ```yaml
    models:
      answerer:
        uri: models:/helpcenter-answerer
    steps:
      answer:
        kind: generate
        inputs: [answerer, help-index]
        outputs: [answers]
    ```

    ## Fix
    Add a `monitoring` block:
    ```yaml
      answerer:
        uri: models:/helpcenter-answerer
        monitoring:
          metrics: [distinct-2, vocabulary-richness, rare-case-coverage]
          eval_set: tail-evals          # a frozen set of edge cases
          alert: {metric: distinct-2, max_drop: 0.05}
          compare_to: previous
    ```
    A model that the project does not train (a vendor API, a published
    checkpoint) is `external: true`, and one that only scores or ranks is a
    `scorer` input; neither needs this block:
    ```yaml
    models:
      vendor-judge: {uri: "models:/vendor/judge-v2", external: true}
      reward-model: {uri: "models:/helpcenter-reward"}
    steps:
      answer:
        kind: generate
        inputs: [answerer, help-index, {ref: reward-model, role: scorer}]
    ```
    A model declared in several manifests (one URI) is one model: the
    monitoring declared in any of them counts, and this rule reports it
    once, at the declaration in the manifest of the step that trains it.
    """
    if not exposed.exposure.generates_with:
        return  # it only scores or starts a train step: it makes no text to lose diversity
    model = exposed.declaring("monitoring")
    if model.monitoring is None:
        why = why_exposed(project.facts, exposed.exposure, model.pipeline)
        yield Problem(f"model '{model.id}' has no diversity monitoring, and {why}",
                      model.location, pipeline=model.pipeline, node=model.qualified)
