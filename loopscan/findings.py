"""What a check reports: locations, problems, and findings.

A rule yields :class:`Problem` objects (what is wrong and where). The linter
stamps each one with the rule's id, name and configured severity, which makes
it a :class:`Finding`. Renderers only ever see findings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


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


@dataclass(frozen=True, order=True)
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


@dataclass(frozen=True)
class Problem:
    """What a rule reports: a message at the YAML node a reviewer must change.

    ``node`` is the qualified id (``pipeline:id``) of the graph node the problem
    is about, ``loop`` the name of the documented loop it concerns, and
    ``cycle`` the witness path for loop rules.
    """

    message: str
    location: Location
    pipeline: str | None = None
    node: str | None = None
    loop: str | None = None
    cycle: tuple[Waypoint, ...] = ()


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


@dataclass(frozen=True)
class Finding:
    """A problem stamped with its rule's identity and the configured severity."""

    rule: str
    name: str
    severity: Severity
    problem: Problem
    suppressed: Suppression | None = field(default=None, compare=False)

    @property
    def location(self) -> Location:
        return self.problem.location

    @property
    def message(self) -> str:
        return self.problem.message

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        loc = self.problem.location
        return (loc.file, loc.line, loc.column, self.rule, self.problem.node or "", self.message)
