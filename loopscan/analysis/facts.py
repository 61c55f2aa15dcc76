"""Facts about the linked graph that rules read, each computed once and shared.

Rules never walk the graph for these themselves: the strongly connected
components, witnesses and the provenance fixpoint are computed here, on first
use, and every rule reads the same result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from loopscan.analysis.cycles import (
    RootedCycles,
    generate_components,
    restricted,
    shortest_cycle,
    shortest_cycle_within,
    strongly_connected_components,
    successor_lists,
)
from loopscan.analysis.exposure import Exposure, Write, exposures, same_models, writes_into
from loopscan.analysis.provenance import ProvenanceFlow, analyse_provenance
from loopscan.config import Policy
from loopscan.findings import Waypoint
from loopscan.graph.dataflow import is_hub
from loopscan.graph.link import Linked, artifact_kind
from loopscan.sources.manifest import Artifact, LoopDoc, Ref, Role, Step, input_role

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class Loop:
    """A strongly connected component of the linked graph that holds a generate step on a cycle.

    However many generate steps the component holds, it is one loop: every
    node that their output reaches and that reaches them again. Findings stay
    per generate step (:attr:`ungated_generates`, :attr:`uncapped_generates`)
    and name the loop by :attr:`id`.
    """

    id: str
    """The name of the ``loops`` entry that documents it, else its first generate step (unique per project)."""
    generates: tuple[str, ...]
    """Its generate steps that lie on a cycle, sorted."""
    nodes: tuple[str, ...]
    """The strongly connected component, sorted, without the hubs of linking (they stand for links)."""
    gates: tuple[str, ...]
    """The steps of the component that the policy accepts as gates."""
    caps: tuple[str, ...]
    """The steps of the component that carry ``mixing.max_synthetic``."""
    documented_by: tuple[LoopDoc, ...] = ()
    """The ``loops`` entries that list one of its generate steps in ``through``, in file order."""
    steps: tuple[str, ...] = ()
    """The steps of the component, sorted."""
    pipelines: tuple[str, ...] = ()
    """The pipelines whose nodes the component holds, sorted."""
    ungated_generates: tuple[str, ...] = ()
    """Its generate steps with a cycle that passes no gate (LS301), sorted."""
    uncapped_generates: tuple[str, ...] = ()
    """Its generate steps with a cycle that passes no capping step (LS302), sorted."""
    on_policy: bool = False
    """One of its generate steps is an ``on_policy`` train step (its loop of one step holds no gate)."""

    @property
    def generate(self) -> str:
        """Its first generate step: where a finding about the loop as a whole (LS303) is reported."""
        return self.generates[0]

    @property
    def name(self) -> str | None:
        """The name of the first ``loops`` entry that documents it."""
        return self.documented_by[0].id if self.documented_by else None

    @property
    def ungated(self) -> bool:
        """Some cycle through one of its generate steps passes no gate."""
        return bool(self.ungated_generates)

    @property
    def uncapped(self) -> bool:
        """Some cycle through one of its generate steps passes no capping step."""
        return bool(self.uncapped_generates)


@dataclass(frozen=True)
class GenerateWitnesses:
    """The whole witnesses of one generate step of a loop, for ``loopscan loops --loop ID``."""

    generate: str
    shortest: tuple[Waypoint, ...]
    """Its shortest cycle."""
    ungated: tuple[Waypoint, ...]
    """Its shortest cycle that passes no gate (empty when every cycle passes one)."""
    uncapped: tuple[Waypoint, ...]
    """Its shortest cycle that passes no capping step (empty when every cycle passes one)."""


WITNESS_BUDGET = 8
"""How many times its size (nodes plus edges) the shortest-cycle searches of one component may look at."""


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
        """A gate step that stops a loop: the policy accepts its method, and it detects what the policy asks.

        A gate with no method is ``other``; what it detects is its ``detects``,
        else its method's default (:attr:`Step.detects`), and it must hold one
        of ``policy.loop_gate_detects``: a dedup-only gate removes copies, not
        generated content.
        """
        return self.gate_refusal(node) is None

    def gate_refusal(self, node: str) -> str | None:
        """Why a gate step does not stop a loop (``method`` or ``detects``), None when it does or is no gate."""
        attributes = self.dataflow.nodes[node]
        decl = attributes["decl"]
        if attributes["kind"] != "gate" or not isinstance(decl, Step):
            return "not a gate"
        if (decl.method or "other") not in self.policy.gate_methods:
            return "method"
        if set(decl.detects).isdisjoint(self.policy.loop_gate_detects):
            return "detects"
        return None

    def input_role(self, step: Step, ref: Ref) -> Role | None:
        """What input ``ref`` is to ``step`` (see ``manifest.input_role``); None when it names no node."""
        node = self.linked.nodes.get(ref)
        return None if node is None else input_role(ref, step.kind, artifact_kind(self.dataflow, node))

    def targets(self, step: Step) -> list[tuple[Ref, str]]:
        """The inputs a step learns to reproduce, each with its node: ``targets`` of a train step, and every
        input of another step that has no other role (a transform passes its inputs on)."""
        found = []
        for ref in step.inputs:
            node = self.linked.nodes.get(ref)
            role = self.input_role(step, ref)
            if node is not None and (role == "targets" or (role is None and step.kind != "train")):
                found.append((ref, node))
        return found

    def learners(self, node: str) -> list[str]:
        """The train steps that read what is written into ``node`` as ``targets``: directly, or through an
        artifact whose URI overlaps it (one link, or the two links of a hub, which stand for one)."""
        readers = {node}
        hubs = [node]
        while hubs:
            for head, edge in self.dataflow.succ[hubs.pop()].items():
                if edge.get("link") and head not in readers:
                    readers.add(head)
                    if is_hub(self.dataflow.nodes[head]):
                        hubs.append(head)
        return sorted({step for reader in readers for step, edge in self.dataflow.succ[reader].items()
                       if not edge.get("link") and edge.get("role") == "targets" and self.kind(step) == "train"})

    def trains_only_scorers(self, step: Step) -> bool:
        """A train step whose every output is a model used only as a ``scorer`` (a reward model, a classifier).

        What such a model outputs is a score, never text that trains a model, so
        the mixing rules of Play 2 (cap, anchor, ratio log) do not apply to it.
        """
        outputs = [node for ref in step.outputs if (node := self.linked.nodes.get(ref)) is not None]
        if step.kind != "train" or not outputs:
            return False
        for node in outputs:
            members = self.same_models.get(self._model_key.get(node, ""), [])
            uses = [edge.get("role") for member in members
                    for edge in self.dataflow.succ[member].values() if not edge.get("link")]
            if not uses or any(role != "scorer" for role in uses):
                return False
        return True

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
        """A gate step that counts as no gate: the policy does not accept its method or what it detects."""
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
        """Every loop, one per strongly connected component with a generate step on a cycle,
        sorted by its first generate step."""
        documenting = self._documenting_entries()
        by_component: dict[frozenset[str], list[str]] = {}
        for node, component in sorted(self.cyclic_generate_steps.items()):
            by_component.setdefault(component, []).append(node)
        loops = []
        taken: set[str] = set()
        ungated, uncapped = self.ungated, self.uncapped
        for component, generates in by_component.items():  # in order of first generate step
            nodes = tuple(sorted(node for node in component if not is_hub(self.dataflow.nodes[node])))
            steps = tuple(node for node in nodes if isinstance(self.dataflow.nodes[node]["decl"], Step))
            pipelines = {self.dataflow.nodes[node]["pipeline"] for node in nodes} - {None}
            documented_by = tuple(dict.fromkeys(doc for node in generates for doc in documenting.get(node, ())))
            loops.append(Loop(
                id=_unique(documented_by[0].id if documented_by else generates[0], generates[0], taken),
                generates=tuple(generates),
                nodes=nodes,
                gates=tuple(node for node in steps if self.is_gate(node)),
                caps=tuple(node for node in steps if self.is_cap(node)),
                documented_by=documented_by,
                steps=steps,
                pipelines=tuple(sorted(pipelines)),
                ungated_generates=tuple(node for node in generates if node in ungated),
                uncapped_generates=tuple(node for node in generates if node in uncapped),
                on_policy=any(getattr(self.step(node), "on_policy", False) for node in generates),
            ))
        return loops

    @cached_property
    def loop_by_node(self) -> dict[str, Loop]:
        """Each node on a loop, with that loop (components are disjoint: a node lies on at most one)."""
        return {node: loop for loop in self.loops for node in loop.nodes}

    @cached_property
    def loop_by_id(self) -> dict[str, Loop]:
        """Each loop by its :attr:`Loop.id`."""
        return {loop.id: loop for loop in self.loops}

    def loop_of(self, node: str) -> Loop | None:
        """The loop that ``node`` lies on, if any."""
        return self.loop_by_node.get(node)

    def loop_through(self, generate: str) -> Loop | None:
        """The loop that holds ``generate`` as one of its generate steps."""
        return self.loop_by_node.get(generate) if generate in self.cyclic_generate_steps else None

    def witnesses(self, loop: Loop) -> tuple[GenerateWitnesses, ...]:
        """The whole witnesses of every generate step of ``loop`` (one search per generate step)."""
        return tuple(GenerateWitnesses(
            generate=generate,
            shortest=self.waypoints(self.witness(generate)),
            ungated=self.waypoints(self.ungated.get(generate, ())),
            uncapped=self.waypoints(self.uncapped.get(generate, ())),
        ) for generate in loop.generates)

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

    @cached_property
    def ungated(self) -> dict[str, list[str]]:
        """Generate steps on a cycle that passes no gate, each with its shortest such cycle."""
        return self._witnesses(self._cyclic_without(self.is_gate, self.gated_on_policy))

    @cached_property
    def uncapped(self) -> dict[str, list[str]]:
        """Generate steps on a cycle that passes no capping step, each with its shortest such cycle."""
        return self._witnesses(self._cyclic_without(self.is_cap))

    def _cyclic_without(self, removed: Callable[[str], bool],
                        broken: frozenset[str] = frozenset()) -> dict[str, frozenset[str]]:
        """The generate steps still on a cycle without the ``removed`` nodes and the self-edges of ``broken``.

        Such a cycle lies inside a loop's component, so only those nodes are searched, and of them only
        those the generate steps reach.
        """
        on_loops: set[str] = set().union(*set(self.cyclic_generate_steps.values()))
        # only steps are gates or caps; the successor lists are shared, as the search leaves out what is not kept
        gone = {node for node in on_loops & self.step_nodes if removed(node)}
        adjacency = self.successor_lists
        within = {node: adjacency[node] for node in on_loops if node not in gone}
        for step in broken:
            for tail in self._own_samples(step) & within.keys():
                within[tail] = [head for head in within[tail] if head != step]
        # a cycle through a generate step lies among the nodes it reaches: the search starts from them alone
        generates = [node for node in self.cyclic_generate_steps if node in within]
        components = strongly_connected_components(within, roots=generates)
        return generate_components(self.dataflow, components, within, frozenset(generates))

    def _own_samples(self, step: str) -> frozenset[str]:
        """The nodes whose edge into an on-policy ``step`` is the step sampling from what it trains: the step
        itself, and the models it writes when it also reads them (``init``: it starts from its last weights)."""
        writes = {head for head, edge in self.dataflow.succ[step].items() if not edge.get("link")}
        return frozenset({step} | {tail for tail, edge in self.dataflow.pred[step].items()
                                   if tail in writes and edge.get("role") == "init"})

    @cached_property
    def gated_on_policy(self) -> frozenset[str]:
        """The ``on_policy`` train steps whose loop of one step is gated by a declared gate step.

        No gate step can lie on a step's edge to itself, so the gate of an
        on-policy loop is declared: a ``loops`` entry that lists the step in
        ``through`` names a gate in ``safeguards`` that stops loops. Its
        scorer (a reward model) is no gate.
        """
        gated: set[str] = set()
        for manifest in self.linked.manifests:
            for doc in manifest.loops.values():
                if any((node := self.linked.nodes.get(ref)) is not None and self.is_gate(node)
                       for ref in doc.safeguards):
                    gated.update(node for ref in doc.through if (node := self.linked.nodes.get(ref)) is not None
                                 and (step := self.step(node)) is not None and step.on_policy)
        return frozenset(gated)

    @property
    def provenance(self) -> dict[str, str]:
        """The inferred provenance of every node (one fixpoint, shared with :attr:`provenance_flow`)."""
        return self.provenance_flow.value

    def _witnesses(self, found: dict[str, frozenset[str]]) -> dict[str, list[str]]:
        """The shortest offending cycle of each generate step, within a budget per component.

        One breadth-first search per generate step is linear, but a component
        that holds thousands of generate steps, all a few steps from a node
        that reaches everything (a glob such as ``s3://**``), makes them
        quadratic together. So the searches of one component look at most
        :data:`WITNESS_BUDGET` times its size of successors; the generate steps
        left when that runs out get a cycle through the component's first
        generate step instead (:class:`RootedCycles`): a real offending cycle,
        not always the shortest.
        """
        by_component: dict[frozenset[str], list[str]] = {}
        for node, component in sorted(found.items()):
            by_component.setdefault(component, []).append(node)
        witnesses: dict[str, list[str]] = {}
        for component, generates in by_component.items():
            adjacency = self._within(component)
            budget = WITNESS_BUDGET * (len(adjacency) + sum(map(len, adjacency.values())))
            rooted: RootedCycles | None = None
            for node in generates:
                cycle, looked = shortest_cycle_within(adjacency, node, budget) if budget > 0 else (None, 0)
                budget -= looked
                if cycle is None:
                    budget = 0
                    rooted = rooted or RootedCycles(adjacency, generates[0])
                    cycle = rooted.through(node)
                witnesses[node] = cycle
        return dict(sorted(witnesses.items()))

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
        # Tarjan's algorithm pops a component's members last reached first: reversed, they come in the order
        # the search reached them, upstream first along its tree, and most settle on their first visit
        order = [node for component in reversed(self.components) for node in reversed(component)]
        return analyse_provenance(self.dataflow, self.successor_lists, order)

    @cached_property
    def writes(self) -> dict[str, tuple[Write, ...]]:
        """Each artifact that some step writes, directly or through an overlapping URI."""
        return writes_into(self.dataflow)

    @cached_property
    def same_models(self) -> dict[str, list[str]]:
        """The model nodes by the model they declare (one URI, one model)."""
        return same_models(self.dataflow)

    @cached_property
    def _model_key(self) -> dict[str, str]:
        return {node: key for key, nodes in self.same_models.items() for node in nodes}

    def declarations_of_model(self, node: str) -> tuple[Artifact, ...]:
        """Every declaration of the model that ``node`` declares, in file and line order."""
        nodes = self.same_models.get(self._model_key.get(node, ""), [node])
        found = [decl for other in nodes if (decl := self.artifact(other)) is not None]
        return tuple(sorted(found, key=lambda decl: (decl.document.file, decl.location.line)))

    def reporting_declaration(self, declarations: Sequence[Artifact]) -> Artifact:
        """Where a finding about a model declared more than once goes: the declaration in the manifest of a
        train step that writes it, else the first by file and line."""
        for decl in declarations:
            writes = self.writes.get(decl.qualified, ())
            if any(write.into == decl.qualified and self.kind(write.step) == "train" for write in writes):
                return decl
        return declarations[0]

    @cached_property
    def exposed_models(self) -> dict[str, Exposure]:
        """Each model that feeds a generate step or lies on a loop, with why."""
        return exposures(self.dataflow, self.cyclic_generate_steps)


def _unique(wanted: str, fallback: str, taken: set[str]) -> str:
    """``wanted`` if no loop has taken it yet, else ``wanted@fallback``; recorded as taken.

    >>> taken: set[str] = set()
    >>> _unique("feedback", "a:serve", taken), _unique("feedback", "b:serve", taken)
    ('feedback', 'feedback@b:serve')
    """
    chosen = wanted if wanted not in taken else f"{wanted}@{fallback}"
    taken.add(chosen)
    return chosen
