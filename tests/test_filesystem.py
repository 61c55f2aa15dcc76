"""The file system under a scan: loops, links leaving the scan, unreadable and vanishing files, FIFOs and devices.

* A symlink loop ends; a file reached twice is read once; a symlink that leads
  outside the scanned paths is not followed (``-v`` says so).
* A file or folder that cannot be read, that is not a regular file, or that
  vanishes mid-scan is reported once (LS001) and the rest is still scanned.
  Opening a FIFO would block forever, so one never is opened for reading.
* loopscan never writes to what it scans (what ``--output`` does is in
  tests/test_output.py).

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

import loopscan.sources.discover
from loopscan.printable import printable
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


def symlink_notes(result: Result) -> list[str]:
    """The ``-v`` lines about symlinks that were not followed."""
    return [line for line in result.err.splitlines() if "outside the scanned folders" in line]


def not_followed(link: str, target: Path | str) -> str:
    """The ``-v`` line for a symlink ``link`` that leads outside the scanned folders, to ``target``."""
    shown = printable(os.path.realpath(target))
    return f"passed over {link}: symlink to {shown}, outside the scanned folders: not followed"


@pytest.fixture
def fence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Refuse to list any folder outside the test's temporary folder, and note each one asked for.

    So a scan that follows ``root -> /`` again fails in milliseconds (the link
    shows up as an unreadable folder) instead of walking the whole machine.
    """
    inside = os.path.realpath(tmp_path) + os.sep
    real_scandir = os.scandir
    refused: list[str] = []

    def fenced(path: Any = ".") -> Any:
        if isinstance(path, (str, os.PathLike)) and not (os.path.realpath(path) + os.sep).startswith(inside):
            refused.append(os.fspath(path))
            raise OSError(errno.EACCES, "outside the test's folder (fence)", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", fenced)
    return refused


def test_a_symlink_to_the_file_system_root_is_not_followed(project: Write, run: Run, fence: list[str]) -> None:
    """A committed ``root -> /`` made one scan walk the whole machine: 98.7 s, 1.2 GB, 21,765 findings."""
    manifests(project, "pipelines/a.yaml")
    os.symlink("/", "pipelines/root")
    started = time.monotonic()
    result = scan(run)
    elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed
    assert (reported(result), fence) == ([(
        "pipelines/a.yaml", "LS003", "duplicate key 'fetch' (first at line 5); YAML keeps only the later one")], [])
    assert result.json()["summary"]["files"] == 1
    assert result.err == ""
    verbose = scan(run, ".", "-v")
    assert symlink_notes(verbose) == [not_followed("pipelines/root", "/")]
    assert verbose.out == result.out


def test_a_symlink_to_a_manifest_outside_the_scanned_folders_is_not_read(
    project: Write, run: Run, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The target is named on one escaped line, once, however many scanned folders reach the link."""
    outside = tmp_path_factory.mktemp("outside") / "theirs\x1b[2J\n\u202e.yaml"
    outside.write_text(DUPLICATE_KEY.format(name="theirs"), encoding="utf-8")
    manifests(project, "team/a.yaml")
    os.symlink(outside, "team/theirs.yaml")
    result = scan(run)
    assert [file for file, _, _ in reported(result)] == ["team/a.yaml"]
    assert result.json()["summary"]["files"] == 1
    verbose = scan(run, ".", "team", "-v")
    assert symlink_notes(verbose) == [not_followed("team/theirs.yaml", outside)]
    assert "\x1b" not in verbose.err and "\u202e" not in verbose.err
    assert [file for file, _, _ in reported(verbose)] == ["team/a.yaml"]


def test_a_symlink_to_a_folder_inside_the_scanned_folders_is_followed_and_read_once(
    project: Write, run: Run, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Links that stay inside a scanned folder (even another one) are followed as before; only links out are not."""
    manifests(project, "real/a.yaml", "real/deeper/b.yaml", "other/c.yaml")
    os.symlink("real", "alias")
    os.symlink("..", "real/deeper/up")
    os.symlink("../real/deeper", "other/deeper")
    outside = tmp_path_factory.mktemp("outside")
    manifests(project, str(outside / "theirs.yaml"))
    os.symlink(outside, "other/elsewhere")
    result = scan(run, "-v")
    assert [file for file, _, _ in reported(result)] == ["alias/a.yaml", "alias/deeper/b.yaml", "other/c.yaml"]
    assert result.json()["summary"]["files"] == 3
    assert symlink_notes(result) == [not_followed("other/elsewhere", outside)]
    # other/deeper leads into real/, another scanned folder: followed, and b.yaml is still read once.
    result = scan(run, "other", "real", "-v")
    assert sorted(Path(file).name for file, _, _ in reported(result)) == ["a.yaml", "b.yaml", "c.yaml"]
    assert result.json()["summary"]["files"] == 3
    assert symlink_notes(result) == [not_followed("other/elsewhere", outside)]


def test_a_symlink_named_on_the_command_line_is_followed_wherever_it_leads(
    project: Write, run: Run, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A path named directly is a scanned folder itself; the same links met while walking are not followed."""
    outside = tmp_path_factory.mktemp("outside")
    manifests(project, str(outside / "m.yaml"), str(outside / "nested/n.yaml"))
    os.symlink("nested", outside / "again")  # inside the folder the named link leads to: followed
    os.symlink(outside, "vendored")
    os.symlink(outside / "m.yaml", "single.yaml")
    assert [file for file, _, _ in reported(scan(run, "vendored"))] == ["vendored/again/n.yaml", "vendored/m.yaml"]
    assert [file for file, _, _ in reported(scan(run, "single.yaml"))] == ["single.yaml"]
    walked = scan(run, ".", "-v")
    assert reported(walked) == []
    assert symlink_notes(walked) == [not_followed("single.yaml", outside / "m.yaml"), not_followed("vendored", outside)]


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
    assert reported(scan(run, "device.yaml")) == [
        ("device.yaml", "LS001", "cannot read file: it is a character device, not a regular file")]
    walked = scan(run, ".", "-v")  # met while walking, it leads outside the scanned folder: not followed
    assert (reported(walked), symlink_notes(walked)) == ([], [not_followed("device.yaml", device)])


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
    discover = loopscan.sources.discover.discover

    def discover_then_delete(*args: Any, **kwargs: Any) -> Any:
        found = discover(*args, **kwargs)
        os.remove("gone.yaml")
        return found

    monkeypatch.setattr(loopscan.sources.discover, "discover", discover_then_delete)
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


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 5000])
def test_a_regular_file_is_read_whole_up_to_the_limit(tmp_path: Path, size: int) -> None:
    from loopscan.sources.load import read_regular_file

    path = tmp_path / "f.yaml"
    path.write_bytes(bytes(range(256)) * (size // 256) + bytes(range(size % 256)))
    assert read_regular_file(str(path), 101) == path.read_bytes()[:101]


def test_a_file_that_grew_after_its_size_was_taken_is_still_read_up_to_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read asks for one byte more than the size ``fstat`` gave, and goes on when it gets it."""
    from loopscan.sources import load

    path = tmp_path / "f.yaml"
    path.write_bytes(b"x" * 5000)
    real_fstat = os.fstat

    def shrunk(descriptor: int) -> Any:
        status = real_fstat(descriptor)
        return os.stat_result((*status[:6], 10, *status[7:]))  # st_size, as it was before the file grew

    monkeypatch.setattr(load.os, "fstat", shrunk)
    assert load.read_regular_file(str(path), 3000) == b"x" * 3000
    assert load.read_regular_file(str(path), 9000) == b"x" * 5000
