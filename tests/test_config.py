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


# A rule id that names no rule: exit 2, one line, where it was written and the fix ------------------
#
# Each of these used to be accepted: an ignore entry "" or "L" is a prefix of every id, and a --select
# or severity entry that names no rule changes nothing, so the run said "No findings" and passed.

PREFIX_FIX = "use a rule id or id prefix such as LS3 or LS301; 'loopscan rules' lists them"
EXACT_FIX = "use one rule id such as LS301, not a prefix; 'loopscan rules' lists them"


@pytest.mark.parametrize("text, words", [
    ('ignore: [""]\n', ["loopscan.yaml:1:10: ignore[0] '' is empty", PREFIX_FIX]),
    ('ignore: ["L"]\n', ["loopscan.yaml:1:10: ignore[0] 'L' cuts the letters 'LS' short", PREFIX_FIX]),
    ("ignore:\n  - LS003\n  - L\n", ["loopscan.yaml:3:5: ignore[1] 'L'", PREFIX_FIX]),
    ("ignore: [LS999]\n", ["loopscan.yaml:1:10: ignore[0] 'LS999' is not the id or id prefix of any loaded rule",
                           PREFIX_FIX]),
    ("ignore: [ls3]\n", ["loopscan.yaml:1:10: ignore[0] 'ls3'", "upper-case (did you mean 'LS3'?)", PREFIX_FIX]),
    ("severity: {LS999: error}\n", ["loopscan.yaml:1:12: severity key 'LS999' is not the id of any loaded rule",
                                    EXACT_FIX]),
    ("severity: {ls301: info}\n", ["loopscan.yaml:1:12: severity key 'ls301'", "(did you mean 'LS301'?)", EXACT_FIX]),
    ("severity: {LS3: info}\n", ["loopscan.yaml:1:12: severity key 'LS3' is an id prefix (of LS301", EXACT_FIX]),
    ("severity:\n  LS003: warning\n  LS30: info\n", ["loopscan.yaml:3:3: severity key 'LS30'", EXACT_FIX]),
], ids=["ignore-empty", "ignore-L", "ignore-second-entry", "ignore-unknown", "ignore-lower-case",
        "severity-unknown", "severity-lower-case", "severity-prefix", "severity-second-key"])
def test_a_config_rule_id_that_names_no_rule_stops_the_run(
    project: Project, run: Run, text: str, words: list[str]
) -> None:
    project("loopscan.yaml", text)
    project("support.yaml", duplicate())
    result = run("check", ".")
    assert_usage_error(result, *words)
    assert result.err.startswith("loopscan: error: loopscan.yaml:")


@pytest.mark.parametrize("table, words", [
    ('[tool.loopscan]\nignore = [""]\n', ["pyproject.toml [tool.loopscan]: ignore[0] '' is empty", PREFIX_FIX]),
    ('[tool.loopscan]\nignore = ["L"]\n', ["pyproject.toml [tool.loopscan]: ignore[0] 'L'", PREFIX_FIX]),
    ('[tool.loopscan]\nseverity = {LS999 = "error"}\n', ["pyproject.toml [tool.loopscan]: severity key 'LS999'",
                                                         EXACT_FIX]),
    ('[tool.loopscan.severity]\nls301 = "info"\n', ["pyproject.toml [tool.loopscan]: severity key 'ls301'",
                                                    "(did you mean 'LS301'?)"]),
], ids=["ignore-empty", "ignore-L", "severity-unknown", "severity-lower-case"])
def test_a_tool_loopscan_rule_id_that_names_no_rule_stops_the_run(
    project: Project, run: Run, table: str, words: list[str]
) -> None:
    project("pyproject.toml", table)
    project("support.yaml", duplicate())
    assert_usage_error(run("check", "."), *words)


@pytest.mark.parametrize("args, words", [
    (["--ignore", ""], ["--ignore '' is empty", PREFIX_FIX]),
    (["--ignore", "L"], ["--ignore 'L' cuts the letters 'LS' short", PREFIX_FIX]),
    (["--ignore", "LS999"], ["--ignore 'LS999' is not the id or id prefix of any loaded rule", PREFIX_FIX]),
    (["--select", "LS999"], ["--select 'LS999' is not the id or id prefix of any loaded rule", PREFIX_FIX]),
    (["--select", "ls3"], ["--select 'ls3' is not a rule id: ids are upper-case (did you mean 'LS3'?)", PREFIX_FIX]),
    (["--select", "ls301"], ["--select 'ls301'", "(did you mean 'LS301'?)"]),
    (["--select", "LS3O1"], ["--select 'LS3O1'", "(did you mean 'LS301'?)"]),
    (["--select", "LS3", "--select", "LS999"], ["--select 'LS999'"]),
], ids=["ignore-empty", "ignore-L", "ignore-unknown", "select-unknown", "select-lower-case-prefix",
        "select-lower-case-id", "select-typo", "second-select"])
def test_a_command_line_rule_id_that_names_no_rule_stops_the_run(
    project: Project, run: Run, args: list[str], words: list[str]
) -> None:
    project("support.yaml", duplicate())
    result = run("check", ".", *args)
    assert_usage_error(result, *words)
    assert result.err.startswith(f"loopscan: error: {args[-2]} ")


@pytest.mark.parametrize("text", ['ignore: [""]\n', "ignore: [ls3]\n", "severity: {ls301: info}\n"])
@pytest.mark.parametrize("command", ["loops", "graph", "overrides"])
def test_commands_that_load_no_rules_still_refuse_a_misspelt_rule_id(
    project: Project, run: Run, command: str, text: str
) -> None:
    project("loopscan.yaml", text)
    project("support.yaml", duplicate())
    assert_usage_error(run(command, "."), "loopscan.yaml:1:")


def test_commands_that_load_no_rules_leave_the_existence_of_a_rule_to_check(project: Project, run: Run) -> None:
    """``loops``, ``graph`` and ``overrides`` load no rules, so they cannot know LS999 is none; ``check`` says so."""
    project("loopscan.yaml", "ignore: [LS999]\n")
    project("support.yaml", duplicate())
    assert run("loops", ".").code == 0
    assert_usage_error(run("check", "."), "loopscan.yaml:1:10: ignore[0] 'LS999'")


ACME_RULE = '''
    from loopscan.rule import rule


    @rule("ACME001", "acme-nothing", severity="warning", play=6)
    def check(project):
        """Reports nothing."""
        return []
    '''
"""A rule of a rules folder: its id is known only when the folder is loaded."""


def test_a_prefix_of_a_rules_dir_rule_is_known_only_when_the_folder_is_loaded(project: Project, run: Run) -> None:
    project("rules/acme.py", ACME_RULE)
    project("support.yaml", duplicate())
    assert run("check", ".", "--rules-dir", "rules", "--select", "ACME").code == 0
    assert_usage_error(run("check", ".", "--select", "ACME"), "--select 'ACME'", PREFIX_FIX)


def test_a_config_may_name_the_rules_of_its_rules_dirs_even_when_they_are_not_trusted(
    project: Project, run: Run
) -> None:
    """Untrusted rules_dirs are not loaded; the config's ids may be theirs, so they are not an error then."""
    project("rules/acme.py", ACME_RULE)
    project("loopscan.yaml", "rules_dirs: [rules]\nseverity: {ACME001: error}\nignore: [ACME]\n")
    project("support.yaml", duplicate())
    untrusted = json_check(run, ".")
    assert rules_found(untrusted) == [("LS003", "error", "support.yaml")]
    assert "pass --trust-config to load them" in untrusted.err
    assert json_check(run, ".", "--trust-config").code == 1


def test_a_config_id_that_its_trusted_rules_dirs_do_not_define_stops_the_run(project: Project, run: Run) -> None:
    project("rules/acme.py", ACME_RULE)
    project("loopscan.yaml", "rules_dirs: [rules]\nseverity: {ACME002: error}\n")
    project("support.yaml", duplicate())
    assert_usage_error(run("check", ".", "--trust-config"), "loopscan.yaml:2:12: severity key 'ACME002'",
                       "(did you mean 'ACME001'?)")


def test_a_select_that_only_an_untrusted_rules_dir_could_match_says_how_to_load_it(
    project: Project, run: Run
) -> None:
    """One line: the error, with the hint; the "skipped rules_dirs" note would be a second line."""
    project("rules/acme.py", ACME_RULE)
    project("loopscan.yaml", "rules_dirs: [rules]\n")
    project("support.yaml", duplicate())
    assert_usage_error(run("check", ".", "--select", "ACME"), "--select 'ACME'", "--trust-config")


def test_the_schema_spells_rule_ids_as_the_check_does() -> None:
    """An editor that validates loopscan.yaml with the schema must refuse what the run refuses."""
    from loopscan.config import RULE_ID_PATTERN
    from loopscan.sources.schema import CONFIG_SCHEMA, load_schema

    properties = load_schema(CONFIG_SCHEMA)["properties"]
    assert properties["ignore"]["items"]["pattern"] == RULE_ID_PATTERN
    assert properties["severity"]["propertyNames"]["pattern"] == RULE_ID_PATTERN


# Policy numbers that are not numbers, and a [tool.loopscan] that is not a table ------------------------


@pytest.mark.parametrize("text, words", [
    ("policy:\n  max_synthetic: .nan\n", ["'policy.max_synthetic': .nan is not a finite number between 0 and 1"]),
    ("policy:\n  max_synthetic: .NaN\n", ["'policy.max_synthetic': .NaN is not a finite number between 0 and 1"]),
    ("policy:\n  max_synthetic: .inf\n", ["'policy.max_synthetic': .inf is not a finite number between 0 and 1"]),
    ("policy:\n  max_synthetic: -.inf\n", ["'policy.max_synthetic': -.inf is not a finite number between 0 and 1"]),
    ("policy:\n  drill_every_days: .inf\n", ["'policy.drill_every_days': .inf is not a whole number of days"]),
    ("policy:\n  override_max_days: .nan\n", ["'policy.override_max_days': .nan is not a whole number of days"]),
], ids=["nan", "NaN", "inf", "minus-inf", "drill-inf", "override-nan"])
def test_a_yaml_nan_or_inf_policy_number_is_named_as_such_not_as_a_string(
    project: Project, run: Run, text: str, words: list[str]
) -> None:
    """The YAML loader keeps .nan and .inf as strings; "must be a number, not a string" would puzzle the user."""
    project("loopscan.yaml", text)
    project("support.yaml", duplicate())
    result = run("check", ".")
    assert_usage_error(result, "loopscan.yaml:2:3: config key", *words)
    assert "string" not in result.err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_toml_nan_or_inf_max_synthetic_is_a_usage_error_not_an_internal_one(
    project: Project, run: Run, value: str
) -> None:
    project("pyproject.toml", f"[tool.loopscan.policy]\nmax_synthetic = {value}\n")
    project("support.yaml", duplicate())
    assert_usage_error(run("check", "."), "pyproject.toml [tool.loopscan]: config key 'policy.max_synthetic': "
                       f"{value} is not a finite number between 0 and 1")


@pytest.mark.parametrize("table, kind", [
    ('[tool]\nloopscan = "strict"\n', "a string"),
    ("[tool]\nloopscan = 1\n", "an integer"),
    ('[tool]\nloopscan = ["LS003"]\n', "an array"),
], ids=["string", "integer", "array"])
def test_a_tool_loopscan_that_is_not_a_table_stops_the_run(
    project: Project, run: Run, table: str, kind: str
) -> None:
    """It used to be passed by, so the defaults (or a config further up) were used instead without a word."""
    project("pyproject.toml", table)
    project("support.yaml", duplicate())
    assert_usage_error(run("check", "."), f"pyproject.toml [tool.loopscan]: must be a table, not {kind}",
                       "[tool.loopscan] header")


def test_a_tool_loopscan_that_is_not_a_table_is_not_passed_by_for_a_config_further_up(
    project: Project, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project("loopscan.yaml", "severity: {LS003: info}\n")
    project("team/pyproject.toml", '[tool]\nloopscan = "strict"\n')
    project("team/support.yaml", duplicate())
    monkeypatch.chdir(tmp_path / "team")
    assert_usage_error(run("check", "."), "pyproject.toml [tool.loopscan]: must be a table")


def test_a_pyproject_whose_tool_is_not_a_table_is_passed_by(project: Project, run: Run) -> None:
    """Not loopscan's to judge (and it used to be an internal error): there is no [tool.loopscan] in it."""
    project("pyproject.toml", 'tool = "none"\n')
    project("support.yaml", duplicate())
    assert rules_found(json_check(run, ".")) == [("LS003", "error", "support.yaml")]
