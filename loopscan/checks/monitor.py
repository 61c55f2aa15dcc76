"""LS4xx diversity monitoring (Play 4), for every model exposed to collapse.

A model is exposed when it feeds a generate step or lies on a loop
(``project.facts.exposed_models``): those are the models whose decline the
playbook wants to see before quality scores fall.
"""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.checks._select import exposed_models, why_exposed
from loopscan.checks._wording import quoted, shown
from loopscan.findings import Location, Problem
from loopscan.rule import Project, rule
from loopscan.sources.manifest import Artifact, Monitoring


@rule("LS401", "missing-monitoring", severity="error", play=4)
def missing_monitoring(project: Project) -> Iterator[Problem]:
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
    """
    for model, exposure in exposed_models(project):
        if model.monitoring is None:
            why = why_exposed(exposure, model.pipeline)
            yield Problem(f"model '{model.id}' has no diversity monitoring, and {why}",
                          model.location, pipeline=model.pipeline, node=model.qualified)


@rule("LS402", "incomplete-monitoring", severity="warning", play=4)
def incomplete_monitoring(project: Project) -> Iterator[Problem]:
    """A model's monitoring lacks diversity metrics, an alert threshold, or `compare_to: previous`.

    ## Why is this bad?
    Play 4 of the playbook lists what monitoring takes: "Track output
    diversity metrics: vocabulary richness, response variety, coverage of
    rare cases", "Alert when diversity metrics decline beyond a set
    threshold across model versions", and "Compare each new model generation
    against the prior one, not just against a static baseline". Without
    metrics there is nothing to watch, without an alert nobody is told, and
    against a static baseline a slow slide from one generation to the next
    stays under the threshold for ever. Checked for models that feed a
    generate step or lie on a loop.

    ## Example
    ```yaml
    models:
      support-llm:
        monitoring:
          metrics: [distinct-2]
          eval_set: tail-evals
          compare_to: baseline      # and no alert
    ```

    ## Fix
    ```yaml
        monitoring:
          metrics: [distinct-2, vocabulary-richness, rare-case-coverage]
          eval_set: tail-evals
          alert: {metric: distinct-2, max_drop: 0.05}
          compare_to: previous
    ```
    """
    for model, _ in exposed_models(project):
        if model.monitoring is None:
            continue
        for message, place in _monitoring_gaps(model, model.monitoring):
            yield Problem(f"monitoring of model '{model.id}' {message}", place,
                          pipeline=model.pipeline, node=model.qualified)


def _monitoring_gaps(model: Artifact, monitoring: Monitoring) -> Iterator[tuple[str, Location]]:
    """Each part of Play 4 that a model's monitoring block leaves out, with the place to add it."""
    block = model.key_at("monitoring")
    if not monitoring.metrics:
        yield "tracks no diversity metrics (metrics)", model.at("monitoring", "metrics")
    if monitoring.alert is None:
        yield "has no alert threshold (alert: {metric, max_drop})", block
    elif monitoring.metrics and monitoring.alert["metric"] not in monitoring.metrics:
        yield (f"alerts on '{monitoring.alert['metric']}', which is not among its metrics",
               model.at("monitoring", "alert", "metric"))
    if monitoring.compare_to != "previous":
        if monitoring.compare_to is None:
            yield "does not compare each generation with the previous one (compare_to: previous)", block
        else:
            yield (f"compares with '{monitoring.compare_to}' only, not with the previous generation "
                   "(compare_to: previous)", model.at("monitoring", "compare_to"))


@rule("LS403", "bad-eval-set", severity="error", play=4)
def bad_eval_set(project: Project) -> Iterator[Problem]:
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
    writes = project.facts.writes
    for model, _ in exposed_models(project):
        monitoring = model.monitoring
        if monitoring is None:
            continue
        if monitoring.eval_set is None:
            yield Problem(f"monitoring of model '{model.id}' names no fixed eval set of edge cases (eval_set)",
                          model.key_at("monitoring"), pipeline=model.pipeline, node=model.qualified)
            continue
        node = project.nodes.get(monitoring.eval_set)
        if node is None:  # LS004 reports the reference
            continue
        name = shown(node, model.pipeline)
        decl = project.dataflow.nodes[node]["decl"]
        if not (isinstance(decl, Artifact) and decl.frozen):
            yield Problem(f"eval set '{name}' of model '{model.id}' is not frozen",
                          monitoring.eval_set.location, pipeline=model.pipeline, node=model.qualified)
        writers = sorted({write.step for write in writes.get(node, ())})
        if writers:
            yield Problem(f"eval set '{name}' of model '{model.id}' is written by {quoted(writers, model.pipeline)}",
                          monitoring.eval_set.location, pipeline=model.pipeline, node=model.qualified)
