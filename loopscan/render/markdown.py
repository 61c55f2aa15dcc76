"""Markdown for a GitHub job summary or a pull-request comment: counts, then one table row per finding.

The findings in force are listed most severe first (errors, warnings, info),
each severity in the report's order (file, line, rule), one row each:
severity, rule, ``file:line`` and message. Loop witnesses are left out; the
text, JSON and SARIF outputs carry them.

Every value from a scanned repository or a plugin (file names, messages,
rule ids and names) goes through :func:`cell`: it stays inside its table
cell and can neither add HTML, a link, a code span nor a row.

The output is bounded. GitHub documents that "each step is restricted to a
maximum size of 1MiB" of job summary, and that "if more than 1MiB of content
is added for a step, then the upload for the step will fail and an error
annotation will be created" (Workflow commands for GitHub Actions, "Step
isolation and limits":
https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#step-isolation-and-limits;
the runner compares the file's size in bytes with ``1024 * 1024``,
``CreateStepSummaryCommand.AttachmentSizeLimit`` in actions/runner's
``src/Runner.Worker/FileCommandManager.cs``). When the rows would not fit in
:data:`SUMMARY_LIMIT` bytes (or the room the caller gives), the most severe
rows are written and a last line says how many were left out, of which
severities, and which command lists them all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from loopscan.findings import ABSENT, NEW, UNCHANGED, UPDATED, Finding, Severity, observed_note
from loopscan.linter import Report
from loopscan.printable import printable

SUMMARY_LIMIT = 1024 * 1024
"""Bytes of job summary GitHub takes from one step (1 MiB); more and the step's whole summary is dropped."""

_SPECIAL = re.compile(r"[\\`*_~\[\]|$&<>]")
"""What would start inline Markdown (an escape, code, emphasis, strikethrough, a link, math), end a table cell,
or start HTML, an autolink or an entity. The first are backslash-escaped, the last three (:data:`_ENTITIES`)
written as entities."""
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def cell(text: str) -> str:
    r"""``text`` as the content of one Markdown table cell that shows exactly that text.

    Line breaks and other control characters are first written out by
    :func:`~loopscan.printable.printable`; then the characters that would start
    inline Markdown or end the cell are backslash-escaped, and ``&``, ``<``
    and ``>`` become entities.

    >>> cell("a|b <script> `x` *y*\nz")
    'a\\|b &lt;script&gt; \\`x\\` \\*y\\*\\\\nz'
    """
    return _SPECIAL.sub(_escape, printable(text))


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ENTITIES.get(char) or "\\" + char


@dataclass(frozen=True)
class Summary:
    """A rendered Markdown report and how many of the findings in force it lists."""

    text: str
    listed: int
    total: int

    @property
    def left_out(self) -> int:
        return self.total - self.listed


def by_severity(findings: Sequence[Finding]) -> list[Finding]:
    """The findings in force, most severe first; within a severity the new ones of a diff first, then in the
    order given (the report's)."""
    return sorted((f for f in findings if f.in_force), key=lambda f: (-f.severity, f.state != NEW))


def summarize(report: Report, limit: int = SUMMARY_LIMIT) -> Summary:
    """The report as Markdown of at most ``limit`` UTF-8 bytes, with as many of the most severe rows as fit.

    The heading, the counts and the line that says what was left out are
    always written, so a ``limit`` below their size gives just them.
    """
    findings = by_severity(report.findings) + by_severity(report.fixed)
    head = _head(report, bool(findings))
    used = _size(head)
    rows: list[str] = []
    reserve = _size(_left_out(findings))  # the longest that line can be: every count at its largest
    marked = report.base is not None
    for index, finding in enumerate(findings):
        row = _row(finding, marked)
        if used + _size(row) > limit - reserve:
            rows.extend(_all_that_fit(findings[index:], limit - used, marked))
            break
        rows.append(row)
        used += _size(row)
    tail = _left_out(findings[len(rows):]) if len(rows) < len(findings) else ""
    return Summary(head + "".join(rows) + tail, len(rows), len(findings))


def _all_that_fit(findings: Sequence[Finding], room: int, marked: bool) -> list[str]:
    """The rows of all ``findings`` when together they fit in ``room`` bytes, else none.

    Called once the room kept for the last line is reached: the rows left may
    still fit in it, and then no line is needed. ``room`` is at most that kept
    room plus one row, so this stops after a few rows.
    """
    rows = []
    for finding in findings:
        row = _row(finding, marked)
        room -= _size(row)
        if room < 0:
            return []
        rows.append(row)
    return rows


def render(report: Report) -> str:
    """The report as Markdown, bounded to :data:`SUMMARY_LIMIT` bytes (``--format markdown``)."""
    return summarize(report).text


def _head(report: Report, any_rows: bool) -> str:
    lines = ["## loopscan", "", _counts(report), ""]
    if report.base is not None:
        states = report.states()
        lines[2:2] = [f"Against {cell(report.base)}: **{states[NEW]:,} new**, {states[UNCHANGED]:,} unchanged, "
                      f"{states[UPDATED]:,} updated, {states[ABSENT]:,} fixed.", ""]
    if any_rows and report.base is not None:
        lines += ["| | severity | rule | file:line | message |", "|---|---|---|---|---|"]
    elif any_rows:
        lines += ["| severity | rule | file:line | message |", "|---|---|---|---|"]
    return "".join(line + "\n" for line in lines)


def _counts(report: Report) -> str:
    counts = report.counts()
    files = len(report.files)
    manifests = f"{files} manifest file{'s' if files != 1 else ''}"
    suppressed = f", {counts['suppressed']} suppressed by overrides" if counts["suppressed"] else ""
    if not any(counts[s.label] for s in Severity):
        return f"No findings in {manifests}{suppressed}."
    parts = ", ".join(_count(counts[s.label], s) for s in sorted(Severity, reverse=True))
    return f"Found **{parts}** in {manifests}{suppressed}."


def _count(number: int, severity: Severity) -> str:
    """``3 errors``, ``1 warning``, ``2 info``.

    >>> _count(1, Severity.WARNING), _count(2, Severity.INFO)
    ('1 warning', '2 info')
    """
    plural = "s" if number != 1 and severity is not Severity.INFO else ""
    return f"{number:,} {severity.label}{plural}"


STATE_WORDS = {NEW: "**new**", UNCHANGED: "unchanged", UPDATED: "updated", ABSENT: "fixed"}


def _row(finding: Finding, marked: bool = False) -> str:
    location = finding.location
    cells = [finding.severity.label, cell(f"{finding.rule} {finding.name}"),
             cell(f"{location.file}:{location.line}"), cell(finding.message + observed_note(finding.problem.evidence))]
    if marked:
        cells.insert(0, STATE_WORDS.get(finding.state or "", ""))
    # A space on each side of every separator: a cell that ends in an escaped backslash (\\) must
    # not turn the pipe after it into an escaped one (\|).
    return "| " + " | ".join(cells) + " |\n"


def _left_out(findings: Sequence[Finding]) -> str:
    """The last line when rows were left out: how many, of which severities, and what lists them all."""
    if not findings:
        return ""
    number = len(findings)
    kinds = ", ".join(_count(n, s) for s in sorted(Severity, reverse=True)
                      if (n := sum(1 for f in findings if f.severity is s)))
    are = "finding is" if number == 1 else "findings are"
    return (f"\n**{number:,} {are} left out** ({kinds}) to keep this summary within GitHub's 1 MiB per step; "
            "`loopscan check` with the same paths and `--format text` or `--format json` lists every finding.\n")


def _size(text: str) -> int:
    return len(text.encode("utf-8"))
