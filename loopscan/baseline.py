"""Baselines: today's findings recorded with an expiry, so that a legacy fleet can adopt loopscan.

``loopscan baseline create --expires DATE`` writes every finding in force to
``.loopscan-baseline.json``; ``loopscan check --baseline FILE`` then reports
each finding an entry knows as baselined (it does not fail the run) until the
entry expires, and reports it again from then on. An entry matches on the
finding's rule and what it is about (:attr:`~loopscan.findings.Finding.identity`:
its node, else its loop, else its file and message), never on its line, so
edits elsewhere in a manifest keep it matched. An expiry is required: the
playbook's third failure mode is the exception that never ends. An entry that
matches no finding is reported, as LS605 reports an unused override: the
problem it recorded was fixed, and the entry would hide the next one.

The file is JSON with one entry per line, so that a bad entry is named by its line::

    {
      "loopscan_baseline": 1,
      "created": "2026-11-24",
      "entries": [
        {"rule": "LS301", "pipeline": "chat", "node": "chat:serve", "expires": "2027-03-31", "message": "..."}
      ]
    }
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from loopscan.findings import BaselineMark, Finding, Location
from loopscan.sources.yamlsource import load_bytes

FORMAT_KEY = "loopscan_baseline"
FORMAT_VERSION = 1
ENTRY_KEYS = {"rule", "pipeline", "node", "loop", "file", "message", "expires"}


class BaselineError(Exception):
    """The baseline file cannot be used; the message says where (file:line) and why."""


@dataclass(frozen=True)
class Entry:
    """One recorded finding: what it is about, until when it is accepted, and where the entry is written."""

    rule: str
    pipeline: str
    subject: str
    """The node, else the loop, else the file and message (as :attr:`Finding.identity` has it)."""
    expires: date
    location: Location
    message: str = ""

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.rule, self.pipeline, self.subject)

    @property
    def named(self) -> str:
        """``LS301 for 'chat:serve'``: the entry as a message names it."""
        return f"{self.rule} for '{self.subject.splitlines()[0]}'"


@dataclass(frozen=True)
class Baseline:
    file: str
    entries: tuple[Entry, ...]
    folder: str = "."
    """Where the baseline file lies: the files its entries name are relative to it."""


def _at_file(file: str, folder: str) -> str:
    """A finding's file as an entry writes it: relative to the baseline file's folder, so that it matches
    from any working directory.

    >>> _at_file("team/a.yaml", "team")
    'a.yaml'
    """
    return os.path.relpath(os.path.abspath(file), os.path.abspath(folder)).replace(os.sep, "/")


def _identity(finding: Finding, folder: str) -> tuple[str, str, str]:
    """:attr:`Finding.identity`, with a file of a finding about no node or loop as :func:`_at_file` writes it."""
    problem = finding.problem
    if problem.node or problem.loop:
        return finding.identity
    return (finding.rule, problem.pipeline or "", f"{_at_file(problem.location.file, folder)}\n{problem.message}")


def create(findings: Sequence[Finding], expires: date, today: date, folder: str = ".") -> tuple[str, int]:
    """The baseline file of every finding in force, each entry expiring on ``expires``, and how many it records.

    ``folder`` is where the baseline file is written: files are recorded relative to it.
    """
    lines = []
    for finding in findings:
        if not finding.in_force:
            continue
        problem = finding.problem
        entry: dict[str, Any] = {"rule": finding.rule, "pipeline": problem.pipeline or ""}
        if problem.node:
            entry["node"] = problem.node
        elif problem.loop:
            entry["loop"] = problem.loop
        else:
            entry["file"] = _at_file(problem.location.file, folder)
        entry["expires"] = expires.isoformat()
        entry["message"] = problem.message
        lines.append("    " + json.dumps(entry, ensure_ascii=False))
    unique = list(dict.fromkeys(lines))  # one entry per finding identity and message
    body = ",\n".join(unique)
    return (f'{{\n  "{FORMAT_KEY}": {FORMAT_VERSION},\n  "created": "{today.isoformat()}",\n  "entries": [\n'
            + body + ("\n" if body else "") + "  ]\n}\n"), len(unique)


def load(path: str, shown: str) -> Baseline:
    """Read and check a baseline file; :class:`BaselineError` with file:line for anything wrong in it."""
    try:
        with open(path, "rb") as stream:
            raw = stream.read()
    except OSError as err:
        raise BaselineError(f"cannot read baseline '{shown}': {err.strerror or err}") from None
    source = load_bytes(raw, shown)
    if source.problems:
        first = source.problems[0].problem
        raise BaselineError(f"{first.location}: {first.message}")
    document = source.documents[0] if source.documents else None
    data = document.data if document is not None else None
    if document is None or not isinstance(data, dict) or data.get(FORMAT_KEY) != FORMAT_VERSION:
        raise BaselineError(f"{shown}:1:1: not a loopscan baseline (it has no \"{FORMAT_KEY}\": {FORMAT_VERSION}); "
                            "write one with 'loopscan baseline create --expires DATE'")
    entries = data.get("entries")
    if not isinstance(entries, list):
        raise BaselineError(f"{document.location(('entries',))}: \"entries\" must be a list of entries")
    read = []
    for index, item in enumerate(entries):
        at = document.location(("entries", index))

        def fail(problem: str, key: str | None = None, at: Location = at, index: int = index) -> BaselineError:
            where = document.key_location(("entries", index, key)) if key else at
            return BaselineError(f"{where}: baseline entry {index + 1}: {problem}")

        if not isinstance(item, dict):
            raise fail("must be an object with \"rule\", \"node\" and \"expires\"")
        unknown = sorted(str(key) for key in item if key not in ENTRY_KEYS)
        if unknown:
            raise fail(f"unknown key {unknown[0]!r} (an entry has {', '.join(sorted(ENTRY_KEYS))})", unknown[0])
        for key in ENTRY_KEYS:
            if key in item and not isinstance(item[key], str):
                raise fail(f"\"{key}\" must be a string", key)
        if not item.get("rule"):
            raise fail("has no \"rule\"")
        if "expires" not in item:
            raise fail("has no \"expires\": every entry ends; add a date such as \"2027-03-31\"")
        try:
            expires = date.fromisoformat(item["expires"])
        except ValueError:
            raise fail(f"\"expires\" {item['expires']!r} is not a date (YYYY-MM-DD)", "expires") from None
        subject = item.get("node") or item.get("loop") or (
            f"{item['file']}\n{item.get('message', '')}" if item.get("file") else "")
        if not subject:
            raise fail("names no \"node\" (or \"loop\", or \"file\" and \"message\") for the finding it records")
        read.append(Entry(item["rule"], item.get("pipeline", ""), subject, expires, at, item.get("message", "")))
    return Baseline(shown, tuple(read), os.path.dirname(path) or ".")


def apply(findings: Sequence[Finding], baseline: Baseline, today: date) -> tuple[list[Finding], list[Entry]]:
    """Mark each finding a baseline entry knows (expired or not), and the entries that matched nothing.

    Overridden findings are left alone: the override already says why.
    """
    by_identity: dict[tuple[str, str, str], Entry] = {}
    for entry in baseline.entries:
        by_identity.setdefault(entry.identity, entry)
    used: set[tuple[str, str, str]] = set()
    marked = []
    for finding in findings:
        known = by_identity.get(_identity(finding, baseline.folder)) if finding.suppressed is None else None
        if known is None:
            marked.append(finding)
            continue
        used.add(known.identity)
        mark = BaselineMark(known.location, known.expires.isoformat(), expired=known.expires < today)
        marked.append(replace(finding, baselined=mark))
    unused = [entry for entry in baseline.entries if entry.identity not in used]
    return marked, unused
