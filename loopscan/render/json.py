"""The JSON contract (see docs/architecture.md): findings, loops and a summary.

Deterministic: findings sorted by file, line and rule; keys in a fixed order.
The text is exactly what ``json.dumps(document, indent=2, ensure_ascii=False)``
writes, made by :func:`dumps`: the standard library indents in pure Python,
one small piece at a time, which took most of the run on a project whose
loops list thousands of nodes each.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

from loopscan.analysis.facts import Loop
from loopscan.findings import ABSENT, NEW, UNCHANGED, UPDATED, Evidence, Finding, elided
from loopscan.linter import Report


def render(report: Report) -> str:
    counts = report.counts()
    document: dict[str, Any] = {
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
    if report.baseline is not None:
        document["baseline"] = {"file": report.baseline, "unused": [
            {"rule": entry.rule, "pipeline": entry.pipeline, "subject": entry.subject,
             "expires": entry.expires.isoformat(), "line": entry.location.line}
            for entry in report.unused_baseline]}
    if report.base is not None:
        states = report.states()
        document["base"] = report.base
        document["fixed"] = [finding_dict(finding) for finding in report.fixed]
        document["summary"].update({"new": states[NEW], "unchanged": states[UNCHANGED],
                                    "updated": states[UPDATED], "fixed": states[ABSENT]})
    return dumps(document, one_line_from=RECORD_DEPTH) + "\n"


RECORD_DEPTH = 2
"""The depth of a finding or loop record in the document; each is written on one line, so the output
stays proportionate to what it says (no line per node of a witness) and ``grep LS301`` finds a finding."""


def dumps(value: Any, indent: int = 2, one_line_from: int | None = None) -> str:
    """``json.dumps(value, indent=indent, ensure_ascii=False)``, byte for byte, and several times faster.

    A list of strings is joined in one go by the C string encoder, and one that
    recurs at the same depth is encoded once per call. With ``one_line_from``,
    each value at that depth or deeper is written on one line, as
    ``json.dumps(value, ensure_ascii=False)`` writes it.

    >>> print(dumps({"findings": [{"rule": "LS301", "cycle": ["a", "b"]}], "n": 1}, one_line_from=2))
    {
      "findings": [
        {"rule": "LS301", "cycle": ["a", "b"]}
      ],
      "n": 1
    }

    >>> print(dumps({"a": [1, 2.5, None], "b": {}, "c": ["x", "y"], "d": [], "e": True}))
    {
      "a": [
        1,
        2.5,
        null
      ],
      "b": {},
      "c": [
        "x",
        "y"
      ],
      "d": [],
      "e": true
    }
    """
    strings_seen: dict[tuple[int, tuple[str, ...]], str] = {}

    def encode(item: Any, level: int) -> str:
        if one_line_from is not None and level >= one_line_from:
            return _one_line(item)
        if isinstance(item, str):
            return encode_basestring(item)
        if isinstance(item, dict):
            if not item:
                return "{}"
            inner = "\n" + " " * (indent * (level + 1))
            entries = (inner + _key(key) + ": " + encode(member, level + 1) for key, member in item.items())
            return "{" + ",".join(entries) + "\n" + " " * (indent * level) + "}"
        if isinstance(item, (list, tuple)):
            if not item:
                return "[]"
            inner = "\n" + " " * (indent * (level + 1))
            close = "\n" + " " * (indent * level) + "]"
            try:  # a list of strings, the usual case, is encoded by C code alone
                key = (level, tuple(item))
                text = strings_seen.get(key)
                if text is None:
                    text = strings_seen[key] = "[" + inner + ("," + inner).join(map(encode_basestring, item)) + close
                return text
            except TypeError:  # a member is not a string (or not hashable): encode each one
                return "[" + inner + ("," + inner).join(encode(member, level + 1) for member in item) + close
        return _scalar(item)

    return encode(value, 0)


_one_line = json.JSONEncoder(ensure_ascii=False, allow_nan=True).encode


def _scalar(value: Any) -> str:
    """A JSON scalar as ``json.dumps`` writes it (NaN and the infinities included)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key: Any) -> str:
    """A mapping key as ``json.dumps`` writes it: strings as they are, scalars as their JSON text."""
    if isinstance(key, str):
        return encode_basestring(key)
    if isinstance(key, (int, float)) or key is None:
        return encode_basestring(_scalar(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def loop_dict(loop: Loop) -> dict[str, Any]:
    """A loop's record: one per strongly connected component, each node in at most one."""
    return {
        "id": loop.id,
        "name": loop.name,
        "generate": loop.generate,
        "generates": list(loop.generates),
        "size": len(loop.nodes),
        "nodes": list(loop.nodes),
        "gates": list(loop.gates),
        "caps": list(loop.caps),
        "documented": bool(loop.documented_by),
        "steps": list(loop.steps),
        "pipelines": list(loop.pipelines),
        "ungated": loop.ungated,
        "uncapped": loop.uncapped,
        "ungated_generates": list(loop.ungated_generates),
        "uncapped_generates": list(loop.uncapped_generates),
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
        shown = elided(problem.cycle)
        entry["cycle"] = [waypoint.node for waypoint in (*shown.head, *shown.tail)]
        entry["cycle_length"] = shown.length
        if shown.omitted:
            entry["cycle_omitted"] = {"after": len(shown.head), "count": shown.omitted}
    if finding.state is not None and finding.state != ABSENT:
        entry["state"] = finding.state
    if finding.baselined is not None:
        entry["baselined"] = {"expires": finding.baselined.expires, "expired": finding.baselined.expired,
                              "file": finding.baselined.location.file, "line": finding.baselined.location.line}
    if problem.evidence:
        entry["evidence"] = [evidence_entry(item) for item in problem.evidence]
    if finding.suppressed is not None:
        entry["suppressed"] = {
            "reason": finding.suppressed.reason,
            "approved_by": finding.suppressed.approved_by,
            "expires": finding.suppressed.expires,
        }
    return entry


def evidence_entry(item: Evidence) -> dict[str, object]:
    """One observed event as JSON: job, run id, event type and time, and the event's file and line."""
    return {"job": item.job, "run_id": item.run_id, "event_type": item.event_type,
            "event_time": item.event_time, "file": item.file, "line": item.line}
