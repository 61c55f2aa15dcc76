"""The linked project graph as plain dictionaries: what the analyses walk.

:class:`DataFlow` keeps the same data as a ``networkx.DiGraph`` in the same
layout (``nodes[node]`` is a node's attribute dict, ``succ[node]`` and
``pred[node]`` map each neighbour to the edge's attribute dict), so the
analyses are written once against that layout (:class:`GraphLike`) and run
on either. Walking plain dicts is several times faster than walking
networkx's views, and a scan never imports networkx: that alone is a good
part of the start-up of a pre-commit run. :meth:`DataFlow.to_networkx` gives
the same graph as a ``DiGraph`` (same node and edge order, same attributes)
for plugin rules, diagrams and tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import networkx as nx

Attributes = dict[str, Any]


class GraphLike(Protocol):
    """What the analyses read of a graph; a :class:`DataFlow` and a ``networkx.DiGraph`` both have it."""

    @property
    def nodes(self) -> Mapping[str, Attributes]: ...

    @property
    def succ(self) -> Mapping[str, Mapping[str, Attributes]]: ...

    @property
    def pred(self) -> Mapping[str, Mapping[str, Attributes]]: ...

    def __iter__(self) -> Iterator[str]: ...

    def __contains__(self, node: object) -> bool: ...


class DataFlow:
    """A directed graph of steps and artifacts with attributes on nodes and edges.

    >>> flow = DataFlow()
    >>> flow.add_node("p:d", kind="dataset"); flow.add_edge("p:d", "p:s", link=False)
    >>> list(flow), flow.nodes["p:s"], flow.succ["p:d"], flow.number_of_edges()
    (['p:d', 'p:s'], {}, {'p:s': {'link': False}}, 1)
    """

    def __init__(self) -> None:
        self.nodes: dict[str, Attributes] = {}
        self.succ: dict[str, dict[str, Attributes]] = {}
        self.pred: dict[str, dict[str, Attributes]] = {}
        self._edges: list[tuple[str, str]] = []
        """Each edge once, in the order it was first added (what :meth:`to_networkx` replays)."""

    def add_node(self, node: str, **attributes: Any) -> None:
        """Add ``node`` (if new) and update its attributes, as ``DiGraph.add_node`` does."""
        if node not in self.nodes:
            self.nodes[node] = {}
            self.succ[node] = {}
            self.pred[node] = {}
        self.nodes[node].update(attributes)

    def add_edge(self, tail: str, head: str, **attributes: Any) -> None:
        """Add the edge (and its nodes, if new) and update its attributes, as ``DiGraph.add_edge`` does."""
        for node in (tail, head):
            if node not in self.nodes:
                self.add_node(node)
        data = self.succ[tail].get(head)
        if data is None:
            data = self.succ[tail][head] = self.pred[head][tail] = {}
            self._edges.append((tail, head))
        data.update(attributes)

    def __iter__(self) -> Iterator[str]:
        return iter(self.nodes)

    def __contains__(self, node: object) -> bool:
        return node in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def number_of_nodes(self) -> int:
        return len(self.nodes)

    def number_of_edges(self) -> int:
        return len(self._edges)

    def to_networkx(self) -> nx.DiGraph:
        """The same graph as a ``networkx.DiGraph``: nodes and edges in the order they were added.

        >>> flow = DataFlow()
        >>> flow.add_edge("b", "a", link=True); flow.add_edge("a", "c", link=False)
        >>> graph = flow.to_networkx()
        >>> list(graph.nodes), list(graph.edges(data="link"))
        (['b', 'a', 'c'], [('b', 'a', True), ('a', 'c', False)])
        """
        import networkx as nx

        graph: nx.DiGraph[str] = nx.DiGraph()
        graph.add_nodes_from((node, dict(attributes)) for node, attributes in self.nodes.items())
        graph.add_edges_from((tail, head, dict(self.succ[tail][head])) for tail, head in self._edges)
        return graph
