"""What a check reports: locations, problems, and findings.

A rule yields :class:`Problem` objects (what is wrong and where). The linter
stamps each one with the rule's id, name and configured severity, which makes
it a :class:`Finding`. Renderers only ever see findings.
"""

from __future__ import annotations

import enum
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

T = TypeVar("T")

WITNESS_SHOWN = 20
"""How many nodes of a finding's witness every output format shows: the first and the last
half. A longer witness is elided in the middle, with a count; ``loopscan loops --loop ID``
writes a loop's whole witnesses."""

EVIDENCE_SHOWN = 10
"""How many observed events behind a finding the text output lists; JSON and SARIF give them all."""


class Severity(enum.IntEnum):
    """How serious a finding is; ordered so that ``error > warning > info``."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        """``Severity.parse("warning")`` -> ``Severity.WARNING``; ValueError otherwise."""
        try:
            return cls[text.upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, order=True, slots=True)
class Location:
    """A place in a file: 1-based line and column, path as shown to the user."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Waypoint:
    """One node of a witness cycle, with the place it is declared (if any)."""

    node: str
    location: Location | None = None


class Evidence(NamedTuple):
    """An observation behind a finding: one OpenLineage event of one run of one job, and where it was read.

    A named tuple of plain values, not a frozen dataclass holding a :class:`Location`: a million events make a
    million of them, and a tuple is made in less than half the time.
    """

    job: str
    """The job, ``namespace/name``."""
    run_id: str
    event_type: str
    """``START``, ``COMPLETE``, ``FAIL``, ...: the event's ``eventType``."""
    event_time: str
    """The event's ``eventTime``, as written."""
    file: str
    """The file the event was read from."""
    line: int
    """The line the event starts on."""

    @property
    def location(self) -> Location:
        return Location(self.file, self.line)

    def __str__(self) -> str:
        """``job chat/serve, run 0195..., 2026-03-01T10:00:00Z (events.jsonl:4)``."""
        return f"job {self.job}, run {self.run_id}, {self.event_time} ({self.file}:{self.line})"


def observed_note(evidence: Sequence[Evidence]) -> str:
    """The evidence of a finding in one line, for the outputs that give a finding one line (Markdown, GitHub).

    >>> item = Evidence("ns/job", "r1", "COMPLETE", "2026-03-01T10:30:00Z", "e.jsonl", 4)
    >>> observed_note([item]), observed_note([item, item])[-23:], observed_note([])
    (' (observed: job ns/job, run r1, 2026-03-01T10:30:00Z (e.jsonl:4))', 'and 1 more observation)', '')
    """
    if not evidence:
        return ""
    others = len(evidence) - 1
    more = f"; and {others:,} more observation{'s' if others > 1 else ''}" if others else ""
    return f" (observed: {evidence[0]}{more})"


@dataclass(frozen=True)
class Problem:
    """What a rule reports: a message at the YAML node a reviewer must change.

    ``node`` is the qualified id (``pipeline:id``) of the graph node the problem
    is about, ``loop`` the id of the loop it concerns (``Loop.id``; for a
    ``loops`` entry that matches none, the entry's name), and ``cycle`` the
    whole witness path for loop rules (renderers show it bounded:
    :func:`elided`). ``evidence`` holds the observed events a finding about
    observed lineage rests on.
    """

    message: str
    location: Location
    pipeline: str | None = None
    node: str | None = None
    loop: str | None = None
    cycle: tuple[Waypoint, ...] = ()
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class RecordedProblem:
    """A problem the load or link step found, kept for the integrity rule (LS0xx) that reports it.

    A file that is not valid YAML never reaches a rule, so the problem is
    recorded under its rule's id (one of the constants in
    :mod:`loopscan.integrity`) and the rule reports it; selection,
    severity and overrides then work as for every rule.
    """

    rule: str
    problem: Problem
    fatal: bool = False
    """True when the file could not be read at all (nothing after it is known)."""


@dataclass(frozen=True)
class Suppression:
    """The override that suppresses a finding; kept so JSON and SARIF can show it."""

    reason: str
    approved_by: str
    expires: str
    location: Location


NEW, UNCHANGED, UPDATED, ABSENT = "new", "unchanged", "updated", "absent"
STATES = (NEW, UNCHANGED, UPDATED, ABSENT)
"""SARIF's ``baselineState`` values: a finding not at the base, the same there, there with another message,
or there and fixed since."""


@dataclass(frozen=True)
class BaselineMark:
    """The baseline entry that matched a finding: where it is written and until when it holds."""

    location: Location
    expires: str
    expired: bool


@dataclass(frozen=True)
class Finding:
    """A problem stamped with its rule's identity and the configured severity."""

    rule: str
    name: str
    severity: Severity
    problem: Problem
    suppressed: Suppression | None = field(default=None, compare=False)
    state: str | None = field(default=None, compare=False)
    """Against a base revision (``loopscan diff``) or a baseline: one of :data:`STATES`; None otherwise."""
    baselined: BaselineMark | None = field(default=None, compare=False)
    """The baseline entry that knows this finding (``check --baseline``), in force or expired."""

    @property
    def location(self) -> Location:
        return self.problem.location

    @property
    def message(self) -> str:
        return self.problem.message

    @property
    def identity(self) -> tuple[str, str, str]:
        """What the finding is about, never where: its rule, pipeline, and node (else loop, else file and message).

        Two revisions' findings, a baseline's entries and SARIF fingerprints are matched on it.
        """
        problem = self.problem
        subject = problem.node or problem.loop or f"{problem.location.file}\n{problem.message}"
        return (self.rule, problem.pipeline or "", subject)

    @property
    def in_force(self) -> bool:
        """Neither suppressed by an override nor known to a baseline entry in force."""
        return self.suppressed is None and (self.baselined is None or self.baselined.expired)

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        loc = self.problem.location
        return (loc.file, loc.line, loc.column, self.rule, self.problem.node or "", self.message)


@dataclass(frozen=True)
class Elided:
    """A witness as the outputs show it: its first and last nodes, and how many lie between."""

    head: tuple[Waypoint, ...]
    omitted: int
    tail: tuple[Waypoint, ...]

    @property
    def length(self) -> int:
        """The length of the whole witness."""
        return len(self.head) + self.omitted + len(self.tail)

    def omitted_text(self, loop: str | None) -> str:
        """What stands for the omitted nodes, and the command that shows them.

        >>> Elided((), 4977, ()).omitted_text("feedback")
        '4,977 more nodes (loopscan loops --loop feedback shows the whole witness)'
        """
        command = f"loopscan loops --loop {shlex.quote(loop)}" if loop else "loopscan loops --format json"
        return f"{self.omitted:,} more nodes ({command} shows the whole witness)"


def elided(cycle: Sequence[Waypoint], limit: int = WITNESS_SHOWN) -> Elided:
    """The witness bounded to ``limit`` nodes, elided in the middle past it.

    >>> shown = elided([Waypoint(str(n)) for n in range(25)], limit=4)
    >>> [w.node for w in shown.head], shown.omitted, [w.node for w in shown.tail], shown.length
    (['0', '1'], 21, ['23', '24'], 25)
    >>> elided([Waypoint("a")]).omitted
    0
    """
    if len(cycle) <= limit:
        return Elided(tuple(cycle), 0, ())
    half = limit // 2
    return Elided(tuple(cycle[:half]), len(cycle) - limit, tuple(cycle[len(cycle) - (limit - half):]))
