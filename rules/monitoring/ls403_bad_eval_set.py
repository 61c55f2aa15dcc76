"""LS403 bad-eval-set: a monitored model has no fixed eval set, or its eval set is not frozen, or a step writes it."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import ExposedModel, rule
from loopscan.wording import nodes_named, shown


@rule("LS403", "bad-eval-set", severity="error", play=4, scope="model")
def check(project: Project, exposed: ExposedModel) -> Iterator[Problem]:
    """A monitored model has no fixed eval set, or its eval set is not frozen, or a step writes it.

    ## Why is this bad?
    Play 4 of the playbook: "Maintain a fixed evaluation set that
    specifically tests edge cases and tail knowledge." The tails are what
    collapse erodes first (Shumailov et al., "AI models collapse when trained
    on recursively generated data", Nature, 2024), and only a set that stays
    the same lets one generation be compared with the next. An eval set that
    a pipeline writes, or that nothing protects from being written, moves
    with the model it is meant to measure. Checked for models that feed a
    generate step or lie on a loop.

    ## Example
    ```yaml
    datasets:
      tail-evals:
        uri: s3://acme-evals/support-tail/
        provenance: human             # not frozen
    models:
      support-llm:
        monitoring:
          eval_set: tail-evals
    ```

    ## Fix
    Freeze the eval set and let no step write it; add cases by publishing a
    new version (`tail-evals-v3`) and switching to it on purpose:
    ```yaml
      tail-evals:
        uri: s3://acme-evals/support-tail/v2/
        provenance: human
        frozen: true
    ```
    """
    facts = project.facts
    if not exposed.exposure.generates_with:
        return  # it only scores or starts a train step: it makes no text to lose diversity
    model = exposed.declaring("monitoring")
    monitoring = model.monitoring
    if monitoring is None:
        return
    if monitoring.eval_set is None:
        yield Problem(f"monitoring of model '{model.id}' names no fixed eval set of edge cases (eval_set)",
                      model.key_at("monitoring"), pipeline=model.pipeline, node=model.qualified)
        return
    node = project.nodes.get(monitoring.eval_set)
    if node is None:  # LS004 reports the reference
        return
    name = shown(facts, node, model.pipeline)
    eval_set = facts.artifact(node)
    if eval_set is None or not eval_set.frozen:
        yield Problem(f"eval set '{name}' of model '{model.id}' is not frozen",
                      monitoring.eval_set.location, pipeline=model.pipeline, node=model.qualified)
    writers = sorted({write.step for write in facts.writes.get(node, ())})
    if writers:
        yield Problem(f"eval set '{name}' of model '{model.id}' is written by "
                      f"{nodes_named(facts, writers, model.pipeline)}",
                      monitoring.eval_set.location, pipeline=model.pipeline, node=model.qualified)
