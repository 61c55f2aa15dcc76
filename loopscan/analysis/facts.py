"""Facts about the linked graph that rules read, each computed once and shared.

Rules never walk the graph for these themselves: the strongly connected
components, witnesses and the provenance fixpoint are computed here, on first
use, and every rule reads the same result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from loopscan.analysis.cycles import (
    cyclic_generate_steps,
    generate_components,
    restricted,
    shortest_cycle,
    strongly_connected_components,
    successor_lists,
)
from loopscan.analysis.exposure import Exposure, Write, exposures, writes_into
from loopscan.analysis.provenance import ProvenanceFlow, analyse_provenance
from loopscan.config import Policy
from loopscan.findings import Waypoint
from loopscan.graph.link import Linked
from loopscan.sources.manifest import Artifact, LoopDoc, Step

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class Loop:
    """A generate step on a cycle, with its strongly connected component: every node that its
    output reaches and that reaches it again."""

    generate: str
    nodes: tuple[str, ...]
    """The strongly connected component of the generate step, sorted."""
    gates: tuple[str, ...]
    """The steps of the component that the policy accepts as gates."""
    caps: tuple[str, ...]
    """The steps of the component that carry ``mixing.max_synthetic``."""
    documented_by: tuple[LoopDoc, ...]
    """The ``loops`` entries that list the generate step in ``through``."""
    steps: tuple[str, ...] = ()
    """The steps of the component, sorted."""
    pipelines: tuple[str, ...] = ()
    """The pipelines whose nodes the component holds, sorted."""
    ungated: bool = False
    """Some cycle through the generate step passes no gate (LS301)."""
    uncapped: bool = False
    """Some cycle through the generate step passes no capping step (LS302)."""

    @property
    def name(self) -> str | None:
        """The name of the first ``loops`` entry that documents it."""
        return self.documented_by[0].id if self.documented_by else None


@dataclass(frozen=True)
class _ComponentSummary:
    """What every loop of one strongly connected component shares."""

    nodes: tuple[str, ...]
    steps: tuple[str, ...]
    pipelines: tuple[str, ...]
    gates: tuple[str, ...]
    caps: tuple[str, ...]


class Facts:
    """Derived facts about one project graph under one policy."""

    def __init__(self, linked: Linked, policy: Policy) -> None:
        self.linked = linked
        self.dataflow = linked.dataflow
        self.policy = policy

    @property
    def graph(self) -> nx.DiGraph:
        """The linked graph as a ``networkx.DiGraph`` (made on first use; the facts walk :attr:`dataflow`)."""
        return self.linked.graph

    def is_gate(self, node: str) -> bool:
        """A gate step whose method the policy accepts (a gate with no method is ``other``)."""
        attributes = self.dataflow.nodes[node]
        decl = attributes["decl"]
        return (attributes["kind"] == "gate" and isinstance(decl, Step)
                and (decl.method or "other") in self.policy.gate_methods)

    def is_cap(self, node: str) -> bool:
        """A step that caps the synthetic share of what it produces."""
        decl = self.dataflow.nodes[node]["decl"]
        return isinstance(decl, Step) and decl.mixing is not None and decl.mixing.max_synthetic is not None

    @cached_property
    def successor_lists(self) -> dict[str, list[str]]:
        """Each node's successors, sorted: what the loop searches walk."""
        return successor_lists(self.dataflow)

    @cached_property
    def components(self) -> list[list[str]]:
        """The strongly connected components of the whole graph, in reverse topological order.

        The one pass over the whole graph: the loops and the provenance fixpoint both start from it.
        """
        return list(strongly_connected_components(self.successor_lists))

    @cached_property
    def cyclic_generate_steps(self) -> dict[str, frozenset[str]]:
        """Each generate step on a loop, with the nodes of its strongly connected component."""
        return generate_components(self.dataflow, self.components, self.successor_lists)

    def is_unaccepted_gate(self, node: str) -> bool:
        """A gate step whose method the policy does not accept, so it counts as no gate."""
        return self.dataflow.nodes[node]["kind"] == "gate" and not self.is_gate(node)

    def declaration(self, node: str) -> Step | Artifact | None:
        """The step or artifact declared as ``node`` (None for a node known only by URI)."""
        decl = self.dataflow.nodes[node]["decl"]
        return decl if isinstance(decl, (Step, Artifact)) else None

    def artifact(self, node: str) -> Artifact | None:
        """The dataset or model declared as ``node`` (None for a step or a node known only by URI)."""
        decl = self.dataflow.nodes[node]["decl"]
        return decl if isinstance(decl, Artifact) else None

    def step(self, node: str) -> Step | None:
        """The step declared as ``node``, if it is one."""
        decl = self.dataflow.nodes[node]["decl"]
        return decl if isinstance(decl, Step) else None

    def kind(self, node: str) -> str:
        """What ``node`` is: a step kind (``generate``, ``train``...), ``dataset``, ``model`` or ``uri``."""
        kind: str = self.dataflow.nodes[node]["kind"]
        return kind

    @cached_property
    def step_nodes(self) -> frozenset[str]:
        """The nodes declared as steps (what a message about a cycle names)."""
        return frozenset(node for node, attributes in self.dataflow.nodes.items()
                         if isinstance(attributes["decl"], Step))

    def waypoints(self, nodes: Iterable[str]) -> tuple[Waypoint, ...]:
        """Each node with the place it is declared, for a witness a reviewer can follow.

        Each node's waypoint is made once, so long witnesses around one big loop share them.
        """
        nodes = tuple(nodes)
        made = self._waypoints
        for node in nodes:
            if node not in made:
                decl = self.declaration(node)
                made[node] = Waypoint(node, decl.location if decl is not None else None)
        return tuple(map(made.__getitem__, nodes))

    @cached_property
    def _waypoints(self) -> dict[str, Waypoint]:
        """The waypoints made so far, by node."""
        return {}

    @cached_property
    def loops(self) -> list[Loop]:
        """Every loop, sorted by generate step; documented when a ``loops`` entry lists its generate step.

        Generate steps in one strongly connected component share its summary
        (nodes, steps, gates, caps), computed once per component.
        """
        documenting = self._documenting_entries()
        summaries: dict[frozenset[str], _ComponentSummary] = {}
        loops = []
        for node, component in sorted(self.cyclic_generate_steps.items()):
            summary = summaries.get(component)
            if summary is None:
                summary = summaries[component] = self._summarise(component)
            loops.append(Loop(
                generate=node,
                nodes=summary.nodes,
                gates=summary.gates,
                caps=summary.caps,
                documented_by=tuple(documenting.get(node, ())),
                steps=summary.steps,
                pipelines=summary.pipelines,
                ungated=node in self.ungated,
                uncapped=node in self.uncapped,
            ))
        return loops

    @cached_property
    def loops_by_node(self) -> dict[str, tuple[Loop, ...]]:
        """Each node on a loop, with the loops whose component holds it (sorted by generate step)."""
        by_component: dict[frozenset[str], list[Loop]] = {}
        for loop in self.loops:
            by_component.setdefault(self.cyclic_generate_steps[loop.generate], []).append(loop)
        found: dict[str, tuple[Loop, ...]] = {}
        for component, loops in by_component.items():
            shared = tuple(loops)
            for node in component:
                found[node] = shared
        return found

    def loops_on(self, node: str) -> tuple[Loop, ...]:
        """The loops that ``node`` lies on: those of the strongly connected component holding it."""
        return self.loops_by_node.get(node, ())

    def loop_through(self, generate: str) -> Loop | None:
        """The loop whose generate step is ``generate``, if it lies on one."""
        return next((loop for loop in self.loops_on(generate) if loop.generate == generate), None)

    def witness(self, generate: str) -> list[str]:
        """The shortest cycle through a generate step on a loop, [] when it lies on none."""
        component = self.cyclic_generate_steps.get(generate)
        return shortest_cycle(self._within(component), generate, None) if component else []

    def _documenting_entries(self) -> dict[str, list[LoopDoc]]:
        """Each step listed in some ``loops`` entry's ``through``, with those entries in file order."""
        documenting: dict[str, list[LoopDoc]] = {}
        for manifest in self.linked.manifests:
            for doc in manifest.loops.values():
                for node in dict.fromkeys(self.linked.nodes.get(ref) for ref in doc.through):
                    if node is not None:
                        documenting.setdefault(node, []).append(doc)
        return documenting

    def _summarise(self, component: frozenset[str]) -> _ComponentSummary:
        nodes = tuple(sorted(component))
        steps = tuple(node for node in nodes if isinstance(self.dataflow.nodes[node]["decl"], Step))
        pipelines = {self.dataflow.nodes[node]["pipeline"] for node in nodes} - {None}
        return _ComponentSummary(
            nodes=nodes,
            steps=steps,
            pipelines=tuple(sorted(pipelines)),
            gates=tuple(node for node in steps if self.is_gate(node)),
            caps=tuple(node for node in steps if self.is_cap(node)),
        )

    @cached_property
    def ungated(self) -> dict[str, list[str]]:
        """Generate steps on a cycle that passes no gate, each with its shortest such cycle."""
        return self._witnesses(self._cyclic_without(self.is_gate))

    @cached_property
    def uncapped(self) -> dict[str, list[str]]:
        """Generate steps on a cycle that passes no capping step, each with its shortest such cycle."""
        return self._witnesses(self._cyclic_without(self.is_cap))

    def _cyclic_without(self, removed: Callable[[str], bool]) -> dict[str, frozenset[str]]:
        """The generate steps still on a cycle once ``removed`` nodes are gone.

        Such a cycle lies inside a loop's component, so only those nodes are searched:
        the search walks the loops' components alone, not the whole graph.
        """
        on_loops: set[str] = set().union(*set(self.cyclic_generate_steps.values()))
        kept = {node for node in on_loops if not removed(node)}
        adjacency = self.successor_lists
        within = {node: [head for head in adjacency[node] if head in kept] for node in kept}
        return cyclic_generate_steps(self.dataflow, adjacency=within)

    @property
    def provenance(self) -> dict[str, str]:
        """The inferred provenance of every node (one fixpoint, shared with :attr:`provenance_flow`)."""
        return self.provenance_flow.value

    def _witnesses(self, found: dict[str, frozenset[str]]) -> dict[str, list[str]]:
        return {node: shortest_cycle(self._within(component), node, None) for node, component in sorted(found.items())}

    def _within(self, component: frozenset[str]) -> dict[str, list[str]]:
        """The successor lists inside one component, made once per component and shared by its witnesses."""
        made = self._restricted
        found = made.get(component)
        if found is None:
            found = made[component] = restricted(self.successor_lists, component)
        return found

    @cached_property
    def _restricted(self) -> dict[frozenset[str], dict[str, list[str]]]:
        """The restricted successor lists made so far, by component."""
        return {}

    @cached_property
    def provenance_flow(self) -> ProvenanceFlow:
        """Inferred provenance, what flows into each artifact, and where its AI or unknown data entered."""
        order = [node for component in reversed(self.components) for node in component]
        return analyse_provenance(self.dataflow, self.successor_lists, order)

    @cached_property
    def writes(self) -> dict[str, tuple[Write, ...]]:
        """Each artifact that some step writes, directly or through an overlapping URI."""
        return writes_into(self.dataflow)

    @cached_property
    def exposed_models(self) -> dict[str, Exposure]:
        """Each model that feeds a generate step or lies on a loop, with why."""
        return exposures(self.dataflow, self.cyclic_generate_steps)
