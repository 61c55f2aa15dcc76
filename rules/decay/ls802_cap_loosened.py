"""LS802 cap-loosened: a `max_synthetic` was raised or removed, or the policy ceiling raised."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loopscan.analysis.mixing import exact
from loopscan.findings import Location, Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.wording import number

if TYPE_CHECKING:
    from loopscan.analysis.change import Change


@rule("LS802", "cap-loosened", severity="error", play=8, scope="change")
def check(project: Project, change: Change) -> Iterator[Problem]:
    """A `max_synthetic` was raised or removed, or the policy ceiling raised.

    ## Why is this bad?
    Play 2 of the playbook caps the synthetic share of every training run,
    and its failure modes name the cap that is raised "temporarily" and never
    lowered again. A raised cap passes every other rule as long as it stays
    under the ceiling, and a raised ceiling in `loopscan.yaml` or
    `pyproject.toml` loosens every cap of the organisation at once; neither
    breaks anything the day it lands. This rule makes the change visible in
    review, at the line that raised it.

    It reports only in `loopscan diff --base REF`.

    ## Example
    ```yaml
    steps:
      finetune:
        kind: train
        mixing:
          max_synthetic: 0.45        # 0.2 at origin/main
    ```

    ## Fix
    Keep the cap (or the ceiling) where it was. If the run needs more synthetic
    data for a while, leave the cap and add an override of LS202 or LS203 with
    a reason, an approver and an expiry date, so that the exception ends.

    ## Options
    - `policy.max_synthetic` (default `0.3`): the organisation's ceiling; a
      higher value in the head config than at the base is reported at its line.
    """
    for old, now in change.matched_steps():
        had = old.mixing.max_synthetic if old.mixing is not None else None
        if had is None:
            continue
        has = now.mixing.max_synthetic if now.mixing is not None else None
        was = f"{number(had)} ({change.was(old.at('mixing', 'max_synthetic'))})"
        if has is None:
            where = now.key_at("mixing") if now.mixing is not None else now.location
            yield Problem(f"step '{now.id}' no longer caps synthetic data: max_synthetic {was} was removed",
                          where, pipeline=now.pipeline, node=now.qualified)
        elif exact(has) > exact(had):
            yield Problem(f"step '{now.id}' raised max_synthetic from {was} to {number(has)}",
                          now.at("mixing", "max_synthetic"), pipeline=now.pipeline, node=now.qualified)
    had, has = change.base_settings.config.policy.max_synthetic, change.head_settings.config.policy.max_synthetic
    if exact(has) > exact(had):
        key = ("policy", "max_synthetic")
        before = change.base_settings.location(*key) if change.base_settings.written(*key) else None
        was = f"{number(had)} ({change.was(before)})" if before is not None else f"{number(had)} (the default)"
        where = (change.head_settings.location(*key) or
                 Location(change.base_settings.file or "loopscan.yaml"))
        yield Problem(f"the policy ceiling policy.max_synthetic was raised from {was} to {number(has)}", where)
