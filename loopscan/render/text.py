"""Text for people: ``file:line:col: LS301 [error] message``, grouped by file.

Every value that comes from a scanned repository (file names, messages that
quote URIs and references, override reasons, node ids) goes through
:func:`loopscan.printable.printable`, so it can neither start a fake finding
line nor send a terminal escape sequence.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby

from loopscan.findings import ABSENT, EVIDENCE_SHOWN, NEW, UNCHANGED, UPDATED, Finding, Severity, Waypoint, elided
from loopscan.linter import Report
from loopscan.printable import printable

_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


def render(report: Report, color: bool = False, quiet: bool = False, show_suppressed: bool = False) -> str:
    """The findings in force, grouped by file, then one summary line.

    ``quiet`` leaves out the summary when there is nothing to report.
    """

    def paint(code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if color else text

    shown = [f for f in report.findings if show_suppressed or f.in_force]
    blocks: list[str] = []
    for _, group in groupby(shown, key=lambda f: f.location.file):
        lines: list[str] = []
        previous_cycle: tuple[Waypoint, ...] = ()
        for finding in group:
            lines.append(_finding_line(finding, paint))
            if finding.problem.cycle and finding.problem.cycle == previous_cycle:
                lines.append("    cycle: as above")
            else:
                lines.extend(_witness_lines(finding))
            previous_cycle = finding.problem.cycle
            lines.extend(_evidence_lines(finding))
        blocks.append("\n".join(lines))
    if report.unused_baseline:
        blocks.append("\n".join([
            f"Baseline entries that match no finding (the findings were fixed: remove the entries from "
            f"{printable(report.baseline or '')}):",
            *(f"{printable(str(entry.location))}: {printable(entry.named)} matches no finding"
              for entry in report.unused_baseline)]))
    if report.base is not None and report.fixed:
        blocks.append("\n".join([f"Fixed since {printable(report.base)}:",
                                 *(_finding_line(finding, paint) for finding in report.fixed)]))
    summary = _summary(report)
    if quiet and not shown:
        return ""
    return "\n\n".join([*blocks, paint("1", summary)]) + "\n"


def _finding_line(finding: Finding, paint: Callable[[str, str], str]) -> str:
    severity = paint(_COLORS[finding.severity], f"[{finding.severity.label}]")
    rule = paint("1", finding.rule)
    suffix = "  (suppressed: " + printable(finding.suppressed.reason) + ")" if finding.suppressed else ""
    if finding.state is not None and finding.state != ABSENT:
        suffix += f"  [{finding.state}]"
    if finding.baselined is not None:
        ended = "expired" if finding.baselined.expired else "until"
        suffix += f"  (baseline entry {ended} {finding.baselined.expires})"
    return f"{printable(str(finding.location))}: {rule} {severity} {printable(finding.message)}{suffix}"


def _witness_lines(finding: Finding) -> list[str]:
    if not finding.problem.cycle:
        return []
    shown = elided(finding.problem.cycle)
    lines = ["    cycle:", *map(_waypoint_line, shown.head)]
    if shown.omitted:
        lines.append(f"      ... {printable(shown.omitted_text(finding.problem.loop))}")
        lines.extend(map(_waypoint_line, shown.tail))
    lines.append(f"      -> {printable(finding.problem.cycle[0].node)}  (back to the start)")
    return lines


def _evidence_lines(finding: Finding) -> list[str]:
    """The observed events the finding rests on: job, run, time, and the event's file and line."""
    evidence = finding.problem.evidence
    if not evidence:
        return []
    lines = ["    evidence:", *(f"      - {printable(str(item))}" for item in evidence[:EVIDENCE_SHOWN])]
    if len(evidence) > EVIDENCE_SHOWN:
        lines.append(f"      ... {len(evidence) - EVIDENCE_SHOWN:,} more events (--format json lists them all)")
    return lines


def _waypoint_line(waypoint: Waypoint) -> str:
    where = f"  ({printable(waypoint.location.file)}:{waypoint.location.line})" if waypoint.location else ""
    return f"      -> {printable(waypoint.node)}{where}"


def _summary(report: Report) -> str:
    counts = report.counts()
    manifests = f"{len(report.files)} manifest file{'s' if len(report.files) != 1 else ''}"
    found = sum(counts[s.label] for s in Severity)
    suppressed = f", {counts['suppressed']} suppressed by overrides" if counts["suppressed"] else ""
    if counts.get("baselined"):
        suppressed += f", {counts['baselined']} baselined"
    against = _against(report)
    if not found:
        return f"No findings in {manifests}{suppressed}.{against}"
    parts = ", ".join(f"{counts[s.label]} {s.label}{'s' if counts[s.label] != 1 and s.label != 'info' else ''}"
                      for s in sorted(Severity, reverse=True))
    return f"Found {parts} in {manifests}{suppressed}.{against}"


def _against(report: Report) -> str:
    """`` Against origin/main: 2 new, 7 unchanged, 1 updated, 1 fixed.`` for a diff, else nothing."""
    if report.base is None:
        return ""
    counts = report.states()
    return (f" Against {printable(report.base)}: {counts[NEW]} new, {counts[UNCHANGED]} unchanged, "
            f"{counts[UPDATED]} updated, {counts[ABSENT]} fixed.")
