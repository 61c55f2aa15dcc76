"""GitHub Actions workflow commands: one annotation per finding in force.

``::error file=F,line=L,col=C,title=LS301 ungated-loop::message``. Values are
escaped as the workflow-command rules require: ``%``, CR and LF everywhere,
and also ``:`` and ``,`` inside properties, so a hostile id or message can
never end an annotation early or start a new command. The message, shown to
people, also has its control characters (terminal escapes among them) written
out by :func:`loopscan.printable.printable`.
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
    lines = []
    for finding in report.findings:
        if finding.suppressed is not None:
            continue
        location = finding.location
        properties = ",".join([
            f"file={escape_property(location.file)}",
            f"line={location.line}",
            f"col={location.column}",
            f"title={escape_property(f'{finding.rule} {finding.name}')}",
        ])
        lines.append(f"::{_COMMANDS[finding.severity]} {properties}::{escape_data(printable(finding.message))}")
    return "".join(line + "\n" for line in lines)
