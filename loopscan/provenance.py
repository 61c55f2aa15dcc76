"""Inferred provenance: a data-flow fixpoint over the whole linked graph.

The lattice is ``human``, ``ai`` < ``mixed`` < ``unknown``; the join of
``human`` and ``ai`` is ``mixed``. What flows out of a step depends on its kind:

* ``generate``: everything it produces is ``ai``;
* ``ingest``: ``unknown`` without a synthetic-content classifier, ``mixed`` with one;
* a ``gate`` with ``method: classifier``: what comes in, except that data of
  ``unknown`` provenance comes out ``mixed`` (the classifier tags its records);
  AI output stays ``ai``, because reviewing AI output does not make it human;
* every other step: the join of its inputs (a model is not data: as an
  input it contributes nothing, so an embedding step keeps its data's
  provenance whatever model computes it).

An artifact holds the join of its declared provenance, of what steps write
into it, and of what steps write into an artifact whose URI overlaps it. A
declared label describes its own artifact only and never crosses a URI
overlap: a frozen human anchor under a prefix that another team declares
``mixed`` stays human. An artifact with no declared provenance and nothing
flowing into it is ``unknown``.

The worklist visits a node again only when what flows into it rises, and a
value can rise at most three times, so the work is linear in the size of the
graph, cycles included. Two breadth-first traces then find, for every node,
where its AI data and its data of unknown provenance entered the graph, so a
finding can name the generate step that AI data came from.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from loopscan.graph import GraphLike
from loopscan.manifest import Artifact, Step

_RANK = {"human": 1, "ai": 1, "mixed": 2, "unknown": 3}
ARTIFACT_KINDS = ("dataset", "model", "uri")


def join(a: str | None, b: str | None) -> str | None:
    """The least upper bound of two provenance values (None is "nothing yet").

    >>> join("human", "ai"), join("ai", "ai"), join("mixed", "unknown"), join(None, "human")
    ('mixed', 'ai', 'unknown', 'human')
    """
    if a is None or a == b:
        return b
    if b is None:
        return a
    if _RANK[a] == _RANK[b]:  # human and ai
        return "mixed"
    return a if _RANK[a] > _RANK[b] else b


def classified(value: str | None) -> str | None:
    """What a synthetic-content classifier makes of data: ``unknown`` becomes ``mixed``.

    >>> classified("unknown"), classified("ai"), classified("human"), classified(None)
    ('mixed', 'ai', 'human', None)
    """
    return "mixed" if value == "unknown" else value


_State = tuple[str, bool]
"""A node, and whether what reached it was written into it by a step (it may then cross a URI overlap)."""


@dataclass(frozen=True)
class Trace:
    """Where the data that reaches each node entered the graph: its nearest source, breadth-first."""

    first: dict[str, _State]
    parent: dict[_State, _State | None]

    def trail(self, node: str) -> tuple[str, ...]:
        """The nodes from the source to ``node``, both included; () when no traced data reaches it."""
        state = self.first.get(node)
        path: list[str] = []
        while state is not None:
            path.append(state[0])
            state = self.parent[state]
        return tuple(reversed(path))


@dataclass(frozen=True)
class ProvenanceFlow:
    """The fixpoint's result: each node's provenance, what flows into each artifact, and its sources."""

    value: dict[str, str]
    """The inferred provenance of every node (for a step: of what it outputs)."""
    inflow: dict[str, str | None]
    """For each artifact, the join of what flows into it (None when nothing does), its own label left out."""
    ai_trace: Trace
    """Sources of AI data: generate steps first, then datasets declared ``ai`` or ``mixed`` and classified ingests."""
    unknown_trace: Trace
    """Sources of data of unknown provenance: unclassified ingests first, then artifacts of unknown provenance."""

    def ai_source(self, node: str) -> tuple[str, ...]:
        """The trail from the nearest place AI data entered to ``node``; () when none reaches it."""
        return self.ai_trace.trail(node)

    def unknown_source(self, node: str) -> tuple[str, ...]:
        """The trail from the nearest place data of unknown provenance entered to ``node``; () when none does."""
        return self.unknown_trace.trail(node)


def infer_provenance(graph: GraphLike) -> dict[str, str]:
    """The inferred provenance of every node (for a step: of what it outputs).

    >>> import networkx as nx
    >>> g = nx.DiGraph([("m", "gen"), ("gen", "out"), ("out", "clean"), ("clean", "final")])
    >>> nx.set_node_attributes(g, {"gen": "generate", "clean": "transform"}, "kind")
    >>> nx.set_node_attributes(g, None, "decl")
    >>> infer_provenance(g)["final"]
    'ai'
    """
    return analyse_provenance(graph).value


def analyse_provenance(graph: GraphLike) -> ProvenanceFlow:
    """Run the fixpoint, then trace where AI data and data of unknown provenance entered.

    >>> import networkx as nx
    >>> g = nx.DiGraph([("gen", "raw"), ("raw", "clean"), ("clean", "corpus")])
    >>> nx.set_node_attributes(g, {"gen": "generate", "clean": "transform"}, "kind")
    >>> nx.set_node_attributes(g, {"raw": "dataset", "corpus": "dataset"}, "kind")
    >>> nx.set_node_attributes(g, None, "decl")
    >>> flow = analyse_provenance(g)
    >>> flow.inflow["corpus"], flow.ai_source("corpus")
    ('ai', ('gen', 'raw', 'clean', 'corpus'))
    """
    own = {node: _declared(attributes) for node, attributes in graph.nodes.items()
           if attributes.get("kind") in ARTIFACT_KINDS}
    written: dict[str, str | None] = {}
    overlapping: dict[str, str | None] = {}
    value: dict[str, str | None] = {}
    _settle(graph, own, written, overlapping, value, graph.nodes)
    unlabelled = [node for node, label in own.items() if label is None and value.get(node) is None]
    own.update(dict.fromkeys(unlabelled, "unknown"))
    _settle(graph, own, written, overlapping, value, unlabelled)

    inflow = {node: join(written.get(node), overlapping.get(node)) for node in own}

    def carries_ai(source: str, link: bool) -> bool:
        return _carried(graph, source, link, value, written) not in (None, "human")

    def carries_unknown(source: str, link: bool) -> bool:
        return _carried(graph, source, link, value, written) == "unknown"

    return ProvenanceFlow(
        value={node: value.get(node) or "unknown" for node in graph},
        inflow=inflow,
        ai_trace=_trace(graph, _ai_sources(graph, own), carries_ai),
        unknown_trace=_trace(graph, _unknown_sources(graph, own), carries_unknown),
    )


def _declared(attributes: dict[str, object]) -> str | None:
    decl = attributes.get("decl")
    return decl.provenance if isinstance(decl, Artifact) else None


def _settle(graph: GraphLike, own: dict[str, str | None], written: dict[str, str | None],
            overlapping: dict[str, str | None], value: dict[str, str | None], start: Iterable[str]) -> None:
    """The worklist: recompute a node when what flows into it rose, until nothing changes.

    ``written`` joins what reaches a node over plain edges (a step's inputs,
    or the steps writing an artifact); ``overlapping`` joins what steps wrote
    into the artifacts whose URIs overlap it (``link`` edges).
    """
    queue: deque[str] = deque(start)
    queued = set(queue)
    while queue:
        node = queue.popleft()
        queued.discard(node)
        value[node] = _out_value(graph.nodes[node], own.get(node), written.get(node), overlapping.get(node))
        for successor, edge in graph.succ[node].items():
            link = bool(edge.get("link"))
            target = overlapping if link else written
            joined = join(target.get(successor), _carried(graph, node, link, value, written))
            if joined != target.get(successor):
                target[successor] = joined
                if successor not in queued:
                    queued.add(successor)
                    queue.append(successor)


def _carried(graph: GraphLike, node: str, link: bool, value: dict[str, str | None],
             written: dict[str, str | None]) -> str | None:
    """What flows out of ``node`` over one edge.

    Over a URI overlap only what steps wrote into it (its label stays put).
    Nothing flows out of a model: a model is not data, and what a generate
    step makes of it is ``ai`` whatever the model was trained on.
    """
    if link:
        return written.get(node)
    return None if graph.nodes[node].get("kind") == "model" else value.get(node)


def _out_value(attributes: dict[str, object], own: str | None, written: str | None,
               overlapping: str | None) -> str | None:
    """What flows out of one node, given its label and what flows into it (None: nothing yet)."""
    kind = attributes.get("kind")
    decl = attributes.get("decl")
    if kind in ARTIFACT_KINDS:
        return join(join(own, written), overlapping)
    if kind == "generate":
        return "ai"
    if kind == "ingest":
        return "mixed" if _has_classifier(decl) else "unknown"
    if kind == "gate" and isinstance(decl, Step) and decl.method == "classifier":
        return classified(written)
    return written


def _has_classifier(decl: object) -> bool:
    """An ingest step that runs a synthetic-content classifier on what it ingests."""
    return isinstance(decl, Step) and bool(decl.classifier)


def _steps(graph: GraphLike, kind: str) -> list[str]:
    """The steps of one kind, sorted (so that the traces are deterministic)."""
    return sorted(node for node, attributes in graph.nodes.items() if attributes.get("kind") == kind)


def _ai_sources(graph: GraphLike, own: dict[str, str | None]) -> list[list[_State]]:
    """Generate steps; then datasets declared ``ai`` or ``mixed``, and ingests with a classifier."""
    generators = [(node, True) for node in _steps(graph, "generate")]
    labelled = [(node, False) for node in own if own[node] in ("ai", "mixed")]
    ingests = [(node, True) for node in _steps(graph, "ingest") if _has_classifier(graph.nodes[node].get("decl"))]
    return [generators, sorted(labelled + ingests)]


def _unknown_sources(graph: GraphLike, own: dict[str, str | None]) -> list[list[_State]]:
    """Ingests with no classifier; then artifacts of unknown provenance by label or for want of one."""
    ingests = [(node, True) for node in _steps(graph, "ingest") if not _has_classifier(graph.nodes[node].get("decl"))]
    labelled = [(node, False) for node in sorted(own) if own[node] == "unknown"]
    return [ingests, labelled]


def _trace(graph: GraphLike, tiers: list[list[_State]], carries: Callable[[str, bool], bool]) -> Trace:
    """Breadth-first from each tier of sources in turn; each node remembers the first source to reach it.

    ``carries(node, link)`` says whether the traced kind of data flows out of
    ``node`` over a plain edge (``link`` False) or over a URI overlap, which
    only what steps wrote into ``node`` crosses. Each node is reached at most
    twice (written into, or not), so the trace is linear.
    """
    parent: dict[_State, _State | None] = {}
    first: dict[str, _State] = {}
    for tier in tiers:
        queue: deque[_State] = deque()
        for state in tier:
            if state not in parent and state[0] not in first:
                parent[state] = None
                first[state[0]] = state
                queue.append(state)
        while queue:
            state = queue.popleft()
            node, was_written = state
            for successor in sorted(graph.succ[node]):
                link = bool(graph.succ[node][successor].get("link"))
                if (link and not was_written) or not carries(node, link):
                    continue
                if graph.nodes[successor].get("kind") == "generate":  # it starts AI data afresh
                    continue
                reached = (successor, not link)
                if reached in parent:
                    continue
                parent[reached] = state
                first.setdefault(successor, reached)
                queue.append(reached)
    return Trace(first, parent)
