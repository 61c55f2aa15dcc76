"""The command line: exit codes, usage errors, the text and JSON reports, and the catalog commands."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

import loopscan
from tests.conftest import Result, assert_usage_error, line_of

Run = Callable[..., Result]
Project = Callable[[str, str], Path]

INTEGRITY = {
    "LS001": "yaml-syntax",
    "LS002": "schema",
    "LS003": "duplicate-key",
    "LS004": "unknown-reference",
    "LS005": "conflicting-artifact",
    "LS006": "unsafe-yaml",
}

CLEAN = """
    loopscan: 1
    pipeline: support
    owner: maria
    datasets:
      raw: {uri: "s3://acme/raw/", provenance: ai}
      reviewed: {uri: "s3://acme/reviewed/", provenance: ai}
    steps:
      review: {kind: gate, method: human-review, inputs: [raw], outputs: [reviewed]}
    """

FINDING_LINE = re.compile(
    r"^(?P<file>[^:\s][^:]*):(?P<line>\d+):(?P<column>\d+): (?P<rule>LS\d{3}) "
    r"\[(?P<severity>error|warning|info)\] (?P<message>\S.*)$"
)
SUMMARY = re.compile(
    r"^Found (?P<error>\d+) errors?, (?P<warning>\d+) warnings?, (?P<info>\d+) info "
    r"in (?P<files>\d+) manifest files?\.$"
)
ANSI = "\033["


def broken_project(project: Project) -> None:
    """Three files with integrity findings: LS001 in a.yaml, LS002 and LS003 in b.yaml, LS004 in c.yaml."""
    project("a.yaml", "loopscan: 1\npipeline: [\n")
    project("b.yaml", """
        loopscan: 1
        pipeline: b
        stepz: {}
        steps:
          s: {kind: gate}
          s: {kind: gate}
        """)
    project("c.yaml", """
        loopscan: 1
        pipeline: c
        steps:
          s: {kind: gate, inputs: [nothing]}
        """)


def json_check(run: Run, *args: str) -> Result:
    return run("check", *args, "-f", "json", "--select", "LS00")




# Exit codes and usage errors ---------------------------------------------------------


def test_a_clean_project_exits_0_and_a_finding_exits_1(project: Project, run: Run) -> None:
    project("support.yaml", CLEAN)
    assert json_check(run, ".").code == 0
    project("broken.yaml", "loopscan: 1\npipeline: [\n")
    assert json_check(run, ".").code == 1


def test_a_missing_path_exits_2_with_one_line_and_no_traceback(project: Project, run: Run) -> None:
    project("support.yaml", CLEAN)
    assert_usage_error(run("check", "pipelines/nowhere.yaml"), "pipelines/nowhere.yaml", "does not exist")
    assert_usage_error(run("check", ".", "nowhere"), "nowhere")
    assert_usage_error(run("check", "nowhere", "-f", "json"), "nowhere")


def test_an_unknown_option_exits_2_with_one_line(project: Project, run: Run) -> None:
    assert_usage_error(run("check", "--colour", "."), "--colour")


def test_an_unknown_command_exits_2_with_one_line(project: Project, run: Run) -> None:
    assert_usage_error(run("chekc", "."), "chekc")


@pytest.mark.parametrize("option, value", [("--format", "yaml"), ("--fail-on", "critical")])
def test_a_bad_option_value_exits_2_with_one_line(project: Project, run: Run, option: str, value: str) -> None:
    assert_usage_error(run("check", ".", option, value), value)


@pytest.mark.parametrize("today", ["2026-02-30", "tomorrow", "24.11.2026", ""])
def test_an_invalid_today_exits_2_with_one_line(project: Project, run: Run, today: str) -> None:
    project("support.yaml", CLEAN)
    assert_usage_error(run("check", ".", "--today", today), "--today")


def test_a_valid_today_is_accepted(project: Project, run: Run) -> None:
    project("support.yaml", CLEAN)
    assert json_check(run, ".", "--today", "2026-11-24").code == 0


def test_an_unwritable_output_file_exits_2_with_one_line(project: Project, run: Run) -> None:
    project("support.yaml", CLEAN)
    assert_usage_error(run("check", ".", "--output", "no/such/folder/report.txt"), "report.txt")


# --version and the catalog -------------------------------------------------------------


def test_version_prints_the_installed_version(run: Run) -> None:
    result = run("--version")
    assert result.code == 0
    assert result.out == f"loopscan {loopscan.__version__}\n"
    assert loopscan.__version__ == version("loopscan")


def test_python_m_loopscan_runs_the_cli() -> None:
    completed = subprocess.run([sys.executable, "-m", "loopscan", "--version"],
                               capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"loopscan {loopscan.__version__}\n"


def catalog(run: Run) -> dict[str, tuple[str, str, str]]:
    """``loopscan rules`` parsed: id -> (name, severity, play)."""
    result = run("rules")
    assert result.code == 0
    header, *rows = result.out.splitlines()
    assert header.split() == ["id", "name", "severity", "play"]
    table: dict[str, tuple[str, str, str]] = {}
    for row in rows:
        match = re.match(r"^(LS\d{3})\s+(\S+)\s+(error|warning|info)\s+(\S.*)$", row)
        assert match, f"not a catalog row: {row!r}"
        table[match.group(1)] = (match.group(2), match.group(3), match.group(4))
    assert len(table) == len(rows), "every rule is listed once"
    assert list(table) == sorted(table)
    return table


def test_rules_lists_every_integrity_rule_with_its_name_severity_and_play(run: Run) -> None:
    table = catalog(run)
    for rule_id, name in INTEGRITY.items():
        assert table[rule_id] == (name, "error", "manifest integrity")


@pytest.mark.parametrize("wanted", ["LS003", "ls003", "duplicate-key"])
def test_explain_prints_a_rule_s_docs(run: Run, wanted: str) -> None:
    result = run("explain", wanted)
    assert result.code == 0
    first, *rest = result.out.splitlines()
    assert first.startswith("LS003 duplicate-key (error")
    docs = "\n".join(rest)
    for section in ("## Why is this bad?", "## Example", "## Fix"):
        assert section in docs


def test_every_listed_rule_can_be_explained(run: Run) -> None:
    for rule_id, (name, _, _) in catalog(run).items():
        result = run("explain", rule_id)
        assert result.code == 0, rule_id
        assert result.out.startswith(f"{rule_id} {name} ")


def test_explain_an_unknown_rule_exits_2_and_points_to_the_catalog(run: Run) -> None:
    assert_usage_error(run("explain", "LS999"), "LS999", "loopscan rules")


def test_explain_a_near_miss_suggests_the_rule(run: Run) -> None:
    assert_usage_error(run("explain", "LS0003"), "did you mean LS003?")
    assert_usage_error(run("explain", "duplicate-keys"), "did you mean duplicate-key?")


# The text report ---------------------------------------------------------------------------


def test_text_lists_findings_as_file_line_col_rule_severity_message_grouped_by_file(
    project: Project, run: Run
) -> None:
    broken_project(project)
    text = run("check", ".", "--select", "LS00")
    data = json_check(run, ".").json()
    assert text.code == 1

    *blocks, summary = text.out.rstrip("\n").split("\n\n")
    parsed = [[FINDING_LINE.match(line) for line in block.splitlines()] for block in blocks]
    assert all(match for block in parsed for match in block), text.out
    files = [{match["file"] for match in block} for block in parsed]
    assert all(len(names) == 1 for names in files), "one block per file"
    assert [names.pop() for names in files] == ["a.yaml", "b.yaml", "c.yaml"]

    as_text = [(m["file"], int(m["line"]), int(m["column"]), m["rule"], m["severity"], m["message"])
               for block in parsed for m in block]
    as_json = [(f["file"], f["line"], f["column"], f["rule"], f["severity"], f["message"]) for f in data["findings"]]
    assert as_text == as_json

    counts = SUMMARY.match(summary)
    assert counts, summary
    assert {key: int(value) for key, value in counts.groupdict().items()} == {
        "error": data["summary"]["error"], "warning": data["summary"]["warning"],
        "info": data["summary"]["info"], "files": data["summary"]["files"]}


def test_text_summary_uses_singulars(project: Project, run: Run) -> None:
    project("a.yaml", "loopscan: 1\npipeline: [\n")
    result = run("check", ".", "--select", "LS00")
    assert result.out.splitlines()[-1] == "Found 1 error, 0 warnings, 0 info in 1 manifest file."


def test_text_on_a_clean_project_says_so(project: Project, run: Run) -> None:
    project("support.yaml", CLEAN)
    result = run("check", ".", "--select", "LS00")
    assert result.code == 0
    assert result.out == "No findings in 1 manifest file.\n"


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it in the test to make the captured stdout claim to be a terminal, as at a shell.

    (The test's stdout is only in place once the test runs, not while fixtures are set up.)
    """
    monkeypatch.delenv("NO_COLOR", raising=False)
    return lambda: monkeypatch.setattr(sys.stdout, "isatty", lambda: True)


def test_text_is_coloured_on_a_terminal(project: Project, run: Run, terminal: Callable[[], None]) -> None:
    terminal()
    project("a.yaml", "loopscan: 1\npipeline: [\n")
    result = run("check", ".", "--select", "LS00")
    assert ANSI in result.out
    plain = re.sub(r"\033\[[0-9;]*m", "", result.out)
    assert FINDING_LINE.match(plain.splitlines()[0])


def test_no_color_option_turns_colour_off(project: Project, run: Run, terminal: Callable[[], None]) -> None:
    terminal()
    project("a.yaml", "loopscan: 1\npipeline: [\n")
    result = run("check", ".", "--select", "LS00", "--no-color")
    assert result.code == 1
    assert ANSI not in result.out


def test_no_color_environment_variable_turns_colour_off(
    project: Project, run: Run, terminal: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal()
    project("a.yaml", "loopscan: 1\npipeline: [\n")
    monkeypatch.setenv("NO_COLOR", "1")
    result = run("check", ".", "--select", "LS00")
    assert result.code == 1
    assert ANSI not in result.out


def test_text_is_not_coloured_when_piped(project: Project, run: Run) -> None:
    project("a.yaml", "loopscan: 1\npipeline: [\n")
    assert ANSI not in run("check", ".", "--select", "LS00").out


def test_quiet_prints_nothing_on_a_clean_project(project: Project, run: Run) -> None:
    project("support.yaml", CLEAN)
    result = run("check", ".", "--select", "LS00", "-q")
    assert (result.code, result.out, result.err) == (0, "", "")


def test_quiet_still_prints_findings(project: Project, run: Run) -> None:
    project("a.yaml", "loopscan: 1\npipeline: [\n")
    result = run("check", ".", "--select", "LS00", "-q")
    assert result.code == 1
    assert FINDING_LINE.match(result.out.splitlines()[0])


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_output_writes_the_report_to_a_file_and_nothing_to_stdout(
    project: Project, run: Run, terminal: Callable[[], None], output_format: str
) -> None:
    terminal()
    broken_project(project)
    printed = run("check", ".", "--select", "LS00", "-f", output_format, "--no-color")
    written = run("check", ".", "--select", "LS00", "-f", output_format, "--output", "report.out")
    assert (written.code, written.out) == (1, "")
    assert Path("report.out").read_text(encoding="utf-8") == printed.out


# The JSON report -------------------------------------------------------------------------------

FINDING_KEYS = {"rule", "name", "severity", "message", "file", "line", "column", "pipeline", "node"}
OPTIONAL_FINDING_KEYS = {"cycle", "loop", "suppressed"}
SUMMARY_KEYS = {"files", "pipelines", "nodes", "loops", "error", "warning", "info"}


def test_json_follows_the_contract(project: Project, run: Run) -> None:
    broken_project(project)
    project("d.yaml", CLEAN)
    result = json_check(run, ".")
    data = result.json()
    assert list(data) == ["version", "findings", "loops", "summary"]
    assert data["version"] == loopscan.__version__
    for finding in data["findings"]:
        assert FINDING_KEYS <= set(finding) <= FINDING_KEYS | OPTIONAL_FINDING_KEYS, finding
        assert finding["name"] == INTEGRITY[finding["rule"]]
        assert finding["severity"] in ("error", "warning", "info")
        assert isinstance(finding["line"], int) and finding["line"] >= 1
        assert isinstance(finding["column"], int) and finding["column"] >= 1
    assert isinstance(data["loops"], list)
    summary = data["summary"]
    assert set(summary) >= SUMMARY_KEYS
    for severity in ("error", "warning", "info"):
        assert summary[severity] == sum(f["severity"] == severity for f in data["findings"])
    # b.yaml's unknown key 'stepz' is reported and ignored, so b.yaml is analysed too.
    assert (summary["files"], summary["pipelines"], summary["loops"]) == (4, 3, len(data["loops"]))
    assert summary["nodes"] == 3 + 1 + 1  # d.yaml: two datasets and a step; b.yaml and c.yaml: one step each


def test_json_names_the_pipeline_of_a_finding_about_a_linked_manifest(project: Project, run: Run) -> None:
    project("c.yaml", "loopscan: 1\npipeline: c\nsteps:\n  s: {kind: gate, inputs: [nothing]}\n")
    [finding] = json_check(run, ".").json()["findings"]
    assert (finding["rule"], finding["pipeline"]) == ("LS004", "c")


def test_json_findings_are_sorted_by_file_line_and_rule(project: Project, run: Run) -> None:
    broken_project(project)
    # Two findings at one place: the tagged value is also not the string the schema wants.
    project("0-tagged.yaml", "loopscan: 1\npipeline: t\ndescription: !!python/tuple [a]\n")
    findings = json_check(run, ".").json()["findings"]
    keys = [(f["file"], f["line"], f["column"], f["rule"]) for f in findings]
    assert keys == sorted(keys)
    assert keys[:2] == [("0-tagged.yaml", 3, 14, "LS002"), ("0-tagged.yaml", 3, 14, "LS006")]
    assert len({f["file"] for f in findings}) == 4


def test_json_paths_are_relative_to_the_working_directory(
    project: Project, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project("pipelines/team/a.yaml", "loopscan: 1\npipeline: [\n")
    by_absolute_path = json_check(run, str(tmp_path / "pipelines"))
    assert [f["file"] for f in by_absolute_path.json()["findings"]] == ["pipelines/team/a.yaml"]
    monkeypatch.chdir(tmp_path / "pipelines")
    from_below = json_check(run, "team")
    assert [f["file"] for f in from_below.json()["findings"]] == ["team/a.yaml"]


def test_json_is_deterministic(project: Project, run: Run) -> None:
    broken_project(project)
    project("d.yaml", CLEAN)
    first = json_check(run, ".").out
    second = json_check(run, ".").out
    assert first == second
    json.loads(first)


# --select and --ignore ---------------------------------------------------------------------


def rules_reported(result: Result) -> list[str]:
    return sorted({f["rule"] for f in result.json()["findings"]})


@pytest.mark.parametrize("args, expected", [
    (["--select", "LS00"], ["LS001", "LS002", "LS003", "LS004"]),
    (["--select", "LS003"], ["LS003"]),
    (["--select", "LS002", "--select", "LS004"], ["LS002", "LS004"]),
    (["--select", "LS00", "--ignore", "LS001", "--ignore", "LS002"], ["LS003", "LS004"]),
    (["--select", "LS00", "--ignore", "LS00"], []),
], ids=["prefix", "one-rule", "repeated", "ignore", "ignore-prefix"])
def test_select_and_ignore_take_rule_id_prefixes(
    project: Project, run: Run, args: list[str], expected: list[str]
) -> None:
    broken_project(project)
    result = run("check", ".", "-f", "json", *args)
    assert rules_reported(result) == expected
    assert result.code == (1 if expected else 0)


def test_a_selected_away_rule_still_leaves_its_file_out_of_the_analysis(project: Project, run: Run) -> None:
    """Ignoring LS001 hides the finding; the broken file still declares nothing (and is counted)."""
    project("a.yaml", "loopscan: 1\npipeline: [\n")
    data: dict[str, Any] = run("check", ".", "-f", "json", "--select", "LS00", "--ignore", "LS001").json()
    assert data["findings"] == []
    assert (data["summary"]["files"], data["summary"]["pipelines"]) == (1, 0)


def test_text_shows_each_witness_with_file_and_line_and_prints_a_shared_one_once(
    project: Project, run: Run
) -> None:
    manifest = project("echo.yaml", """
        loopscan: 1
        pipeline: echo
        owner: ana
        datasets:
          said: {uri: "s3://echo/said/", provenance: ai}
        models:
          parrot: {uri: "models:/parrot"}
        steps:
          speak: {kind: generate, inputs: [parrot], outputs: [said]}
          learn: {kind: train, inputs: [said], outputs: [parrot]}
        """)
    result = run("check", ".", "--select", "LS301", "--select", "LS302", "--no-color")
    lines = result.out.splitlines()
    speak, said = line_of(manifest, "speak:"), line_of(manifest, "said:")
    assert lines[0].startswith(f"echo.yaml:{speak}:3: LS301 [error]")
    assert lines[1:4] == [
        "    cycle:", f"      -> echo:speak  (echo.yaml:{speak})", f"      -> echo:said  (echo.yaml:{said})",
    ]
    assert lines[6] == "      -> echo:speak  (back to the start)"
    assert lines[7].startswith(f"echo.yaml:{speak}:3: LS302 [error]")
    assert lines[8] == "    cycle: as above"
