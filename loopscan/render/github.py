"""GitHub Actions workflow commands: one annotation per finding in force, the most severe first.

``::error file=F,line=L,col=C,title=LS301 ungated-loop::message``. Values are
escaped as the workflow-command rules require: ``%``, CR and LF everywhere,
and also ``:`` and ``,`` inside properties, so a hostile id or message can
never end an annotation early or start a new command. The message, shown to
people, also has its control characters (terminal escapes among them) written
out by :func:`loopscan.printable.printable`.

GitHub shows only the first few annotations of a step and drops the rest
without a word. Its REST documentation says "GitHub Actions are limited to 10
warning annotations and 10 error annotations per step" (Checks API, the
``annotations`` of a check run's ``output``:
https://docs.github.com/en/rest/checks/runs#create-a-check-run), and the runner
keeps at most 10 issues of each type, notices too (``_maxCountPerIssueType =
10`` in actions/runner's ``src/Runner.Worker/ExecutionContext.cs``); every
command is still written to the step's log. The commands are therefore
written errors first, then warnings, then notices (``info`` findings), each
severity in the report's order (file, line, rule), so the annotations GitHub
keeps are the most severe ones. The command syntax is the one of "Workflow
commands for GitHub Actions"
(https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands).

When ``GITHUB_STEP_SUMMARY`` names a file, ``loopscan check --format github``
also appends the whole report as Markdown (:mod:`loopscan.render.markdown`)
to it and adds one notice that names the summary (:func:`summary_notice`).
That notice comes after the errors and warnings and before the notices of
``info`` findings: GitHub keeps only the first 10 notices of a step, and this
one says where the rest are.
"""

from __future__ import annotations

from loopscan.findings import NEW, Finding, Severity, observed_note
from loopscan.linter import Report
from loopscan.printable import printable
from loopscan.render.markdown import Summary, by_severity

ANNOTATIONS_PER_SEVERITY = 10
"""Annotations of each severity (error, warning, notice) GitHub keeps from one step."""

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message.

    >>> escape_data("50% done\\nnext")
    '50%25 done%0Anext'
    """
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (file, title).

    >>> escape_property("a:b,c")
    'a%3Ab%2Cc'
    """
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, notice: str | None = None) -> str:
    """One workflow command per finding in force, errors first; ``notice`` (a whole command) before the notices.

    >>> render(Report("0", [], 0, 0, [], [], []), notice="::notice::n")
    '::notice::n\\n'
    """
    lines = []
    for finding in by_severity(report.findings):
        if notice is not None and finding.severity < Severity.WARNING:
            lines.append(notice)
            notice = None
        location = finding.location
        properties = ",".join([
            f"file={escape_property(location.file)}",
            f"line={location.line}",
            f"col={location.column}",
            f"title={escape_property(f'{finding.rule} {finding.name}' + _marked(finding))}",
        ])
        message = finding.message + observed_note(finding.problem.evidence)
        lines.append(f"::{_COMMANDS[finding.severity]} {properties}::{escape_data(printable(message))}")
    if notice is not None:
        lines.append(notice)
    for entry in report.unused_baseline:
        properties = f"file={escape_property(entry.location.file)},line={entry.location.line},title=loopscan baseline"
        lines.append(f"::warning {properties}::{escape_data(printable(entry.named))} matches no finding: "
                     "remove the entry")
    return "".join(line + "\n" for line in lines)


def _marked(finding: Finding) -> str:
    """`` (new)`` for a finding a diff marked new: the reviewer's first question about an annotation."""
    return f" ({finding.state})" if finding.state == NEW else ""


def summary_notice(summary: Summary) -> str:
    """The notice that names the job summary: how many findings it lists, and why it is worth opening.

    >>> summary_notice(Summary("", 25, 25))[:65]
    '::notice title=loopscan::all 25 findings are in the job summary ('
    >>> summary_notice(Summary("", 4000, 25000))[:89]
    '::notice title=loopscan::the job summary lists the 4,000 most severe of 25,000 findings ('
    """
    cap = ANNOTATIONS_PER_SEVERITY
    shown = f"GitHub shows at most {cap} error, {cap} warning and {cap} notice annotations per step"
    if summary.total == 0:
        message = "no findings; the report is in the job summary"
    elif summary.left_out == 0:
        message = (f"all {summary.total:,} finding{'s are' if summary.total != 1 else ' is'} in the job summary "
                   f"({shown})")
    else:
        message = (f"the job summary lists the {summary.listed:,} most severe of {summary.total:,} findings "
                   "(GitHub takes at most 1 MiB of summary per step); this step's log has every finding")
    return f"::notice title=loopscan::{escape_data(message)}"
