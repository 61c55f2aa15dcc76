"""Reading the project at a git revision from git's objects: nothing checked out, nothing run."""

from __future__ import annotations

import datetime
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from loopscan.config import load_config
from loopscan.diff import analyse_base
from loopscan.linter import analyse
from loopscan.sources.discover import discover
from loopscan.sources.gitbase import GitError, base_candidates, resolve
from tests.conftest import ECHO_LOOP, TODAY
from tests.gitrepo import GIT_ENV, GitRepo

DAY = datetime.date.fromisoformat(TODAY)
GATED = ECHO_LOOP.replace("""      learn:
        kind: train
        inputs: [said]""", """      review:
        kind: gate
        method: human-review
        inputs: [said]
        outputs: [kept]
      learn:
        kind: train
        inputs: [kept]""").replace("""        provenance: ai
    models:""", """        provenance: ai
      kept:
        uri: s3://echo/kept/
        provenance: ai
    models:""")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    repository = GitRepo(tmp_path / "repo")
    monkeypatch.chdir(repository.root)
    return repository


def test_the_base_is_read_from_git_objects_as_the_load_pipeline_reads_files(repo: GitRepo) -> None:
    repo.write("pipelines/echo.yaml", GATED)
    repo.write("notes.yaml", "title: not a manifest\n")
    base = repo.commit("gated")
    repo.write("pipelines/echo.yaml", ECHO_LOOP)
    repo.write("pipelines/more.yaml", ECHO_LOOP.replace("pipeline: echo", "pipeline: more"))

    revision = resolve("main", repo.root)
    assert revision.commit == base
    candidates = base_candidates(revision, ["."], (), repo.root)
    assert [c.shown for c in candidates] == ["notes.yaml", "pipelines/echo.yaml"]
    project = analyse(candidates, load_config(), DAY)
    assert [m.file for m in project.manifests] == ["pipelines/echo.yaml"]
    assert sorted(project.manifests[0].steps) == ["learn", "review", "speak"]
    assert project.passed_over == [("notes.yaml", "no top-level 'loopscan' key")]
    assert project.facts.loops[0].gates == ("echo:review",)
    # The same bytes on disk give the same manifest, line for line.
    repo.git("stash", "-u")
    on_disk = analyse(discover(["."]), load_config(), DAY)
    assert on_disk.manifests[0].steps["review"].location == project.manifests[0].steps["review"].location


def test_nothing_is_checked_out_and_nothing_from_the_repository_runs(repo: GitRepo, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    program = f"sh -c 'touch {marker}; cat'"
    repo.git("config", "filter.evil.smudge", program)
    repo.git("config", "filter.evil.clean", "cat")
    repo.git("config", "diff.evil.textconv", program)
    repo.git("config", "core.fsmonitor", f"sh -c 'touch {marker}'")
    hook = repo.root / ".git" / "hooks" / "post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n", encoding="utf-8")
    hook.chmod(0o755)
    repo.write(".gitattributes", "*.yaml filter=evil diff=evil\n")
    repo.write("echo.yaml", GATED)
    repo.commit("gated")
    marker.unlink(missing_ok=True)
    repo.write("echo.yaml", ECHO_LOOP)
    index = repo.root / ".git" / "index"
    before = (index.stat().st_mtime_ns, repo.git("rev-parse", "HEAD"), (repo.root / "echo.yaml").read_text())

    revision = resolve("HEAD", repo.root)
    candidates = base_candidates(revision, ["echo.yaml"], (), repo.root)
    assert [c.content for c in candidates] == [textwrap.dedent(GATED).lstrip("\n").encode()]
    assert not marker.exists()
    assert (index.stat().st_mtime_ns, repo.git("rev-parse", "HEAD"), (repo.root / "echo.yaml").read_text()) == before


def test_the_config_at_the_base_comes_from_its_tree(repo: GitRepo) -> None:
    repo.write("loopscan.yaml", "exclude: ['old/**']\npolicy: {max_synthetic: 0.2}\n")
    repo.write("old/legacy.yaml", ECHO_LOOP.replace("pipeline: echo", "pipeline: legacy"))
    repo.write("echo.yaml", GATED)
    repo.commit("with config")
    repo.write("loopscan.yaml", "policy: {max_synthetic: 0.5}\n")

    head = load_config()
    assert head.policy.max_synthetic == 0.5
    base = analyse_base(resolve("main", repo.root), head, ["."], repo.root, DAY)
    assert base.config.policy.max_synthetic == 0.2
    assert base.config.exclude == ("old/**",)
    assert [m.pipeline for m in base.project.manifests] == ["echo"]  # old/ excluded by the base config
    assert base.config_text == b"exclude: ['old/**']\npolicy: {max_synthetic: 0.2}\n"


def test_an_excluded_folder_is_left_out_at_the_base_as_in_the_work_tree(repo: GitRepo) -> None:
    repo.write("loopscan.yaml", "exclude: ['legacy/']\n")
    repo.write("legacy/deep/old.yaml", ECHO_LOOP.replace("pipeline: echo", "pipeline: legacy"))
    repo.write("echo.yaml", GATED)
    repo.commit("legacy excluded as a folder")
    head = load_config()
    base = analyse_base(resolve("main", repo.root), head, ["."], repo.root, DAY)
    on_disk = analyse(discover(["."], head.exclude, str(head.root)), head, DAY)
    assert [m.file for m in base.project.manifests] == [m.file for m in on_disk.manifests] == ["echo.yaml"]


def test_a_base_config_in_pyproject_toml_is_read_from_the_tree(repo: GitRepo) -> None:
    repo.write("pyproject.toml", "[project]\nname = 'x'\n\n[tool.loopscan]\nignore = ['LS4']\n")
    repo.write("echo.yaml", GATED)
    repo.commit("pyproject")
    (repo.root / "pyproject.toml").unlink()
    base = analyse_base(resolve("main", repo.root), load_config(), ["."], repo.root, DAY)
    assert base.config.ignore == ("LS4",)
    assert base.config.source == repo.root / "pyproject.toml"


def test_three_dots_mean_the_merge_base(repo: GitRepo) -> None:
    repo.write("echo.yaml", GATED)
    fork = repo.commit("gated")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("echo.yaml", ECHO_LOOP)
    repo.commit("drop the gate")
    repo.git("checkout", "-q", "main")
    repo.write("other.yaml", "x: 1\n")
    main_tip = repo.commit("main moves on")
    repo.git("checkout", "-q", "feature")

    assert resolve("main", repo.root).commit == main_tip
    merge_base = resolve("main...", repo.root)
    assert (merge_base.commit, merge_base.label) == (fork, "main")


def test_a_missing_revision_says_so(repo: GitRepo) -> None:
    repo.write("echo.yaml", GATED)
    repo.commit("one")
    with pytest.raises(GitError, match=r"no revision 'nope' in this repository"):
        resolve("nope", repo.root)
    with pytest.raises(GitError, match=r"is not a git revision"):
        resolve("--output=x", repo.root)


def test_a_shallow_clone_without_the_base_gets_the_fix(repo: GitRepo, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    repo.write("echo.yaml", GATED)
    first = repo.commit("one")
    repo.write("echo.yaml", ECHO_LOOP)
    repo.commit("two")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)],
                   check=True, env={**os.environ, **GIT_ENV})
    monkeypatch.chdir(clone)
    with pytest.raises(GitError) as missing:
        resolve(first, clone)
    assert "in this shallow clone; fetch the history it needs with 'git fetch --deepen=100'" in str(missing.value)
    with pytest.raises(GitError) as no_base:
        resolve("HEAD~1...", clone)
    assert "git fetch --deepen" in str(no_base.value)


def test_outside_a_repository_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="is not inside a git repository"):
        resolve("main", tmp_path)


def test_head_of_a_repository_without_commits_is_the_empty_tree_for_a_hook(tmp_path: Path) -> None:
    repository = GitRepo(tmp_path / "new")
    repository.write("echo.yaml", GATED)
    with pytest.raises(GitError, match="no revision 'HEAD'"):
        resolve("HEAD", repository.root)
    revision = resolve("HEAD", repository.root, unborn_is_empty=True)
    assert base_candidates(revision, [str(repository.root)], (), repository.root) == []
