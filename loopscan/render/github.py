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
"""

from __future__ import annotations

from loopscan.findings import Severity
from loopscan.linter import Report
from loopscan.printable import printable

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


def render(report: Report) -> str:
    """One workflow command per finding in force, errors first, then warnings, then notices."""
    lines = []
    # sorted() is stable: within a severity, the report's order (file, line, rule) is kept.
    for finding in sorted((f for f in report.findings if f.suppressed is None), key=lambda f: -f.severity):
        location = finding.location
        properties = ",".join([
            f"file={escape_property(location.file)}",
            f"line={location.line}",
            f"col={location.column}",
            f"title={escape_property(f'{finding.rule} {finding.name}')}",
        ])
        lines.append(f"::{_COMMANDS[finding.severity]} {properties}::{escape_data(printable(finding.message))}")
    return "".join(line + "\n" for line in lines)
