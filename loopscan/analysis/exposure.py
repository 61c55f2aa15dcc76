"""Who writes each artifact, and which models are exposed to collapse.

Two facts that several rules share (frozen sets, eval sets, monitoring and
the response drill), each found by looking one edge around a node, never by
walking the graph:

* a step writes an artifact when it names it as an output, or names an
  artifact whose URI overlaps it (a write to either may land in the other);
* a model is exposed when a generate step generates with it, a step learns
  from it as its ``teacher``, or it lies on a loop (the strongly connected
  component of a generate step on a cycle, or the output of an ``on_policy``
  train step). A model used only as a ``scorer`` (a reward model, a judge) or
  as the ``init`` weights of a train step outputs no text that trains a model,
  and a model declared ``external`` is trained elsewhere: neither is exposed.
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
    """The generate steps that generate with it (it is their input, not as a ``scorer`` or ``init``), sorted."""
    loops: tuple[str, ...]
    """The generate steps on whose loop it lies, sorted (an ``on_policy`` step for the models it trains)."""
    teaches: tuple[str, ...] = ()
    """The steps that learn from it as their ``teacher``, sorted."""
    generates_with: bool = True
    """Some step generates with it, learns from it, or samples from it while training it: it needs diversity
    monitoring (Play 4). False for a model on a loop used only as a ``scorer`` or ``init`` (Play 5 still applies)."""

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
        own = direct.get(node, ())
        if len(own) > 1:
            own = sorted(own, key=_order)
        if not sources:
            overlapping: tuple[Write, ...] = ()
        elif len(sources) == 1 and is_hub(graph.nodes[sources[0]]):  # the usual way through a hub: one cut, no sort
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
    {'llm': Exposure(feeds=('serve',), loops=('serve',), teaches=(), generates_with=True)}
    >>> g.edges["llm", "serve"]["role"] = "scorer"  # it only scores what serve makes: no monitoring, still a rollback
    >>> exposures(g, {"serve": frozenset(g)})["llm"].generates_with
    False
    """
    by_component: dict[frozenset[str], list[str]] = {}
    for generate, component in sorted(cyclic.items()):
        by_component.setdefault(component, []).append(generate)
    on_loops: dict[str, tuple[str, ...]] = {}
    for component, generates in by_component.items():  # components are disjoint: one tuple per component
        shared = tuple(generates)
        for node in component:
            on_loops[node] = shared
    on_policy: dict[str, list[str]] = {}
    """Each model an on-policy step writes, with those steps: the step samples from it while training it."""
    for step in graph.nodes:
        if step in graph.succ[step] and graph.succ[step][step].get("on_policy"):
            for model, edge in graph.succ[step].items():
                if model != step and not edge.get("link") and graph.nodes[model].get("kind") == "model":
                    on_policy.setdefault(model, []).append(step)
    found: dict[str, Exposure] = {}
    for members in same_models(graph).values():
        if any(getattr(graph.nodes[node].get("decl"), "external", False) for node in members):
            continue
        uses = [(step, edge.get("role")) for node in members
                for step, edge in graph.succ[node].items() if not edge.get("link")]
        trained_on_policy = {step for node in members for step in on_policy.get(node, ())}
        generates_with = not (uses and all(role in NOT_EXPOSING for _, role in uses)) or bool(trained_on_policy)
        feeds = tuple(sorted({step for step, role in uses
                              if graph.nodes[step].get("kind") == "generate" and role not in NOT_EXPOSING}))
        teaches = tuple(sorted({step for step, role in uses if role == "teacher"}))
        # the nodes of one component share its sorted tuple of generate steps: a model on the giant loop of
        # an organisation takes that tuple as it is, not a sort of its thousands of generate steps
        component_loops = {id(steps): steps for node in members if (steps := on_loops.get(node))}
        if trained_on_policy or len(component_loops) > 1:
            loops = tuple(sorted(trained_on_policy.union(*component_loops.values())))
        else:
            loops = next(iter(component_loops.values()), ())
        if feeds or loops or teaches:
            for node in members:
                found[node] = Exposure(feeds, loops, teaches, generates_with)
    return dict(sorted(found.items()))


def same_models(graph: GraphLike) -> dict[str, list[str]]:
    """The model nodes by the model they declare: declarations with one URI are one model.

    A model declared without a URI is a model of its own, keyed by its node.

    >>> import networkx as nx
    >>> from types import SimpleNamespace
    >>> g = nx.DiGraph()
    >>> g.add_node("a:lm", kind="model", decl=SimpleNamespace(uri="models:/lm"))
    >>> g.add_node("b:lm", kind="model", decl=SimpleNamespace(uri="models:/lm"))
    >>> g.add_node("b:rm", kind="model", decl=SimpleNamespace(uri=None))
    >>> same_models(g)
    {'models:/lm': ['a:lm', 'b:lm'], 'b:rm': ['b:rm']}
    """
    found: dict[str, list[str]] = {}
    for node, attributes in graph.nodes.items():
        if attributes.get("kind") == "model":
            uri = getattr(attributes.get("decl"), "uri", None)
            found.setdefault(uri if uri is not None else node, []).append(node)
    return found


NOT_EXPOSING = ("scorer", "init")
"""Roles in which a model outputs nothing that trains a model: it scores, or it is the weights a step starts from."""
