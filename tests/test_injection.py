"""Hostile strings reach every output format escaped, and each output still parses as its format.

A scanned repository controls file names, URIs, descriptions, sources,
owners, override reasons and reference text; the schema's id pattern also
lets an id end in a line break today. The project below puts one hostile
string in each place a finding can quote, then every format is parsed back:

* text: one line per finding, no control character, no terminal escape
  (with colour on, only loopscan's own);
* JSON and SARIF: ``json.loads``, each value back exactly as written (SARIF
  file paths as percent-encoded URI references);
* JUnit: ``ET.fromstring``, each value on one line;
* GitHub: each line one well-formed workflow command whose properties split
  on ``,`` and ``=`` exactly as the runner splits them, and decode back.

DOT and Mermaid escaping is tested with the diagram renderers.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from loopscan.config import Config
from loopscan.linter import Report
from loopscan.linter import run as run_linter
from loopscan.printable import printable
from loopscan.registry import all_rules
from loopscan.render.text import render as render_text
from loopscan.sources.discover import discover
from tests.conftest import TODAY, Result, Run, Write, sarif_errors

EVIL = (
    "evil\r\n::error file=x.yaml,line=1::pwned\n\x1b[31mfake.yaml:1:1: LS999 [error] injected\x1b[0m\x1b]0;title\x07"
    " %0A %25 %3A a,b:c=d \u202egnp.exe\u2028next\x85nel\x9b31m\x00\x08\x7f\t<![CDATA[</failure>&amp;\"'"
)
"""Line breaks of every kind, a fake finding and a fake workflow command, ANSI and OSC sequences,
workflow-command escapes, bidi overrides, C0/C1 controls, and XML specials."""

EVIL_URI = f"s3://echo/{EVIL}/"
"""A dataset URI on a loop."""

EVIL_FILE = "evil\n\x1b[31m,file=x:1%0A #?.yaml"
LOOP_FILE = "loop\x1b[2J\r\n\u202e.yaml"
"""A file name with a line break, an escape, property separators, '%', a space, '#' and '?'."""

UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""What must never reach a reader: every control character but the line feed between lines, and bidi controls."""


def quoted(text: str) -> str:
    """A YAML double-quoted scalar for ``text`` (JSON's escapes are YAML's)."""
    return json.dumps(text)


def hostile_project(project: Write) -> None:
    """Findings that quote EVIL in every way a rule can: owners, sources, URIs, refs, targets, reasons, ids."""
    Path(EVIL_FILE).write_text(f"""\
loopscan: 1
pipeline: one
owner: {quoted("ana, " + EVIL)}
datasets:
  crawl: {{uri: {quoted("s3://shared/" + EVIL)}, provenance: ai}}
models:
  m:
    monitoring: {{metrics: [a], alert: {{metric: {quoted(EVIL)}, max_drop: 0.1}}, compare_to: previous}}
steps:
  fetch: {{kind: ingest, source: {quoted(EVIL)}, outputs: [crawl], owner: {quoted("bo, " + EVIL)}}}
  use: {{kind: transform, inputs: [{quoted("missing" + EVIL.replace(":", ""))}], outputs: [crawl]}}
overrides:
  - {{rule: LS104, target: fetch, reason: {quoted(EVIL)}, approved_by: {quoted(EVIL)},
      approved: 2026-11-01, expires: 2026-12-01}}
  - {{rule: LS301, target: {quoted("nothing" + EVIL)}, reason: r, approved_by: a,
      approved: 2026-11-01, expires: 2026-12-01}}
""", encoding="utf-8")
    project("two.yaml", f"""
        loopscan: 1
        pipeline: two
        owner: cy
        datasets:
          same: {{uri: {quoted("s3://shared/" + EVIL)}, provenance: human}}
        """)
    # A loop through a dataset known only by a hostile URI: the witness of every loop finding holds it.
    # It is documented, in a file with a hostile name: the loops table shows that name.
    Path(LOOP_FILE).write_text(f"""\
loopscan: 1
pipeline: echo
owner: ana
models:
  parrot: {{uri: "models:/parrot"}}
steps:
  speak: {{kind: generate, inputs: [parrot], outputs: [{quoted(EVIL_URI)}]}}
  learn: {{kind: train, inputs: [{quoted(EVIL_URI)}], outputs: [parrot]}}
loops:
  echo-loop: {{through: [speak, learn], why: {quoted(EVIL)}}}
""", encoding="utf-8")
    # Ids that end in a line break once passed the id pattern ('$' also matches before a final '\n'):
    # they are schema errors now, and every output must stay well formed either way.
    project("ids.yaml", """
        loopscan: 1
        pipeline: "ids\\n"
        owner: ana
        datasets:
          "said\\n": {uri: "s3://ids/said/", provenance: ai}
        models:
          "parrot\\n": {uri: "models:/ids"}
        steps:
          "speak\\n": {kind: generate, inputs: ["parrot\\n"], outputs: ["said\\n"]}
          "learn\\n": {kind: train, inputs: ["said\\n"], outputs: ["parrot\\n"]}
        """)


@pytest.fixture
def hostile(project: Write, run: Run) -> dict[str, Any]:
    """The hostile project's JSON report: the reference every other format is compared with."""
    hostile_project(project)
    report = check(run, "json")
    return json.loads(report.out)


def check(run: Run, output_format: str) -> Result:
    result = run("check", ".", "-f", output_format, "--today", TODAY)
    assert result.code == 1, result.err
    assert result.err == ""
    return result


def in_force(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [finding for finding in report["findings"] if "suppressed" not in finding]


def test_the_hostile_project_quotes_every_hostile_value_in_some_finding(hostile: dict[str, Any]) -> None:
    """The premise of every test below: the hostile strings do reach findings, files and witnesses."""
    messages = "\n".join(finding["message"] for finding in hostile["findings"])
    assert f"brings in data from {EVIL} with no" in messages  # an ingest step's source
    assert f"s3://shared/{EVIL} is declared 'human' here" in messages  # a URI
    assert f"(ana, {EVIL.split(',')[0]}" in messages  # owners
    assert repr("nothing" + EVIL) in messages  # a reference quoted with repr
    assert EVIL_FILE in {finding["file"] for finding in hostile["findings"]}
    assert any(finding.get("suppressed", {}).get("reason") == EVIL for finding in hostile["findings"])
    assert any(EVIL_URI in finding.get("cycle", []) for finding in hostile["findings"] if finding["rule"] == "LS301")
    assert {"LS004", "LS005", "LS104", "LS301", "LS601", "LS605"} <= {f["rule"] for f in hostile["findings"]}


# Text ----------------------------------------------------------------------------------------

FINDING_LINE = re.compile(r"^(?P<where>\S.*?):(?P<line>\d+):(?P<column>\d+): (?P<rule>LS\d{3}) "
                          r"\[(?P<severity>error|warning|info)\] (?P<message>.*)$")
WITNESS_LINE = re.compile(r"^    cycle:( as above)?$|^      -> \S")
SUMMARY_LINE = re.compile(r"^(Found \d+ errors?, \d+ warnings?, \d+ info|No findings) in \d+ manifest files?"
                          r"(, \d+ suppressed by overrides)?\.$")


def test_text_output_has_one_line_per_finding_and_no_control_characters(
    hostile: dict[str, Any], run: Run
) -> None:
    out = check(run, "text").out
    assert UNPRINTABLE.search(out) is None, repr(UNPRINTABLE.search(out))
    lines = out.splitlines()
    kinds = ["witness" if WITNESS_LINE.match(line) else "finding" if FINDING_LINE.match(line)
             else "summary" if SUMMARY_LINE.match(line) else "blank" if line == "" else line for line in lines]
    assert set(kinds) <= {"finding", "witness", "summary", "blank"}, [k for k in kinds if len(k) > 7]
    assert kinds.count("finding") == len(in_force(hostile))
    assert kinds[-1] == "summary"
    assert printable(EVIL) in out
    assert f"{printable(EVIL_FILE)}:" in out


def test_text_shows_each_finding_s_file_and_message_escaped_in_report_order(hostile: dict[str, Any],
                                                                            run: Run) -> None:
    shown = [FINDING_LINE.match(line) for line in check(run, "text").out.splitlines()]
    parsed = [(m["where"], int(m["line"]), m["rule"], m["message"]) for m in shown if m]
    assert parsed == [(printable(f["file"]), f["line"], f["rule"], printable(f["message"])) for f in in_force(hostile)]


def report_of(folder: Path) -> Report:
    return run_linter(discover([str(folder)]), Config(root=folder), all_rules(), date.fromisoformat(TODAY))


SGR = re.compile(r"\x1b\[(0|1|31|33|36)m")


def test_coloured_text_holds_only_loopscan_s_own_colour_codes(project: Write, tmp_path: Path) -> None:
    hostile_project(project)
    report = report_of(tmp_path)
    coloured, plain = render_text(report, color=True), render_text(report, color=False)
    assert SGR.search(coloured) is not None
    assert SGR.sub("", coloured) == plain
    assert "\x1b" not in plain


# JSON and SARIF ------------------------------------------------------------------------------


def test_json_gives_back_every_hostile_value_exactly(hostile: dict[str, Any]) -> None:
    by_rule = {finding["rule"]: finding for finding in hostile["findings"]}
    assert by_rule["LS104"]["message"].startswith(f"ingest step 'fetch' brings in data from {EVIL} with no")
    assert by_rule["LS104"]["suppressed"] == {"reason": EVIL, "approved_by": EVIL, "expires": "2026-12-01"}
    assert by_rule["LS005"]["message"].startswith(f"s3://shared/{EVIL} is declared 'human' here")
    assert by_rule["LS605"]["file"] == EVIL_FILE
    assert EVIL_URI in by_rule["LS301"]["cycle"]


URI_REFERENCE = re.compile(r"^[A-Za-z0-9\-._~%!$&'()*+,;=:@/]*$")
"""The characters RFC 3986 allows in a URI reference (without '?' and '#', which would start a query or fragment)."""


def test_sarif_parses_validates_and_gives_back_every_hostile_value(hostile: dict[str, Any], run: Run) -> None:
    document = json.loads(check(run, "sarif").out)
    assert sarif_errors(document) == []
    results = document["runs"][0]["results"]
    assert [r["message"]["text"] for r in results] == [f["message"] for f in hostile["findings"]]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert all(URI_REFERENCE.match(uri) for uri in uris), uris
    assert [unquote(uri) for uri in uris] == [f["file"] for f in hostile["findings"]]
    assert [r["suppressions"][0]["justification"] for r in results if "suppressions" in r] == [EVIL]


def test_a_sarif_path_with_a_colon_is_never_read_as_a_uri_scheme(project: Write, run: Run) -> None:
    project("c:drive.yaml", "loopscan: 1\npipeline: [\n")
    document = json.loads(run("check", ".", "-f", "sarif").out)
    [result] = document["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "c%3Adrive.yaml"


# JUnit ---------------------------------------------------------------------------------------


def test_junit_parses_and_keeps_every_hostile_value_on_one_line(hostile: dict[str, Any], run: Run) -> None:
    suites = ET.fromstring(check(run, "junit").out)
    failures = list(suites.iter("failure"))
    assert len(failures) == len(in_force(hostile))
    for case in suites.iter("testcase"):
        for value in (case.get("name", ""), case.get("file", "")):
            assert UNPRINTABLE.search(value) is None and "\n" not in value, repr(value)
    for failure in failures:
        message = failure.get("message", "")
        assert UNPRINTABLE.search(message) is None and "\n" not in message, repr(message)
        details = failure.text or ""
        assert UNPRINTABLE.search(details) is None, repr(details)
        first, *witness = details.split("\n")
        assert first.endswith(message)
        assert all(line.startswith("  -> ") for line in witness)
    assert {failure.get("message") for failure in failures} == {
        printable(f["message"]) for f in in_force(hostile)}


# GitHub workflow commands --------------------------------------------------------------------

COMMAND = re.compile(r"^::(?P<command>error|warning|notice) (?P<properties>[^:\r\n]*)::(?P<message>[^\r\n]*)$")
"""The runner reads a command up to the first '::' after its properties; properties hold no ':' at all."""
PROPERTY_ESCAPES = {"%25": "%", "%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ","}
DATA_ESCAPES = {"%25": "%", "%0D": "\r", "%0A": "\n"}


def unescape(text: str, escapes: dict[str, str]) -> str:
    """The runner's decoding: one pass, so that ``%253A`` becomes ``%3A``, not ``:``."""
    return re.sub("|".join(escapes), lambda match: escapes[match.group()], text)


def test_github_prints_one_well_formed_command_per_finding_that_decodes_back(
    hostile: dict[str, Any], run: Run
) -> None:
    out = check(run, "github").out
    assert out.endswith("\n")
    lines = out[:-1].split("\n")
    most_severe_first = sorted(in_force(hostile), key=lambda f: ["error", "warning", "info"].index(f["severity"]))
    assert len(lines) == len(most_severe_first)
    for line, finding in zip(lines, most_severe_first, strict=True):
        command = COMMAND.match(line)
        assert command is not None, repr(line)
        assert "\r" not in line
        properties = dict(pair.split("=", 1) for pair in command["properties"].split(","))
        assert list(properties) == ["file", "line", "col", "title"]
        assert unescape(properties["file"], PROPERTY_ESCAPES) == finding["file"]
        assert (properties["line"], properties["col"]) == (str(finding["line"]), str(finding["column"]))
        assert unescape(properties["title"], PROPERTY_ESCAPES) == f"{finding['rule']} {finding['name']}"
        assert unescape(command["message"], DATA_ESCAPES) == printable(finding["message"])
        assert "\x1b" not in command["message"]


def test_github_escapes_every_percent_so_that_an_escape_in_a_value_is_kept_as_written() -> None:
    from loopscan.render.github import escape_data, escape_property

    for value in ("%0A", "%250A", "a%3Ab", "%", "100%,:\r\n"):
        assert unescape(escape_property(value), PROPERTY_ESCAPES) == value
        assert unescape(escape_data(value), DATA_ESCAPES) == value
        assert not set(escape_property(value)) & {":", ",", "\r", "\n"}


# stderr -----------------------------------------------------------------------------------------


def test_a_note_on_stderr_names_a_hostile_file_on_one_line(project: Write, run: Run) -> None:
    Path(EVIL_FILE).write_text("just: data\n", encoding="utf-8")
    result = run("check", ".", "-v")
    assert result.err == f"passed over {printable(EVIL_FILE)}: no top-level 'loopscan' key\n"


def test_an_error_about_a_hostile_path_is_one_line(project: Write, run: Run) -> None:
    result = run("check", EVIL_FILE)
    assert (result.code, result.out) == (2, "")
    assert result.err == f"loopscan: error: path '{printable(EVIL_FILE)}' does not exist\n"


# The schema and the review tables ------------------------------------------------------------------


def test_an_id_with_a_trailing_line_break_is_a_schema_error(project: Write, run: Run) -> None:
    """The id pattern once ended in '$', which in Python also matches before a final line break."""
    project("p.yaml", 'loopscan: 1\npipeline: "p\\n"\nowner: ana\nsteps:\n  "s\\n": {kind: gate}\n')
    result = run("check", ".", "-f", "json", "--select", "LS002")
    assert [(f["rule"], f["line"]) for f in result.json()["findings"]] == [("LS002", 2), ("LS002", 5)]


def test_the_overrides_table_holds_no_control_characters(project: Write, run: Run) -> None:
    hostile_project(project)
    result = run("overrides", ".", "--today", TODAY)
    assert result.code in (0, 1), result.err
    assert UNPRINTABLE.search(result.out) is None, repr(UNPRINTABLE.search(result.out))
    assert printable(EVIL) in result.out


def test_the_loops_table_shows_a_hostile_file_name_on_one_line(project: Write, run: Run) -> None:
    hostile_project(project)
    result = run("loops", ".", "--today", TODAY)
    assert result.code in (0, 1), result.err
    assert UNPRINTABLE.search(result.out) is None, repr(UNPRINTABLE.search(result.out))
    assert f"echo-loop ({printable(LOOP_FILE)}:10)" in result.out
