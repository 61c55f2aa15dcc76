"""What every rule reads: the linked manifests, the data-flow graph, the facts about it, and the policy.

The linter builds one :class:`Project` per run (load -> link -> analyse) and
hands it to every rule; nothing in it changes once it is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from loopscan.config import Policy
from loopscan.findings import Problem, RecordedProblem
from loopscan.graph.dataflow import DataFlow
from loopscan.sources.manifest import Manifest, Ref

if TYPE_CHECKING:
    import networkx as nx

    from loopscan.analysis.change import Change
    from loopscan.analysis.facts import Facts
    from loopscan.graph.observed import Observed


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
    load_problems: list[RecordedProblem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """Every file read as a manifest, or reported because it could not be read."""
    passed_over: list[tuple[str, str]] = field(default_factory=list)
    """YAML files that are not manifests, with the reason."""
    change: Change | None = None
    """The comparison with a base revision, in a ``loopscan diff`` run (what ``change``-scope rules read)."""
    observed: Observed | None = None
    """The observed lineage joined to the graph (``check --lineage``), None when none was given."""

    @property
    def graph(self) -> nx.DiGraph:
        """The linked graph as a ``networkx.DiGraph`` (made on first use; the built-in rules read :attr:`dataflow`)."""
        return self.facts.linked.graph

    def recorded(self, rule_id: str) -> list[Problem]:
        """The problems the load and link steps recorded for ``rule_id`` (an integrity rule, LS0xx)."""
        return [item.problem for item in self.load_problems if item.rule == rule_id]
