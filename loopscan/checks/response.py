"""LS5xx response drill (Play 5): a known-good checkpoint to roll back to, and a rehearsed rollback.

Dates are compared with ``project.today`` (``--today`` fixes it for
reproducible runs).
"""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.checks._select import exposed_models
from loopscan.checks._wording import quoted
from loopscan.findings import Problem
from loopscan.rule import Project, rule


@rule("LS501", "missing-rollback", severity="error", play=5)
def missing_rollback(project: Project) -> Iterator[Problem]:
    """A model on a loop has no known-good rollback checkpoint.

    ## Why is this bad?
    Play 5 of the playbook (run a collapse response drill): when monitoring
    fires, "freeze deployment of the suspect model generation" and "roll back
    to the last known-good checkpoint while you investigate". A model that is
    retrained on its own output has no clean generation to return to unless
    one is kept on purpose, and collapse compounds with every generation
    (Shumailov et al., "AI models collapse when trained on recursively
    generated data", Nature, 2024).

    ## Example
    ```yaml
    models:
      support-llm:
        uri: models:/support-llm     # no rollback
    ```

    ## Fix
    ```yaml
        rollback:
          checkpoint: models:/support-llm/known-good
          last_drill: 2026-10-01
    ```
    """
    for model, exposure in exposed_models(project, on_loop_only=True):
        if model.rollback is not None and model.rollback.checkpoint:
            continue
        place = model.key_at("rollback") if model.rollback is not None else model.location
        loops = quoted(exposure.loops, model.pipeline)
        yield Problem(f"model '{model.id}' lies on the loop through {loops} but has no known-good rollback "
                      "checkpoint (rollback.checkpoint)", place, pipeline=model.pipeline, node=model.qualified)


@rule("LS502", "stale-drill", severity="warning", play=5)
def stale_drill(project: Project) -> Iterator[Problem]:
    """A model that feeds a generate step or lies on a loop has no response drill within `policy.drill_every_days`.

    ## Why is this bad?
    Play 5 of the playbook runs the response drill "when Play 4 alerts, or
    as a scheduled quarterly drill": "a rehearsed rollback turns a potential
    quality crisis into a routine incident", and regular rehearsal "keeps the
    rollback path warm and surfaces gaps, like a stale anchor set or missing
    provenance tags". A checkpoint nobody has restored in months may not
    restore at all. Checked for the models Play 4 watches: those that feed a
    generate step or lie on a loop. The policy's default interval is 92 days
    (quarterly).

    ## Example
    ```yaml
    models:
      catalog-lm:
        rollback:
          checkpoint: models:/catalog-lm/known-good
          last_drill: 2026-03-02      # more than a quarter ago
    ```

    ## Fix
    Run the drill (freeze, roll back, audit, re-train from the anchor) and
    record its date:
    ```yaml
          last_drill: 2026-11-20
    ```
    """
    every = project.policy.drill_every_days
    for model, _ in exposed_models(project):
        rollback = model.rollback
        if rollback is None or rollback.last_drill is None:
            place = model.key_at("rollback") if rollback is not None else model.location
            yield Problem(f"model '{model.id}' has no response drill on record (rollback.last_drill); "
                          f"the policy asks for one every {every} days", place,
                          pipeline=model.pipeline, node=model.qualified)
            continue
        age = (project.today - rollback.last_drill).days
        if age > every:
            yield Problem(f"the last response drill of model '{model.id}' was on {rollback.last_drill.isoformat()}, "
                          f"{age} days ago; the policy asks for one every {every} days (policy.drill_every_days)",
                          model.at("rollback", "last_drill"), pipeline=model.pipeline, node=model.qualified)
