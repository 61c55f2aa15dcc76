"""Write a finished report or diagram to standard output or to the file ``--output`` names.

``--output PATH`` writes into the path the user named, and only there:

* a regular file, or a path that does not exist yet, is written atomically: to
  a temporary file beside it, renamed over it once whole. A run that fails or
  is interrupted leaves the old file whole and no temporary file behind. The
  new file keeps the mode (and, where allowed, the owner) of the file it
  replaces; a new file gets the mode the umask gives (0644 under umask 022);
* a symlink is followed, and its target is written as above;
* a FIFO, a character device (``/dev/null``), a socket or any other path that
  is not a regular file is opened and written into directly: replacing
  ``/dev/null`` with a regular file would break the machine;
* a path that is this process's own standard output or error (``-o
  /dev/stdout``, or a file the shell redirected stdout to) is written through
  that stream, so a shell's ``>>`` keeps appending.

Everything is written in chunks: one ``write`` of a string over 2 GiB writes
only part of it on Linux, and a report cut off mid-file must never look whole.

This module imports nothing from the engine, so the command line can use it
without loading the engine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

CHUNK = 1 << 20
"""Bytes (or characters) per write: far below the 2 GiB a single write can take."""

_NEW_FILE_MODE = 0o666
"""The mode a new file is asked for; the umask takes away from it, as for any program."""


class OutputError(Exception):
    """The output could not be written; the message names the path and the reason."""


def write_stdout(data: str | bytes) -> None:
    """Write ``data`` to standard output in chunks, and flush it.

    Text is encoded as UTF-8, chunk by chunk, so a report of several GiB is
    never copied whole. A program that embeds loopscan and swapped
    ``sys.stdout`` for a text stream gets the text written to that stream.
    """
    _write_stream(sys.stdout, data)


def write_output(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` (text is encoded as UTF-8) into ``path``, by the kind of file that path names.

    Raises :class:`OutputError` with a one-line reason when it cannot.
    """
    if os.fspath(path).endswith(("/", os.sep)):
        raise OutputError(f"cannot write '{path}': it names a folder; name a file")
    path = Path(path)
    try:
        info = os.stat(path)  # follows symlinks
    except FileNotFoundError:
        info = None
    except OSError as err:
        raise _error(path, err) from None
    if info is not None and _is_standard_stream(info):
        _write_stream(sys.stdout if _same_file(info, 1) else sys.stderr, data)
        return
    try:
        if info is None or stat.S_ISREG(info.st_mode):
            _replace_atomically(Path(os.path.realpath(path)), data, info)
        elif stat.S_ISDIR(info.st_mode):
            raise OutputError(f"cannot write '{path}': it is a folder; name a file")
        else:
            _write_into(path, data)
    except OSError as err:
        raise _error(path, err) from None


def existing_size(path: str | Path) -> int:
    """Bytes already in the regular file ``path``; 0 when it does not exist yet, cannot be read or is no file."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL in the path; append_output says why it cannot write there
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def append_output(path: str | Path, data: str) -> None:
    """Append ``data`` (UTF-8) to ``path``, creating it when it does not exist; what it holds is kept.

    This is how a GitHub step summary (``$GITHUB_STEP_SUMMARY``) is written:
    other tools of the same step may have written to it before. Raises
    :class:`OutputError` with a one-line reason when it cannot.
    """
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags, _NEW_FILE_MODE)
        try:
            write_all(descriptor, data)
        finally:
            os.close(descriptor)
    except (OSError, ValueError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise OutputError(f"cannot append to '{path}': {reason}") from None


def chunks(data: str | bytes) -> Iterator[bytes]:
    """``data`` as UTF-8 bytes, at most :data:`CHUNK` characters (or bytes) at a time.

    >>> [len(chunk) for chunk in chunks(b"x" * (CHUNK + 1))]
    [1048576, 1]
    >>> b"".join(chunks("na\\u00efve"))
    b'na\\xc3\\xafve'
    """
    for start in range(0, len(data), CHUNK):
        piece = data[start:start + CHUNK]
        yield piece.encode("utf-8") if isinstance(piece, str) else piece


def _replace_atomically(target: Path, data: str | bytes, existing: os.stat_result | None) -> None:
    """Write a temporary file beside ``target``, give it the old file's mode, and rename it over ``target``."""
    folder = target.parent
    temporary: Path | None = None
    try:
        with _signals_held():
            temporary, descriptor = _create_temporary(folder, target.name)
        try:
            if existing is not None:
                _keep_mode_and_owner(descriptor, existing)
            write_all(descriptor, data)
        finally:
            os.close(descriptor)
        os.replace(temporary, target)
        temporary = None
    finally:
        # Reached on an error, on Ctrl-C and on SIGTERM alike (the CLI turns signals into exceptions).
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back inside the block; they are handled as it ends.

    Between ``os.open`` creating the temporary file and the caller holding its
    name, a signal's exception would leave the file behind.
    """
    held = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX: no way to hold them
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _create_temporary(folder: Path, name: str) -> tuple[Path, int]:
    """A new, empty file ``.NAME.XXXXXXXX.tmp`` in ``folder``, created with the umask's mode.

    ``tempfile.mkstemp`` would create it 0600, and the report would end up unreadable to the
    team that shares the folder.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        candidate = folder / f".{name}.{os.urandom(4).hex()}.tmp"
        try:
            return candidate, os.open(candidate, flags, _NEW_FILE_MODE)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside '{folder / name}'")


def _keep_mode_and_owner(descriptor: int, existing: os.stat_result) -> None:
    os.fchmod(descriptor, stat.S_IMODE(existing.st_mode))
    with contextlib.suppress(OSError):  # only root may give a file away; others keep their own
        os.fchown(descriptor, existing.st_uid, existing.st_gid)


def _write_into(path: Path, data: str | bytes) -> None:
    """Open a FIFO, device or socket path for writing and write into it: no temporary, no rename."""
    flags = os.O_WRONLY | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    try:
        write_all(descriptor, data)
    finally:
        os.close(descriptor)


def write_all(descriptor: int, data: str | bytes) -> None:
    """Write all of ``data`` to an open file descriptor, a chunk at a time, going on after partial writes.

    ``os.write`` may write less than it is given (a pipe whose reader is slow,
    a signal, more than 2 GiB at once); the rest is written by the next call,
    and an error (a reader that went away: BrokenPipeError) is raised, never
    swallowed. Buffered streams are not used: a partial write there has been
    seen to end with the rest silently dropped.
    """
    for chunk in chunks(data):
        view = memoryview(chunk)
        while view:
            view = view[os.write(descriptor, view):]


def _write_stream(stream: TextIO, data: str | bytes) -> None:
    binary = getattr(stream, "buffer", None)
    if binary is None:  # a text stream with no bytes under it (io.StringIO)
        if isinstance(data, bytes):
            raise OutputError("this output is binary: write it to a file with -o FILE")
        for start in range(0, len(data), CHUNK):
            stream.write(data[start:start + CHUNK])
        stream.flush()
        return
    stream.flush()
    binary.flush()
    try:
        descriptor = binary.fileno()
    except (OSError, ValueError):  # a stream in memory: pytest's capture, or an embedding program's
        for chunk in chunks(data):
            binary.write(chunk)
        binary.flush()
        return
    write_all(descriptor, data)


def _is_standard_stream(info: os.stat_result) -> bool:
    return _same_file(info, 1) or _same_file(info, 2)


def _same_file(info: os.stat_result, descriptor: int) -> bool:
    try:
        other = os.fstat(descriptor)
    except OSError:
        return False
    return (info.st_dev, info.st_ino) == (other.st_dev, other.st_ino)


def _error(path: Path, err: OSError) -> OutputError:
    return OutputError(f"cannot write '{path}': {err.strerror or err}")
