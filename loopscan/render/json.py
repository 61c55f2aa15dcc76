"""The JSON contract (see docs/architecture.md): findings, loops and a summary.

Deterministic: findings sorted by file, line and rule; keys in a fixed order.
"""

from __future__ import annotations

import json
from typing import Any

from loopscan.facts import Loop
from loopscan.findings import Finding
from loopscan.linter import Report


def render(report: Report) -> str:
    counts = report.counts()
    document = {
        "version": report.version,
        "findings": [finding_dict(finding) for finding in report.findings],
        "loops": [loop_dict(loop) for loop in report.loops],
        "summary": {
            "files": len(report.files),
            "pipelines": report.pipelines,
            "nodes": report.nodes,
            "loops": len(report.loops),
            **counts,
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def loop_dict(loop: Loop) -> dict[str, Any]:
    return {
        "name": loop.name,
        "generate": loop.generate,
        "nodes": list(loop.nodes),
        "gates": list(loop.gates),
        "caps": list(loop.caps),
        "documented": bool(loop.documented_by),
        "steps": list(loop.steps),
        "pipelines": list(loop.pipelines),
        "ungated": loop.ungated,
        "uncapped": loop.uncapped,
        "documented_by": [
            {"name": doc.id, "pipeline": doc.pipeline, "file": doc.location.file, "line": doc.location.line}
            for doc in loop.documented_by
        ],
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    problem = finding.problem
    entry: dict[str, Any] = {
        "rule": finding.rule,
        "name": finding.name,
        "severity": finding.severity.label,
        "message": problem.message,
        "file": problem.location.file,
        "line": problem.location.line,
        "column": problem.location.column,
        "pipeline": problem.pipeline,
        "node": problem.node,
    }
    if problem.loop is not None:
        entry["loop"] = problem.loop
    if problem.cycle:
        entry["cycle"] = [waypoint.node for waypoint in problem.cycle]
    if finding.suppressed is not None:
        entry["suppressed"] = {
            "reason": finding.suppressed.reason,
            "approved_by": finding.suppressed.approved_by,
            "expires": finding.suppressed.expires,
        }
    return entry
