"""LS402 incomplete-monitoring: a model's monitoring lacks diversity metrics, an alert threshold, or `compare_to:
previous`.
"""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Location, Problem
from loopscan.project import Project
from loopscan.rule import ExposedModel, rule
from loopscan.sources.manifest import Artifact, Monitoring


@rule("LS402", "incomplete-monitoring", severity="warning", play=4, scope="model")
def check(project: Project, exposed: ExposedModel) -> Iterator[Problem]:
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
    model = exposed.model
    if model.monitoring is None:
        return
    for message, place in _monitoring_gaps(model, model.monitoring):
        yield Problem(f"monitoring of model '{model.id}' {message}", place,
                      pipeline=model.pipeline, node=model.qualified)


def _monitoring_gaps(model: Artifact, monitoring: Monitoring) -> Iterator[tuple[str, Location]]:
    """What the monitoring block lacks, each with where to fix it."""
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
