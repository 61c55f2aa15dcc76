"""The pre-commit hook, run by the real pre-commit against a real git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ECHO_LOOP, REPO

FIXED = """
    loopscan: 1
    pipeline: echo
    owner: ana
    datasets:
      said:
        uri: s3://echo/said/
        provenance: ai
      kept:
        uri: s3://echo/kept/
        provenance: ai
        synthetic_fraction: 1.0
      anchor:
        uri: s3://echo/anchor/
        provenance: human
        frozen: true
      tail-evals:
        uri: s3://echo/tail-evals/
        provenance: human
        frozen: true
    models:
      parrot:
        uri: models:/parrot
        monitoring:
          metrics: [distinct-2, vocabulary-richness, rare-case-coverage]
          eval_set: tail-evals
          alert: {metric: distinct-2, max_drop: 0.05}
          compare_to: previous
        rollback:
          checkpoint: models:/parrot/known-good
          last_drill: DRILL_DATE
    steps:
      speak:
        kind: generate
        inputs: [parrot]
        outputs: [said]
      review:
        kind: gate
        method: human-review
        inputs: [said]
        outputs: [kept]
      learn:
        kind: train
        inputs:
          - {ref: kept, share: 0.2}
          - {ref: anchor, share: 0.8}
        outputs: [parrot]
        mixing:
          max_synthetic: 0.2
          anchor: anchor
          log: mlflow://echo/learn/mixing-ratio
    loops:
      echo-feedback:
        through: [speak, review, learn]
        why: Reviewed replies teach the model the current answers.
        safeguards: [review, learn]
    """


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    folder = tmp_path / "pipelines-repo"
    folder.mkdir()
    _git(folder, "init", "-q")
    _git(folder, "config", "user.email", "ana@example.com")
    _git(folder, "config", "user.name", "Ana")
    return folder


def _try_repo(folder: Path, home: Path) -> subprocess.CompletedProcess[str]:
    pre_commit = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or shutil.which("pre-commit")
    assert pre_commit, "pre-commit is a [dev] dependency"
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run(
        [pre_commit, "try-repo", str(REPO), "loopscan", "--all-files"],
        cwd=folder, env=env, capture_output=True, text=True, check=False, timeout=900,
    )


def test_hook_fails_on_a_loop_and_passes_once_it_is_safeguarded(repository: Path, tmp_path: Path) -> None:
    from datetime import date, timedelta

    manifest = repository / "pipelines" / "echo.yaml"
    manifest.parent.mkdir()
    manifest.write_text(textwrap.dedent(ECHO_LOOP).lstrip(), encoding="utf-8")
    (repository / "notes.txt").write_text("not yaml\n", encoding="utf-8")
    _git(repository, "add", ".")
    _git(repository, "commit", "-qm", "echo pipeline")
    home = tmp_path / "pre-commit-home"

    failed = _try_repo(repository, home)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "LS301" in failed.stdout and "pipelines/echo.yaml" in failed.stdout

    drill = (date.today() - timedelta(days=10)).isoformat()
    manifest.write_text(textwrap.dedent(FIXED.replace("DRILL_DATE", drill)).lstrip(), encoding="utf-8")
    _git(repository, "add", ".")
    _git(repository, "commit", "-qm", "gate, cap and document the echo loop")

    passed = _try_repo(repository, home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "LS3" not in passed.stdout


def _try_diff_hook(folder: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    pre_commit = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or shutil.which("pre-commit")
    assert pre_commit, "pre-commit is a [dev] dependency"
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run([pre_commit, "try-repo", str(REPO), "loopscan-diff", "--verbose", *args],
                          cwd=folder, env=env, capture_output=True, text=True, check=False, timeout=900)


def test_the_diff_hook_reports_a_gate_a_push_removes(repository: Path, tmp_path: Path) -> None:
    from tests.test_diff import CHAT, CURATION, CURATION_WITHOUT_GATE, TRAIN

    for name, text in (("chat.yaml", CHAT), ("curation.yaml", CURATION), ("train.yaml", TRAIN)):
        (repository / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    _git(repository, "add", ".")
    _git(repository, "commit", "-qm", "three teams")
    gated = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repository, capture_output=True, text=True).stdout
    (repository / "curation.yaml").write_text(textwrap.dedent(CURATION_WITHOUT_GATE).lstrip(), encoding="utf-8")
    _git(repository, "add", ".")
    _git(repository, "commit", "-qm", "copy instead of review")
    home = tmp_path / "pre-commit-home"

    pushed = _try_diff_hook(repository, home, "--from-ref", gated.strip(), "--to-ref", "HEAD")
    assert pushed.returncode == 1, pushed.stdout + pushed.stderr
    assert "curation.yaml:7:1: LS801 [error] gate 'review'" in pushed.stdout
    assert "chat.yaml:9:3: LS301 [error]" in pushed.stdout and "[new]" in pushed.stdout

    committed = _try_diff_hook(repository, home, "--all-files")  # the staged tree against HEAD: nothing new
    assert committed.returncode == 0, committed.stdout + committed.stderr
    assert "0 new" in committed.stdout
