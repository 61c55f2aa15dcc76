"""Load step: read each candidate file once and turn its manifest into typed objects.

A YAML file is a manifest when its top-level mapping has the key ``loopscan``;
other YAML files are passed over. A file that cannot be read or parsed is
reported (LS001/LS006), never passed over: a manifest broken by a bad edit
must fail the check, not vanish from it.

Only regular files are opened: a FIFO or a device file named like a manifest
(or a symlink to one, named on the command line or inside the scanned folders)
is reported without being read, since reading it could block forever or never end.

A manifest with schema errors is reported (LS002) and used in part: what its
errors leave usable is analysed, as :mod:`loopscan.sources.partial` decides.

A candidate that discovery marked ``passed_over`` (a symlink leading outside the
scanned folders) is never opened: it goes to ``passed_over`` with its reason, so
``-v`` says once that it was not followed, and it is not a finding.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from loopscan.findings import Location, Problem, RecordedProblem
from loopscan.integrity import YAML_SYNTAX
from loopscan.sources.discover import Candidate
from loopscan.sources.manifest import Manifest, build_manifest, is_manifest
from loopscan.sources.partial import Reading, leave_out_dependents, read_in_part, schema_problems
from loopscan.sources.schema import PIPELINE_SCHEMA, schema_errors
from loopscan.sources.yamlsource import MAX_BYTES, load_bytes


@dataclass
class Loaded:
    manifests: list[Manifest] = field(default_factory=list)
    problems: list[RecordedProblem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """Files that were manifests, or could not be read or parsed (so might be)."""
    passed_over: list[tuple[str, str]] = field(default_factory=list)
    """Files that are not manifests, or were left unread on purpose, with the reason (``-v`` shows them)."""


def load_files(candidates: list[Candidate]) -> Loaded:
    """Read, parse, validate and build every candidate, in order.

    A manifest with schema errors is built without its broken entries; once
    every file is read, what refers to a broken entry is left out too (it may
    be in another manifest), and then each schema error can say what it left out.
    """
    loaded = Loaded()
    readings: dict[int, Reading] = {}
    for candidate in candidates:
        _load_one(candidate, loaded, readings)
    if readings:
        broken = {index: reading.broken for index, reading in readings.items() if reading.broken}
        left = leave_out_dependents(loaded.manifests, broken, {i: readings[i].document for i in broken})
        loaded.manifests = left.manifests
        for index, reading in readings.items():
            dependents = {entry: found for (at, entry), found in left.dependents.items() if at == index}
            loaded.problems.extend(schema_problems(reading, dependents, loaded.manifests[index].pipeline))
    return loaded


def _load_one(candidate: Candidate, loaded: Loaded, readings: dict[int, Reading]) -> None:
    shown = candidate.shown
    if candidate.passed_over:
        loaded.passed_over.append((shown, candidate.passed_over))
        return
    try:
        raw = candidate.error or (read_regular_file(candidate.path, MAX_BYTES + 1) if candidate.content is None
                                  else candidate.content[:MAX_BYTES + 1])
    except OSError as err:
        raw = f"cannot read file: {err.strerror or err}"
    if isinstance(raw, str):
        # Unreadable, vanished mid-scan, not a regular file, or a folder that could not be
        # listed: report it once and go on with the rest.
        loaded.files.append(shown)
        loaded.problems.append(RecordedProblem(YAML_SYNTAX, Problem(raw, Location(shown)), fatal=True))
        return
    if len(raw) > MAX_BYTES and b"loopscan" not in raw:
        loaded.passed_over.append((shown, "larger than a manifest can be and never mentions loopscan"))
        return

    source = load_bytes(raw, shown)
    if not source.readable:
        loaded.files.append(shown)
        loaded.problems.extend(source.problems)
        return
    documents = [document for document in source.documents if is_manifest(document)]
    if not documents:
        loaded.passed_over.append((shown, "no top-level 'loopscan' key"))
        return

    loaded.files.append(shown)
    loaded.problems.extend(source.problems)
    if len(source.documents) > 1:
        second = source.documents[1].start
        message = f"a manifest file holds one YAML document; this one has {len(source.documents)}"
        loaded.problems.append(RecordedProblem(YAML_SYNTAX, Problem(message, second), fatal=True))
        return
    document = documents[0]
    errors = schema_errors(PIPELINE_SCHEMA, document.data)
    if not errors:
        loaded.manifests.append(build_manifest(document))
        return
    reading = read_in_part(document, errors)
    if not reading.usable:
        loaded.problems.extend(schema_problems(reading, {}, ""))
        return
    readings[len(loaded.manifests)] = reading
    loaded.manifests.append(build_manifest(document, left_out=reading.broken))


_NOT_REGULAR = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_regular_file(path: str, limit: int) -> bytes | str:
    """Up to ``limit`` bytes of a regular file, or why the file was not read.

    The type is checked before opening (opening a device can have effects of its
    own) and again on the open file, which is opened non-blocking, so a file
    swapped for a FIFO in between cannot hang the scan either. OSError when the
    file cannot be opened or read.
    """
    reason = _not_regular(os.stat(path).st_mode)
    if reason:
        return reason
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with open(descriptor, "rb") as stream:
        status = os.fstat(descriptor)
        reason = _not_regular(status.st_mode)
        if reason:
            return reason
        # Asked for `limit` bytes at once, a read sets aside that much memory (8 MiB) for a file
        # of a few KiB, every file: ask for one byte more than its size, and go on only if it grew.
        raw = stream.read(min(limit, status.st_size + 1))
        if len(raw) == status.st_size + 1 and len(raw) < limit:
            raw += stream.read(limit - len(raw))
        return raw


def _not_regular(mode: int) -> str:
    if stat.S_ISREG(mode):
        return ""
    kind = next((name for test, name in _NOT_REGULAR if test(mode)), "not a regular file")
    return f"cannot read file: it is {kind}, not a regular file"

