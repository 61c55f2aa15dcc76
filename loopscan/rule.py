"""The rule interface: metadata plus one function from the analysed project to problems.

A rule module looks like this (see ``rules/`` for the real ones)::

    from loopscan.rule import Project, rule

    @rule("LS305", "replace-in-loop", severity="warning", play=3)
    def check(project: Project) -> Iterator[Problem]:
        '''One line saying what the rule checks.

        ## Why is this bad?
        ...
        ## Example
        ...
        ## Fix
        ...
        '''
        for ...:
            yield Problem(message, location, pipeline=..., node=...)

The function's docstring is the rule's documentation (``loopscan explain``).
A rule reads the project and its facts; it never loads files, prints, or
calls another rule. The linter stamps each problem with the rule's id, name
and configured severity.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from loopscan.config import Policy
from loopscan.findings import Problem, Severity
from loopscan.graph.dataflow import DataFlow
from loopscan.sources.manifest import Manifest, Ref
from loopscan.sources.yamlsource import LoadProblem

if TYPE_CHECKING:
    import networkx as nx

    from loopscan.analysis.facts import Facts

PLAYS = {
    0: "manifest integrity",
    1: "Play 1: provenance",
    2: "Play 2: mixing ratios",
    3: "Play 3: recursive loops",
    4: "Play 4: diversity monitoring",
    5: "Play 5: response drill",
    6: "governance",
}


@dataclass
class Project:
    """What every rule reads: the linked manifests, the graph and the facts about it."""

    manifests: list[Manifest]
    dataflow: DataFlow
    """The linked graph as plain dicts: ``dataflow.nodes[node]`` holds ``kind``, ``pipeline`` and ``decl``."""
    nodes: dict[Ref, str]
    """Each reference that names a graph node (inputs, outputs, anchors, eval sets, loop steps)."""
    facts: Facts
    policy: Policy
    today: date
    load_problems: list[LoadProblem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """Every file read as a manifest, or reported because it could not be read."""
    passed_over: list[tuple[str, str]] = field(default_factory=list)
    """YAML files that are not manifests, with the reason."""

    @property
    def graph(self) -> nx.DiGraph:
        """The linked graph as a ``networkx.DiGraph`` (made on first use; the built-in rules read :attr:`dataflow`)."""
        return self.facts.linked.graph


CheckFunction = Callable[[Project], Iterable[Problem]]


@dataclass(frozen=True)
class Rule:
    """A rule's identity, its documentation and its check."""

    id: str
    name: str
    severity: Severity
    play: int
    check: CheckFunction = field(repr=False, compare=False)
    doc: str = field(default="", repr=False, compare=False)

    @property
    def summary(self) -> str:
        """The first line of the docs: what the rule checks, in one sentence."""
        return self.doc.split("\n", 1)[0].strip()

    @property
    def play_label(self) -> str:
        return PLAYS.get(self.play, f"play {self.play}")


def rule(rule_id: str, name: str, *, severity: str, play: int) -> Callable[[CheckFunction], Rule]:
    """Make a :class:`Rule` of a check function; its docstring becomes the docs.

    >>> @rule("LS999", "example", severity="info", play=3)
    ... def check(project):
    ...     '''Reports nothing.'''
    ...     return []
    >>> check.id, check.severity.label, check.summary
    ('LS999', 'info', 'Reports nothing.')
    """

    def make(function: CheckFunction) -> Rule:
        return Rule(rule_id, name, Severity.parse(severity), play, function, inspect.getdoc(function) or "")

    return make


def recorded_problems(project: Project, rule_id: str) -> list[Problem]:
    """The problems of ``rule_id`` that the load and link steps recorded (LS0xx)."""
    return [item.problem for item in project.load_problems if item.rule == rule_id]
