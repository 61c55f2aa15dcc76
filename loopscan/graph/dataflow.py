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

from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import networkx as nx

Attributes = dict[str, Any]


def is_hub(attributes: Mapping[str, Any]) -> bool:
    """A hub node: where linking joins the artifacts of a URI that many artifacts share.

    A hub stands for the data at its URI: links run from the artifacts written
    there into it, and from it to the artifacts that read there (see
    :func:`loopscan.graph.link._link_uris`). What is written into an artifact
    crosses a link once; through a hub it crosses the two links as one.

    >>> is_hub({"kind": "uri", "hub": True}), is_hub({"kind": "uri"})
    (True, False)
    """
    return bool(attributes.get("hub"))


class ThroughHubs:
    """Successors for one breadth-first search, each hub replaced by what it links to.

    A search that walks :meth:`successors` instead of the successor lists
    themselves meets the nodes in the same order as if each hub's links were
    drawn one by one: from every artifact written at a URI to every artifact
    read there, but not to itself. A hub is opened once per search, so the
    search stays linear: the first time, it gives all its targets except the
    node it was reached from; after that, only that one node (reached from
    elsewhere, it is a target like any other), and then nothing.

    >>> adjacency = {"a": ["hub", "z"], "b": ["hub"], "hub": ["a", "b", "c"], "c": [], "z": []}
    >>> search = ThroughHubs(adjacency, {"hub"})
    >>> list(search.successors("a")), list(search.successors("b")), list(search.successors("c"))
    (['b', 'c', 'z'], ['a'], [])
    >>> adjacency = {"a": ["out"], "b": ["out"], "out": ["in"], "in": ["a", "b"]}  # a hub into a hub
    >>> search = ThroughHubs(adjacency, {"out", "in"})
    >>> list(search.successors("a")), list(search.successors("b"))
    (['b'], ['a'])
    """

    def __init__(self, adjacency: Mapping[str, Sequence[str]], hubs: AbstractSet[str]) -> None:
        self.adjacency = adjacency
        self.hubs = hubs
        self.opened: dict[str, str | None] = {}
        """Each hub opened so far, with the node it left out (None once that one was given too)."""

    def successors(self, node: str, open_hubs: bool = True) -> Sequence[str]:
        """The successors of ``node`` in sorted order (as the lists are), hubs opened unless ``open_hubs`` is false."""
        heads = self.adjacency[node]
        if self.hubs.isdisjoint(heads):
            return heads
        found = [head for head in heads if head not in self.hubs]
        if not open_hubs:
            return found
        opened = [targets for head in heads if head in self.hubs if (targets := self._targets(head, node))]
        if not opened:  # the usual case once its hubs are open: nothing to merge
            return found
        for targets in opened:
            found += targets
        return _sorted_unique(found)

    def _targets(self, hub: str, origin: str) -> list[str]:
        """What ``hub`` links to (through the hubs it links to as well) that this search has not been given."""
        if hub in self.opened:
            left_out = self.opened[hub]
            if left_out is None or left_out == origin:
                return []
            self.opened[hub] = None
            return [left_out]
        heads = self.adjacency[hub]
        at = bisect_left(heads, origin)
        skipped = at < len(heads) and heads[at] == origin
        found = [head for head in heads if head not in self.hubs and head != origin]
        for inner in heads:
            if inner in self.hubs:
                found += self._targets(inner, origin)
                skipped = skipped or self.opened[inner] == origin  # it left ``origin`` out, now or before
        self.opened[hub] = origin if skipped else None
        return found


def _sorted_unique(items: list[str]) -> list[str]:
    """``items`` (runs of sorted strings) sorted, each once: list.sort merges sorted runs in linear time.

    >>> _sorted_unique(["a", "c", "b", "c"])
    ['a', 'b', 'c']
    """
    items.sort()
    return list(dict.fromkeys(items))


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
