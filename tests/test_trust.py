"""loopscan never runs code from a scanned repository unless the user asks.

The payload is a rule module that writes a marker file when it is imported.
It sits in a folder that the scanned project's config names in ``rules_dirs``.
The marker appears only with ``--trust-config`` (or when the user names the
folder with ``--rules-dir``); otherwise stderr says what was skipped. A
Python module planted next to the manifests, named like one of loopscan's own
dependencies, is never imported by the ``loopscan`` command either.
(YAML tags that would run code are tested in ``tests/test_hostile.py``.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ECHO_LOOP, TODAY, Result, Run, Write

RULE_MODULE = """
from pathlib import Path

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule

Path({marker!r}).write_text("rule module imported", encoding="utf-8")


@rule("EVIL001", "planted", severity="error", play=0)
def planted(project: Project):
    \"\"\"A rule planted in a scanned repository.\"\"\"
    for manifest in project.manifests:
        yield Problem("the planted rule ran", manifest.key_at("pipeline"), pipeline=manifest.pipeline)
"""

CONFIGS = {
    "loopscan.yaml": "rules_dirs: [rules]\n",
    "pyproject.toml": '[project]\nname = "scanned"\n\n[tool.loopscan]\nrules_dirs = ["rules"]\n',
}

SKIPPED = "pass --trust-config to load them"


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    """Where the planted rule module writes when it is imported (outside the scanned folder)."""
    return tmp_path.parent / f"{tmp_path.name}-marker"


def plant(project: Write, marker: Path, config: str = "loopscan.yaml") -> None:
    """A looping manifest, a config naming ``rules/``, and the rule module in it."""
    project("pipelines/echo.yaml", ECHO_LOOP)
    project(config, CONFIGS[config])
    project("rules/planted.py", RULE_MODULE.format(marker=str(marker)))


def rules_reported(result: Result) -> set[str]:
    return {finding["rule"] for finding in result.json()["findings"]}


@pytest.mark.parametrize("config", CONFIGS)
def test_a_config_rules_dir_is_skipped_without_trust_config_and_stderr_says_so(
    project: Write, run: Run, marker: Path, config: str
) -> None:
    plant(project, marker, config)
    result = run("check", "-f", "json", "--today", TODAY)
    assert result.code == 1, result.err
    assert not marker.exists()
    assert "EVIL001" not in rules_reported(result)
    assert "LS301" in rules_reported(result)  # the scan itself went on
    [line] = result.err.splitlines()
    assert line.startswith("loopscan: skipped rules_dirs from ")
    assert f"{config} (rules): rule modules are code; {SKIPPED}" in line


@pytest.mark.parametrize("config", CONFIGS)
def test_with_trust_config_the_config_rules_dir_is_loaded_and_run(
    project: Write, run: Run, marker: Path, config: str
) -> None:
    plant(project, marker, config)
    result = run("check", "-f", "json", "--today", TODAY, "--trust-config")
    assert result.code == 1, result.err
    assert marker.read_text(encoding="utf-8") == "rule module imported"
    assert "EVIL001" in rules_reported(result)
    assert result.err == ""


def test_naming_the_folder_with_rules_dir_loads_it_without_trust_config(
    project: Write, run: Run, marker: Path, tmp_path: Path
) -> None:
    plant(project, marker)
    (tmp_path / "loopscan.yaml").unlink()
    result = run("check", "-f", "json", "--today", TODAY, "--rules-dir", "rules")
    assert marker.exists()
    assert "EVIL001" in rules_reported(result)


@pytest.mark.parametrize("command", [
    ["loops"], ["loops", "-f", "json"], ["overrides", "--today", TODAY], ["overrides", "-f", "json"],
    ["graph"], ["graph", "-f", "mermaid"], ["rules"], ["rules", "-f", "markdown"], ["explain", "LS301"],
    ["check", "--select", "LS00", "-f", "sarif"], ["check", "-f", "github", "--fail-on", "info"],
])
def test_no_other_command_or_format_loads_a_config_rules_dir(
    project: Write, run: Run, marker: Path, command: list[str]
) -> None:
    plant(project, marker)
    result = run(*command)
    assert result.code in (0, 1), result.err
    assert not marker.exists()


def test_a_config_inside_a_scanned_folder_is_not_read_even_with_trust_config(
    project: Write, run: Run, marker: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The config comes from the working folder upward; a scanned pull request's own config is never used."""
    project("checkout/pipelines/echo.yaml", ECHO_LOOP)
    project("checkout/loopscan.yaml", CONFIGS["loopscan.yaml"])
    project("checkout/rules/planted.py", RULE_MODULE.format(marker=str(marker)))
    result = run("check", "checkout", "-f", "json", "--today", TODAY, "--trust-config")
    assert result.code == 1, result.err
    assert not marker.exists()
    assert "EVIL001" not in rules_reported(result)


SHADOWS = ("yaml", "typer", "click", "jsonschema", "networkx", "loopscan", "sitecustomize", "graphviz")


def console_script() -> Path:
    script = Path(sys.executable).parent / ("loopscan.exe" if os.name == "nt" else "loopscan")
    if not script.is_file():
        pytest.skip(f"no loopscan console script next to {sys.executable}")
    return script


def test_the_loopscan_command_never_imports_a_module_planted_in_the_scanned_folder(
    project: Write, marker: Path, tmp_path: Path
) -> None:
    project("pipelines/echo.yaml", ECHO_LOOP)
    for name in SHADOWS:
        project(f"{name}.py", f"open({str(marker)!r}, 'a').write({name!r})\n")
    done = subprocess.run([str(console_script()), "check", ".", "-f", "json", "--today", TODAY],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert '"rule": "LS301"' in done.stdout
    assert not marker.exists()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="python -P is new in Python 3.11")
def test_python_dash_p_dash_m_loopscan_never_imports_a_module_planted_in_the_scanned_folder(
    project: Write, marker: Path, tmp_path: Path
) -> None:
    """``python -m`` puts the working folder first on sys.path; ``-P`` (or PYTHONSAFEPATH=1) does not."""
    project("pipelines/echo.yaml", ECHO_LOOP)
    for name in SHADOWS:
        project(f"{name}.py", f"open({str(marker)!r}, 'a').write({name!r})\n")
    done = subprocess.run([sys.executable, "-P", "-m", "loopscan", "check", ".", "--today", TODAY],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert not marker.exists()
