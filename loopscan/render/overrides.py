"""``loopscan overrides``: the monthly review of every override, as a table or JSON."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any

from loopscan.overrides import Review
from loopscan.render.table import table

STATUSES = ("expired", "incomplete", "too long", "in force")
HEADER = ("EXPIRES", "DAYS LEFT", "STATUS", "RULE", "TARGET", "APPROVED BY", "WHERE", "REASON")


def review_dict(item: Review) -> dict[str, Any]:
    override = item.override
    return {
        "rule": override.rule,
        "target": override.target.text if override.target is not None else None,
        "pipeline": override.pipeline,
        "reason": override.reason,
        "approved_by": override.approved_by,
        "approved": override.approved.isoformat() if override.approved else None,
        "expires": override.expires.isoformat() if override.expires else None,
        "days_left": item.days_left,
        "status": item.status,
        "file": override.location.file,
        "line": override.location.line,
    }


def summary(reviews: list[Review]) -> dict[str, int]:
    """How many overrides are listed, and how many of each status."""
    counts = Counter(item.status for item in reviews)
    return {"overrides": len(reviews), **{status: counts[status] for status in STATUSES}}


def render_json(reviews: list[Review], today: date) -> str:
    document = {
        "today": today.isoformat(),
        "overrides": [review_dict(item) for item in reviews],
        "summary": summary(reviews),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_table(reviews: list[Review], today: date) -> str:
    """One row per override, soonest expiry first, then a summary line."""
    if not reviews:
        return f"No overrides to review on {today.isoformat()}.\n"
    rows: list[list[list[str]]] = [[[name] for name in HEADER]]
    for item in reviews:
        entry = review_dict(item)
        rows.append([[cell] for cell in (
            entry["expires"] or "-",
            "-" if item.days_left is None else str(item.days_left),
            item.status,
            entry["rule"],
            entry["target"] or "-",
            entry["approved_by"] or "-",
            f"{entry['file']}:{entry['line']}",
            entry["reason"] or "-",
        )])
    counts = summary(reviews)
    noted = ", ".join(f"{counts[status]} {status}" for status in STATUSES if counts[status])
    plural = "s" if counts["overrides"] != 1 else ""
    return (table(rows, header_rule=False, spaced=False)
            + f"\n{counts['overrides']} override{plural} on {today.isoformat()}: {noted}.\n")
