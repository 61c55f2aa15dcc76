"""LS804 monitoring-weakened: metrics, alert, eval set, rollback checkpoint or drill removed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loopscan.findings import Location, Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Artifact

if TYPE_CHECKING:
    from loopscan.analysis.change import Change


@rule("LS804", "monitoring-weakened", severity="warning", play=8, scope="change")
def check(project: Project, change: Change) -> Iterator[Problem]:
    """Metrics, an alert, an eval set, a rollback checkpoint or a drill were removed.

    ## Why is this bad?
    Play 4 of the playbook watches every model for the diversity that collapse
    takes first, and Play 5 keeps a known-good checkpoint and a drill to roll
    back to it. A dashboard migration that drops a metric, an alert deleted
    because it was noisy, or a checkpoint line lost in a refactor leaves the
    model as exposed as before with nobody watching. LS401 and LS402 report a
    model with no monitoring at all, or monitoring short of a part; this rule
    reports what a change took away, also when what is left still passes them.

    It reports only in `loopscan diff --base REF`.

    ## Example
    ```yaml
    models:
      support-llm:
        monitoring:
          metrics: [distinct-2]      # vocabulary-richness removed by the change
          eval_set: tail-evals
    ```

    ## Fix
    Put back what was removed. If a metric was replaced by a better one, name
    the new one in `metrics` in the same change.
    """
    for old, now in change.matched_artifacts():
        yield from _weakened(change, old, now)


def _weakened(change: Change, old: Artifact, now: Artifact) -> Iterator[Problem]:
    def report(what: str, before: Location, where: Location) -> Problem:
        return Problem(f"{now.kind} '{now.id}' lost {what} ({change.was(before)})", where,
                       pipeline=now.pipeline, node=now.qualified)

    watch, watched = old.monitoring, now.monitoring
    if watch is not None:
        where = now.key_at("monitoring") if watched is not None else now.location
        kept = set(watched.metrics) if watched is not None else set()
        for index, metric in enumerate(watch.metrics):
            if metric not in kept:
                yield report(f"the metric '{metric}' of its monitoring", old.at("monitoring", "metrics", index),
                             now.key_at("monitoring", "metrics") if watched is not None and watched.metrics
                             else where)
        if watch.alert and not (watched is not None and watched.alert):
            yield report("the alert of its monitoring", old.key_at("monitoring", "alert"), where)
        if watch.eval_set is not None and (watched is None or watched.eval_set is None):
            yield report(f"its eval set '{watch.eval_set.text}'", watch.eval_set.location, where)
    back, backed = old.rollback, now.rollback
    if back is not None:
        where = now.key_at("rollback") if backed is not None else now.location
        if back.checkpoint and not (backed is not None and backed.checkpoint):
            yield report(f"its rollback checkpoint '{back.checkpoint}'", old.at("rollback", "checkpoint"), where)
        if back.last_drill and not (backed is not None and backed.last_drill):
            yield report(f"the record of its last drill ({back.last_drill.isoformat()})",
                         old.at("rollback", "last_drill"), where)
