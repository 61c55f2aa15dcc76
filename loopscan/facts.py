"""Facts about the linked graph that rules read, each computed once and shared.

Rules never walk the graph for these themselves: the strongly connected
components, witnesses and the provenance fixpoint are computed here, on first
use, and every rule reads the same result.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from loopscan.config import Policy
from loopscan.link import Linked
from loopscan.loops import cyclic_generate_steps, shortest_cycle
from loopscan.manifest import LoopDoc, Step
from loopscan.provenance import infer_provenance


@dataclass(frozen=True)
class Loop:
    """A generate step on a cycle, with everything on cycles through it."""

    generate: str
    nodes: tuple[str, ...]
    """The strongly connected component of the generate step, sorted."""
    gates: tuple[str, ...]
    caps: tuple[str, ...]
    documented_by: tuple[LoopDoc, ...]

    @property
    def name(self) -> str | None:
        """The name of the first ``loops`` entry that documents it."""
        return self.documented_by[0].id if self.documented_by else None


class Facts:
    """Derived facts about one project graph under one policy."""

    def __init__(self, linked: Linked, policy: Policy) -> None:
        self.linked = linked
        self.graph = linked.graph
        self.policy = policy

    def is_gate(self, node: str) -> bool:
        """A gate step whose method the policy accepts (a gate with no method is ``other``)."""
        attributes = self.graph.nodes[node]
        decl = attributes["decl"]
        return (attributes["kind"] == "gate" and isinstance(decl, Step)
                and (decl.method or "other") in self.policy.gate_methods)

    def is_cap(self, node: str) -> bool:
        """A step that caps the synthetic share of what it produces."""
        decl = self.graph.nodes[node]["decl"]
        return isinstance(decl, Step) and decl.mixing is not None and decl.mixing.max_synthetic is not None

    @cached_property
    def cyclic_generate_steps(self) -> dict[str, frozenset[str]]:
        """Each generate step on a loop, with the nodes of its strongly connected component."""
        return cyclic_generate_steps(self.graph)

    @cached_property
    def loops(self) -> list[Loop]:
        """Every loop, sorted by generate step; documented when a ``loops`` entry lists its generate step."""
        documenting: dict[str, list[LoopDoc]] = {}
        for manifest in self.linked.manifests:
            for doc in manifest.loops.values():
                for ref in doc.through:
                    node = self.linked.nodes.get(ref)
                    if node is not None:
                        documenting.setdefault(node, []).append(doc)
        return [
            Loop(
                generate=node,
                nodes=tuple(sorted(component)),
                gates=tuple(sorted(n for n in component if self.is_gate(n))),
                caps=tuple(sorted(n for n in component if self.is_cap(n))),
                documented_by=tuple(documenting.get(node, ())),
            )
            for node, component in sorted(self.cyclic_generate_steps.items())
        ]

    @cached_property
    def ungated(self) -> dict[str, list[str]]:
        """Generate steps on a cycle that passes no gate, each with its shortest such cycle."""
        return self._witnesses(cyclic_generate_steps(self.graph, removed=self.is_gate))

    @cached_property
    def uncapped(self) -> dict[str, list[str]]:
        """Generate steps on a cycle that passes no capping step, each with its shortest such cycle."""
        return self._witnesses(cyclic_generate_steps(self.graph, removed=self.is_cap))

    @cached_property
    def provenance(self) -> dict[str, str]:
        """The inferred provenance of every node."""
        return infer_provenance(self.graph)

    def _witnesses(self, found: dict[str, frozenset[str]]) -> dict[str, list[str]]:
        return {node: shortest_cycle(self.graph, node, component) for node, component in sorted(found.items())}
