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


def discover(paths: Iterable[str], exclude: Iterable[str] = (), root: str = ".") -> list[Candidate]:
    """Every YAML file under ``paths``, once each, sorted by shown path.

    Folders are walked recursively (symlinked folders too, once each, so a
    symlink loop ends); a file named directly is taken whatever its suffix.
    ``exclude`` globs match paths relative to ``root`` (the config's folder).
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
            for file in _walk(path, is_excluded):
                real = os.path.realpath(file)
                found.setdefault(real, Candidate(file, display_path(file)))
        elif not is_excluded(path):
            found[os.path.realpath(path)] = Candidate(path, display_path(path), explicit=True)
    return sorted(found.values(), key=lambda c: c.shown)


def _walk(top: str, is_excluded: Callable[[str], bool]) -> Iterator[str]:
    seen: set[str] = set()
    # os.walk(followlinks=True) never ends on a symlink loop, so keep the real
    # folders already visited and prune repeats.
    for folder, subfolders, files in os.walk(top, followlinks=True):
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
                yield file
