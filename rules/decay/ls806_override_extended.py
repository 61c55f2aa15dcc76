"""LS806 override-extended: an override was added, or its expiry pushed later."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Override
from loopscan.wording import override_named

if TYPE_CHECKING:
    from loopscan.analysis.change import Change


@rule("LS806", "override-extended", severity="info", play=8, scope="change")
def check(project: Project, change: Change) -> Iterator[Problem]:
    """An override was added, or its expiry pushed later.

    ## Why is this bad?
    The playbook's third failure mode is the exception that never ends: "The
    mixing-ratio gate gets an override that becomes permanent." An override
    is a reviewed decision, so adding one, or moving its `expires` date
    later, should be seen by the reviewer of the change, not only by the
    monthly review of `loopscan overrides`. This is information, not an
    error: an override with a reason, an approver and an expiry is how an
    exception is meant to be made.

    Overrides are matched by pipeline, rule and target. It reports only in
    `loopscan diff --base REF`.

    ## Example
    ```yaml
    overrides:
      - rule: LS301
        target: serve
        reason: Review queue is being rebuilt, tracked in OPS-77.
        approved_by: ana
        approved: 2026-11-01
        expires: 2027-06-30        # 2026-12-15 at origin/main
    ```

    ## Fix
    Nothing to fix when the exception is meant: make sure the reason still
    holds and the approver agreed to the new date. Otherwise fix what the
    override suppresses and delete it.
    """
    before: dict[tuple[str, str, str], Override] = {}
    for manifest in change.base.manifests:
        for override in manifest.overrides:
            before.setdefault(_key(override), override)
    for manifest in project.manifests:
        for override in manifest.overrides:
            old = before.get(_key(override))
            until = override.expires.isoformat() if override.expires else "no date"
            if old is None:
                yield Problem(f"{override_named(override)} added, until {until} (not at {change.label})",
                              override.location, pipeline=override.pipeline, node=_target(project, override))
            elif override.expires and old.expires and override.expires > old.expires:
                yield Problem(f"{override_named(override)} extended from {old.expires.isoformat()} "
                              f"({change.was(old.at('expires'))}) to {until}",
                              override.at("expires"), pipeline=override.pipeline, node=_target(project, override))
            elif old.expires and not override.expires:
                yield Problem(f"{override_named(override)} no longer expires (it expired on "
                              f"{old.expires.isoformat()} at {change.label})",
                              override.location, pipeline=override.pipeline, node=_target(project, override))


def _target(project: Project, override: Override) -> str | None:
    """The node the override is for, so that the finding is about it (and a baseline can name it)."""
    return project.nodes.get(override.target) if override.target is not None else None


def _key(override: Override) -> tuple[str, str, str]:
    return (override.pipeline, override.rule, override.target.text if override.target else "")
