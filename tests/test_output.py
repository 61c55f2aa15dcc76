"""What ``--output`` / ``-o`` guarantees (see :mod:`loopscan.output`), through the real command line.

* A regular file, or a path that does not exist yet, is replaced atomically:
  a reader holding the old report still reads it whole, the new file keeps the
  old one's mode (a new one gets the umask's), and no ``.NAME.*.tmp`` is left.
* A failed run (a renderer that crashes, a full disk, a rename that fails) and
  an interrupted one (Ctrl-C, or the SIGTERM a cancelled CI job sends, even in
  the middle of writing a 100 MB report) leave the old report whole and no
  temporary file; Ctrl-C exits 130 and SIGTERM 143, each with one stderr line.
* A symlink stays a symlink and its target gets the report; a dangling one
  creates its target.
* A FIFO, ``/dev/null`` and the process's own stdout are written into, never
  replaced: a FIFO's reader gets the whole report, ``/dev/null`` stays a
  device, and a shell's ``>>`` keeps appending.
* A folder is refused with one line. A ``dot`` child does not outlive a
  SIGTERM, and one slower than ``--timeout`` is ended with one line.
* ``loops``, ``graph`` and ``overrides`` name a manifest they could not use and
  exit 1, and still show the good ones.
* Everything is written in chunks, so an output over 2 GiB arrives whole
  (``LOOPSCAN_SLOW_TESTS=1`` runs that test: about 10 s and 2.5 GB of memory).
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import loopscan.output
from loopscan.cli import Interrupted
from tests.conftest import ECHO_LOOP, ECHO_LOOP_OVERRIDDEN, TODAY, Result, Run, Write, assert_usage_error

OLD_REPORT = '{"old": "report"}\n'
UNUSABLE_NOTE_END = "('loopscan check' lists every problem)"
BROKEN_MANIFEST = "loopscan: 1\npipeline: [\n"
"""A manifest that fails to parse at line 3, column 1 (LS001)."""


def loopscan_command(*args: str) -> list[str]:
    """``python -m loopscan ARGS`` with this interpreter: a real process, with its own signals and streams."""
    return [sys.executable, "-m", "loopscan", *args]


def names_in(folder: Path) -> list[str]:
    """Every entry of ``folder``, hidden ones (a leftover ``.report.json.*.tmp``) included, sorted."""
    return sorted(os.listdir(folder))


def is_temporary(name: str, target: str = "report.json") -> bool:
    """Whether ``name`` is a temporary file loopscan writes beside ``target`` before renaming it."""
    return re.fullmatch(rf"\.{re.escape(target)}\.[0-9a-f]{{8}}\.tmp", name) is not None


def json_report(run: Run, *paths: str) -> str:
    """The JSON report ``check`` prints to stdout: what ``-o`` must write, byte for byte."""
    result = run("check", *paths, "-f", "json", "--today", TODAY)
    assert result.code == 1, result.err
    return result.out


# Moved from test_filesystem.py: --output is written through a temporary file and a rename ------


@pytest.fixture
def old_report(project: Write) -> Path:
    """A project with findings, and the report an earlier run left in ``out/``."""
    project("echo.yaml", ECHO_LOOP)
    report = Path("out/report.json")
    report.parent.mkdir()
    report.write_text(OLD_REPORT, encoding="utf-8")
    return report


def check_into(run: Run, report: Path | str) -> Result:
    return run("check", "echo.yaml", "-f", "json", "--today", TODAY, "-o", str(report))


def test_a_successful_run_replaces_the_report_and_leaves_no_temporary_file(old_report: Path, run: Run) -> None:
    expected = json_report(run, "echo.yaml")
    result = check_into(run, old_report)
    assert (result.code, result.out, result.err) == (1, "", "")
    assert old_report.read_text(encoding="utf-8") == expected
    assert names_in(old_report.parent) == ["report.json"]


def test_a_run_that_fails_while_rendering_leaves_the_old_report_whole(
    old_report: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    import loopscan.render.json

    def broken(report: Any) -> str:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(loopscan.render.json, "render", broken)
    result = check_into(run, old_report)
    assert (result.code, result.out) == (2, "")
    assert result.err == ("loopscan: internal error: RuntimeError: renderer crashed "
                          "(run with --debug for the traceback)\n")
    assert old_report.read_text(encoding="utf-8") == OLD_REPORT
    assert names_in(old_report.parent) == ["report.json"]


def fail_writing(monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    """Make ``--output`` fail half-way: a full disk, a rename that fails, or Ctrl-C while writing.

    The first chunk is written into the temporary file before the disk fills up
    or Ctrl-C comes, so that a half-written file exists to be cleaned up.
    """
    real_chunks, real_replace = loopscan.output.chunks, os.replace

    def chunks(data: str | bytes) -> Iterator[bytes]:
        pieces = real_chunks(data)
        yield next(pieces)[:10]
        if failure == "disk full":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if failure == "interrupted":
            raise Interrupted(signal.SIGINT)  # what Ctrl-C raises through the CLI's signal handler
        yield from pieces

    def replace(source: Any, target: Any) -> None:
        if failure == "rename fails" and Path(target).name == "report.json":
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        real_replace(source, target)

    monkeypatch.setattr(loopscan.output, "chunks", chunks)
    monkeypatch.setattr(loopscan.output.os, "replace", replace)


FAILURES = {
    "disk full": (2, "loopscan: error: cannot write 'out/report.json': No space left on device\n"),
    "rename fails": (2, "loopscan: error: cannot write 'out/report.json': Invalid cross-device link\n"),
    "interrupted": (130, "loopscan: interrupted\n"),
}
"""Each failure: the exit code and the whole of stderr."""


@pytest.mark.parametrize("failure", FAILURES)
def test_a_run_that_fails_while_writing_leaves_the_old_report_whole(
    old_report: Path, run: Run, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """A full disk or a failed rename exits 2 with one line; Ctrl-C exits 130 as a shell expects."""
    fail_writing(monkeypatch, failure)
    result = check_into(run, old_report)
    assert (result.code, result.err) == FAILURES[failure]
    assert result.out == ""
    assert old_report.read_text(encoding="utf-8") == OLD_REPORT


@pytest.mark.parametrize("failure", FAILURES)
def test_a_run_that_fails_while_writing_leaves_no_temporary_file(
    old_report: Path, run: Run, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    fail_writing(monkeypatch, failure)
    assert check_into(run, old_report).code == FAILURES[failure][0]
    assert names_in(old_report.parent) == ["report.json"]


# Regular files: replaced atomically, with their mode ------------------------------------------


@pytest.fixture
def umask() -> Iterator[Callable[[int], int]]:
    """``umask(0o022)`` sets the process's umask for the test; the old one comes back after it."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield os.umask
    os.umask(previous)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600], ids=oct)
def test_an_existing_report_is_replaced_atomically_and_keeps_its_mode(
    old_report: Path, run: Run, mode: int
) -> None:
    """A dashboard reading the old report while loopscan writes reads it whole; the team keeps its permissions."""
    old_report.chmod(mode)
    expected = json_report(run, "echo.yaml")
    with old_report.open(encoding="utf-8") as reader:  # opened before the run, read after it
        assert check_into(run, old_report).code == 1
        assert reader.read() == OLD_REPORT
    assert old_report.read_text(encoding="utf-8") == expected
    assert stat.S_IMODE(old_report.stat().st_mode) == mode
    assert names_in(old_report.parent) == ["report.json"]


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)], ids=oct)
def test_a_new_report_gets_the_mode_the_umask_gives(
    project: Write, run: Run, umask: Callable[[int], int], mask: int, mode: int
) -> None:
    """As ``> report.json`` would: 0644 under umask 022, readable by the team that shares the folder."""
    project("echo.yaml", ECHO_LOOP)
    os.mkdir("out")
    expected = json_report(run, "echo.yaml")
    umask(mask)
    assert check_into(run, "out/report.json").code == 1
    assert Path("out/report.json").read_text(encoding="utf-8") == expected
    assert stat.S_IMODE(os.stat("out/report.json").st_mode) == mode
    assert names_in(Path("out")) == ["report.json"]


def test_a_report_into_a_missing_folder_exits_2_with_one_line(project: Write, run: Run) -> None:
    project("echo.yaml", ECHO_LOOP)
    result = check_into(run, "missing/report.json")
    assert result.err == "loopscan: error: cannot write 'missing/report.json': No such file or directory\n"
    assert_usage_error(result)
    assert not os.path.exists("missing")


def test_a_folder_as_output_exits_2_with_one_line(project: Write, run: Run) -> None:
    project("echo.yaml", ECHO_LOOP)
    os.mkdir("some_folder")
    result = check_into(run, "some_folder")
    assert_usage_error(result, "'some_folder'", "folder")
    assert result.err == "loopscan: error: cannot write 'some_folder': it is a folder; name a file\n"
    assert names_in(Path("some_folder")) == []


@pytest.mark.parametrize("named", ["new_folder/", "some_folder/"])
def test_a_path_ending_in_a_slash_names_a_folder_and_exits_2(project: Write, run: Run, named: str) -> None:
    """``-o reports/`` must not write a file named ``reports``, as a shell's ``> reports/`` would refuse too."""
    project("echo.yaml", ECHO_LOOP)
    os.mkdir("some_folder")
    result = check_into(run, named)
    assert_usage_error(result)
    assert result.err == f"loopscan: error: cannot write '{named}': it names a folder; name a file\n"
    assert names_in(Path(".")) == ["echo.yaml", "some_folder"]
    assert names_in(Path("some_folder")) == []


# Symlinks, FIFOs, devices and stdout: written into, never replaced ------------------------------


def test_a_symlink_stays_a_symlink_and_its_target_gets_the_report(project: Write, run: Run) -> None:
    """``latest.json -> archive/report.json``: the link a dashboard reads keeps pointing where it did."""
    project("echo.yaml", ECHO_LOOP)
    os.makedirs("archive")
    Path("archive/report.json").write_text(OLD_REPORT, encoding="utf-8")
    os.chmod("archive/report.json", 0o640)
    os.symlink("archive/report.json", "latest.json")
    expected = json_report(run, "echo.yaml")
    assert check_into(run, "latest.json").code == 1
    assert os.path.islink("latest.json")
    assert os.readlink("latest.json") == "archive/report.json"
    assert Path("archive/report.json").read_text(encoding="utf-8") == expected
    assert stat.S_IMODE(os.stat("archive/report.json").st_mode) == 0o640
    assert names_in(Path("archive")) == ["report.json"]
    assert names_in(Path(".")) == ["archive", "echo.yaml", "latest.json"]


def test_a_dangling_symlink_creates_its_target(project: Write, run: Run, umask: Callable[[int], int]) -> None:
    project("echo.yaml", ECHO_LOOP)
    os.makedirs("archive")
    os.symlink("archive/report.json", "latest.json")
    expected = json_report(run, "echo.yaml")
    umask(0o022)
    assert check_into(run, "latest.json").code == 1
    assert os.readlink("latest.json") == "archive/report.json"
    assert Path("archive/report.json").read_text(encoding="utf-8") == expected
    assert stat.S_IMODE(os.stat("archive/report.json").st_mode) == 0o644
    assert names_in(Path("archive")) == ["report.json"]


def test_a_fifo_s_reader_gets_the_whole_report_and_the_fifo_stays(project: Write, run: Run) -> None:
    """``-o pipe`` into ``mkfifo pipe; jq . < pipe``: the reader gets all of it, and the FIFO is not replaced."""
    project("echo.yaml", ECHO_LOOP)
    os.mkfifo("pipe")
    expected = json_report(run, "echo.yaml")
    received: list[bytes] = []

    def read() -> None:
        with open("pipe", "rb") as reader:  # blocks until loopscan opens the FIFO for writing
            received.append(reader.read())

    reader = threading.Thread(target=read, daemon=True)  # a daemon: a regression fails the test, not hang it
    reader.start()
    result = check_into(run, "pipe")
    reader.join(timeout=10)
    assert not reader.is_alive(), "the FIFO's reader never got an end of file"
    assert (result.code, result.out, result.err) == (1, "", "")
    assert received == [expected.encode("utf-8")]
    assert json.loads(received[0])["summary"]["loops"] == 1
    assert stat.S_ISFIFO(os.lstat("pipe").st_mode)
    assert names_in(Path(".")) == ["echo.yaml", "pipe"]


def restore_dev_null(device: os.stat_result) -> None:
    """Put the device back if a regression replaced /dev/null with a regular file (only root can).

    Tests often run as root in CI containers, where such a regression would
    break every later program that writes to /dev/null.
    """
    if not stat.S_ISCHR(os.lstat("/dev/null").st_mode) and os.geteuid() == 0:
        os.unlink("/dev/null")
        os.mknod("/dev/null", stat.S_IFCHR | 0o666, device.st_rdev)
        os.chmod("/dev/null", 0o666)  # the umask took from the mode mknod was given


def test_dev_null_stays_a_character_device(project: Write, tmp_path: Path) -> None:
    """``-o /dev/null`` (a dry run in CI) exits as the run would and leaves the machine's /dev/null alone."""
    project("echo.yaml", ECHO_LOOP)
    before = os.stat("/dev/null")
    try:
        completed = subprocess.run(loopscan_command("check", "echo.yaml", "-f", "json", "-o", "/dev/null"),
                                   cwd=tmp_path, capture_output=True, text=True, timeout=60)
        after = os.lstat("/dev/null")
    finally:
        restore_dev_null(before)
    assert (completed.returncode, completed.stdout, completed.stderr) == (1, "", "")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_dev_stdout_into_a_pipe_prints_the_report(project: Write, run: Run, tmp_path: Path) -> None:
    project("echo.yaml", ECHO_LOOP)
    expected = json_report(run, "echo.yaml")
    completed = subprocess.run(
        loopscan_command("check", "echo.yaml", "-f", "json", "--today", TODAY, "-o", "/dev/stdout"),
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (completed.returncode, completed.stdout, completed.stderr) == (1, expected, "")


@pytest.mark.parametrize("output", ["/dev/stdout", "log.txt"])
def test_output_onto_stdout_appended_by_the_shell_keeps_what_was_there(
    project: Write, run: Run, tmp_path: Path, output: str
) -> None:
    """``loopscan check -o /dev/stdout >> log.txt`` (or ``-o log.txt >> log.txt``) appends, as ``>>`` promises."""
    project("echo.yaml", ECHO_LOOP)
    expected = json_report(run, "echo.yaml")
    log = tmp_path / "log.txt"
    log.write_text("earlier run\n", encoding="utf-8")
    with log.open("ab") as stdout:
        completed = subprocess.run(
            loopscan_command("check", "echo.yaml", "-f", "json", "--today", TODAY, "-o", output),
            cwd=tmp_path, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60)
    assert (completed.returncode, completed.stderr) == (1, "")
    assert log.read_text(encoding="utf-8") == "earlier run\n" + expected
    assert names_in(tmp_path) == ["echo.yaml", "log.txt"]



# Signals while a large report is written ------------------------------------------------------

LARGE_LOOP_STEPS = 200
"""Generate/train pairs on the one loop of the large project: the JSON of its loop, whole, is about 50 MB."""
LARGE_NAME_PAD = "x" * 100
"""Long ids make the report large with few nodes (ids may hold up to 128 characters)."""
INTERRUPT_ATTEMPTS = 3
"""Runs to try before giving up on catching the temporary file; each takes about two seconds."""


def long_loop_manifest(steps: int, pad: str) -> str:
    """One pipeline with one loop through ``steps`` generate and ``steps`` train steps, none gated or capped.

    Each generate step's whole witness runs round the loop, so ``loops --loop`` (every witness of the
    loop, whole) grows with the square of ``steps``; ``check`` writes a few findings per step.
    """
    lines = ["loopscan: 1", "pipeline: long", "owner: ana", "datasets:"]
    for i in range(steps):
        lines += [f"  d{i}{pad}:", f"    uri: s3://long/d{i}/", "    provenance: ai"]
    lines.append("models:")
    for i in range(steps):
        lines += [f"  m{i}{pad}:", f"    uri: models:/m{i}"]
    lines.append("steps:")
    for i in range(steps):
        lines += [f"  g{i}{pad}:", "    kind: generate", f"    inputs: [m{i}{pad}]", f"    outputs: [d{i}{pad}]"]
        lines += [f"  t{i}{pad}:", "    kind: train", f"    inputs: [d{i}{pad}]",
                  f"    outputs: [m{(i + 1) % steps}{pad}]"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def large_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding one manifest whose loop, whole, is about 50 MB of JSON (written once for the module)."""
    folder = tmp_path_factory.mktemp("large")
    (folder / "long.yaml").write_text(long_loop_manifest(LARGE_LOOP_STEPS, LARGE_NAME_PAD), encoding="utf-8")
    return folder


@dataclass
class Ended:
    """How an interrupted run ended, and what it left in its output folder."""

    code: int
    out: str
    err: str
    left: list[str]
    report: str


def wait_for_temporary(process: subprocess.Popen[str], folder: Path) -> bool:
    """Poll ``folder`` every millisecond until the temporary file holds a first chunk (True) or the process ends.

    Waiting for the first chunk, not only the name, makes the signal land while
    the report is written; a signal that lands while the temporary file is being
    created is :func:`test_a_signal_as_the_temporary_file_is_created_leaves_no_temporary_file`.
    """
    while process.poll() is None:
        for name in os.listdir(folder):
            try:
                if is_temporary(name) and os.stat(folder / name).st_size > 0:
                    return True
            except FileNotFoundError:  # renamed or removed between the listing and the stat
                pass
        time.sleep(0.001)
    return False


def interrupt_while_writing(project: Path, work: Path, signum: int) -> Ended:
    """Run ``loops --loop ID -f json -o out/report.json`` over ``project`` and send ``signum`` mid-write.

    Tried again (up to :data:`INTERRUPT_ATTEMPTS` times) when the run finished
    before the signal could catch it writing, so the test never passes without
    having interrupted a write.
    """
    for attempt in range(INTERRUPT_ATTEMPTS):
        out = work / f"attempt-{attempt}" / "out"
        out.mkdir(parents=True)
        report = out / "report.json"
        report.write_text(OLD_REPORT, encoding="utf-8")
        command = loopscan_command("loops", str(project), "--loop", f"long:g0{LARGE_NAME_PAD}", "-f", "json",
                                   "-o", str(report))
        process = subprocess.Popen(command, cwd=out.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            caught = wait_for_temporary(process, out)
            if caught:
                process.send_signal(signum)
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if caught and process.returncode not in (0, 1):  # the write and rename finished before the signal came
            return Ended(process.returncode, stdout, stderr, names_in(out), report.read_text(encoding="utf-8"))
    raise AssertionError(f"no write was caught in {INTERRUPT_ATTEMPTS} runs: the report was written too fast")


@pytest.mark.parametrize("signum, code, said", [
    (signal.SIGTERM, 143, "loopscan: terminated\n"),
    (signal.SIGINT, 130, "loopscan: interrupted\n"),
], ids=["sigterm", "ctrl-c"])
def test_a_signal_while_writing_leaves_the_old_report_whole_and_no_temporary_file(
    large_project: Path, tmp_path: Path, signum: int, code: int, said: str
) -> None:
    """A CI job cancelled, or Ctrl-C, while loopscan writes its report: one line, the last report still whole."""
    ended = interrupt_while_writing(large_project, tmp_path, signum)
    assert (ended.code, ended.out, ended.err) == (code, "", said)
    assert ended.left == ["report.json"]
    assert ended.report == OLD_REPORT


def test_a_signal_as_the_temporary_file_is_created_leaves_no_temporary_file(
    old_report: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real SIGTERM that arrives while ``open`` creates the temporary file.

    Seen in about one in ten SIGTERMs sent as soon as the temporary file
    appeared, on a loaded machine: Python ran the handler as ``os.open``
    returned, before the writer held the file's name. Here the signal is sent
    at that very point, every time; it must wait until the name is held.
    """
    real_open = os.open

    def open_then_terminated(path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        descriptor = real_open(path, flags, mode, **kwargs)
        if is_temporary(Path(path).name):
            # to this thread, which holds the signal: sent to the process, the kernel may hand it to another
            # thread of the test run, and Python would run loopscan's handler (installed by main()) at once
            signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
        return descriptor

    monkeypatch.setattr(loopscan.output.os, "open", open_then_terminated)
    result = check_into(run, old_report)
    assert (result.code, result.out, result.err) == (143, "", "loopscan: terminated\n")
    assert old_report.read_text(encoding="utf-8") == OLD_REPORT
    assert names_in(old_report.parent) == ["report.json"]


def test_a_reader_that_goes_away_ends_the_run_quietly_with_141(tmp_path: Path) -> None:
    """``loopscan check -f json | head -c 100``: the shell's convention for a closed pipe, not the findings' 1."""
    (tmp_path / "long.yaml").write_text(long_loop_manifest(400, ""), encoding="utf-8")  # a 600 KB report
    process = subprocess.Popen(loopscan_command("check", "long.yaml", "-f", "json", "-o", "/dev/stdout"),
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    try:
        assert process.stdout.read(100).startswith(b'{\n  "version"')
        process.stdout.close()  # more than a pipe holds is still unwritten
        errors = process.stderr.read()
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (process.returncode, errors) == (141, b"")


# Graphviz's dot: ended with loopscan, and limited by --timeout ---------------------------------

SLOW_DOT = """\
#!/bin/sh
# A stand-in for a Graphviz layout that takes a minute: it says its pid, then sleeps as that same process.
echo $$ > "$LOOPSCAN_TEST_DOT_PID.part" && mv "$LOOPSCAN_TEST_DOT_PID.part" "$LOOPSCAN_TEST_DOT_PID"
exec sleep 60
"""


@dataclass
class SlowDot:
    """A fake ``dot`` first on PATH, and the file where it writes its pid once it runs."""

    env: dict[str, str]
    pid_file: Path

    def pid(self) -> int | None:
        """The fake dot's pid, once it has started."""
        try:
            return int(self.pid_file.read_text(encoding="ascii"))
        except FileNotFoundError:
            return None


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def ends_within(pid: int, seconds: float) -> bool:
    """Whether process ``pid`` is gone within ``seconds``."""
    deadline = time.monotonic() + seconds
    while is_running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def slow_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowDot]:
    """A ``dot`` that sleeps 60 s, first on PATH (here and in child processes); killed after the test if left."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "dot").write_text(SLOW_DOT, encoding="utf-8")
    (folder / "dot").chmod(0o755)
    pid_file = tmp_path / "dot.pid"
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("LOOPSCAN_TEST_DOT_PID", str(pid_file))
    dot = SlowDot(dict(os.environ), pid_file)
    yield dot
    pid = dot.pid()
    if pid is not None and is_running(pid):  # the fake dot this test started, by its pid
        os.kill(pid, signal.SIGKILL)


def test_sigterm_while_dot_lays_out_ends_dot_too(project: Write, tmp_path: Path, slow_dot: SlowDot) -> None:
    """A cancelled CI job must not leave a minute-long Graphviz layout running behind it."""
    project("echo.yaml", ECHO_LOOP)
    process = subprocess.Popen(loopscan_command("graph", "echo.yaml", "-f", "svg", "-o", "graph.svg"),
                               cwd=tmp_path, env=slow_dot.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 30
        while slow_dot.pid() is None and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        dot = slow_dot.pid()
        assert dot is not None, "the fake dot never started"
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (process.returncode, stdout, stderr) == (143, "", "loopscan: terminated\n")
    assert ends_within(dot, 5), f"dot (pid {dot}) outlived loopscan"
    assert not (tmp_path / "graph.svg").exists()


def test_a_dot_slower_than_the_timeout_is_ended_with_one_line(project: Write, run: Run, slow_dot: SlowDot) -> None:
    project("echo.yaml", ECHO_LOOP)
    started = time.monotonic()
    result = run("graph", "echo.yaml", "-f", "svg", "--timeout", "1", "-o", "graph.svg")
    assert time.monotonic() - started < 10
    assert result.err == ("loopscan: error: Graphviz's dot did not finish within 1 s; draw the overview by pipeline "
                          "with --overview, or allow more time with --timeout SECONDS\n")
    assert_usage_error(result, "within 1 s")
    dot = slow_dot.pid()
    assert dot is not None
    assert ends_within(dot, 5), f"dot (pid {dot}) outlived its timeout"
    assert not os.path.exists("graph.svg")


# loops, graph and overrides name a manifest they could not use ----------------------------------

UNUSABLE = {
    "loops": "its loops are not listed",
    "graph": "it is not drawn",
    "overrides": "its overrides are not listed",
}
"""What each review command says it left out of a manifest it could not use."""


def assert_names_the_broken_manifest(result: Result, command: str) -> None:
    """Exit 1 and exactly one stderr line: ``broken.yaml:3:1``, LS001, the parser's words, what was left out."""
    assert result.code == 1, result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    prefix, end = "loopscan: broken.yaml:3:1: LS001 YAML syntax error: ", f"; {UNUSABLE[command]} {UNUSABLE_NOTE_END}"
    assert lines[0].startswith(prefix) and lines[0].endswith(end), lines[0]
    assert len(lines[0]) > len(prefix) + len(end)  # the parser's message, whichever YAML parser is installed


@pytest.mark.parametrize("command", UNUSABLE)
def test_a_review_of_only_a_broken_manifest_says_so_and_exits_1(project: Write, run: Run, command: str) -> None:
    project("broken.yaml", BROKEN_MANIFEST)
    assert_names_the_broken_manifest(run(command, "."), command)


SHOWN = {
    "loops": (["-f", "json"], lambda out: [loop["generate"] for loop in json.loads(out)["loops"]], ["echo:speak"]),
    "graph": (["-f", "mermaid"], lambda out: re.findall(r'subgraph c\d+\["([^<"]*)', out), ["echo"]),
    "overrides": (["-f", "json", "--today", TODAY],
                  lambda out: [(o["pipeline"], o["rule"], o["file"]) for o in json.loads(out)["overrides"]],
                  [("echo", "LS301", "echo.yaml")]),
}
"""For each review command: its options, what it shows of the good manifest, and what that must be."""


@pytest.mark.parametrize("command", SHOWN)
def test_a_broken_manifest_beside_a_good_one_still_shows_the_good_one(
    project: Write, run: Run, command: str
) -> None:
    project("broken.yaml", BROKEN_MANIFEST)
    project("echo.yaml", ECHO_LOOP_OVERRIDDEN)
    options, shown, expected = SHOWN[command]
    result = run(command, ".", *options)
    assert_names_the_broken_manifest(result, command)
    assert shown(result.out) == expected


# Chunked writes: a string over 2 GiB, and chunk boundaries inside characters ---------------------

UNICODE = "naïve 😀 — ünïcödé 日本語 ∑ 𝄞 " * 40
"""Characters of one to four UTF-8 bytes, so that 7-character chunks end at every kind of boundary."""


class RecordingBytes(io.BytesIO):
    """The bytes under a text stream, recording each write it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: Any) -> int:
        self.writes.append(bytes(data))
        return super().write(data)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Chunks of 7 characters; the list collects every chunk :func:`loopscan.output.chunks` makes."""
    monkeypatch.setattr(loopscan.output, "CHUNK", 7)
    made: list[bytes] = []
    real_chunks = loopscan.output.chunks

    def recording(data: str | bytes) -> Iterator[bytes]:
        for chunk in real_chunks(data):
            made.append(chunk)
            yield chunk

    monkeypatch.setattr(loopscan.output, "chunks", recording)
    return made


def test_write_stdout_splits_a_unicode_string_and_reassembles_it_exactly(
    monkeypatch: pytest.MonkeyPatch, small_chunks: list[bytes]
) -> None:
    recorder = RecordingBytes()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(recorder, encoding="utf-8"))
    loopscan.output.write_stdout(UNICODE)
    assert recorder.getvalue() == UNICODE.encode("utf-8")
    assert recorder.writes == small_chunks
    assert [chunk.decode("utf-8") for chunk in recorder.writes] == [
        UNICODE[start:start + 7] for start in range(0, len(UNICODE), 7)]


def test_write_output_splits_a_unicode_string_and_reassembles_it_exactly(
    tmp_path: Path, small_chunks: list[bytes]
) -> None:
    target = tmp_path / "report.txt"
    loopscan.output.write_output(target, UNICODE)
    assert target.read_bytes() == UNICODE.encode("utf-8")
    assert [chunk.decode("utf-8") for chunk in small_chunks] == [
        UNICODE[start:start + 7] for start in range(0, len(UNICODE), 7)]
    assert names_in(tmp_path) == ["report.txt"]


def test_a_report_written_in_small_chunks_is_the_report_on_stdout(
    project: Write, run: Run, small_chunks: list[bytes]
) -> None:
    """Through the CLI, with a non-ASCII id in the report: ``-o`` writes exactly what stdout shows."""
    project("echo.yaml", ECHO_LOOP.replace("speak", "spëak😀"))
    expected = json_report(run, "echo.yaml")
    assert "spëak😀" in expected
    small_chunks.clear()
    assert check_into(run, "report.json").code == 1
    assert Path("report.json").read_text(encoding="utf-8") == expected
    assert len(small_chunks) == -(-len(expected) // 7)


def test_write_stdout_to_a_text_only_stream_writes_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """A program embedding loopscan that swapped ``sys.stdout`` for a StringIO gets the text, and a clear error
    for a PNG."""
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stdout", captured)
    loopscan.output.write_stdout(UNICODE)
    assert captured.getvalue() == UNICODE
    with pytest.raises(loopscan.output.OutputError, match=r"^this output is binary: write it to a file with -o FILE$"):
        loopscan.output.write_stdout(b"\x89PNG")


HUGE = 2**31 + 100 * 2**20
"""Characters of the huge output: 100 MiB over the 2 GiB that one ``write`` on Linux cuts short."""


@pytest.mark.skipif(not os.environ.get("LOOPSCAN_SLOW_TESTS"),
                    reason="writes 2.1 GiB through a pipe (about 10 s, 2.5 GB of memory); "
                           "set LOOPSCAN_SLOW_TESTS=1 to run it")
def test_an_output_over_2_gib_arrives_whole_through_a_pipe() -> None:
    """One ``write`` of over 2 GiB writes only part of it; a report cut short must never look whole."""
    child = subprocess.Popen(
        [sys.executable, "-c", f"import loopscan.output; loopscan.output.write_stdout('x' * {HUGE})"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    received = 0
    try:
        while chunk := os.read(child.stdout.fileno(), 1 << 20):
            assert chunk.count(b"x") == len(chunk)
            received += len(chunk)
        errors = child.stderr.read()
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert (child.returncode, errors, received) == (0, b"", HUGE)
