"""LS604 override-too-long: an override lasts longer than `policy.override_max_days` from its approval to its expiry."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.overrides import days_allowed, is_too_long
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Override
from loopscan.wording import override_named


@rule("LS604", "override-too-long", severity="error", play=6, scope="override")
def check(project: Project, override: Override) -> Iterator[Problem]:
    """An override lasts longer than `policy.override_max_days` from its approval to its expiry.

    ## Why is this bad?
    The playbook's failure modes: overrides "accumulate without review" and
    "each one is a small hole in the defense". An expiry date only brings an
    exception back for review if it is near: an override that runs for a
    year is a permanent exception with a date on it. The policy's
    `override_max_days` (90 by default, about one quarter) bounds the span
    from approval to expiry.

    ## Example
    ```yaml
    overrides:
      - rule: LS302
        target: listing-writer
        reason: The catalog team adds a cap next quarter.
        approved_by: priya.natarajan
        approved: 2026-11-01
        expires: 2027-11-01          # 365 days; the policy allows 90
    ```

    ## Fix
    Set the expiry within the policy's span (by default 90 days after the
    approval), and renew the override at a review if it is still needed.

    ## Options
    - `policy.override_max_days` (default `90`): the longest an override may run
      from approval to expiry.
    """
    if is_too_long(override, project.policy):
        yield Problem(f"{override_named(override)} runs {days_allowed(override)} days from approval to expiry, "
                      f"longer than policy.override_max_days ({project.policy.override_max_days})",
                      override.at("expires"), pipeline=override.pipeline)
