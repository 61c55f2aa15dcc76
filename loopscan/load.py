"""Load step: read each candidate file once and turn its manifest into typed objects.

A YAML file is a manifest when its top-level mapping has the key ``loopscan``;
other YAML files are passed over. A file that cannot be read or parsed is
reported (LS001/LS006), never passed over: a manifest broken by a bad edit
must fail the check, not vanish from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loopscan.discover import Candidate
from loopscan.findings import Location, Problem
from loopscan.manifest import Manifest, build_manifest, is_manifest
from loopscan.schema import validate
from loopscan.yamlsource import MAX_BYTES, LoadProblem, load_bytes


@dataclass
class Loaded:
    manifests: list[Manifest] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """Files that were manifests, or could not be read or parsed (so might be)."""
    passed_over: list[tuple[str, str]] = field(default_factory=list)
    """Files that are not manifests, with the reason (``-v`` shows them)."""


def load_files(candidates: list[Candidate]) -> Loaded:
    """Read, parse, validate and build every candidate, in order."""
    loaded = Loaded()
    for candidate in candidates:
        _load_one(candidate, loaded)
    return loaded


def _load_one(candidate: Candidate, loaded: Loaded) -> None:
    shown = candidate.shown
    try:
        with open(candidate.path, "rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as err:
        # Unreadable, vanished mid-scan, or a folder: report it and go on with the rest.
        loaded.files.append(shown)
        message = f"cannot read file: {err.strerror or err}"
        loaded.problems.append(LoadProblem("LS001", Problem(message, Location(shown)), fatal=True))
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
        loaded.problems.append(LoadProblem("LS001", Problem(message, second), fatal=True))
        return
    document = documents[0]
    schema_problems = list(validate(document))
    if schema_problems:
        loaded.problems.extend(LoadProblem("LS002", problem) for problem in schema_problems)
        return
    loaded.manifests.append(build_manifest(document))
