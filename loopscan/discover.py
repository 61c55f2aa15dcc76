"""Find the YAML files a scan covers: files named directly, and folders walked recursively."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from loopscan.config import display_path
from loopscan.globs import compile_glob

YAML_SUFFIXES = (".yaml", ".yml")
SKIPPED_FOLDERS = frozenset({".git", ".hg", ".svn", ".tox", ".venv", "node_modules", "__pycache__"})


class MissingPath(Exception):
    """A path given on the command line does not exist."""


@dataclass(frozen=True)
class Candidate:
    """A YAML file to read: its real path, and the path shown to the user."""

    path: str
    shown: str
    explicit: bool = False
    error: str = ""
    """Why it cannot be read, when discovery already knows (a folder that cannot be listed)."""


def discover(paths: Iterable[str], exclude: Iterable[str] = (), root: str = ".") -> list[Candidate]:
    """Every YAML file under ``paths``, once each (however many links reach it), sorted by shown path.

    Folders are walked recursively (symlinked folders too, once each, so a
    symlink loop ends); a file named directly is taken whatever its suffix.
    ``exclude`` globs match paths relative to ``root`` (the config's folder).
    A folder that cannot be listed (unreadable, or gone mid-scan) becomes a
    candidate with its ``error``, so that it is reported, not silently left out.
    """
    excluded = [compile_glob(pattern) for pattern in exclude]
    root = os.path.abspath(root)

    def is_excluded(path: str) -> bool:
        relative = os.path.relpath(os.path.abspath(path), root)
        return any(pattern.match(relative) or pattern.match(relative + "/") for pattern in excluded)

    found: dict[object, Candidate] = {}
    for path in paths:
        if not os.path.lexists(path):
            raise MissingPath(f"path '{path}' does not exist")
        if os.path.isdir(path):
            for file, identity, error in _walk(path, is_excluded):
                found.setdefault(identity, Candidate(file, display_path(file), error=error))
        elif not is_excluded(path):
            found[_identity(path)] = Candidate(path, display_path(path), explicit=True)
    return sorted(found.values(), key=lambda c: c.shown)


def _identity(path: str, entry: os.DirEntry[str] | None = None) -> object:
    """What makes two paths one file or folder: its device and inode (symlinks followed).

    One stat per entry: ``os.path.realpath`` would stat every folder on the way, and
    across a tree a thousand folders deep that took half a minute. A path that cannot
    be stat'ed (a dangling symlink, a file that is gone) is its own identity.
    """
    try:
        info = entry.stat() if entry is not None else os.stat(path)
    except OSError:
        return os.path.abspath(path)
    return (info.st_dev, info.st_ino)


def _walk(top: str, is_excluded: Callable[[str], bool]) -> Iterator[tuple[str, object, str]]:
    """(path, identity, "") for each YAML file under ``top``; (path, identity, why) for a folder not listed.

    Top-down and sorted, like ``os.walk``, but with an explicit stack: ``os.walk``
    recurses (before Python 3.12), so a tree a thousand folders deep ended the scan
    with a RecursionError. Symlinked folders are followed, each real folder once,
    so a symlink loop ends.
    """
    seen: set[object] = set()
    stack: list[tuple[str, object]] = [(top, _identity(top))]
    while stack:
        folder, identity = stack.pop()
        if identity in seen:
            continue
        seen.add(identity)
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as err:
            yield folder, identity, f"cannot read folder: {err.strerror or err}"
            continue
        subfolders = []
        for entry in entries:
            try:
                is_folder = entry.is_dir()  # follows symlinks
            except OSError:
                is_folder = False
            path = os.path.join(folder, entry.name)
            if is_folder:
                if entry.name not in SKIPPED_FOLDERS and not is_excluded(path):
                    subfolders.append((path, _identity(path, entry)))
            elif entry.name.endswith(YAML_SUFFIXES) and not is_excluded(path):
                yield path, _identity(path, entry), ""
        stack.extend(reversed(subfolders))
