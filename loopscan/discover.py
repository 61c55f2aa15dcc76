"""Find the YAML files a scan covers: files named directly, and folders walked recursively."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from loopscan.config import display_path
from loopscan.globs import glob_regex

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
    """Every YAML file under ``paths``, once each, sorted by shown path.

    Folders are walked recursively (symlinked folders too, once each, so a
    symlink loop ends); a file named directly is taken whatever its suffix.
    ``exclude`` globs match paths relative to ``root`` (the config's folder).
    A folder that cannot be listed (unreadable, or gone mid-scan) becomes a
    candidate with its ``error``, so that it is reported, not silently left out.
    """
    excluded = [glob_regex(pattern) for pattern in exclude]
    root = os.path.abspath(root)

    def is_excluded(path: str) -> bool:
        relative = os.path.relpath(os.path.abspath(path), root)
        return any(pattern.match(relative) or pattern.match(relative + "/") for pattern in excluded)

    found: dict[str, Candidate] = {}
    for path in paths:
        if not os.path.lexists(path):
            raise MissingPath(f"path '{path}' does not exist")
        if os.path.isdir(path):
            for file, error in _walk(path, is_excluded):
                real = os.path.realpath(file)
                found.setdefault(real, Candidate(file, display_path(file), error=error))
        elif not is_excluded(path):
            found[os.path.realpath(path)] = Candidate(path, display_path(path), explicit=True)
    return sorted(found.values(), key=lambda c: c.shown)


def _walk(top: str, is_excluded: Callable[[str], bool]) -> Iterator[tuple[str, str]]:
    """Each YAML file under ``top`` with "", and each folder that could not be listed with why."""
    seen: set[str] = set()
    unlisted: list[OSError] = []
    # os.walk(followlinks=True) never ends on a symlink loop, so keep the real
    # folders already visited and prune repeats.
    for folder, subfolders, files in os.walk(top, followlinks=True, onerror=unlisted.append):
        while unlisted:
            yield from _unlisted(unlisted.pop())
        real = os.path.realpath(folder)
        if real in seen:
            subfolders[:] = []
            continue
        seen.add(real)
        subfolders[:] = sorted(
            name for name in subfolders
            if name not in SKIPPED_FOLDERS and not is_excluded(os.path.join(folder, name))
        )
        for name in sorted(files):
            file = os.path.join(folder, name)
            if name.endswith(YAML_SUFFIXES) and not is_excluded(file):
                yield file, ""
    while unlisted:
        yield from _unlisted(unlisted.pop())


def _unlisted(err: OSError) -> Iterator[tuple[str, str]]:
    if err.filename is not None:
        yield os.fsdecode(err.filename), f"cannot read folder: {err.strerror or err}"
