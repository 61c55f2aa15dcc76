"""LS6xx governance: the playbook's failure modes, diffuse ownership and overrides that pile up.

What makes an override incomplete, expired or too long is defined once, in
:mod:`loopscan.overrides`, which also applies the overrides in force after
every rule ran; these checks report the ones that are not in force.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.overrides import days_allowed, is_expired, is_too_long, missing_fields, overrides
from loopscan.rule import Project, rule
from loopscan.sources.manifest import Manifest, Override

_SEPARATOR = re.compile(r"\s*(?:[,;&]|\band\b|\bor\b)\s*", re.IGNORECASE)


def owner_names(owner: str | list[str] | None) -> list[str]:
    """The people an ``owner`` field names.

    >>> owner_names("maria.chen"), owner_names("maria.chen, jonas.berg"), owner_names("a and b")
    (['maria.chen'], ['maria.chen', 'jonas.berg'], ['a', 'b'])
    >>> owner_names(["a", "b"]), owner_names("  "), owner_names(None)
    (['a', 'b'], [], [])
    """
    if owner is None:
        return []
    items = owner if isinstance(owner, list) else _SEPARATOR.split(owner)
    return [name.strip() for name in items if name.strip()]


@rule("LS601", "owner", severity="error", play=6)
def owner(project: Project) -> Iterator[Problem]:
    """A pipeline has no owner, or more than one (a list, or a string naming several people).

    ## Why is this bad?
    The playbook's failure modes start with this one: "When a play is
    'everyone's responsibility,' it becomes no one's. Each play in this book
    names a single accountable owner for exactly this reason ... one name per
    play, even if several people execute the steps." A pipeline without an
    owner has nobody to act when its loop check or its monitoring fires, and
    one with two owners has two people each waiting for the other. A step's
    optional `owner` must also be one name.

    ## Example
    ```yaml
    loopscan: 1
    pipeline: support-assistant
    owner: [maria.chen, jonas.berg]
    ```

    ## Fix
    Name the one accountable model-quality owner; others who run the steps
    can be step owners or go in the description:
    ```yaml
    owner: maria.chen
    ```
    """
    for manifest in project.manifests:
        problem = _owner_problem(manifest)
        if problem is not None:
            yield problem
        for step in manifest.steps.values():
            names = owner_names(step.owner)
            if len(names) > 1:
                yield Problem(f"step '{step.id}' names {len(names)} owners ({', '.join(names)}); name one",
                              step.at("owner"), pipeline=step.pipeline, node=step.qualified)


def _owner_problem(manifest: Manifest) -> Problem | None:
    names = owner_names(manifest.owner)
    pipeline = manifest.pipeline
    if not names:
        return Problem(f"pipeline '{pipeline}' has no owner; name one accountable model-quality owner",
                       manifest.at("owner") if manifest.owner is not None else manifest.key_at("pipeline"),
                       pipeline=pipeline)
    if len(names) > 1:
        return Problem(f"pipeline '{pipeline}' names {len(names)} owners ({', '.join(names)}); "
                       "name one accountable owner", manifest.at("owner"), pipeline=pipeline)
    if isinstance(manifest.owner, list):
        return Problem(f"the owner of pipeline '{pipeline}' is a list; write the one name as a string",
                       manifest.at("owner"), pipeline=pipeline)
    return None


def _described(override: Override) -> str:
    target = override.target.text if override.target is not None else "?"
    return f"override of {override.rule} for '{target}'"


@rule("LS602", "override-incomplete", severity="error", play=6)
def override_incomplete(project: Project) -> Iterator[Problem]:
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
    for override in overrides(project):
        missing = missing_fields(override)
        if missing:
            yield Problem(f"{_described(override)} lacks {', '.join(missing)}, so it suppresses nothing",
                          override.location, pipeline=override.pipeline)


@rule("LS603", "override-expired", severity="error", play=6)
def override_expired(project: Project) -> Iterator[Problem]:
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
    for override in overrides(project):
        expires = override.expires
        if expires is not None and is_expired(override, project.today):
            ago = (project.today - expires).days
            yield Problem(f"{_described(override)} expired on {expires.isoformat()} ({ago} days ago); "
                          "fix the finding or renew the approval", override.at("expires"), pipeline=override.pipeline)


@rule("LS604", "override-too-long", severity="error", play=6)
def override_too_long(project: Project) -> Iterator[Problem]:
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
    """
    for override in overrides(project):
        if is_too_long(override, project.policy):
            yield Problem(f"{_described(override)} runs {days_allowed(override)} days from approval to expiry, "
                          f"longer than policy.override_max_days ({project.policy.override_max_days})",
                          override.at("expires"), pipeline=override.pipeline)


@rule("LS605", "unused-override", severity="warning", play=6)
def unused_override(project: Project) -> Iterator[Problem]:
    """An override in force matches no finding.

    ## Why is this bad?
    The playbook's failure modes: "Anything still open without
    justification gets closed." An override that suppresses nothing has lost
    its justification: the problem it excused was fixed, or its target was
    renamed. Left in place, it would silently suppress the next finding of
    that rule on that target, a hole in the defense nobody reviews.

    Whether an override is used is known only after every other rule ran, so
    this check reports nothing itself: `loopscan.overrides.apply_overrides`
    makes these findings once the overrides in force are applied, and the
    linter stamps them with this rule's id, severity and name.

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
    return iter(())  # the findings come from loopscan.overrides.apply_overrides, after every other rule
