"""Inferred provenance: a data-flow fixpoint over the whole linked graph.

The lattice is ``human``, ``ai`` < ``mixed`` < ``unknown``; the join of
``human`` and ``ai`` is ``mixed``. What flows out of a step depends on its kind:

* ``generate``: everything it produces is ``ai``;
* ``ingest``: ``unknown`` without a synthetic-content classifier, ``mixed`` with one;
* ``gate``, ``transform``, ``evaluate``, ``train``: the join of the inputs
  (reviewing AI output does not make it human).

An artifact holds the join of what flows into it and of its declared
provenance; with neither it is ``unknown``. The worklist visits a node again
only when its value rises, and a value can rise at most three times, so the
work is linear in the size of the graph, cycles included.
"""

from __future__ import annotations

from collections import deque

import networkx as nx

from loopscan.manifest import Artifact, Step

_RANK = {"human": 1, "ai": 1, "mixed": 2, "unknown": 3}


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


def infer_provenance(graph: nx.DiGraph) -> dict[str, str]:
    """The inferred provenance of every node (for a step: of what it outputs).

    >>> g = nx.DiGraph([("m", "gen"), ("gen", "out"), ("out", "clean"), ("clean", "final")])
    >>> nx.set_node_attributes(g, {"gen": "generate", "clean": "transform"}, "kind")
    >>> nx.set_node_attributes(g, None, "decl")
    >>> infer_provenance(g)["final"]
    'ai'
    """
    inflow: dict[str, str | None] = {node: None for node in graph}
    value: dict[str, str] = {}
    queue: deque[str] = deque(graph.nodes)
    queued = set(graph.nodes)
    while queue:
        node = queue.popleft()
        queued.discard(node)
        new = _out_value(graph.nodes[node], inflow[node])
        if value.get(node) == new:
            continue
        value[node] = new
        for successor in graph.successors(node):
            joined = join(inflow[successor], new)
            if joined != inflow[successor]:
                inflow[successor] = joined
                if successor not in queued:
                    queued.add(successor)
                    queue.append(successor)
    return value


def _out_value(attributes: dict[str, object], incoming: str | None) -> str:
    kind = attributes.get("kind")
    decl = attributes.get("decl")
    if kind == "generate":
        return "ai"
    if kind == "ingest":
        return "mixed" if isinstance(decl, Step) and decl.classifier else "unknown"
    declared = decl.provenance if isinstance(decl, Artifact) else None
    return join(declared, incoming) or "unknown"
