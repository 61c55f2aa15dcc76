"""SARIF, GitHub annotations and JUnit: the formats CI systems and dashboards read."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ECHO_LOOP, ECHO_LOOP_OVERRIDDEN, TODAY, Result, line_of, sarif_errors


def _sarif(run: Callable[..., Result], *paths: str) -> dict:
    result = run("check", *paths, "-f", "sarif", "--today", TODAY)
    assert result.code in (0, 1), result.err
    return json.loads(result.out)


def test_sarif_validates_against_the_official_schema(
    project: Callable[[str, str], Path], run: Callable[..., Result]
) -> None:
    project("echo.yaml", ECHO_LOOP)
    project("broken.yaml", "loopscan: 1\npipeline: [\n")
    document = _sarif(run, ".")
    errors = sarif_errors(document)
    assert not errors, errors[0]
    assert document["runs"][0]["results"], "the looping project must give results"


def test_sarif_has_what_github_code_scanning_needs(
    project: Callable[[str, str], Path], run: Callable[..., Result]
) -> None:
    manifest = project("echo.yaml", ECHO_LOOP)
    sarif_run = _sarif(run, ".")["runs"][0]
    rules = {rule["id"]: rule for rule in sarif_run["tool"]["driver"]["rules"]}
    ungated = rules["LS301"]
    assert ungated["name"] == "ungated-loop"
    assert ungated["defaultConfiguration"]["level"] == "error"
    assert ungated["shortDescription"]["text"] and ungated["fullDescription"]["text"]
    assert "## Fix" in ungated["help"]["markdown"] and ungated["help"]["text"]

    result = next(r for r in sarif_run["results"] if r["ruleId"] == "LS301")
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "echo.yaml"
    assert physical["region"] == {"startLine": line_of(manifest, "speak:"), "startColumn": 3}
    assert result["level"] == "error" and result["message"]["text"]
    assert sarif_run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "LS301"

    flow = [step["location"] for step in result["codeFlows"][0]["threadFlows"][0]["locations"]]
    assert [step["message"]["text"] for step in flow] == ["echo:speak", "echo:said", "echo:learn", "echo:parrot"]
    assert [step["physicalLocation"]["region"]["startLine"] for step in flow] == [
        line_of(manifest, "speak:"), line_of(manifest, "said:"), line_of(manifest, "learn:"),
        line_of(manifest, "parrot:"),
    ]


def test_fingerprints_survive_lines_shifting(project: Callable[[str, str], Path], run: Callable[..., Result]) -> None:
    manifest = project("echo.yaml", ECHO_LOOP)

    def prints() -> dict[str, str]:
        results = _sarif(run, ".")["runs"][0]["results"]
        return {r["ruleId"]: r["partialFingerprints"]["loopscanFinding/v1"] for r in results}

    before = prints()
    manifest.write_text("# a new comment\n# and another\n" + manifest.read_text(encoding="utf-8"), encoding="utf-8")
    after = prints()
    assert before == after
    assert len(set(before.values())) == len(before)


def test_overridden_findings_are_sarif_suppressions(
    project: Callable[[str, str], Path], run: Callable[..., Result]
) -> None:
    project("echo.yaml", ECHO_LOOP_OVERRIDDEN)
    results = _sarif(run, ".")["runs"][0]["results"]
    ungated = next(r for r in results if r["ruleId"] == "LS301")
    assert ungated["suppressions"] == [{
        "kind": "external", "status": "accepted",
        "justification": "Review queue is being rebuilt, tracked in OPS-77.",
        "location": ungated["suppressions"][0]["location"],
    }]


def test_github_annotations_golden(project: Callable[[str, str], Path], run: Callable[..., Result]) -> None:
    project("echo.yaml", ECHO_LOOP)
    result = run("check", ".", "-f", "github", "--today", TODAY, "--select", "LS30", "--select", "LS502")
    assert result.code == 1
    assert result.out == (  # errors first: GitHub keeps only the first 10 annotations of each severity
        "::error file=echo.yaml,line=12,col=3,title=LS301 ungated-loop::loop through generate step 'speak' has a"
        " cycle with no quality gate (via 'learn')\n"
        "::error file=echo.yaml,line=12,col=3,title=LS302 uncapped-loop::loop through generate step 'speak' has a"
        " cycle with no mixing cap (via 'learn'); no step on it sets mixing.max_synthetic\n"
        "::error file=echo.yaml,line=12,col=3,title=LS303 undocumented-loop::loop through generate step 'speak' is"
        " not documented: no `loops` entry lists it in `through` (via 'learn')\n"
        "::warning file=echo.yaml,line=9,col=3,title=LS502 stale-drill::model 'parrot' has no response drill on"
        " record (rollback.last_drill); the policy asks for one every 92 days\n"
    )


def test_github_annotations_leave_out_suppressed_findings(
    project: Callable[[str, str], Path], run: Callable[..., Result]
) -> None:
    project("echo.yaml", ECHO_LOOP_OVERRIDDEN)
    result = run("check", ".", "-f", "github", "--today", TODAY, "--select", "LS301")
    assert (result.code, result.out) == (0, "")


def test_github_escapes_hostile_values() -> None:
    from loopscan.render.github import escape_data, escape_property

    assert escape_property("a,b:c%\nd") == "a%2Cb%3Ac%25%0Ad"
    assert escape_data("x\r\ny::error::z") == "x%0D%0Ay::error::z"


def test_junit_parses_and_fails_per_rule_and_node(
    project: Callable[[str, str], Path], run: Callable[..., Result]
) -> None:
    project("echo.yaml", ECHO_LOOP)
    result = run("check", ".", "-f", "junit", "--today", TODAY, "--select", "LS3")
    assert result.code == 1
    suites = ET.fromstring(result.out)
    suite = suites.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    failing = {case.get("name"): [f.get("message") for f in case.findall("failure")] for case in cases
               if case.find("failure") is not None}
    assert set(failing) == {"LS301 ungated-loop echo:speak", "LS302 uncapped-loop echo:speak",
                            "LS303 undocumented-loop echo:speak"}
    assert int(suite.get("tests", "0")) == len(cases)
    assert int(suite.get("failures", "0")) == len(failing)
    passing = {case.get("name") for case in cases if case.find("failure") is None}
    assert {"LS304 stale-loop-doc", "LS305 replace-in-loop"} <= passing
