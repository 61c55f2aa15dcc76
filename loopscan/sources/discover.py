"""Find the YAML files a scan covers: files named directly, and folders walked recursively.

A scan stays inside what it was asked to scan. The scanned roots are the paths
it was given (resolved); a symlink found while walking that resolves outside
every root is neither followed nor read, but handed on as a candidate marked
``passed_over``, so that ``-v`` can say so. A committed ``root -> /`` link
otherwise made one scan walk the whole machine (98 s, 1.2 GB, and findings
naming files under /tmp and /proc). A path named directly is itself a root,
so it is followed even when it is a symlink. Only symlink entries are
resolved (``os.path.realpath`` stats every folder on the way), so big trees
stay fast.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from loopscan.config import display_path
from loopscan.graph.globs import compile_glob

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
    passed_over: str = ""
    """Why it is left unread on purpose (a symlink leading outside the scanned folders)."""
    content: bytes | None = None
    """The file's bytes when they come from elsewhere than the file system (a git revision)."""


def discover(paths: Iterable[str], exclude: Iterable[str] = (), root: str = ".") -> list[Candidate]:
    """Every YAML file under ``paths``, once each (however many links reach it), sorted by shown path.

    Folders are walked recursively (symlinked folders too, once each, so a
    symlink loop ends); a file named directly is taken whatever its suffix.
    ``exclude`` globs match paths relative to ``root`` (the config's folder).
    A folder that cannot be listed (unreadable, or gone mid-scan) becomes a
    candidate with its ``error``, so that it is reported, not silently left out.
    A symlink found while walking that resolves outside every path in ``paths``
    becomes a candidate with its ``passed_over`` reason, once per link, and is
    neither followed nor read.
    """
    paths = list(paths)
    excluded = [compile_glob(pattern) for pattern in exclude]
    root = os.path.abspath(root)
    scanned = _Roots(os.path.realpath(path) for path in paths)

    def is_excluded(path: str) -> bool:
        relative = os.path.relpath(os.path.abspath(path), root)
        return any(pattern.match(relative) or pattern.match(relative + "/") for pattern in excluded)

    found: dict[object, Candidate] = {}
    for path in paths:
        if not os.path.lexists(path):
            raise MissingPath(f"path '{path}' does not exist")
        if os.path.isdir(path):
            for candidate, identity in _walk(path, is_excluded, scanned):
                found.setdefault(identity, candidate)
        elif not is_excluded(path):
            found[_identity(path)] = Candidate(path, display_path(path), explicit=True)
    return sorted(found.values(), key=lambda c: c.shown)


class _Roots:
    """The real paths a scan was given: what a symlink may lead to and still be followed."""

    def __init__(self, real_paths: Iterable[str]) -> None:
        self._paths = frozenset(real_paths)
        self._prefixes = tuple({path.rstrip(os.sep) + os.sep for path in self._paths})

    def hold(self, real_path: str) -> bool:
        """Whether ``real_path`` is one of the roots or lies inside one."""
        return real_path in self._paths or real_path.startswith(self._prefixes)


def _outside(path: str, entry: os.DirEntry[str], scanned: _Roots) -> str:
    """Why ``entry`` is not followed (a symlink leading outside ``scanned``), or "" to follow it.

    Only symlinks can lead outside: the walk starts at a root and follows only
    links that stay inside one, so every other entry it meets is inside too.
    """
    if not entry.is_symlink():
        return ""
    target = os.path.realpath(path)
    if scanned.hold(target):
        return ""
    return f"symlink to {target}, outside the scanned folders: not followed"


def _link_identity(path: str, entry: os.DirEntry[str]) -> object:
    """The link itself, not what it leads to: each link left unfollowed is reported once."""
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return ("link", os.path.abspath(path))
    return ("link", info.st_dev, info.st_ino)


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


def _walk(top: str, is_excluded: Callable[[str], bool], scanned: _Roots) -> Iterator[tuple[Candidate, object]]:
    """(candidate, identity) for each YAML file under ``top``, each folder not listed, each link not followed.

    Top-down and sorted, like ``os.walk``, but with an explicit stack: ``os.walk``
    recurses (before Python 3.12), so a tree a thousand folders deep ended the scan
    with a RecursionError. Symlinked folders are followed, each real folder once,
    so a symlink loop ends; a symlink (to a folder or a YAML file) that leads
    outside ``scanned`` is not followed, and comes back marked ``passed_over``.
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
            yield Candidate(folder, display_path(folder), error=f"cannot read folder: {err.strerror or err}"), identity
            continue
        subfolders = []
        for entry in entries:
            path = os.path.join(folder, entry.name)
            is_folder = _is_folder(entry)
            if not _wanted(entry.name, path, is_folder, is_excluded):
                continue
            why = _outside(path, entry, scanned)
            if why:
                yield Candidate(path, display_path(path), passed_over=why), _link_identity(path, entry)
            elif is_folder:
                subfolders.append((path, _identity(path, entry)))
            else:
                yield Candidate(path, display_path(path)), _identity(path, entry)
        stack.extend(reversed(subfolders))


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` is a folder, or a symlink to one."""
    try:
        return entry.is_dir()  # follows symlinks
    except OSError:
        return False


def _wanted(name: str, path: str, is_folder: bool, is_excluded: Callable[[str], bool]) -> bool:
    """Whether the walk goes into this folder or reads this file (not skipped, excluded, or another suffix)."""
    if is_folder:
        return name not in SKIPPED_FOLDERS and not is_excluded(path)
    return name.endswith(YAML_SUFFIXES) and not is_excluded(path)
