"""The project as it was at a git revision, read from git's objects.

``loopscan diff --base REF`` analyses the base revision without checking
anything out: the file list comes from ``git ls-tree -r -z`` and the contents
from one ``git cat-file --batch``, so no work tree changes, no hook runs, no
filter or ``textconv`` program is started, and nothing from the repository is
executed. The files become :class:`~loopscan.sources.discover.Candidate` objects
that carry their bytes, and go through the same load pipeline as files on disk
(:func:`loopscan.sources.load.load_files`). They are shown under the paths they
would have if checked out in the work tree, so that the two revisions' findings
and nodes can be compared by name.

``REF...`` (three dots, as in ``git diff``) means the merge base of REF and
HEAD: what a pull request changed since it branched off.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from loopscan.config import CONFIG_NAMES, display_path
from loopscan.graph.globs import Glob, compile_glob
from loopscan.sources.discover import SKIPPED_FOLDERS, YAML_SUFFIXES, Candidate
from loopscan.sources.yamlsource import MAX_BYTES

_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",  # never wait for a password
    "GIT_OPTIONAL_LOCKS": "0",  # a read-only look leaves the index alone
    "GIT_NO_REPLACE_OBJECTS": "1",  # the objects the commit names, not local replacements
}
_GIT_CONFIG = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null")
"""Settings that could start a program from the repository's config, switched off for every git call."""

SYMLINK_MODE = "120000"
BLOB = "blob"


class GitError(Exception):
    """The base revision cannot be read; the message says why and what to do (exit 2)."""


@dataclass(frozen=True)
class Revision:
    """A resolved base revision: the commit, what the user typed, and the repository's top folder."""

    commit: str
    label: str
    """What the user asked for (``origin/main``), as messages name it; the ``...`` is dropped."""
    toplevel: Path


@dataclass(frozen=True)
class TreeFile:
    """One file of the tree at the revision: its path from the top folder, mode and object id."""

    path: str
    mode: str
    object_id: str


def _git(args: Sequence[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, **_GIT_ENV}
    try:
        return subprocess.run(["git", *_GIT_CONFIG, *args], cwd=cwd, input=stdin, capture_output=True,
                              env=env, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed: --base reads the base revision with git") from None


def _last_line(raw: bytes) -> str:
    """The last line of git's stderr: where it says what went wrong, after any hints."""
    text = raw.decode("utf-8", "replace").strip()
    return text.splitlines()[-1] if text else "no message"


def toplevel(cwd: Path) -> Path:
    """The top folder of the git work tree that holds ``cwd``."""
    done = _git(["rev-parse", "--show-toplevel"], cwd)
    if done.returncode != 0:
        raise GitError(f"{display_path(str(cwd))} is not inside a git repository: --base compares two revisions")
    return Path(done.stdout.decode("utf-8").strip())


EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
"""Git's id of the empty tree: the base of the first commit of a repository."""


def resolve(ref: str, cwd: Path, unborn_is_empty: bool = False, option: str = "--base") -> Revision:
    """The commit that ``ref`` names (``REF...``: the merge base of REF and HEAD), or a :class:`GitError`.

    A shallow clone that lacks the revision gets the one-line fix: fetch more history.
    ``unborn_is_empty``: ``HEAD`` of a repository with no commit yet is the empty
    tree (the first commit of a pre-commit hook adds everything).
    """
    top = toplevel(cwd)
    unborn = (unborn_is_empty and ref == "HEAD"
              and _git(["rev-parse", "--verify", "--quiet", "HEAD"], top).returncode != 0
              and not _git(["rev-list", "-n", "1", "--all"], top).stdout.strip())
    if unborn:
        return Revision(EMPTY_TREE, "HEAD (no commit yet)", top)
    merge_base = ref.endswith("...")
    name = ref[:-3] if merge_base else ref
    if not name or name.startswith("-"):
        raise GitError(f"{option} {ref!r} is not a git revision; name a branch, tag or commit such as origin/main")
    found = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}"], top)
    if found.returncode != 0:
        raise GitError(f"{option} {ref!r}: {_missing(name, top)}")
    commit = found.stdout.decode("ascii").strip()
    if merge_base:
        base = _git(["merge-base", commit, "HEAD"], top)
        if base.returncode != 0:
            raise GitError(f"{option} {ref!r}: {name} and HEAD have no merge base in this clone; "
                           f"{_deepen_fix(top) or 'they share no history'}")
        commit = base.stdout.decode("ascii").strip()
    return Revision(commit, name, top)


def _missing(name: str, top: Path) -> str:
    fix = _deepen_fix(top)
    if fix:
        return f"no revision {name!r} in this shallow clone; {fix}"
    return f"no revision {name!r} in this repository (a branch, tag or commit; 'git branch -a' lists branches)"


def _deepen_fix(top: Path) -> str:
    """The fix for a shallow clone (fetch more history), or "" when the clone is whole."""
    shallow = _git(["rev-parse", "--is-shallow-repository"], top)
    if shallow.stdout.decode("ascii", "replace").strip() != "true":
        return ""
    return ("fetch the history it needs with 'git fetch --deepen=100' (or 'git fetch --unshallow'; "
            "in GitHub Actions: actions/checkout with fetch-depth: 0)")


@functools.lru_cache(maxsize=4)
def tree_files(revision: Revision) -> tuple[TreeFile, ...]:
    """Every file of the commit's tree, by path from the top folder (``git ls-tree -r -z --full-tree``)."""
    listed = _git(["ls-tree", "-r", "-z", "--full-tree", revision.commit], revision.toplevel)
    if listed.returncode != 0:
        raise GitError(f"cannot list the files of {revision.label}: {_last_line(listed.stderr)}")
    files = []
    for entry in listed.stdout.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        mode, kind, object_id = meta.decode("ascii").split(" ")
        if kind == BLOB:
            files.append(TreeFile(path.decode("utf-8", "surrogateescape"), mode, object_id))
    return tuple(files)


def read_blobs(revision: Revision, object_ids: Iterable[str], limit: int = MAX_BYTES + 1) -> dict[str, bytes]:
    """The contents of each blob (up to ``limit`` bytes), read in one ``git cat-file --batch``."""
    wanted = list(dict.fromkeys(object_ids))
    if not wanted:
        return {}
    done = _git(["cat-file", "--batch"], revision.toplevel, stdin="".join(f"{oid}\n" for oid in wanted).encode())
    if done.returncode != 0:
        raise GitError(f"cannot read the files of {revision.label}: {_last_line(done.stderr)}")
    out = done.stdout
    contents: dict[str, bytes] = {}
    at = 0
    for object_id in wanted:
        end = out.index(b"\n", at)
        header = out[at:end].decode("ascii").split(" ")
        if len(header) != 3:  # "<oid> missing": an object a partial clone has not fetched
            raise GitError(f"cannot read {object_id} of {revision.label}: it is missing from this clone; "
                           "fetch it with 'git fetch --refetch'")
        size = int(header[2])
        contents[object_id] = out[end + 1:end + 1 + min(size, limit)]
        at = end + 1 + size + 1
    return contents


def base_candidates(revision: Revision, targets: Sequence[str], exclude: Sequence[str], root: Path) -> list[Candidate]:
    """The YAML files at the revision that a scan of ``targets`` would read in the work tree, with their bytes.

    ``targets`` are paths as given to the scan (files or folders); ``exclude``
    globs match paths relative to ``root``, as :func:`~loopscan.sources.discover.discover`
    does. Each candidate is shown under the path it would have if checked out.
    A symlink at the revision is passed over (its target is not read from the
    work tree, which is a different revision).
    """
    top = revision.toplevel
    excluded = [compile_glob(pattern) for pattern in exclude]
    scopes = [_tree_path(target, top) for target in targets]
    chosen: list[tuple[TreeFile, str]] = []
    passed: list[Candidate] = []
    for item in tree_files(revision):
        if not _in_scope(item.path, scopes):
            continue
        explicit = item.path in scopes
        parts = PurePosixPath(item.path).parts
        if not explicit and (not item.path.endswith(YAML_SUFFIXES) or SKIPPED_FOLDERS.intersection(parts[:-1])):
            continue
        absolute = os.path.join(top, *parts)
        if _excluded(absolute, root, excluded):
            continue
        shown = display_path(absolute)
        if item.mode == SYMLINK_MODE:
            passed.append(Candidate(absolute, shown, passed_over=f"a symlink at {revision.label}: not followed"))
            continue
        chosen.append((item, shown))
    contents = read_blobs(revision, [item.object_id for item, _ in chosen])
    found = [Candidate(os.path.join(top, *PurePosixPath(item.path).parts), shown, explicit=item.path in scopes,
                       content=contents[item.object_id]) for item, shown in chosen]
    return sorted([*found, *passed], key=lambda candidate: candidate.shown)


def _excluded(absolute: str, root: Path, excluded: Sequence[Glob]) -> bool:
    """Whether an ``exclude`` glob matches the file or a folder it is in, as discovery prunes folders."""
    if not excluded:
        return False
    relative = os.path.relpath(absolute, root)
    if any(pattern.match(relative) for pattern in excluded):
        return True
    folder = os.path.dirname(relative)
    while folder and not folder.startswith(".."):
        if any(pattern.match(folder) or pattern.match(folder + "/") for pattern in excluded):
            return True
        folder = os.path.dirname(folder)
    return False


def _tree_path(target: str, top: Path) -> str:
    """A scan target as a path from the top folder (``""`` for the top folder itself)."""
    relative = os.path.relpath(os.path.abspath(target), os.path.realpath(top))
    if relative.startswith(".."):
        relative = os.path.relpath(os.path.realpath(target), os.path.realpath(top))
    if relative.startswith(".."):
        raise GitError(f"path '{target}' lies outside the git repository at {top}")
    return "" if relative == "." else PurePosixPath(*Path(relative).parts).as_posix()


def _in_scope(path: str, scopes: Sequence[str]) -> bool:
    return any(scope == "" or path == scope or path.startswith(scope + "/") for scope in scopes)


@dataclass(frozen=True)
class BaseConfigFile:
    """The config file of the base revision: where it would be in the work tree, and its bytes."""

    path: Path
    content: bytes


def base_config_files(revision: Revision, head_config: Path | None, start: Path) -> Iterator[BaseConfigFile]:
    """The files the base revision may take its config from, nearest first.

    First the file at the head config's path, then, as
    :func:`loopscan.config.find_config` looks, each folder from ``start`` up to
    the repository's top folder in the tree of the revision. Whether a
    ``pyproject.toml`` holds ``[tool.loopscan]`` is for the caller to decide.
    """
    files = {item.path: item for item in tree_files(revision)}
    top = revision.toplevel
    wanted: list[str] = []
    if head_config is not None:
        wanted.append(_tree_path(str(head_config), top))
    folder = _tree_path(str(start), top)
    while True:
        wanted.extend(f"{folder}/{name}" if folder else name for name in (*CONFIG_NAMES, "pyproject.toml"))
        if not folder:
            break
        parent = str(PurePosixPath(folder).parent)
        folder = "" if parent == "." else parent
    for path in dict.fromkeys(wanted):
        item = files.get(path)
        if item is None or item.mode == SYMLINK_MODE:
            continue
        content = read_blobs(revision, [item.object_id])[item.object_id]
        yield BaseConfigFile(top.joinpath(*PurePosixPath(path).parts), content)
