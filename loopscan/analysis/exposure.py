"""Who writes each artifact, and which models are exposed to collapse.

Two facts that several rules share (frozen sets, eval sets, monitoring and
the response drill), each found by looking one edge around a node, never by
walking the graph:

* a step writes an artifact when it names it as an output, or names an
  artifact whose URI overlaps it (a write to either may land in the other);
* a model is exposed when it is an input of a generate step, or lies on a
  loop (the strongly connected component of a generate step on a cycle).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from loopscan.analysis.provenance import ARTIFACT_KINDS
from loopscan.graph.dataflow import GraphLike, is_hub


@dataclass(frozen=True)
class Write:
    """A step writing an artifact: ``into`` is the output it names (the artifact, or one overlapping it)."""

    step: str
    into: str


@dataclass(frozen=True)
class Exposure:
    """Why a model is exposed to collapse."""

    feeds: tuple[str, ...]
    """The generate steps it is an input of, sorted."""
    loops: tuple[str, ...]
    """The generate steps on whose loop it lies, sorted."""

    @property
    def on_loop(self) -> bool:
        return bool(self.loops)


_Relayed = tuple[tuple[Write, ...], dict[str, list[int]]]
"""The writes that reach what a hub links to, sorted, and where the writes into each artifact are."""


def writes_into(graph: GraphLike) -> dict[str, tuple[Write, ...]]:
    """Each artifact that some step writes, with those writes (direct ones first).

    Through a hub (:func:`~loopscan.graph.dataflow.is_hub`) an artifact gets
    the writes into the artifacts that link into the hub, its own left out.

    >>> import networkx as nx
    >>> g = nx.DiGraph()
    >>> g.add_edge("etl", "lake", link=False)
    >>> g.add_edge("lake", "anchor", link=True); g.add_edge("anchor", "lake", link=True)
    >>> writes_into(g)["anchor"]
    (Write(step='etl', into='lake'),)
    """
    direct: dict[str, list[Write]] = {}
    for step, successors in graph.succ.items():
        if graph.nodes[step].get("kind") in ARTIFACT_KINDS:
            continue
        for artifact, edge in successors.items():
            if not edge.get("link"):
                direct.setdefault(artifact, []).append(Write(step, artifact))
    relayed: dict[str, _Relayed] = {}

    def through(hub: str) -> _Relayed:
        return _through(graph, hub, direct, relayed)

    found: dict[str, tuple[Write, ...]] = {}
    for node, attributes in graph.nodes.items():
        if is_hub(attributes):
            continue
        sources = [other for other, edge in graph.pred[node].items() if edge.get("link")]
        own = sorted(direct.get(node, ()), key=_order)
        if len(sources) == 1 and is_hub(graph.nodes[sources[0]]):  # the usual way through a hub: one cut, no sort
            writes, at = through(sources[0])
            overlapping = _without(writes, at.get(node, ()))
        else:
            unique = {write: None for other in sources
                      for write in (through(other)[0] if is_hub(graph.nodes[other]) else direct.get(other, ()))
                      if write.into != node}
            overlapping = tuple(sorted(unique, key=_order))
        if own or overlapping:
            found[node] = (*own, *overlapping)
    return found


def _through(graph: GraphLike, hub: str, direct: dict[str, list[Write]], relayed: dict[str, _Relayed]) -> _Relayed:
    """What :data:`_Relayed` says of ``hub``, found once and kept in ``relayed``.

    A module function, not a closure that calls itself: such a closure is a
    reference cycle, which would keep the whole graph alive until the cyclic
    collector ran over every object of the project.
    """
    found = relayed.get(hub)
    if found is None:
        writes = {write: None for other, edge in graph.pred[hub].items() if edge.get("link")
                  for write in (_through(graph, other, direct, relayed)[0] if is_hub(graph.nodes[other])
                                else direct.get(other, ()))}
        ordered = tuple(sorted(writes, key=_order))
        at: dict[str, list[int]] = {}
        for index, write in enumerate(ordered):
            at.setdefault(write.into, []).append(index)
        found = relayed[hub] = (ordered, at)
    return found


def _without(writes: tuple[Write, ...], cuts: Sequence[int]) -> tuple[Write, ...]:
    """``writes`` without those at the indexes ``cuts`` (ascending), by slicing.

    >>> _without(("a", "b", "c", "d"), [1, 2]), _without(("a",), [])
    (('a', 'd'), ('a',))
    """
    if not cuts:
        return writes
    kept: list[Write] = []
    start = 0
    for index in cuts:
        kept.extend(writes[start:index])
        start = index + 1
    kept.extend(writes[start:])
    return tuple(kept)


def _order(write: Write) -> tuple[str, str]:
    return (write.step, write.into)


def exposures(graph: GraphLike, cyclic: Mapping[str, frozenset[str]]) -> dict[str, Exposure]:
    """Each declared model that feeds a generate step or lies on a loop.

    ``cyclic`` maps each generate step on a cycle to its strongly connected
    component (``Facts.cyclic_generate_steps``).

    >>> import networkx as nx
    >>> g = nx.DiGraph([("llm", "serve"), ("serve", "replies"), ("replies", "tune"), ("tune", "llm")])
    >>> nx.set_node_attributes(g, {"llm": "model", "serve": "generate"}, "kind")
    >>> exposures(g, {"serve": frozenset(g)})
    {'llm': Exposure(feeds=('serve',), loops=('serve',))}
    """
    by_component: dict[frozenset[str], list[str]] = {}
    for generate, component in sorted(cyclic.items()):
        by_component.setdefault(component, []).append(generate)
    on_loops: dict[str, tuple[str, ...]] = {}
    for component, generates in by_component.items():  # components are disjoint: one tuple per component
        shared = tuple(generates)
        for node in component:
            on_loops[node] = shared
    found: dict[str, Exposure] = {}
    for node, attributes in graph.nodes.items():
        if attributes.get("kind") != "model":
            continue
        feeds = tuple(sorted(s for s in graph.succ[node] if graph.nodes[s].get("kind") == "generate"))
        loops = on_loops.get(node, ())
        if feeds or loops:
            found[node] = Exposure(feeds, loops)
    return dict(sorted(found.items()))
