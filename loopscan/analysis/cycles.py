"""Generate-to-ingest loops: cycles of the project graph that pass a generate step.

The number of cycles in a graph grows exponentially, so nothing here
enumerates them. "Does every cycle through g pass a gate?" is answered by
removing the gates and asking whether g still lies on a cycle: one pass of
strongly connected components, linear in the size of the graph. The witness
(the shortest offending cycle) is then found by breadth-first search inside
g's component.

The searches walk plain sorted successor lists (:func:`successor_lists`),
built once per graph: that keeps them fast on graphs of 100,000 nodes and
makes every answer deterministic. A witness passes the hubs of linking
(:func:`~loopscan.graph.dataflow.is_hub`) as the links they stand for, so it
names only steps and artifacts, and is the one the links drawn one by one
would give.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

from loopscan.graph.dataflow import GraphLike, ThroughHubs, is_hub

Adjacency = Mapping[str, Sequence[str]]


def is_generate(graph: GraphLike, node: str) -> bool:
    """A step whose output is model-generated: a generate step, or a train step that samples while it trains.

    An ``on_policy`` train step generates its own training data from the model
    it is training (PPO, online RL); linking gives it an edge to itself, so it
    is a loop of one step.
    """
    attributes = graph.nodes[node]
    if attributes["kind"] == "generate":
        return True
    decl = attributes.get("decl")
    return attributes["kind"] == "train" and bool(getattr(decl, "on_policy", False))


class SuccessorLists(dict[str, list[str]]):
    """Each node's successors, sorted, and which of the nodes are hubs (:func:`successor_lists`)."""

    hubs: frozenset[str] = frozenset()


def successor_lists(graph: GraphLike) -> SuccessorLists:
    """Each node's successors, sorted.

    >>> import networkx as nx
    >>> successor_lists(nx.DiGraph([("a", "c"), ("a", "b"), ("b", "a")]))
    {'a': ['b', 'c'], 'c': [], 'b': ['a']}
    """
    lists = SuccessorLists((node, sorted(successors)) for node, successors in graph.succ.items())
    lists.hubs = frozenset(node for node, attributes in graph.nodes.items() if is_hub(attributes))
    return lists


def strongly_connected_components(adjacency: Adjacency, removed: Collection[str] = (),
                                  roots: Iterable[str] | None = None) -> Iterator[list[str]]:
    """The strongly connected components of the graph without the ``removed`` nodes.

    The nodes are the keys of ``adjacency``: a successor that is not one is
    left out, as a removed node is, so that a part of a graph is searched over
    the whole graph's lists. With ``roots``, the search starts from those
    nodes alone, and gives the components of the nodes they reach: all that a
    question about cycles through them needs. Tarjan's algorithm, iterative
    (no recursion limit on long chains), linear in nodes plus edges.
    Components come out in reverse topological order.

    >>> adjacency = {"a": ["b"], "b": ["a", "c"], "c": ["d"], "d": ["c"]}
    >>> [sorted(c) for c in strongly_connected_components(adjacency)]
    [['c', 'd'], ['a', 'b']]
    >>> [sorted(c) for c in strongly_connected_components(adjacency, removed={"b"})]
    [['a'], ['c', 'd']]
    >>> [sorted(c) for c in strongly_connected_components({"b": ["a", "c"], "c": ["d"], "d": ["c"]})]
    [['c', 'd'], ['b']]
    >>> [sorted(c) for c in strongly_connected_components(adjacency, roots=["c"])]
    [['c', 'd']]
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    for root in adjacency if roots is None else roots:
        if root in index or root in removed or root not in adjacency:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work: list[tuple[str, Iterator[str]]] = [(root, iter(adjacency[root]))]
        while work:
            node, successors = work[-1]
            descended = False
            for successor in successors:
                if successor in removed or successor not in adjacency:
                    continue
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(adjacency[successor])))
                    descended = True
                    break
                if successor in on_stack and index[successor] < low[node]:
                    low[node] = index[successor]
            if descended:
                continue
            work.pop()
            if work and low[node] < low[work[-1][0]]:
                low[work[-1][0]] = low[node]
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                yield component


def generate_components(graph: GraphLike, components: Iterable[list[str]], adjacency: Adjacency,
                        generates: Collection[str] | None = None) -> dict[str, frozenset[str]]:
    """Map each generate step that lies on a cycle to its component, given the strongly connected components.

    A generate step alone in its component counts only with an edge to itself.
    ``generates`` holds every generate step the components can hold, when
    the caller knows them: then no node's kind is looked up.

    >>> import networkx as nx
    >>> g = nx.DiGraph([("gen", "gen"), ("gen", "out")])
    >>> nx.set_node_attributes(g, {"gen": "generate", "out": "dataset"}, "kind")
    >>> generate_components(g, [["out"], ["gen"]], successor_lists(g))
    {'gen': frozenset({'gen'})}
    """
    found: dict[str, frozenset[str]] = {}
    for component in components:
        generators = [node for node in component if (node in generates if generates is not None
                                                      else is_generate(graph, node))]
        if not generators:
            continue
        frozen = frozenset(component)
        for node in generators:
            if len(component) > 1 or node in adjacency[node]:
                found[node] = frozen
    return found


def shortest_cycle(adjacency: Adjacency, start: str, within: Iterable[str] | None) -> list[str]:
    """The shortest cycle from ``start`` back to it, using only nodes in ``within``.

    Breadth-first over ``adjacency`` (sorted successor lists make the answer
    deterministic: of two shortest cycles, the one first in sorted order).
    Returns the nodes in order, starting with ``start`` (not repeated at the
    end), or an empty list when there is no such cycle. With ``within`` None,
    ``adjacency`` already holds only the nodes to use (:func:`restricted`).
    The hubs of :class:`SuccessorLists` are passed through, never named.

    >>> adjacency = {"a": ["b"], "b": ["a", "c"], "c": ["a"]}
    >>> shortest_cycle(adjacency, "a", {"a", "b", "c"})
    ['a', 'b']
    >>> shortest_cycle(adjacency, "a", {"a", "c"}), shortest_cycle(restricted(adjacency, {"a", "c"}), "a", None)
    ([], [])
    """
    if within is not None:
        adjacency = restricted(adjacency, {*within, start})
    cycle, _ = shortest_cycle_within(adjacency, start, None)
    return cycle if cycle is not None else []


def shortest_cycle_within(adjacency: Adjacency, start: str, budget: int | None) -> tuple[list[str] | None, int]:
    """:func:`shortest_cycle` over ``adjacency`` as it is, looking at most ``budget`` successors.

    Returns the cycle (empty when there is none), or None when the budget ran
    out first, and how many successors were looked at.

    >>> adjacency = {"a": ["b"], "b": ["c"], "c": ["a"]}
    >>> shortest_cycle_within(adjacency, "a", None), shortest_cycle_within(adjacency, "a", 2)
    ((['a', 'b', 'c'], 3), (None, 2))
    """
    hubs: frozenset[str] = getattr(adjacency, "hubs", frozenset())
    successors = ThroughHubs(adjacency, hubs).successors if hubs else adjacency.__getitem__
    parent: dict[str, str] = {}
    queue: deque[str] = deque([start])
    looked = 0
    while queue:
        node = queue.popleft()
        heads = successors(node)
        if budget is not None and looked + len(heads) > budget:
            return None, looked
        looked += len(heads)
        for successor in heads:
            if successor == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return path[::-1], looked
            if successor not in parent:
                parent[successor] = node
                queue.append(successor)
    return [], looked


class RootedCycles:
    """A cycle through any node of one strongly connected component, in time linear in its path.

    Two breadth-first trees, one out of ``root`` and one into it, built once:
    the cycle through a node goes from it to the root and back, with hubs
    left out and every detour that comes back to a node it already passed cut
    off, so that no node repeats. It is a real cycle through the node, not
    always the shortest: :meth:`Facts._witnesses` uses it only for the
    witnesses that the budget of shortest searches did not cover.

    >>> adjacency = {"a": ["b"], "b": ["c", "a"], "c": ["a"]}
    >>> cycles = RootedCycles(adjacency, "a")
    >>> cycles.through("a"), cycles.through("b"), cycles.through("c")
    (['a', 'b'], ['b', 'a'], ['c', 'a', 'b'])
    """

    def __init__(self, adjacency: Adjacency, root: str) -> None:
        self.adjacency = adjacency
        self.root = root
        self.hubs: frozenset[str] = getattr(adjacency, "hubs", frozenset())
        predecessors: dict[str, list[str]] = {node: [] for node in adjacency}
        for node, heads in adjacency.items():
            for head in heads:
                predecessors[head].append(node)
        self.towards = _tree(adjacency, root)
        """Each node's parent on the tree out of the root (the node before it on a path from the root)."""
        self.back = _tree(predecessors, root)
        """Each node's next node on a path to the root."""

    def through(self, node: str) -> list[str]:
        """A cycle through ``node``, starting with it (not repeated at the end)."""
        if node == self.root:
            after = next(head for head in self.adjacency[node] if head != node) if self.adjacency[node] else node
            walk = [node, *self._to_root(after)[:-1]] if after != node else [node]
        else:
            walk = [*self._to_root(node), *self._from_root(node)[1:-1]]
        return _without_repeats([step for step in walk if step not in self.hubs])

    def _to_root(self, node: str) -> list[str]:
        path = [node]
        while path[-1] != self.root:
            path.append(self.back[path[-1]])
        return path

    def _from_root(self, node: str) -> list[str]:
        path = [node]
        while path[-1] != self.root:
            path.append(self.towards[path[-1]])
        return path[::-1]


def _tree(adjacency: Mapping[str, Sequence[str]], root: str) -> dict[str, str]:
    """Each node reached from ``root`` breadth-first, with the node it was reached from."""
    parent: dict[str, str] = {root: root}
    queue: deque[str] = deque([root])
    while queue:
        node = queue.popleft()
        for head in adjacency[node]:
            if head not in parent:
                parent[head] = node
                queue.append(head)
    return parent


def _without_repeats(walk: list[str]) -> list[str]:
    """A closed walk with every detour that returns to an earlier node cut off, so no node repeats.

    >>> _without_repeats(["g", "a", "b", "a", "c"])
    ['g', 'a', 'c']
    """
    kept: list[str] = []
    at: dict[str, int] = {}
    for node in walk:
        if node in at:
            for dropped in kept[at[node] + 1:]:
                del at[dropped]
            del kept[at[node] + 1:]
        else:
            at[node] = len(kept)
            kept.append(node)
    return kept


def restricted(adjacency: Adjacency, within: Iterable[str]) -> SuccessorLists:
    """The successor lists of the nodes in ``within``, keeping only successors in ``within`` (order kept).

    >>> restricted({"a": ["b", "c"], "b": ["a"], "c": ["a"]}, {"a", "b"})
    {'a': ['b'], 'b': ['a']}
    """
    allowed = within if isinstance(within, (set, frozenset)) else set(within)
    lists = SuccessorLists((node, [head for head in adjacency[node] if head in allowed]) for node in sorted(allowed))
    lists.hubs = getattr(adjacency, "hubs", frozenset()) & allowed
    return lists
