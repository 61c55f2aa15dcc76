"""LS603 override-expired: an override's expiry date is past (`--today` sets the date)."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.overrides import is_expired
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Override
from loopscan.wording import override_named


@rule("LS603", "override-expired", severity="error", play=6, scope="override")
def check(project: Project, override: Override) -> Iterator[Problem]:
    """An override's expiry date is past (`--today` sets the date).

    ## Why is this bad?
    The playbook's failure modes: "The mixing-ratio gate gets an override
    that becomes permanent." Every override carries an expiry date so that
    the exception is decided again, at the monthly review of open overrides
    the playbook asks for. An expired override suppresses nothing: the
    finding it targeted is reported again, and this finding asks for the
    decision (`loopscan overrides` lists what expires soon).

    ## Example
    ```yaml
    overrides:
      - rule: LS401
        target: support-llm
        reason: Dashboard migration, tracked in OPS-1234.
        approved_by: maria.chen
        approved: 2026-08-01
        expires: 2026-10-31
    ```

    ## Fix
    Fix what the override was hiding and delete it; or, if the exception is
    still justified, have it approved again with a new approval and expiry
    date.
    """
    expires = override.expires
    if expires is not None and is_expired(override, project.today):
        ago = (project.today - expires).days
        yield Problem(f"{override_named(override)} expired on {expires.isoformat()} ({ago} days ago); "
                      "fix the finding or renew the approval", override.at("expires"), pipeline=override.pipeline)
