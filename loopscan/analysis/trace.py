"""``loopscan trace``: what reaches a model (upstream) and what a node reaches (downstream), for Play 5.

Paths are summarised, never enumerated (their number is exponential): one
breadth-first walk collects the nodes on some path, and the places where the
walk branches are reported with their number of branches. Each walk visits a
node and an edge at most once, so a trace is linear in the size of the graph.

With observed lineage, the graph is the union of the declared and the observed
flows; each edge of the trace that only the lineage shows is listed with the
event that showed it (:class:`ObservedEdge`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from itertools import pairwise

from loopscan.analysis.diagram import (
    NO_CAP,
    NO_GATE,
    PATH_EDGE,
    WITNESS_WIDTH,
    Diagram,
    build_subgraph,
    counted,
    loop_components,
    subgraph_edges,
    text_lines,
)
from loopscan.analysis.facts import Facts
from loopscan.findings import Evidence
from loopscan.graph.dataflow import DataFlow, is_hub
from loopscan.graph.observed import OBSERVED
from loopscan.project import Project

SUSPECT = ("ai", "mixed", "unknown")
"""Provenance that a response drill must audit."""


def training_targets(facts: Facts, train_step: str) -> list[str]:
    """The inputs a train step learns from: those of role ``targets`` (a dataset's default), not its prompts."""
    return sorted(node for node, edge in facts.dataflow.pred[train_step].items()
                  if not edge.get("link") and edge.get("role") == "targets")


def _walk(start: Iterable[str], neighbours: Callable[[str], Iterable[str]]) -> list[str]:
    """Every node reachable from ``start`` (included), in breadth-first order."""
    seen = dict.fromkeys(start)
    queue = deque(seen)
    while queue:
        for other in neighbours(queue.popleft()):
            if other not in seen:
                seen[other] = None
                queue.append(other)
    return list(seen)


@dataclass(frozen=True)
class ObservedEdge:
    """An edge of a trace that no manifest declares and the lineage showed, with the first event that showed it."""

    tail: str
    head: str
    evidence: Evidence


def observed_edges(flow: DataFlow, nodes: Iterable[str]) -> tuple[ObservedEdge, ...]:
    """The observed edges between ``nodes``, sorted by tail and head."""
    inside = set(nodes)
    found = [ObservedEdge(tail, head, evidence) for tail in inside for head, edge in flow.succ[tail].items()
             if head in inside and isinstance(evidence := edge.get(OBSERVED), Evidence)]
    return tuple(sorted(found, key=lambda edge: (edge.tail, edge.head)))


@dataclass(frozen=True)
class Upstream:
    """What reaches a model's training targets."""

    model: str
    trained_by: tuple[str, ...]
    targets: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]
    """Each node where ``ai``, ``mixed`` or ``unknown`` data enters (a generate or ingest step, or an
    artifact declared so with nothing written into it), with its provenance."""
    path: tuple[str, ...]
    """The shortest path from the nearest place AI data enters to a training target (one of many)."""
    gates: tuple[str, ...]
    caps: tuple[str, ...]
    shares: tuple[tuple[str, str, float], ...]
    """Declared input shares on the way: (step, input, share)."""
    branches: tuple[tuple[str, int], ...]
    """Nodes where paths join, with how many upstream branches meet there."""
    anchor: str | None
    checkpoint: str | None
    last_drill: str | None
    nodes: int
    observed: tuple[ObservedEdge, ...] = ()
    """The edges of the trace that only the observed lineage shows."""
    undeclared_jobs: tuple[str, ...] = ()
    """The jobs upstream that ran in the lineage and that no step names."""


@dataclass(frozen=True)
class Downstream:
    """What a node reaches: the blast radius."""

    start: str
    datasets: tuple[str, ...]
    models: tuple[str, ...]
    generates: tuple[str, ...]
    loops: tuple[str, ...]
    branches: tuple[tuple[str, int], ...]
    nodes: int
    observed: tuple[ObservedEdge, ...] = ()
    """The edges of the trace that only the observed lineage shows."""


def _visible(facts: Facts, nodes: Iterable[str]) -> list[str]:
    return [node for node in nodes if not is_hub(facts.dataflow.nodes[node])]


def _enters(facts: Facts, node: str) -> bool:
    """Data enters the graph at ``node``: a generate or ingest step, or an artifact that no step nor hub feeds."""
    kind = facts.kind(node)
    if kind in ("generate", "ingest"):
        return True
    flow = facts.dataflow
    return kind in ("dataset", "uri") and all(
        facts.kind(before) in ("dataset", "model", "uri") and not is_hub(flow.nodes[before])
        for before in flow.pred[node])


def _upstream_walk(facts: Facts, model: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """The graph nodes of ``model``, its train steps, their training targets, and every node upstream of those
    (hubs too)."""
    flow = facts.dataflow
    models = [decl.qualified for decl in facts.declarations_of_model(model)] or [model]
    trained_by = sorted({step for node in models for step in flow.pred[node] if facts.kind(step) == "train"})
    targets = sorted({t for step in trained_by for t in training_targets(facts, step)})
    return models, trained_by, targets, _walk(targets, lambda node: flow.pred[node])


def _ai_trail(facts: Facts, targets: Iterable[str]) -> tuple[str, ...]:
    """The shortest trail (hubs too) from the nearest place AI data enters to the first target it reaches."""
    return next((tuple(trail) for target in targets if (trail := facts.provenance_flow.ai_source(target))), ())


def upstream(facts: Facts, model: str) -> Upstream:
    """Every path by which suspect data reaches the training targets of ``model``, summarised."""
    flow = facts.dataflow
    models, trained_by, targets, reached = _upstream_walk(facts, model)
    inside = set(reached)
    visible = _visible(facts, reached)
    provenance = facts.provenance
    sources = [(node, provenance[node]) for node in visible
               if provenance[node] in SUSPECT and _enters(facts, node)]
    # An on-policy step learns from samples of the model it trains: AI data enters at the step itself.
    sources += [(step, "ai") for step in trained_by if (decl := facts.step(step)) is not None and decl.on_policy]
    steps = [n for n in visible if facts.step(n) is not None] + trained_by
    shares = tuple((step, ref.text, ref.share) for step in steps if (decl := facts.step(step)) is not None
                   for ref in decl.inputs if ref.share is not None)
    branches = tuple((node, count) for node in visible
                     if (count := sum(1 for p in flow.pred[node] if p in inside)) > 1)
    anchor = next((decl.mixing.anchor.text for step in trained_by if (decl := facts.step(step)) is not None
                   and decl.mixing is not None and decl.mixing.anchor is not None), None)
    rollback = next((decl.rollback for decl in facts.declarations_of_model(model) if decl.rollback is not None), None)
    return Upstream(
        model=model, trained_by=tuple(trained_by), targets=tuple(_visible(facts, targets)),
        sources=tuple(sorted(sources)),
        path=tuple(_visible(facts, _ai_trail(facts, targets))),
        gates=tuple(sorted(n for n in steps if facts.is_gate(n))),
        caps=tuple(sorted({n for n in steps if facts.is_cap(n)})), shares=shares, branches=branches,
        anchor=anchor, checkpoint=rollback.checkpoint if rollback else None,
        last_drill=rollback.last_drill.isoformat() if rollback and rollback.last_drill else None,
        nodes=len(visible), observed=observed_edges(flow, [*reached, *trained_by, *models]),
        undeclared_jobs=tuple(sorted(job for node in visible if (job := flow.nodes[node].get("job")) is not None)),
    )


def downstream(facts: Facts, start: str) -> Downstream:
    """Every model and generate step that ``start`` reaches, and the loops on the way."""
    flow = facts.dataflow
    reached = _walk([start], lambda node: flow.succ[node])
    inside = set(reached)
    visible = _visible(facts, reached)
    loops = sorted({loop.id for node in visible if (loop := facts.loop_of(node)) is not None})
    return Downstream(
        start=start,
        datasets=tuple(sorted(n for n in visible if facts.kind(n) == "dataset" and n != start)),
        models=tuple(sorted(n for n in visible if facts.kind(n) == "model" and n != start)),
        generates=tuple(sorted(n for n in visible if facts.kind(n) == "generate" and n != start)),
        loops=tuple(loops),
        branches=tuple((node, count) for node in visible
                       if (count := sum(1 for s in flow.succ[node] if s in inside)) > 1),
        nodes=len(visible), observed=observed_edges(flow, reached),
    )


def upstream_diagram(project: Project, result: Upstream, whole: bool = True) -> Diagram:
    """The subgraph upstream of a model as a diagram: where suspect data enters, its path, the joins.

    ``whole`` draws every node of the trace; otherwise only its essentials
    (the model, its train steps and targets, the path, the sources, gates and
    caps), each with how many of its inputs in the trace are left out.
    """
    facts = project.facts
    declared, trained_by, targets, reached = _upstream_walk(facts, result.model)
    trail = _ai_trail(facts, targets)
    everything = dict.fromkeys([*reached, *trained_by, *declared])
    if whole:
        drawn = set(everything)
    else:
        drawn = {*declared, *trained_by, *targets, *trail, *(n for n, _ in result.sources), *result.gates,
                 *result.caps}
    marks: dict[str, list[str]] = {}
    for node, provenance in result.sources:
        marks.setdefault(node, []).append(f"{provenance} data enters here")
    for node, count in result.branches:
        marks.setdefault(node, []).append(f"{count:,} branches join here")
    if not whole:
        flow = facts.dataflow
        for node in drawn:
            left_out = sum(1 for before in flow.pred[node] if before in everything and before not in drawn)
            if left_out:
                marks.setdefault(node, []).append(f"{counted(left_out, 'input')} not drawn")
    path_edges = set(pairwise(trail))
    # With no gate (or cap) anywhere upstream, none is on the path either: say so where the path starts.
    missing = ", ".join(word for found, word in ((result.gates, NO_GATE), (result.caps, NO_CAP)) if not found)
    edges = tuple(replace(edge, color=PATH_EDGE, width=WITNESS_WIDTH,
                          label=", ".join(word for word in (edge.label, missing if (edge.tail, edge.head) == trail[:2]
                                                            else "") if word))
                  if (edge.tail, edge.head) in path_edges
                  else edge for edge in subgraph_edges(project, drawn, loop_components(facts)))
    safeguards = " and ".join(counted(len(found), noun) if found else f"no {noun}"
                              for found, noun in ((result.gates, "gate"), (result.caps, "cap")))
    heading = (f"Upstream of {_one_line(result.model)}: suspect data enters at "
               f"{counted(len(result.sources), 'node')}, past {safeguards}")
    if not whole:
        heading += f" (essentials of {result.nodes:,} nodes)"
    return build_subgraph(project, drawn, edges, heading, {node: tuple(lines) for node, lines in marks.items()})


def downstream_diagram(project: Project, result: Downstream, whole: bool = True) -> Diagram:
    """The subgraph downstream of a node as a diagram: the models and generate steps it reaches, the forks.

    ``whole`` draws every node it reaches; otherwise only the start, the
    models and the generate steps, each with how many of its outputs in the
    trace are left out.
    """
    facts = project.facts
    flow = facts.dataflow
    reached = set(_walk([result.start], lambda node: flow.succ[node]))
    drawn = reached if whole else {result.start, *result.models, *result.generates}
    marks: dict[str, list[str]] = {result.start: ["traced from here"]}
    for node, count in result.branches:
        marks.setdefault(node, []).append(f"branches into {count:,}")
    if not whole:
        for node in drawn:
            left_out = sum(1 for after in flow.succ[node] if after in reached and after not in drawn)
            if left_out:
                marks.setdefault(node, []).append(f"{counted(left_out, 'output')} not drawn")
    heading = (f"Downstream of {_one_line(result.start)}: reaches {counted(len(result.models), 'model')} and "
               f"{counted(len(result.generates), 'generate step')}, on {counted(len(result.loops), 'loop')}")
    if not whole:
        heading += f" (essentials of {result.nodes:,} nodes)"
    return build_subgraph(project, drawn, subgraph_edges(project, drawn, loop_components(facts)), heading,
                          {node: tuple(lines) for node, lines in marks.items()})


def _one_line(text: str) -> str:
    return " ".join(text_lines(text))
