"""SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning among them).

Every rule that ran is described in ``tool.driver.rules`` with its docs as
help; each finding is a result at its file, line and column. A loop
finding's witness becomes a ``codeFlows`` thread flow that walks the loop
across files, elided in the middle past :data:`loopscan.findings.WITNESS_SHOWN`
nodes; past :data:`MAX_RESULTS` findings the least severe are left out, and
a tool notification says how many, so a run stays within what GitHub code
scanning accepts. Fingerprints come from the rule and the qualified node id, not
from line numbers, so an alert survives an edit elsewhere in the file.
Overridden findings are kept, as accepted external suppressions.
A file's path becomes a relative URI reference, percent-encoded, so a file
named ``a b%c.yaml`` or ``x:y.yaml`` is a path, never a scheme or an escape.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from loopscan.findings import Finding, Location, Severity, Waypoint, elided
from loopscan.linter import Report
from loopscan.rule import Rule

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "loopscanFinding/v1"
MAX_RESULTS = 25_000
"""GitHub code scanning rejects a run of more results than this ("SARIF results exceed hard limit",
docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit);
it also rejects a result of more than 10,000 thread flow locations, which the bounded witness
(:data:`loopscan.findings.WITNESS_SHOWN`) keeps far below."""
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(report: Report) -> str:
    rule_index = {rule.id: index for index, rule in enumerate(report.rules)}
    findings, left_out = within_result_limit(report.findings)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "loopscan",
                "version": report.version,
                "semanticVersion": report.version,
                "rules": [_descriptor(rule) for rule in report.rules],
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": [_result(finding, rule_index) for finding in [*findings, *report.fixed]],
    }
    if left_out:
        run["invocations"] = [{
            "executionSuccessful": True,
            "toolExecutionNotifications": [{"level": "warning", "message": {"text": (
                f"{left_out:,} less severe findings are left out: GitHub code scanning rejects a run of "
                f"more than {MAX_RESULTS:,} results; loopscan check --format json lists them all")}}],
        }]
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def within_result_limit(findings: Sequence[Finding], limit: int = MAX_RESULTS) -> tuple[list[Finding], int]:
    """The most severe ``limit`` findings, in their report order, and how many are left out.

    >>> from loopscan.findings import Problem
    >>> made = [Finding(f"LS{n}", "x", severity, Problem("m", Location("f", n)))
    ...         for n, severity in enumerate([Severity.INFO, Severity.ERROR, Severity.WARNING])]
    >>> kept, left_out = within_result_limit(made, limit=2)
    >>> [f.rule for f in kept], left_out
    (['LS1', 'LS2'], 1)
    """
    if len(findings) <= limit:
        return list(findings), 0
    ranked = sorted(range(len(findings)), key=lambda index: -findings[index].severity)[:limit]
    return [findings[index] for index in sorted(ranked)], len(findings) - limit


def fingerprint(finding: Finding) -> str:
    """A stable id for the finding: its rule and what it is about, never its line.

    Findings about no node (a YAML syntax error) fall back to the file and message.
    """
    return hashlib.sha256("\n".join(finding.identity).encode()).hexdigest()


def _descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary or rule.name},
        "fullDescription": {"text": rule.doc or rule.summary or rule.name},
        "help": {"text": rule.doc or rule.summary, "markdown": rule.doc or rule.summary},
        "defaultConfiguration": {"level": _LEVELS[rule.severity]},
        "properties": {"tags": [rule.play_label]},
    }


def _physical(location: Location) -> dict[str, Any]:
    return {
        "artifactLocation": {"uri": quote(location.file, safe="/"), "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": location.line, "startColumn": location.column},
    }


def _flow_location(waypoint: Waypoint) -> dict[str, Any]:
    location: dict[str, Any] = {"message": {"text": waypoint.node}}
    if waypoint.location is not None:
        location["physicalLocation"] = _physical(waypoint.location)
    return {"location": location}


def _result(finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    problem = finding.problem
    location: dict[str, Any] = {"physicalLocation": _physical(problem.location)}
    if problem.node:
        location["logicalLocations"] = [{"fullyQualifiedName": problem.node, "kind": "object"}]
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": _LEVELS[finding.severity],
        "message": {"text": problem.message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
    }
    if finding.rule in rule_index:
        result["ruleIndex"] = rule_index[finding.rule]
    if finding.state is not None:
        result["baselineState"] = finding.state
    if problem.cycle:
        shown = elided(problem.cycle)
        steps = [_flow_location(waypoint) for waypoint in shown.head]
        if shown.omitted:
            steps.append({"location": {"message": {"text": shown.omitted_text(problem.loop)}}})
            steps.extend(_flow_location(waypoint) for waypoint in shown.tail)
        result["codeFlows"] = [{
            "message": {"text": "the loop, from the generate step back to it"},
            "threadFlows": [{"locations": steps}],
        }]
    if finding.baselined is not None and not finding.baselined.expired:
        result["suppressions"] = [{
            "kind": "external",
            "status": "accepted",
            "justification": f"baselined until {finding.baselined.expires}",
            "location": {"physicalLocation": _physical(finding.baselined.location)},
        }]
    if problem.evidence:  # the observed events it rests on, at their files and lines
        result["relatedLocations"] = [
            {"id": index, "physicalLocation": _physical(item.location), "message": {"text": str(item)}}
            for index, item in enumerate(problem.evidence)]
    if finding.suppressed is not None:
        result["suppressions"] = [{
            "kind": "external",
            "status": "accepted",
            "justification": finding.suppressed.reason,
            "location": {"physicalLocation": _physical(finding.suppressed.location)},
        }]
    return result
