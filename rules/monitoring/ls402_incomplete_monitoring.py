"""LS402 incomplete-monitoring: a model's monitoring lacks diversity metrics, an alert threshold, or `compare_to:
previous`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

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

    Accuracy alone is not diversity: a model can stay accurate on a dev set
    while its outputs narrow to a few safe answers. `metrics` must hold at
    least one diversity metric. These names count (case, `-`, `_` and
    spaces alike), and any name with `diversity` in it:

    - `distinct-n` (`distinct-1`, `distinct-2`, ...)
    - `self-bleu`
    - `vocabulary-richness`, `type-token-ratio` (`ttr`)
    - `entropy` (any name with `entropy` in it)
    - `rare-case-coverage`, `tail-coverage`
    - `embedding-dispersion`
    - `compression-ratio`

    ## Example
    ```yaml
    models:
      support-llm:
        monitoring:
          metrics: [distinct-2]
          eval_set: tail-evals
          compare_to: baseline      # and no alert
      catalog-lm:
        monitoring:
          metrics: [dev-accuracy]   # accuracy, not diversity
          eval_set: tail-evals
          alert: {metric: dev-accuracy, max_drop: 0.02}
          compare_to: previous
    ```

    ## Fix
    ```yaml
        monitoring:
          metrics: [distinct-2, vocabulary-richness, rare-case-coverage]
          eval_set: tail-evals
          alert: {metric: distinct-2, max_drop: 0.05}
          compare_to: previous
    ```

    ## Options
    - `policy.diversity_metrics` (default `[]`): more metric names that count
      as diversity metrics, for an organisation's own.
    """
    if not exposed.exposure.generates_with:
        return  # it only scores or starts a train step: it makes no text to lose diversity
    model = exposed.declaring("monitoring")
    if model.monitoring is None:
        return
    for message, place in _monitoring_gaps(model, model.monitoring, project.policy.diversity_metrics):
        yield Problem(f"monitoring of model '{model.id}' {message}", place,
                      pipeline=model.pipeline, node=model.qualified)


DIVERSITY_METRICS: dict[str, str] = {
    "distinct-n": r"distinct-(n|\d+)",
    "self-bleu": r"self-bleu(-\d+)?",
    "vocabulary-richness": r"(vocabulary|vocab)-richness",
    "type-token-ratio": r"type-token-ratio|ttr",
    "entropy": r".*entropy.*",
    "rare-case-coverage": r"rare-cases?-coverage",
    "tail-coverage": r"tail-coverage",
    "embedding-dispersion": r"embedding-dispersion",
    "compression-ratio": r"compression-ratio",
    "diversity": r".*diversity.*",
}
"""The known diversity metrics (as ``explain LS402`` lists them), each with the normalized names it matches."""

_KNOWN = re.compile("|".join(f"(?:{pattern})" for pattern in DIVERSITY_METRICS.values()))


def normalized(metric: str) -> str:
    """A metric name with case, ``_`` and spaces made alike: ``Self_BLEU`` is ``self-bleu``.

    >>> normalized("Self_BLEU"), normalized("distinct 2")
    ('self-bleu', 'distinct-2')
    """
    return re.sub(r"[\s_]+", "-", metric.strip().lower())


def is_diversity_metric(metric: str, extra: Sequence[str] = ()) -> bool:
    """A known diversity metric, or one that ``policy.diversity_metrics`` names.

    >>> is_diversity_metric("distinct-2"), is_diversity_metric("dev-accuracy"), is_diversity_metric("acc", ["acc"])
    (True, False, True)
    """
    name = normalized(metric)
    return _KNOWN.fullmatch(name) is not None or name in {normalized(other) for other in extra}


def _monitoring_gaps(model: Artifact, monitoring: Monitoring, extra: Sequence[str]) -> Iterator[tuple[str, Location]]:
    """What the monitoring block lacks, each with where to fix it."""
    block = model.key_at("monitoring")
    if not monitoring.metrics:
        yield "tracks no diversity metrics (metrics)", model.at("monitoring", "metrics")
    elif not any(is_diversity_metric(metric, extra) for metric in monitoring.metrics):
        tracked = ", ".join(f"'{metric}'" for metric in monitoring.metrics)
        yield (f"tracks {tracked}, and no diversity metric (such as distinct-n, self-bleu, vocabulary-richness "
               "or rare-case-coverage; see loopscan explain LS402, or add the name to policy.diversity_metrics)",
               model.at("monitoring", "metrics"))
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
