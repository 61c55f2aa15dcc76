"""JUnit XML for CI dashboards: one test case per rule and node.

A (rule, node) pair with findings is a failing test case, one ``<failure>``
per finding; a rule that ran and found nothing is one passing test case, so
the dashboard shows what was checked, not only what failed.

Values from a scanned repository (file names, messages, node ids) go through
:func:`loopscan.printable.printable` first: a dashboard that prints a
failure to a CI log must not be handed a line break that starts a fake line
(``::error ...`` is a command to a GitHub runner) or a terminal escape.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from loopscan.findings import Finding, Waypoint, elided
from loopscan.linter import Report
from loopscan.printable import NOT_IN_XML, printable


def render(report: Report) -> str:
    in_force = [f for f in report.findings if f.in_force]
    by_case = sorted(in_force, key=lambda f: (f.rule, f.problem.node or f.location.file, f.sort_key()))
    suites = ET.Element("testsuites", name="loopscan")
    suite = ET.SubElement(suites, "testsuite", name="loopscan")
    cases = failures = 0
    for (rule, subject), group in groupby(by_case, key=lambda f: (f.rule, f.problem.node or f.location.file)):
        findings = list(group)
        first = findings[0]
        case = ET.SubElement(
            suite, "testcase", classname=f"loopscan.{rule}", name=_value(f"{rule} {first.name} {subject}"),
            file=_value(first.location.file), line=str(first.location.line),
        )
        for finding in findings:
            failure = ET.SubElement(case, "failure", message=_value(finding.message), type=finding.severity.label)
            failure.text = _details(finding)
        cases += 1
        failures += 1
    failing_rules = {f.rule for f in in_force}
    for rule in report.rules:
        if rule.id not in failing_rules:
            ET.SubElement(suite, "testcase", classname=f"loopscan.{rule.id}", name=f"{rule.id} {rule.name}")
            cases += 1
    for element in (suites, suite):
        element.set("tests", str(cases))
        element.set("failures", str(failures))
        element.set("errors", "0")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"




def xml_text(text: str) -> str:
    r"""Text XML 1.0 can hold: control characters (legal in a YAML string) shown as ``\xNN``.

    >>> xml_text("a\x01b")
    'a\\x01b'
    """
    return NOT_IN_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def _value(text: str) -> str:
    """A value from a scanned repository, on one line, as text XML can hold."""
    return xml_text(printable(text))


def _details(finding: Finding) -> str:
    text = f"{_value(str(finding.location))}: {finding.rule} [{finding.severity.label}] {_value(finding.message)}"
    shown = elided(finding.problem.cycle)
    for waypoint in shown.head:
        text += _waypoint_line(waypoint)
    if shown.omitted:
        text += f"\n  ... {_value(shown.omitted_text(finding.problem.loop))}"
        for waypoint in shown.tail:
            text += _waypoint_line(waypoint)
    for item in finding.problem.evidence:
        text += f"\n  observed: {_value(str(item))}"
    return text


def _waypoint_line(waypoint: Waypoint) -> str:
    where = f" ({_value(waypoint.location.file)}:{waypoint.location.line})" if waypoint.location else ""
    return f"\n  -> {_value(waypoint.node)}{where}"
