"""LS605 unused-override: an override in force matches no finding."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Override


@rule("LS605", "unused-override", severity="warning", play=6, scope="unused-override")
def check(project: Project, override: Override) -> Iterator[Problem]:
    """An override in force matches no finding.

    ## Why is this bad?
    The playbook's failure modes: "Anything still open without
    justification gets closed." An override that suppresses nothing has lost
    its justification: the problem it excused was fixed, or its target was
    renamed. Left in place, it would silently suppress the next finding of
    that rule on that target, a hole in the defense nobody reviews.

    Whether an override is used is known only after every other rule ran, so
    this rule's scope is `unused-override`: the linter runs it last, on each
    override in force that suppressed no finding of the rules selected.

    ## Example
    ```yaml
    overrides:
      - rule: LS401
        target: support-llm          # the model is monitored now
        reason: Dashboard migration, tracked in OPS-1234.
        approved_by: maria.chen
        approved: 2026-11-01
        expires: 2026-12-31
    ```

    ## Fix
    Delete the override.
    """
    target = override.target.text if override.target else "?"
    yield Problem(f"override of {override.rule} for {target!r} matches no finding; remove it",
                  override.location, pipeline=override.pipeline)
