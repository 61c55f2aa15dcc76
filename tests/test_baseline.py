"""``loopscan baseline create`` and ``check --baseline FILE``: known findings pass until their entries expire."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ECHO_LOOP, TODAY, Run, Write, assert_usage_error, sarif_errors

BASELINE = ".loopscan-baseline.json"


def create(run: Run, *args: str) -> None:
    result = run("baseline", "create", ".", "--today", TODAY, *args)
    assert result.code == 0, result.err
    assert result.out == ""


def test_a_baseline_records_todays_findings_and_check_passes_with_it(project: Write, run: Run) -> None:
    project("echo.yaml", ECHO_LOOP)
    before = run("check", ".", "-f", "json", "--today", TODAY)
    assert before.code == 1
    result = run("baseline", "create", ".", "--today", TODAY, "--expires", "2027-03-31")
    assert result.err.strip() == f"loopscan: recorded {len(before.json()['findings'])} findings in {BASELINE}, " \
                                 "until 2027-03-31"
    document = json.loads(Path(BASELINE).read_text(encoding="utf-8"))
    assert document["loopscan_baseline"] == 1 and document["created"] == TODAY
    assert {(e["rule"], e.get("node")) for e in document["entries"]} == {
        (f["rule"], f["node"]) for f in before.json()["findings"]}
    assert {e["expires"] for e in document["entries"]} == {"2027-03-31"}

    checked = run("check", ".", "--today", TODAY, "--baseline", BASELINE)
    assert checked.code == 0, checked.out
    assert checked.out.strip().endswith(f"No findings in 1 manifest file, {len(document['entries'])} baselined.")
    as_json = run("check", ".", "-f", "json", "--today", TODAY, "--baseline", BASELINE).json()
    assert all(f["baselined"]["expired"] is False for f in as_json["findings"])
    assert as_json["baseline"] == {"file": BASELINE, "unused": []}
    sarif = json.loads(run("check", ".", "-f", "sarif", "--today", TODAY, "--baseline", BASELINE).out)
    assert sarif_errors(sarif) == []
    assert all(r["suppressions"][0]["justification"] == "baselined until 2027-03-31"
               for r in sarif["runs"][0]["results"])


def test_entries_match_on_rule_and_node_never_on_line(project: Write, run: Run) -> None:
    project("echo.yaml", ECHO_LOOP)
    create(run, "--expires", "2027-03-31")
    project("echo.yaml", "# moved down by a comment\n# and another\n" + ECHO_LOOP.replace("\n    ", "\n"))
    assert run("check", ".", "--today", TODAY, "--baseline", BASELINE).code == 0
    # A new finding on another node is not known to the baseline.
    project("more.yaml", ECHO_LOOP.replace("pipeline: echo", "pipeline: more").replace("echo/said", "more/said")
            .replace("models:/parrot", "models:/other"))
    result = run("check", ".", "-f", "json", "--today", TODAY, "--baseline", BASELINE)
    assert result.code == 1
    in_force = {f["pipeline"] for f in result.json()["findings"] if "baselined" not in f}
    assert in_force == {"more"}


def test_an_expired_entry_reports_its_finding_again(project: Write, run: Run) -> None:
    project("echo.yaml", ECHO_LOOP)
    create(run, "--expires", "2026-12-01")
    result = run("check", ".", "--today", "2026-12-02", "--baseline", BASELINE, "--select", "LS301")
    assert result.code == 1
    assert "LS301 [error] loop through generate step 'speak'" in result.out
    assert "(baseline entry expired 2026-12-01)" in result.out


def test_an_entry_that_matches_nothing_is_reported_at_its_line(project: Write, run: Run) -> None:
    project("echo.yaml", ECHO_LOOP)
    create(run, "--expires", "2027-03-31", "--select", "LS301")
    project("echo.yaml", ECHO_LOOP.replace("inputs: [said]", "inputs: [parrot]"))  # the loop is gone
    result = run("check", ".", "--today", TODAY, "--baseline", BASELINE, "--select", "LS301")
    assert result.code == 0
    assert (f"{BASELINE}:5:5: LS301 for 'echo:speak' matches no finding") in result.out
    # It weighs as a warning, as LS605's unused override does.
    assert run("check", ".", "--today", TODAY, "--baseline", BASELINE, "--select", "LS301",
               "--fail-on", "warning").code == 1
    as_json = run("check", ".", "-f", "json", "--today", TODAY, "--baseline", BASELINE, "--select", "LS301").json()
    assert as_json["baseline"]["unused"] == [{"rule": "LS301", "pipeline": "echo", "subject": "echo:speak",
                                               "expires": "2027-03-31", "line": 5}]
    github = run("check", ".", "-f", "github", "--today", TODAY, "--baseline", BASELINE, "--select", "LS301")
    assert github.out == (f"::warning file={BASELINE},line=5,title=loopscan baseline::LS301 for 'echo:speak' "
                          "matches no finding: remove the entry\n")


def test_an_expiry_is_required_and_must_be_later(project: Write, run: Run) -> None:
    project("echo.yaml", ECHO_LOOP)
    assert_usage_error(run("baseline", "create", "."), "--expires DATE")
    assert_usage_error(run("baseline", "create", ".", "--expires", "soon"), "not a date")
    assert_usage_error(run("baseline", "create", ".", "--today", TODAY, "--expires", TODAY), "not after today")


def test_a_bad_baseline_file_is_a_clear_error_with_its_line(project: Write, run: Run) -> None:
    project("echo.yaml", ECHO_LOOP)
    cases = {
        '{"loopscan_baseline": 1, "entries": [\n  {"rule": "LS301", "node": "echo:speak"}\n]}\n':
            "b.json:2:3: baseline entry 1: has no \"expires\": every entry ends",
        '{"loopscan_baseline": 1, "entries": [\n  {"rule": "LS301", "node": "echo:speak", "expires": "someday"}\n]}':
            "b.json:2:43: baseline entry 1: \"expires\" 'someday' is not a date",
        '{"loopscan_baseline": 1, "entries": [\n  {"rule": "LS301", "nod": "echo:speak", "expires": "2027-01-01"}]}':
            "b.json:2:21: baseline entry 1: unknown key 'nod'",
        '{"entries": []}': "b.json:1:1: not a loopscan baseline",
        '{"loopscan_baseline": 1, "entries": [\n': "b.json:2:1:",
    }
    for text, message in cases.items():
        Path("b.json").write_text(text, encoding="utf-8")
        assert_usage_error(run("check", ".", "--baseline", "b.json"), message)
    assert_usage_error(run("check", ".", "--baseline", "missing.json"), "cannot read baseline 'missing.json'")


def test_an_entry_for_a_file_matches_from_any_working_directory(
        project: Write, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A file that cannot be parsed has no node: its entry names the file, relative to the baseline's folder.
    project("team/pipeline.yaml", ECHO_LOOP)
    project("team/broken.yaml", "x: [\n")
    monkeypatch.chdir(tmp_path / "team")
    made = run("baseline", "create", ".", "--today", TODAY, "--expires", "2027-03-31", "-o", BASELINE)
    assert made.code == 0, made.err
    assert '"file": "broken.yaml"' in (tmp_path / "team" / BASELINE).read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    checked = run("check", "team", "--today", TODAY, "--baseline", f"team/{BASELINE}", "-f", "json")
    assert checked.code == 0, checked.out + checked.err
    assert all(finding.get("baselined") for finding in checked.json()["findings"])


def test_a_bad_baseline_file_stops_the_report_with_its_line(project: Write, run: Run) -> None:
    project("echo.yaml", ECHO_LOOP)
    Path("b.json").write_text(
        '{"loopscan_baseline": 1, "entries": [\n  {"rule": "LS301", "node": "echo:speak", "expires": "someday"}\n]}',
        encoding="utf-8")
    assert_usage_error(run("report", ".", "-o", "review.html", "--baseline", "b.json"),
                       "b.json:2:43: baseline entry 1: \"expires\" 'someday' is not a date")
    assert not Path("review.html").exists()
    assert_usage_error(run("report", ".", "-o", "review.html", "--baseline", "missing.json"),
                       "cannot read baseline 'missing.json'")
