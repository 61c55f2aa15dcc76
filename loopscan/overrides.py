"""Overrides: documented, approved, expiring exceptions to a rule.

There are no bare inline suppressions. An override applies only while it is
complete (reason, approver, approval and expiry dates), unexpired and within
the policy's longest allowed span; a suppressed finding stays visible in JSON
and SARIF with the override's reason. An override that suppresses nothing is
reported by LS605, which runs after every other rule, once the overrides are applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from loopscan.config import Policy
from loopscan.findings import Finding, Suppression
from loopscan.project import Project
from loopscan.sources.manifest import Override

REQUIRED_FIELDS = ("reason", "approved_by", "approved", "expires")


def missing_fields(override: Override) -> list[str]:
    """The fields an override must have and lacks."""
    return [name for name in REQUIRED_FIELDS if not getattr(override, name)]


def is_expired(override: Override, today: date) -> bool:
    return override.expires is not None and override.expires < today


def days_allowed(override: Override) -> int | None:
    """Days from approval to expiry, or None when either date is missing."""
    if override.approved is None or override.expires is None:
        return None
    return (override.expires - override.approved).days


def is_too_long(override: Override, policy: Policy) -> bool:
    span = days_allowed(override)
    return span is not None and span > policy.override_max_days


def applies(override: Override, today: date, policy: Policy) -> bool:
    """True when the override is in force: complete, unexpired and within policy."""
    return not missing_fields(override) and not is_expired(override, today) and not is_too_long(override, policy)


def overrides(project: Project) -> list[Override]:
    return [override for manifest in project.manifests for override in manifest.overrides]


def matches(override: Override, finding: Finding, project: Project) -> bool:
    """Same rule, and the target names the finding's node, loop or pipeline."""
    if override.rule != finding.rule or override.target is None:
        return False
    problem = finding.problem
    target = override.target
    node = project.nodes.get(target)
    if node is not None:
        return problem.node == node
    return target.text in (problem.pipeline, problem.loop)


def apply_overrides(findings: Iterable[Finding], project: Project) -> tuple[list[Finding], list[Override]]:
    """Mark the findings an override in force suppresses; also return the overrides in force that
    suppressed nothing (what a rule of ``unused-override`` scope, LS605, reports)."""
    in_force = [o for o in overrides(project) if applies(o, project.today, project.policy)]
    used: set[int] = set()
    result: list[Finding] = []
    for finding in findings:
        for override in in_force:
            if matches(override, finding, project):
                used.add(id(override))
                finding = replace(finding, suppressed=Suppression(
                    reason=override.reason or "",
                    approved_by=override.approved_by or "",
                    expires=override.expires.isoformat() if override.expires else "",
                    location=override.location,
                ))
                break
        result.append(finding)
    return result, [o for o in in_force if id(o) not in used]


@dataclass(frozen=True)
class Review:
    """One override as the monthly review sees it."""

    override: Override
    status: str
    """``expired``, ``incomplete``, ``too long`` or ``in force``."""
    days_left: int | None
    """Days from today to the expiry date (negative once expired); None without an expiry date."""


def review_status(override: Override, today: date, policy: Policy) -> str:
    """Why an override is not in force (expired first, since it fails the review), or ``in force``."""
    if is_expired(override, today):
        return "expired"
    if missing_fields(override):
        return "incomplete"
    if is_too_long(override, policy):
        return "too long"
    return "in force"


def review(project: Project, expiring_within: int | None = None) -> list[Review]:
    """Every override, soonest expiry first (those without one first of all), for the monthly review.

    With ``expiring_within``, only those that expire within that many days,
    have expired, or have no expiry date at all.
    """
    reviews = []
    for override in overrides(project):
        days_left = (override.expires - project.today).days if override.expires is not None else None
        if expiring_within is not None and days_left is not None and days_left > expiring_within:
            continue
        reviews.append(Review(override, review_status(override, project.today, project.policy), days_left))
    return sorted(reviews, key=_soonest_first)


def _soonest_first(item: Review) -> tuple[bool, int, str, int]:
    location = item.override.location
    return (item.days_left is not None, item.days_left or 0, location.file, location.line)
