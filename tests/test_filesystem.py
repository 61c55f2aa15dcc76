"""The file system under a scan: loops, unreadable and vanishing files, FIFOs and devices, and what is written.

* A symlink loop ends; a file reached twice is read once.
* A file or folder that cannot be read, that is not a regular file, or that
  vanishes mid-scan is reported once (LS001) and the rest is still scanned.
  Opening a FIFO would block forever, so one never is opened for reading.
* loopscan never writes to what it scans, and ``--output`` goes through a
  temporary file and a rename, so a failed run leaves the old report whole.

Tests that could hang if a guard regressed run under a watchdog that ends the
test session with a traceback instead.
"""

from __future__ import annotations

import builtins
import errno
import faulthandler
import hashlib
import os
import shutil
import socket
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import loopscan.discover
from tests.conftest import ECHO_LOOP, EXAMPLES, TODAY, Result, Run, Write

WATCHDOG_SECONDS = 60


@pytest.fixture
def watchdog() -> Iterator[None]:
    """Dump every thread's traceback and end the session if the test blocks (a FIFO opened for reading)."""
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True, file=sys.__stderr__)
    yield
    faulthandler.cancel_dump_traceback_later()


DUPLICATE_KEY = """
    loopscan: 1
    pipeline: {name}
    owner: ana
    steps:
      fetch: {{kind: ingest}}
      fetch: {{kind: ingest}}
    """
"""A manifest with exactly one integrity finding (LS003), so that each file shows up once in the report."""


def scan(run: Run, *args: str) -> Result:
    result = run("check", *(args or (".",)), "-f", "json", "--select", "LS00")
    assert result.code in (0, 1), result.err
    return result


def reported(result: Result) -> list[tuple[str, str, str]]:
    """(file, rule, message) of every finding, in report order."""
    return [(f["file"], f["rule"], f["message"]) for f in result.json()["findings"]]


def manifests(project: Write, *names: str) -> None:
    for name in names:
        project(name, DUPLICATE_KEY.format(name=Path(name).stem))


# Symlinks ----------------------------------------------------------------------------------


def test_directory_symlink_loops_end_and_each_manifest_is_reported_once(
    project: Write, run: Run, watchdog: None
) -> None:
    manifests(project, "pipelines/a.yaml", "pipelines/team/b.yaml")
    os.symlink("..", "pipelines/team/up")  # a loop back to the parent
    os.symlink(".", "pipelines/self")  # a loop onto itself
    os.symlink("../pipelines", "pipelines/team/again")  # the same folder under another name
    os.makedirs("mirror")
    os.symlink("../mirror", "mirror/mirror")
    result = scan(run)
    assert [(file, rule) for file, rule, _ in reported(result)] == [
        ("pipelines/a.yaml", "LS003"), ("pipelines/team/b.yaml", "LS003")]
    assert result.json()["summary"]["files"] == 2


def test_a_file_reached_through_symlinks_and_hard_links_is_read_once(project: Write, run: Run) -> None:
    manifests(project, "real/a.yaml")
    os.symlink("real/a.yaml", "link.yaml")
    os.symlink("real", "linked-folder")
    os.link("real/a.yaml", "hard-link.yaml")
    result = scan(run, ".", "link.yaml")
    assert [rule for _, rule, _ in reported(result)] == ["LS003"]
    assert result.json()["summary"]["files"] == 1


def test_a_symlink_loop_between_files_is_reported_once(project: Write, run: Run) -> None:
    manifests(project, "b.yaml")
    os.symlink("loop-2.yaml", "loop-1.yaml")
    os.symlink("loop-1.yaml", "loop-2.yaml")
    assert reported(scan(run)) == [
        ("b.yaml", "LS003", "duplicate key 'fetch' (first at line 5); YAML keeps only the later one"),
        ("loop-1.yaml", "LS001", "cannot read file: Too many levels of symbolic links"),
        ("loop-2.yaml", "LS001", "cannot read file: Too many levels of symbolic links"),
    ]


DEPTH = 1500


@pytest.fixture
def deep_tree(project: Write) -> Iterator[str]:
    """A manifest at the bottom of 1,500 nested folders; its path, relative to the project."""
    here = os.getcwd()
    for _ in range(DEPTH):
        os.mkdir("d")
        os.chdir("d")
    Path("deep.yaml").write_text("loopscan: 1\npipeline: [\n", encoding="utf-8")
    os.chdir(here)
    yield "/".join(["d"] * DEPTH + ["deep.yaml"])
    # Remove it bottom-up without recursion (shutil.rmtree recurses too).
    os.chdir("/".join(["d"] * DEPTH))
    os.remove("deep.yaml")
    for _ in range(DEPTH):
        os.chdir("..")
        os.rmdir("d")
    os.chdir(here)


def test_a_folder_tree_1500_levels_deep_is_walked_to_the_bottom_in_seconds(
    project: Write, run: Run, deep_tree: str
) -> None:
    """os.walk recurses (before Python 3.12): this tree ended the scan with a RecursionError, and
    realpath() on every folder took half a minute."""
    manifests(project, "top.yaml")
    started = time.monotonic()
    result = scan(run)
    assert time.monotonic() - started < 5
    assert [(file, rule) for file, rule, _ in reported(result)] == [(deep_tree, "LS001"), ("top.yaml", "LS003")]


# Unreadable files and folders ----------------------------------------------------------------


def refuse(monkeypatch: pytest.MonkeyPatch, function: str, path: str, error: int = errno.EACCES) -> None:
    """Make ``function`` fail on ``path`` as it would for a user without the right (tests run as root).

    ``"open"`` refuses both ``open()`` and ``os.open()``; ``"scandir"`` refuses ``os.scandir()``.
    """
    target = os.path.abspath(path)
    owners: list[Any] = [os, builtins] if function == "open" else [os]
    for owner in owners:
        real = getattr(owner, function)

        def refusing(name: Any, *args: Any, real: Any = real, **kwargs: Any) -> Any:
            if isinstance(name, (str, os.PathLike)) and os.path.abspath(name) == target:
                raise OSError(error, os.strerror(error), os.fspath(name))
            return real(name, *args, **kwargs)

        monkeypatch.setattr(owner, function, refusing)


def test_an_unreadable_file_is_reported_once_and_the_rest_is_scanned(
    project: Write, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests(project, "a.yaml", "locked.yaml", "z.yaml")
    refuse(monkeypatch, "open", "locked.yaml")
    assert reported(scan(run)) == [
        ("a.yaml", "LS003", "duplicate key 'fetch' (first at line 5); YAML keeps only the later one"),
        ("locked.yaml", "LS001", "cannot read file: Permission denied"),
        ("z.yaml", "LS003", "duplicate key 'fetch' (first at line 5); YAML keeps only the later one"),
    ]


def test_an_unreadable_folder_is_reported_once_and_the_rest_is_scanned(
    project: Write, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests(project, "a.yaml", "locked/b.yaml", "open/c.yaml")
    refuse(monkeypatch, "scandir", "locked")
    result = scan(run)
    assert [(file, rule, message) for file, rule, message in reported(result) if rule == "LS001"] == [
        ("locked", "LS001", "cannot read folder: Permission denied")]
    assert [file for file, rule, _ in reported(result) if rule == "LS003"] == ["a.yaml", "open/c.yaml"]


def test_an_unreadable_folder_named_on_the_command_line_is_reported_once(
    project: Write, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests(project, "locked/b.yaml")
    refuse(monkeypatch, "scandir", "locked")
    assert reported(scan(run, "locked")) == [("locked", "LS001", "cannot read folder: Permission denied")]


# FIFOs, devices and sockets ------------------------------------------------------------------


def test_a_fifo_named_like_a_manifest_is_reported_without_blocking(
    project: Write, run: Run, watchdog: None
) -> None:
    manifests(project, "a.yaml")
    os.mkfifo("pipe.yaml")
    assert reported(scan(run)) == [
        ("a.yaml", "LS003", "duplicate key 'fetch' (first at line 5); YAML keeps only the later one"),
        ("pipe.yaml", "LS001", "cannot read file: it is a named pipe (FIFO), not a regular file"),
    ]
    assert reported(scan(run, "pipe.yaml")) == [
        ("pipe.yaml", "LS001", "cannot read file: it is a named pipe (FIFO), not a regular file")]


def test_a_file_swapped_for_a_fifo_after_its_type_was_checked_does_not_block(
    project: Write, run: Run, monkeypatch: pytest.MonkeyPatch, watchdog: None
) -> None:
    """The type is checked again on the open file, which is opened without blocking."""
    manifests(project, "a.yaml")
    os.mkfifo("pipe.yaml")
    real_stat, regular = os.stat, os.stat("a.yaml")
    target = os.path.abspath("pipe.yaml")
    monkeypatch.setattr(os, "stat", lambda path, *args, **kwargs: regular if os.path.abspath(path) == target
                        else real_stat(path, *args, **kwargs))
    assert reported(scan(run, "pipe.yaml")) == [
        ("pipe.yaml", "LS001", "cannot read file: it is a named pipe (FIFO), not a regular file")]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_symlink_to_a_device_is_reported_and_never_read(project: Write, run: Run, device: str,
                                                          watchdog: None) -> None:
    if not stat.S_ISCHR(os.stat(device).st_mode):
        pytest.skip(f"{device} is not a character device here")
    os.symlink(device, "device.yaml")
    assert reported(scan(run)) == [
        ("device.yaml", "LS001", "cannot read file: it is a character device, not a regular file")]


def test_a_unix_socket_named_like_a_manifest_is_reported(project: Write, run: Run, tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("socket.yaml")
        assert reported(scan(run)) == [
            ("socket.yaml", "LS001", "cannot read file: it is a socket, not a regular file")]


# Files and folders that vanish mid-scan ------------------------------------------------------


def test_a_file_deleted_between_discovery_and_reading_is_reported_once(
    project: Write, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests(project, "a.yaml", "gone.yaml", "z.yaml")
    discover = loopscan.discover.discover

    def discover_then_delete(*args: Any, **kwargs: Any) -> Any:
        found = discover(*args, **kwargs)
        os.remove("gone.yaml")
        return found

    monkeypatch.setattr(loopscan.discover, "discover", discover_then_delete)
    result = scan(run)
    assert reported(result) == [
        ("a.yaml", "LS003", "duplicate key 'fetch' (first at line 5); YAML keeps only the later one"),
        ("gone.yaml", "LS001", "cannot read file: No such file or directory"),
        ("z.yaml", "LS003", "duplicate key 'fetch' (first at line 5); YAML keeps only the later one"),
    ]
    assert result.json()["summary"]["pipelines"] == 2


def test_a_folder_deleted_while_the_walk_reaches_it_is_reported_once(
    project: Write, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests(project, "a.yaml", "gone/b.yaml", "gone/deeper/c.yaml", "z/d.yaml")
    real_scandir = os.scandir
    target = os.path.abspath("gone")

    def scandir_after_deleting(path: Any = ".") -> Any:
        if isinstance(path, str) and os.path.abspath(path) == target:
            shutil.rmtree(target)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir_after_deleting)
    assert reported(scan(run)) == [
        ("a.yaml", "LS003", "duplicate key 'fetch' (first at line 5); YAML keeps only the later one"),
        ("gone", "LS001", "cannot read folder: No such file or directory"),
        ("z/d.yaml", "LS003", "duplicate key 'fetch' (first at line 5); YAML keeps only the later one"),
    ]


# Inputs are never written ----------------------------------------------------------------------


def tree_state(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``root``: its kind, mode, modification time, and content digest or link target."""
    state: dict[str, tuple[Any, ...]] = {}
    for folder, subfolders, files in os.walk(root):
        for name in [*subfolders, *files]:
            path = Path(folder, name)
            info = path.lstat()
            if path.is_symlink():
                detail = os.readlink(path)
            elif path.is_file():
                detail = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                detail = ""
            state[str(path.relative_to(root))] = (stat.S_IFMT(info.st_mode), info.st_mode, info.st_mtime_ns, detail)
    return state


def test_no_command_or_format_writes_to_the_scanned_files(project: Write, run: Run, tmp_path: Path) -> None:
    scanned = tmp_path / "repo"
    shutil.copytree(EXAMPLES, scanned / "pipelines")
    (scanned / "loopscan.yaml").write_text("paths: [pipelines]\npolicy: {max_synthetic: 0.2}\n", encoding="utf-8")
    (scanned / "pipelines" / "broken.yaml").write_bytes(b"loopscan: 1\npipeline: [\n\t\xff")
    (scanned / "pipelines" / "echo.yaml").write_text(ECHO_LOOP, encoding="utf-8")
    os.symlink("echo.yaml", scanned / "pipelines" / "echo-link.yaml")
    os.chmod(scanned / "pipelines" / "web-crawl.yaml", 0o444)
    before = tree_state(scanned)
    reports = tmp_path / "reports"
    reports.mkdir()
    os.chdir(scanned)
    commands = [
        *(["check", "-f", output_format, "--today", TODAY] for output_format in ("text", "json", "sarif", "junit",
                                                                                  "github")),
        ["check", "-o", str(reports / "report.json"), "-f", "json", "-v"],
        ["loops"], ["loops", "-f", "json", "-o", str(reports / "loops.json")],
        ["overrides", "--today", TODAY], ["overrides", "-f", "json"],
        ["graph"], ["graph", "-f", "mermaid", "-o", str(reports / "graph.md"), "--md"],
        ["rules"], ["explain", "LS301"],
    ]
    for command in commands:
        result = run(*command)
        assert result.code in (0, 1), (command, result.err)
    assert tree_state(scanned) == before
    assert sorted(path.name for path in reports.iterdir()) == ["graph.md", "loops.json", "report.json"]


# --output is written through a temporary file and a rename -----------------------------------

OLD_REPORT = '{"old": "report"}\n'


@pytest.fixture
def old_report(project: Write) -> Path:
    """A project with findings, and the report an earlier run left in ``out/``."""
    project("echo.yaml", ECHO_LOOP)
    report = Path("out/report.json")
    report.parent.mkdir()
    report.write_text(OLD_REPORT, encoding="utf-8")
    return report


def check_into(run: Run, report: Path) -> Result:
    return run("check", "echo.yaml", "-f", "json", "--today", TODAY, "-o", str(report))


def test_a_successful_run_replaces_the_report_and_leaves_no_temporary_file(old_report: Path, run: Run) -> None:
    result = check_into(run, old_report)
    assert (result.code, result.out) == (1, "")
    assert old_report.read_text(encoding="utf-8").startswith('{\n  "version"')
    assert [path.name for path in old_report.parent.iterdir()] == ["report.json"]


def test_a_run_that_fails_while_rendering_leaves_the_old_report_whole(
    old_report: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    import loopscan.render.json

    def broken(report: Any) -> str:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(loopscan.render.json, "render", broken)
    result = check_into(run, old_report)
    assert result.code == 2
    assert "internal error: RuntimeError: renderer crashed" in result.err
    assert old_report.read_text(encoding="utf-8") == OLD_REPORT
    assert [path.name for path in old_report.parent.iterdir()] == ["report.json"]


def fail_writing(monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    """Make ``--output`` fail half-way: a full disk, a rename that fails, or Ctrl-C while writing."""
    import loopscan.cli

    real_fdopen, real_replace = os.fdopen, os.replace

    def fdopen(handle: int, *args: Any, **kwargs: Any) -> Any:
        stream = real_fdopen(handle, *args, **kwargs)
        if failure == "disk full":
            real_write = stream.write

            def write(text: str) -> int:
                real_write(text[:10])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            stream.write = write
        elif failure == "interrupted":
            def interrupted(text: str) -> int:
                raise KeyboardInterrupt

            stream.write = interrupted
        return stream

    def replace(source: Any, target: Any) -> None:
        if failure == "rename fails":
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        real_replace(source, target)

    monkeypatch.setattr(loopscan.cli.os, "fdopen", fdopen)
    monkeypatch.setattr(loopscan.cli.os, "replace", replace)


FAILURES = {
    "disk full": "loopscan: error: cannot write 'out/report.json': No space left on device\n",
    "rename fails": "loopscan: error: cannot write 'out/report.json': Invalid cross-device link\n",
}


@pytest.mark.parametrize("failure", FAILURES)
def test_a_run_that_fails_while_writing_leaves_the_old_report_whole(
    old_report: Path, run: Run, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    fail_writing(monkeypatch, failure)
    result = check_into(run, old_report)
    assert (result.code, result.out, result.err) == (2, "", FAILURES[failure])
    assert old_report.read_text(encoding="utf-8") == OLD_REPORT


def test_a_run_interrupted_while_writing_leaves_the_old_report_whole(
    old_report: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C ends the run as a shell expects (exit 130, from Typer), and the old report is untouched."""
    fail_writing(monkeypatch, "interrupted")
    assert check_into(run, old_report).code == 130
    assert old_report.read_text(encoding="utf-8") == OLD_REPORT


@pytest.mark.parametrize("failure", [*FAILURES, "interrupted"])
def test_a_run_that_fails_while_writing_leaves_no_temporary_file(
    old_report: Path, run: Run, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    fail_writing(monkeypatch, failure)
    assert check_into(run, old_report).code == (130 if failure == "interrupted" else 2)
    assert [path.name for path in old_report.parent.iterdir()] == ["report.json"]

