"""LS502 stale-drill: a model that feeds a generate step or lies on a loop has no response drill within
`policy.drill_every_days`.
"""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import ExposedModel, rule


@rule("LS502", "stale-drill", severity="warning", play=5, scope="model")
def check(project: Project, exposed: ExposedModel) -> Iterator[Problem]:
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
    A vendor model that the project only calls is `external: true`, and is
    not checked; its vendor runs its drills.

    ## Options
    - `policy.drill_every_days` (default `92`): how many days may pass between
      two response drills.
    """
    model = exposed.declaring("rollback")
    every = project.policy.drill_every_days
    rollback = model.rollback
    if rollback is None or rollback.last_drill is None:
        yield Problem(f"model '{model.id}' has no response drill on record (rollback.last_drill); "
                      f"the policy asks for one every {every} days", model.within("rollback"),
                      pipeline=model.pipeline, node=model.qualified)
        return
    age = (project.today - rollback.last_drill).days
    if age > every:
        yield Problem(f"the last response drill of model '{model.id}' was on {rollback.last_drill.isoformat()}, "
                      f"{age} days ago; the policy asks for one every {every} days (policy.drill_every_days)",
                      model.at("rollback", "last_drill"), pipeline=model.pipeline, node=model.qualified)
