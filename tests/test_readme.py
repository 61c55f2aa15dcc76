"""What the README tells users is true."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, Result, line_of

README = (REPO / "README.md").read_text(encoding="utf-8")


def _block_after(heading: str, language: str) -> str:
    section = README[README.index(heading):]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match, f"no {language} block after {heading!r}"
    return match.group(1)


def test_ci_runs_the_readme_install_and_test_commands() -> None:
    setup = _block_after("## Set up", "sh")
    commands = [line.split("#")[0].strip() for line in setup.splitlines() if line.strip()]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert len(commands) == 2
    for command in commands:
        assert command in ci, f"README command {command!r} is not what .ci/run runs"


def test_the_example_rule_runs_from_a_rules_dir(
    project: Callable[[str, str], Path], run: Callable[..., Result]
) -> None:
    project("rules/acme.py", _block_after("## Writing a rule", "python"))
    manifest = project("pipe.yaml", """
        loopscan: 1
        pipeline: notes
        owner: ana
        datasets:
          scratch:
            provenance: human
          kept:
            uri: s3://notes/kept/
            provenance: human
        """)
    result = run("check", "pipe.yaml", "--rules-dir", "rules", "--select", "ACME", "-f", "json")
    assert result.code == 0  # a warning does not fail the default --fail-on error
    assert result.findings() == [("ACME001", "pipe.yaml", line_of(manifest, "scratch:"))]


def test_the_readme_configuration_is_a_valid_config(
    project: Callable[[str, str], Path], run: Callable[..., Result]
) -> None:
    project("loopscan.yaml", _block_after("## Configuration", "yaml"))
    project("pipelines/empty.yaml", "loopscan: 1\npipeline: empty\nowner: ana\n")
    result = run("check", "-f", "json")
    assert result.code == 0, result.err
    assert result.json()["summary"]["files"] == 1  # `paths: [pipelines/]` was used


def _console_blocks() -> list[tuple[str, str]]:
    """Each ```console block of the README: its `$ command` and the output pasted under it."""
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", README, re.DOTALL):
        first, _, output = body.partition("\n")
        assert first.startswith("$ loopscan "), first
        blocks.append((first[2:], output))
    return blocks


@pytest.mark.parametrize("command, pasted", _console_blocks(), ids=lambda value: value[:60])
def test_pasted_output_is_what_the_command_prints(
    command: str, pasted: str, run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    result = run(*shlex.split(command)[1:])
    assert result.out == pasted


def test_the_readme_manifest_is_valid(project: Callable[[str, str], Path], run: Callable[..., Result]) -> None:
    text = _block_after("## The manifest", "yaml")
    project("support.yaml", text)
    result = run("check", "support.yaml", "-f", "json", "--select", "LS00")
    assert result.json()["findings"] == []
    assert result.json()["summary"]["pipelines"] == 1
