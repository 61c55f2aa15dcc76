"""Shared test helpers: run the real CLI in-process and write manifests to a temporary project."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from loopscan.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "pipelines"
TODAY = "2026-11-24"
DATA = REPO / "tests" / "data"
"""Official schemas and real sample files the tests check against; tests/data/README.md says where each comes from."""


def sarif_errors(document: Any) -> list[str]:
    """Every way ``document`` breaks the official SARIF 2.1.0 schema (Errata 01, a Draft 4 schema)."""
    from jsonschema import Draft4Validator

    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return sorted(str(error) for error in Draft4Validator(schema).iter_errors(document))


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.out)

    def findings(self) -> list[tuple[str, str, int]]:
        """(rule, file, line) of every finding in a JSON run, in output order."""
        return [(f["rule"], f["file"], f["line"]) for f in self.json()["findings"]]


@pytest.fixture(autouse=True)
def _outside_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test as outside GitHub Actions: a runner's GITHUB_STEP_SUMMARY would get the tests' reports."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``run("check", "x.yaml", "-f", "json")``: the CLI's exit code and output."""

    def invoke(*args: str) -> Result:
        with pytest.raises(SystemExit) as exited:
            main(list(args))
        captured = capsys.readouterr()
        code = exited.value.code
        return Result(code if isinstance(code, int) else 0, captured.out, captured.err)

    return invoke


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], Path]]:
    """Work in an empty folder; ``project("a.yaml", text)`` writes a (dedented) file there."""
    monkeypatch.chdir(tmp_path)

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    yield write


Run = Callable[..., Result]
Write = Callable[[str, str], Path]

ECHO_LOOP = """
    loopscan: 1
    pipeline: echo
    owner: ana
    datasets:
      said:
        uri: s3://echo/said/
        provenance: ai
    models:
      parrot:
        uri: models:/parrot
    steps:
      speak:
        kind: generate
        inputs: [parrot]
        outputs: [said]
      learn:
        kind: train
        inputs: [said]
        outputs: [parrot]
    """
"""The smallest loop: a model trained, ungated and uncapped, on what it generated."""

ECHO_LOOP_OVERRIDDEN = ECHO_LOOP + """
    overrides:
      - rule: LS301
        target: speak
        reason: Review queue is being rebuilt, tracked in OPS-77.
        approved_by: ana
        approved: 2026-11-01
        expires: 2026-12-15
    """
"""The echo loop with an override in force for its ungated cycle (LS301)."""


def rule_findings(run: Run, rule: str) -> list[dict[str, Any]]:
    """The findings of one rule when the whole temporary project is checked (as JSON, on TODAY)."""
    result = run("check", ".", "-f", "json", "--today", TODAY)
    assert result.code in (0, 1), result.err
    return [f for f in result.json()["findings"] if f["rule"] == rule]


def where(found: list[dict[str, Any]]) -> list[tuple[str, int, str | None]]:
    """(file, line, node) of each finding."""
    return [(f["file"], f["line"], f["node"]) for f in found]


def assert_usage_error(result: Result, *words: str) -> None:
    """Exit 2 with exactly one line on stderr that holds ``words``, nothing on stdout, no traceback."""
    assert result.code == 2, (result.out, result.err)
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    for word in words:
        assert word in lines[0], (word, lines[0])


def line_of(path: Path | str, needle: str) -> int:
    """The 1-based line of the first line of ``path`` that contains ``needle``."""
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")



def installed_copy(tmp_path: Path, added: dict[str, str] | None = None) -> tuple[Path, dict[str, str]]:
    """A copy of the repository's files that git does not ignore, plus ``added``, installed from a real wheel.

    Returns the copy, without its ``loopscan/`` source folder (so that only the
    wheel's files import as loopscan), and the environment that puts the wheel's
    files first. Building from a copy keeps the repository's own ``build/``
    folder, with modules that no longer exist, out of the wheel.
    """
    copy = tmp_path / "repo"
    listing = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    tracked = subprocess.run(listing, cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode("utf-8", "surrogateescape").split("\0")):
        source = REPO / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    for name, text in (added or {}).items():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(copy)],
                   check=True, capture_output=True)
    wheel = next(wheels.glob("loopscan-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    shutil.rmtree(copy / "loopscan")
    return copy, {**os.environ, "PYTHONPATH": str(site)}
