"""Inferred provenance: a data-flow fixpoint over the whole linked graph.

The lattice is ``human``, ``ai`` < ``mixed`` < ``unknown``; the join of
``human`` and ``ai`` is ``mixed``. What flows out of a step depends on its kind:

* ``generate``: everything it produces is ``ai``;
* ``ingest``: ``unknown`` without a synthetic-content classifier, ``mixed`` with one
  (a ``classifier`` that detects ``synthetic``: a quality classifier tags nothing);
* a ``gate`` that detects ``synthetic`` (``method: classifier`` or
  ``human-review`` by default, or ``detects: [synthetic, ...]``): what comes in,
  except that data of ``unknown`` provenance comes out ``mixed`` (the gate tags
  its records); AI output stays ``ai``, because reviewing AI output does not
  make it human;
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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from loopscan.graph.dataflow import GraphLike, ThroughHubs, is_hub
from loopscan.sources.manifest import Artifact, Step

_RANK = {"human": 1, "ai": 1, "mixed": 2, "unknown": 3}
ARTIFACT_KINDS = ("dataset", "model", "uri")


def join(a: str | None, b: str | None) -> str | None:
    """The least upper bound of two provenance values (None is "nothing yet").

    The fixpoint computes it as ``|`` on bit sets (:data:`_BITS`).

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



def analyse_provenance(graph: GraphLike, successors: Mapping[str, Sequence[str]] | None = None,
                       order: Iterable[str] | None = None) -> ProvenanceFlow:
    """Run the fixpoint, then trace where AI data and data of unknown provenance entered.

    ``successors`` is each node's successors, sorted (``Facts.successor_lists``),
    when the caller already has them. ``order`` is every node, upstream before
    downstream (the strongly connected components in topological order): the
    fixpoint then settles most nodes on their first visit. The result does not
    depend on it.

    >>> import networkx as nx
    >>> g = nx.DiGraph([("gen", "raw"), ("raw", "clean"), ("clean", "corpus")])
    >>> nx.set_node_attributes(g, {"gen": "generate", "clean": "transform"}, "kind")
    >>> nx.set_node_attributes(g, {"raw": "dataset", "corpus": "dataset"}, "kind")
    >>> nx.set_node_attributes(g, None, "decl")
    >>> flow = analyse_provenance(g)
    >>> flow.inflow["corpus"], flow.ai_source("corpus")
    ('ai', ('gen', 'raw', 'clean', 'corpus'))
    """
    shape = _Shape(graph)
    own = {node: _BITS[_declared(attributes)] for node, attributes in graph.nodes.items()
           if attributes.get("kind") in ARTIFACT_KINDS and node not in shape.hubs}
    written: dict[str, int] = {}
    overlapping: dict[str, int] = {}
    value: dict[str, int] = {}
    _settle(shape, own, written, overlapping, value, graph.nodes if order is None else order)
    unlabelled = [node for node, label in own.items() if not label and not value.get(node)]
    own.update(dict.fromkeys(unlabelled, _UNKNOWN))
    _settle(shape, own, written, overlapping, value, unlabelled)

    inflow = {node: _LABELS[written.get(node, 0) | overlapping.get(node, 0)] for node in own}
    out_plain = {node: (0 if node in shape.models else bits) for node, bits in value.items()}
    ordered = successors if successors is not None else {node: sorted(graph.succ[node]) for node in graph}
    def carries_ai(bits: int) -> bool:
        return bits not in (0, _HUMAN)

    def carries_unknown(bits: int) -> bool:
        return bits == _UNKNOWN

    return ProvenanceFlow(
        value={node: _LABELS[value.get(node, 0)] or "unknown" for node in graph},
        inflow=inflow,
        ai_trace=_trace(graph, ordered, shape, _ai_sources(shape, own), carries_ai, out_plain, written),
        unknown_trace=_trace(graph, ordered, shape, _unknown_sources(shape, own), carries_unknown, out_plain,
                             written),
    )


_HUMAN, _AI, _MIXED, _UNKNOWN = 1, 2, 3, 7
_BITS: dict[str | None, int] = {None: 0, "human": _HUMAN, "ai": _AI, "mixed": _MIXED, "unknown": _UNKNOWN}
"""The lattice as bit sets, so that :func:`join` is ``|``: human 1 | ai 2 = mixed 3, and unknown 7 holds both."""
_LABELS: dict[int, str | None] = {bits: label for label, bits in _BITS.items()}

_JOINED, _CONSTANT, _CLASSIFIED, _PASSED_ON = range(4)
"""How a node's value follows from what flows into it, by its kind (the list at the top of this module):
the join of its label and its inflows (an artifact), a constant (a generate or ingest step), its inflow
with ``unknown`` made ``mixed`` (a classifier gate), or its inflow as it is (any other step)."""


class _Shape:
    """What the fixpoint needs of each node, looked up once: how its value is made, and which kind it is."""

    def __init__(self, graph: GraphLike) -> None:
        self.succ = graph.succ
        self.rule: dict[str, int] = {}
        self.constant: dict[str, int] = {}
        self.models: set[str] = set()
        self.generates: set[str] = set()
        self.ingests: list[str] = []
        self.hubs: set[str] = set()
        for node, attributes in graph.nodes.items():
            kind = attributes.get("kind")
            decl = attributes.get("decl")
            if is_hub(attributes):
                self.hubs.add(node)
            if kind in ARTIFACT_KINDS:
                self.rule[node] = _JOINED
            elif kind == "generate":
                self.rule[node], self.constant[node] = _CONSTANT, _AI
            elif kind == "ingest":
                self.rule[node], self.constant[node] = _CONSTANT, (_MIXED if _has_classifier(decl) else _UNKNOWN)
            elif kind == "gate" and isinstance(decl, Step) and "synthetic" in decl.detects:
                self.rule[node] = _CLASSIFIED
            else:
                self.rule[node] = _PASSED_ON
            if kind == "model":
                self.models.add(node)
            elif kind == "generate":
                self.generates.add(node)
            elif kind == "ingest":
                self.ingests.append(node)


def _declared(attributes: Mapping[str, object]) -> str | None:
    decl = attributes.get("decl")
    if isinstance(decl, Artifact):
        return decl.provenance
    tagged = attributes.get("provenance")  # an observed dataset's provenance tag (loopscan.graph.observed)
    return tagged if isinstance(tagged, str) else None


def _settle(shape: _Shape, own: dict[str, int], written: dict[str, int], overlapping: dict[str, int],
            value: dict[str, int], start: Iterable[str]) -> None:
    """The worklist: recompute a node when what flows into it rose, until nothing changes.

    ``written`` joins what reaches a node over plain edges (a step's inputs,
    or the steps writing an artifact); ``overlapping`` joins what steps wrote
    into the artifacts whose URIs overlap it (``link`` edges). Values are bit
    sets (:data:`_BITS`), 0 for "nothing yet". Over a plain edge flows the
    node's value (nothing out of a model: a model is not data, and what a
    generate step makes of it is ``ai`` whatever the model was trained on);
    over a URI overlap only what steps wrote into it (its label stays put).
    A hub (:func:`~loopscan.graph.dataflow.is_hub`) takes what crosses a link
    into it as written into it, and so passes it on over its own links.
    """
    queue: deque[str] = deque(start)
    queued = set(queue)
    rule, constant, models, succ, hubs = shape.rule, shape.constant, shape.models, shape.succ, shape.hubs
    while queue:
        node = queue.popleft()
        queued.discard(node)
        into = written.get(node, 0)
        how = rule[node]
        if how == _JOINED:
            bits = own.get(node, 0) | into | overlapping.get(node, 0)
        elif how == _CONSTANT:
            bits = constant[node]
        elif how == _CLASSIFIED:
            bits = _MIXED if into == _UNKNOWN else into
        else:
            bits = into
        value[node] = bits
        plain = 0 if node in models else bits
        if not (plain or into):
            continue
        for head, edge in succ[node].items():
            out, target = (into, written if head in hubs else overlapping) if edge.get("link") else (plain, written)
            if not out:
                continue
            before = target.get(head, 0)
            if before | out != before:
                target[head] = before | out
                if head not in queued:
                    queued.add(head)
                    queue.append(head)


def _has_classifier(decl: object) -> bool:
    """An ingest step that runs a synthetic-content classifier on what it ingests (one that detects ``synthetic``)."""
    return isinstance(decl, Step) and bool(decl.classifier) and "synthetic" in decl.detects


def _ai_sources(shape: _Shape, own: dict[str, int]) -> list[list[_State]]:
    """Generate steps; then datasets declared ``ai`` or ``mixed``, and ingests with a classifier (each tier sorted)."""
    generators = [(node, True) for node in sorted(shape.generates)]
    labelled = [(node, False) for node, bits in own.items() if bits in (_AI, _MIXED)]
    ingests = [(node, True) for node in shape.ingests if shape.constant[node] == _MIXED]
    return [generators, sorted(labelled + ingests)]


def _unknown_sources(shape: _Shape, own: dict[str, int]) -> list[list[_State]]:
    """Ingests with no classifier; then artifacts of unknown provenance by label or for want of one (sorted)."""
    ingests = [(node, True) for node in sorted(shape.ingests) if shape.constant[node] == _UNKNOWN]
    labelled = [(node, False) for node in sorted(own) if own[node] == _UNKNOWN]
    return [ingests, labelled]


def _trace(graph: GraphLike, ordered: Mapping[str, Sequence[str]], shape: _Shape, tiers: list[list[_State]],
           carries: Callable[[int], bool], out_plain: dict[str, int], written: dict[str, int]) -> Trace:
    """Breadth-first from each tier of sources in turn; each node remembers the first source to reach it.

    ``carries(bits)`` says whether what flows out of a node carries the traced
    kind of data: over a plain edge that is the node's value (``out_plain``),
    over a URI overlap, which only what steps wrote into the node crosses, it
    is ``written``. ``ordered`` gives each node's successors sorted, so the
    trace is deterministic. Each node is reached at most twice (written into,
    or not), so the trace is linear. Hubs are passed as the links they stand
    for (:class:`~loopscan.graph.dataflow.ThroughHubs`): a trail never names
    one, and is the one the links drawn one by one would give.
    """
    parent: dict[_State, _State | None] = {}
    first: dict[str, _State] = {}
    generates = shape.generates
    search = ThroughHubs(ordered, shape.hubs)
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
            over_plain = carries(out_plain.get(node, 0))
            over_link = was_written and carries(written.get(node, 0))
            if not (over_plain or over_link):
                continue
            edges = graph.succ[node]
            for successor in search.successors(node, open_hubs=over_link):
                edge = edges.get(successor)
                link = edge is None or bool(edge.get("link"))  # None: reached through a hub, over links
                if not (over_link if link else over_plain):
                    continue
                if successor in generates:  # it starts AI data afresh
                    continue
                reached = (successor, not link)
                if reached in parent:
                    continue
                parent[reached] = state
                first.setdefault(successor, reached)
                queue.append(reached)
    return Trace(first, parent)
