"""Generate-to-ingest loops: cycles of the project graph that pass a generate step.

The number of cycles in a graph grows exponentially, so nothing here
enumerates them. "Does every cycle through g pass a gate?" is answered by
removing the gates and asking whether g still lies on a cycle: one pass of
strongly connected components, linear in the size of the graph. The witness
(the shortest offending cycle) is then found by breadth-first search inside
g's component.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

import networkx as nx

NodePredicate = Callable[[str], bool]


def is_generate(graph: nx.DiGraph, node: str) -> bool:
    return graph.nodes[node]["kind"] == "generate"


def cyclic_generate_steps(graph: nx.DiGraph, removed: NodePredicate | None = None) -> dict[str, frozenset[str]]:
    """Map each generate step that lies on a cycle to its strongly connected component.

    With ``removed``, those nodes are taken out first, so the answer is the
    generate steps that lie on a cycle passing none of them.

    >>> g = nx.DiGraph([("gen", "out"), ("out", "gate"), ("gate", "model"), ("model", "gen")])
    >>> nx.set_node_attributes(g, "dataset", "kind"); g.nodes["gen"]["kind"] = "generate"
    >>> sorted(cyclic_generate_steps(g)["gen"])
    ['gate', 'gen', 'model', 'out']
    >>> cyclic_generate_steps(g, removed=lambda n: n == "gate")
    {}
    """
    view = graph if removed is None else nx.subgraph_view(graph, filter_node=lambda n: not removed(n))
    found: dict[str, frozenset[str]] = {}
    for component in nx.strongly_connected_components(view):
        generators = [node for node in component if is_generate(graph, node)]
        if not generators:
            continue
        frozen = frozenset(component)
        for node in generators:
            if len(component) > 1 or graph.has_edge(node, node):
                found[node] = frozen
    return found


def shortest_cycle(graph: nx.DiGraph, start: str, within: Iterable[str]) -> list[str]:
    """The shortest cycle from ``start`` back to it, using only nodes in ``within``.

    Breadth-first, successors in sorted order, so the answer is deterministic.
    Returns the nodes in order, starting with ``start`` (not repeated at the end),
    or an empty list when there is no such cycle.

    >>> g = nx.DiGraph([("a", "b"), ("b", "a"), ("b", "c"), ("c", "a")])
    >>> shortest_cycle(g, "a", {"a", "b", "c"})
    ['a', 'b']
    >>> shortest_cycle(g, "a", {"a", "c"})
    []
    """
    allowed = within if isinstance(within, (set, frozenset)) else set(within)
    parent: dict[str, str] = {}
    queue: deque[str] = deque([start])
    while queue:
        node = queue.popleft()
        for successor in sorted(graph.successors(node)):
            if successor == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return path[::-1]
            if successor in allowed and successor not in parent:
                parent[successor] = node
                queue.append(successor)
    return []
