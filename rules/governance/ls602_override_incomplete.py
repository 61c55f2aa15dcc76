"""LS602 override-incomplete: an override lacks a reason, an approver, an approval date or an expiry date."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.overrides import missing_fields
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Override
from loopscan.wording import override_named


@rule("LS602", "override-incomplete", severity="error", play=6, scope="override")
def check(project: Project, override: Override) -> Iterator[Problem]:
    """An override lacks a reason, an approver, an approval date or an expiry date.

    ## Why is this bad?
    One of the playbook's failure modes is overrides that "accumulate without
    review" until "the policy is fiction"; its answer: "Require that every
    override carry an expiration date and a documented reason, and review the
    open overrides monthly." loopscan has no bare inline suppressions: an
    exception without a reason cannot be judged at the review, one without an
    approver has nobody accountable, and one without dates never comes up
    again. An incomplete override suppresses nothing: the finding it targets
    is still reported.

    ## Example
    ```yaml
    overrides:
      - rule: LS202
        target: finetune
        reason: Bootstrapping the new locale.
    ```

    ## Fix
    ```yaml
      - rule: LS202
        target: finetune
        reason: Bootstrapping the new locale; human data arrives in Q1 (ML-881).
        approved_by: maria.chen
        approved: 2026-11-01
        expires: 2027-01-15
    ```
    """
    missing = missing_fields(override)
    if missing:
        yield Problem(f"{override_named(override)} lacks {', '.join(missing)}, so it suppresses nothing",
                      override.location, pipeline=override.pipeline)
