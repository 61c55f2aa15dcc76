"""Project configuration: where it is found, what each key does, and how a bad one stops the run.

A config changes the outcome of a run, so every test here runs the real CLI and
reads the result: the exit code, and the findings in the JSON output.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result, assert_usage_error

Run = Callable[..., Result]
Project = Callable[[str, str], Path]

DUPLICATE = """
    loopscan: 1
    pipeline: {name}
    steps:
      review: {{kind: gate, method: human-review}}
      review: {{kind: transform}}
    """
"""A manifest whose only integrity finding is one LS003 (an error by default)."""


def duplicate(name: str = "support") -> str:
    return DUPLICATE.format(name=name)


def json_check(run: Run, *args: str) -> Result:
    return run("check", *args, "-f", "json", "--select", "LS00")


def rules_found(result: Result) -> list[tuple[str, str, str]]:
    """(rule, severity, file) of every finding."""
    return [(f["rule"], f["severity"], f["file"]) for f in result.json()["findings"]]




# Where the config comes from -------------------------------------------------


def test_without_a_config_ls003_is_an_error(project: Project, run: Run) -> None:
    project("pipelines/support.yaml", duplicate())
    result = json_check(run, ".")
    assert result.code == 1
    assert rules_found(result) == [("LS003", "error", "pipelines/support.yaml")]


def test_loopscan_yaml_is_found_from_a_subfolder_upward(
    project: Project, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project("loopscan.yaml", "severity: {LS003: warning}\n")
    project("pipelines/team/support.yaml", duplicate())
    monkeypatch.chdir(tmp_path / "pipelines" / "team")
    result = json_check(run, ".")
    assert result.code == 0
    assert rules_found(result) == [("LS003", "warning", "support.yaml")]


def test_tool_loopscan_in_pyproject_is_found_from_a_subfolder_upward(
    project: Project, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project("pyproject.toml", """
        [project]
        name = "acme-pipelines"

        [tool.loopscan]
        severity = {LS003 = "warning"}
        """)
    project("pipelines/support.yaml", duplicate())
    monkeypatch.chdir(tmp_path / "pipelines")
    result = json_check(run, ".")
    assert result.code == 0
    assert rules_found(result) == [("LS003", "warning", "support.yaml")]


def test_a_pyproject_without_tool_loopscan_is_passed_by_on_the_way_up(
    project: Project, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project("loopscan.yaml", "severity: {LS003: info}\n")
    project("service/pyproject.toml", '[project]\nname = "service"\n')
    project("service/support.yaml", duplicate())
    monkeypatch.chdir(tmp_path / "service")
    assert rules_found(json_check(run, ".")) == [("LS003", "info", "support.yaml")]


def test_the_nearest_config_wins(
    project: Project, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project("loopscan.yaml", "severity: {LS003: info}\n")
    project("team/loopscan.yaml", "severity: {LS003: warning}\n")
    project("team/support.yaml", duplicate())
    monkeypatch.chdir(tmp_path / "team")
    assert rules_found(json_check(run, ".")) == [("LS003", "warning", "support.yaml")]


def test_loopscan_yaml_wins_over_pyproject_in_the_same_folder(project: Project, run: Run) -> None:
    project("loopscan.yaml", "severity: {LS003: warning}\n")
    project("pyproject.toml", '[tool.loopscan]\nseverity = {LS003 = "info"}\n')
    project("support.yaml", duplicate())
    assert rules_found(json_check(run, ".")) == [("LS003", "warning", "support.yaml")]


def test_config_option_names_the_file_to_use(project: Project, run: Run) -> None:
    project("loopscan.yaml", "severity: {LS003: info}\n")
    project("ci/strict.yaml", "severity: {LS003: warning}\n")
    project("support.yaml", duplicate())
    result = json_check(run, ".", "--config", "ci/strict.yaml")
    assert rules_found(result) == [("LS003", "warning", "support.yaml")]


def test_config_option_accepts_a_pyproject(project: Project, run: Run) -> None:
    project("settings/pyproject.toml", '[tool.loopscan]\nignore = ["LS003"]\n')
    project("support.yaml", duplicate())
    result = json_check(run, ".", "--config", "settings/pyproject.toml")
    assert result.code == 0
    assert rules_found(result) == []


# What each key does --------------------------------------------------------------


def test_paths_are_scanned_when_no_path_is_given(project: Project, run: Run) -> None:
    project("loopscan.yaml", "paths: [pipelines/]\n")
    project("pipelines/support.yaml", duplicate())
    project("scratch/broken.yaml", "loopscan: 1\npipeline: [\n")
    result = run("check", "-f", "json", "--select", "LS00")
    assert rules_found(result) == [("LS003", "error", "pipelines/support.yaml")]


def test_paths_are_relative_to_the_config_not_the_working_directory(
    project: Project, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project("loopscan.yaml", "paths: [pipelines/]\n")
    project("pipelines/support.yaml", duplicate())
    project("docs/notes.yaml", "loopscan: 1\npipeline: [\n")
    monkeypatch.chdir(tmp_path / "docs")
    result = run("check", "-f", "json", "--select", "LS00")
    assert [(rule, Path(file).name) for rule, _, file in rules_found(result)] == [("LS003", "support.yaml")]


def test_paths_on_the_command_line_win_over_config_paths(project: Project, run: Run) -> None:
    project("loopscan.yaml", "paths: [pipelines/]\n")
    project("pipelines/support.yaml", duplicate())
    project("other/ranking.yaml", duplicate("ranking"))
    result = json_check(run, "other")
    assert rules_found(result) == [("LS003", "error", "other/ranking.yaml")]


def test_severity_change_turns_an_error_into_a_passing_warning(project: Project, run: Run) -> None:
    project("loopscan.yaml", "severity: {LS003: warning}\n")
    project("support.yaml", duplicate())
    result = json_check(run, ".")
    assert result.code == 0
    assert rules_found(result) == [("LS003", "warning", "support.yaml")]
    summary = result.json()["summary"]
    assert (summary["error"], summary["warning"]) == (0, 1)


def test_fail_on_warning_fails_on_a_warning(project: Project, run: Run) -> None:
    project("loopscan.yaml", "severity: {LS003: warning}\n")
    project("support.yaml", duplicate())
    assert json_check(run, ".", "--fail-on", "warning").code == 1
    assert json_check(run, ".", "--fail-on", "info").code == 1
    assert json_check(run, ".", "--fail-on", "error").code == 0


def test_fail_on_warning_passes_on_info(project: Project, run: Run) -> None:
    project("loopscan.yaml", "severity: {LS003: info}\n")
    project("support.yaml", duplicate())
    assert json_check(run, ".", "--fail-on", "warning").code == 0
    assert json_check(run, ".", "--fail-on", "info").code == 1


def test_ignore_switches_a_rule_off(project: Project, run: Run) -> None:
    project("loopscan.yaml", "ignore: [LS003]\n")
    project("support.yaml", duplicate())
    project("broken.yaml", "loopscan: 1\npipeline: [\n")
    result = json_check(run, ".")
    assert [rule for rule, _, _ in rules_found(result)] == ["LS001"]


def test_exclude_keeps_a_templated_file_out_of_the_scan(project: Project, run: Run) -> None:
    project("deploy/templates/pipeline.yaml", """
        loopscan: 1
        pipeline: {{ .Values.name }}
        owner: {{ .Values.owner
        """)
    project("pipelines/support.yaml", duplicate())
    without = json_check(run, ".")
    assert [(rule, file) for rule, _, file in rules_found(without)] == [
        ("LS001", "deploy/templates/pipeline.yaml"), ("LS003", "pipelines/support.yaml")]

    project("loopscan.yaml", "exclude: ['**/templates/**']\n")
    excluded = json_check(run, ".")
    assert [(rule, file) for rule, _, file in rules_found(excluded)] == [("LS003", "pipelines/support.yaml")]
    assert excluded.json()["summary"]["files"] == 1


def test_exclude_globs_are_relative_to_the_config_folder(
    project: Project, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project("loopscan.yaml", "exclude: ['deploy/*.yaml']\n")
    project("deploy/values.yaml", "loopscan: 1\npipeline: [\n")
    project("deploy/nested/values.yaml", "loopscan: 1\npipeline: [\n")
    monkeypatch.chdir(tmp_path / "deploy")
    result = json_check(run, ".")
    assert [(rule, file) for rule, _, file in rules_found(result)] == [("LS001", "nested/values.yaml")]


# A config that cannot be used: exit 2, one line, naming the file and the key --------------


@pytest.mark.parametrize("text, words", [
    ("ignor: [LS003]\n", ["loopscan.yaml:1:1", "'ignor'"]),
    ("paths: pipelines/\n", ["loopscan.yaml:1:1", "'paths'", "list"]),
    ("exclude: [1, 2]\n", ["loopscan.yaml:1:11", "'exclude[0]'", "string"]),
    ("severity: {LS003: loud}\n", ["loopscan.yaml:1:12", "'loud'"]),
    ("severity: [LS003]\n", ["loopscan.yaml:1:1", "'severity'"]),
    ("policy:\n  max_synthetic: high\n", ["loopscan.yaml:2:3", "max_synthetic"]),
    ("policy:\n  max_synthetic: 1.5\n", ["loopscan.yaml:2:3", "max_synthetic"]),
    ("policy:\n  drill_every: 30\n", ["loopscan.yaml:2:3", "'drill_every'"]),
    ("policy: strict\n", ["loopscan.yaml:1:1", "'policy'"]),
    ("- a\n- b\n", ["loopscan.yaml", "mapping"]),
    ("paths: [a\n", ["loopscan.yaml:2:1"]),
], ids=["unknown-key", "paths-not-a-list", "exclude-not-strings", "bad-severity", "severity-not-a-map",
        "policy-wrong-type", "policy-out-of-range", "unknown-policy-key", "policy-not-a-map", "not-a-mapping",
        "not-yaml"])
def test_an_invalid_loopscan_yaml_stops_the_run_naming_the_file_and_key(
    project: Project, run: Run, text: str, words: list[str]
) -> None:
    project("loopscan.yaml", text)
    project("support.yaml", duplicate())
    assert_usage_error(run("check", "."), *words)


@pytest.mark.parametrize("table, words", [
    ('[tool.loopscan]\nignored = ["LS003"]\n', ["pyproject.toml", "[tool.loopscan]", "'ignored'"]),
    ('[tool.loopscan]\nignore = "LS003"\n', ["pyproject.toml", "[tool.loopscan]", "'ignore'"]),
    ('[tool.loopscan]\npolicy = {override_max_days = "90"}\n', ["pyproject.toml", "override_max_days"]),
    ('[tool.loopscan\n', ["pyproject.toml"]),
], ids=["unknown-key", "ignore-not-a-list", "policy-wrong-type", "not-toml"])
def test_an_invalid_tool_loopscan_table_stops_the_run_naming_the_file_and_key(
    project: Project, run: Run, table: str, words: list[str]
) -> None:
    project("pyproject.toml", table)
    project("support.yaml", duplicate())
    assert_usage_error(run("check", "."), *words)


def test_an_invalid_config_found_from_a_subfolder_is_named_by_a_path_that_reaches_it(
    project: Project, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project("loopscan.yaml", "colour: red\n")
    project("pipelines/support.yaml", duplicate())
    monkeypatch.chdir(tmp_path / "pipelines")
    result = run("check", ".")
    assert_usage_error(result, "'colour'")
    named = result.err.split("error: ", 1)[1].split(":", 1)[0]
    assert (Path.cwd() / named).resolve() == (tmp_path / "loopscan.yaml").resolve()


def test_a_missing_config_file_is_a_usage_error(project: Project, run: Run) -> None:
    project("support.yaml", duplicate())
    assert_usage_error(run("check", ".", "--config", "nowhere.yaml"), "nowhere.yaml")


def test_an_empty_loopscan_yaml_means_the_defaults(project: Project, run: Run) -> None:
    project("loopscan.yaml", "# nothing configured yet\n")
    project("support.yaml", duplicate())
    result: Any = json_check(run, ".")
    assert result.code == 1
    assert rules_found(result) == [("LS003", "error", "support.yaml")]
