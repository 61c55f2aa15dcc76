"""What ``loopscan graph`` draws: one pure step from the analysed project to a :class:`Diagram`.

Everything a picture shows is decided here, once, for every format: which
nodes and edges are drawn (``--pipeline``, ``--loops-only``), the clusters
(one per pipeline), each node's shape (by kind), fill (by inferred
provenance) and text, which edges lie on a loop (bold and red), the witness
of each loop that gets past every gate or cap (thicker, labelled ``no gate``
or ``no cap`` where it leaves the generate step), and a legend of what
appears. The renderers (:mod:`loopscan.render.dot`,
:mod:`loopscan.render.mermaid`) only turn this model into syntax.

Two views are built. :func:`build_diagram` draws every node of the selection.
:func:`build_overview` draws one node per pipeline of the selection, and one
per URI scheme and host for the artifacts known only by URI (``s3://lake``,
``models:``): a project of hundreds of pipelines stays a picture a person can
read and Graphviz can lay out. :func:`readable` says which one ``loopscan
graph`` draws when it is not told.

Text in the model is plain: lines without line breaks or control characters,
never escaped. Escaping for a format is the renderer's job.

Everything is sorted, so the same pipelines always give the same diagram.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from difflib import get_close_matches

from loopscan.analysis.facts import Facts
from loopscan.graph.observed import OBSERVED
from loopscan.printable import NOT_IN_A_LABEL
from loopscan.project import Project
from loopscan.sources.manifest import Artifact, Manifest, Step

SHAPES = ("cylinder", "box", "diamond", "hexagon", "parallelogram", "ellipse", "swatch", "point")
"""The shapes a node can have; each renderer maps every one of them."""

PROVENANCE_FILL = {"human": "#cfe5f5", "ai": "#f7c99b", "mixed": "#e6d5ee", "unknown": "#d9d9d9"}
"""Fill by inferred provenance: light blue, orange, purple (their blend) and grey."""
STEP_FILL = "#ffffff"
LOOP_FILL = "#f6d0d0"
"""An overview's fill for a pipeline that holds a generate step on a loop: a light red."""
PLAIN_EDGE = "#555555"
LOOP_EDGE = "#c62828"
PATH_EDGE = "#e65100"
"""A trace's path of AI data: a dark orange, the colour of AI-generated data."""

EDGE_WIDTH = 1.0
LOOP_WIDTH = 2.0
WITNESS_WIDTH = 3.5
"""A loop's edges are drawn bold; the cycle that gets past every gate (or cap) bolder still."""

NO_GATE = "no gate"
NO_CAP = "no cap"
OBSERVED_LABEL = "observed"
"""The label of an edge that only the observed lineage shows."""

LAYERED_AT_MOST_EDGES = 150
"""The most edges an overview is laid out left to right for; a denser one is laid out by force.

Graphviz's layered layout (``dot``) needs 6 s for 50 interlinked pipelines
and 336 edges between them, and more than a minute with the edge labels;
its force-directed layout (``sfdp``) lays out 400 such pipelines and 2,499
edges in under 2 s, and 2,000 pipelines and 12,662 edges in 30 s."""

FULL_AT_MOST_NODES = 500
FULL_AT_MOST_EDGES = 1000
"""The largest full diagram ``loopscan graph`` draws unless told ``--full``; past it, the overview.

About ten pipelines of fifty nodes each. Past a few hundred boxes nobody
reads a page, and Graphviz's layout time grows much faster than the graph:
about 0.3 s for 1,000 nodes, 9 s for 3,000 and 26 s for 5,000 (measured
with ``dot -Tsvg`` on generated interlinked projects).
"""


@dataclass(frozen=True)
class Node:
    """One box of the picture: ``key`` names it in the diagram's edges and clusters."""

    key: str
    lines: tuple[str, ...]
    shape: str
    fill: str
    dashed: bool = False
    tooltip: tuple[str, ...] = ()


@dataclass(frozen=True)
class Edge:
    """An arrow from ``tail`` to ``head`` (node keys), drawn as the fields say."""

    tail: str
    head: str
    color: str = PLAIN_EDGE
    width: float = EDGE_WIDTH
    dashed: bool = False
    label: str = ""
    observed: bool = False
    """The edge is in the observed lineage only: no manifest declares it."""


@dataclass(frozen=True)
class Cluster:
    """A box around the nodes of one pipeline (or around the legend)."""

    key: str
    lines: tuple[str, ...]
    nodes: tuple[str, ...]
    tooltip: tuple[str, ...] = ()


@dataclass(frozen=True)
class Legend:
    """Sample nodes and edges that explain the shapes, fills and edges in use (keys of its own)."""

    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def rows(self) -> list[list[str]]:
        """The keys of the sample shapes, and of the sample fills, each as one row of the legend."""
        shapes = [node.key for node in self.nodes if node.shape not in ("swatch", "point")]
        fills = [node.key for node in self.nodes if node.shape == "swatch"]
        return [shapes, fills]


@dataclass(frozen=True)
class Diagram:
    """Everything one picture shows, in drawing order."""

    title: str
    clusters: tuple[Cluster, ...]
    nodes: tuple[Node, ...]
    """Every node of the graph that is drawn: first those of each cluster, in cluster order, then loose ones."""
    edges: tuple[Edge, ...]
    legend: Legend | None = None
    note: str = ""
    """Said instead of a picture when there is nothing to draw."""
    loose: tuple[str, ...] = ()
    """Nodes drawn outside every cluster: artifacts known only by URI, and every node of an overview."""
    layout: str = "layered"
    """``layered`` (in the flow of the data) or ``force`` (the dense overview of an organisation
    whose pipelines read each other: see :data:`LAYERED_AT_MOST_EDGES`)."""
    direction: str = "LR"
    """Which way a layered diagram flows: ``LR`` left to right, or ``TB`` top to bottom (narrow, for a page)."""


class UnknownPipeline(ValueError):
    """``--pipeline`` names no pipeline of the project."""


def build_diagram(project: Project, pipeline: str | None = None, loops_only: bool = False) -> Diagram:
    """The diagram of a project: every node, or one pipeline with its neighbours, or only the loops.

    Raises :class:`UnknownPipeline` when ``pipeline`` names no pipeline.
    """
    facts = project.facts
    drawn = select_nodes(project, pipeline, loops_only)
    components = loop_components(facts)
    edges = mark_witnesses(subgraph_edges(project, drawn, components), facts.ungated, facts.uncapped)
    manifests = sorted(manifest.pipeline for manifest in project.manifests)
    return build_subgraph(project, drawn, edges, title(manifests, pipeline, *loop_counts(facts, components, drawn)),
                          note="" if drawn else _nothing_to_draw(project, loops_only))


def subgraph_edges(project: Project, drawn: Iterable[str], components: Mapping[str, int]) -> tuple[Edge, ...]:
    """The data-flow edges between drawn nodes, sorted: red and bold on a loop, dashed where URIs overlap, dashed
    and labelled ``observed`` where only the observed lineage shows the flow."""
    flow = project.dataflow
    inside = set(drawn)
    return tuple(_edge(tail, head, flow.succ[tail][head]["link"], components, OBSERVED in flow.succ[tail][head])
                 for tail, head in sorted((tail, head) for tail in inside for head in flow.succ[tail]
                                          if head in inside))


def build_subgraph(project: Project, drawn: Iterable[str], edges: tuple[Edge, ...], heading: str,
                   marks: Mapping[str, tuple[str, ...]] | None = None, note: str = "") -> Diagram:
    """The diagram of some nodes of the graph and the given edges between them, a cluster per pipeline.

    ``marks`` adds lines to the text of some nodes (what a trace says of them).
    """
    flow = project.dataflow
    facts = project.facts
    drawn = set(drawn)
    manifests = {manifest.pipeline: manifest for manifest in project.manifests}
    nodes = {node: _node(node, facts) for node in drawn}
    for node, lines in (marks or {}).items():
        if node in nodes:
            nodes[node] = replace(nodes[node], lines=(*nodes[node].lines, *lines))

    by_pipeline: dict[str, list[str]] = {}
    loose = []
    for node in sorted(drawn):
        owner = flow.nodes[node]["pipeline"]
        if owner is None:
            loose.append(node)
        else:
            by_pipeline.setdefault(owner, []).append(node)
    clusters = tuple(_cluster(manifests[name], tuple(members)) for name, members in sorted(by_pipeline.items()))
    ordered = [nodes[key] for cluster in clusters for key in cluster.nodes] + [nodes[key] for key in loose]

    diagram = Diagram(
        title=heading,
        clusters=clusters,
        nodes=tuple(ordered),
        edges=edges,
        loose=tuple(loose),
        note=note,
    )
    return _with_legend(diagram, graph_kinds={key: _legend_kind(key, facts) for key in drawn})


def select_nodes(project: Project, pipeline: str | None, loops_only: bool) -> set[str]:
    """The graph nodes to draw.

    ``pipeline``: its nodes and their direct neighbours (in other pipelines, or
    known only by URI). ``loops_only``: only nodes on some loop. Both: the nodes
    of the first that are on a loop.
    """
    flow = project.dataflow
    chosen = set(flow.nodes)
    if pipeline is not None:
        names = [manifest.pipeline for manifest in project.manifests]
        if pipeline not in names:
            close = get_close_matches(pipeline, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the pipelines are: {', '.join(sorted(names))}"
            if not names:
                hint = "; no pipeline was found"
            raise UnknownPipeline(f"no pipeline {pipeline!r}{hint}")
        own = {node for node, data in flow.nodes.items() if data["pipeline"] == pipeline}
        chosen = own.union(*(flow.pred[node].keys() | flow.succ[node].keys() for node in own))
    if loops_only:
        chosen &= set(loop_components(project.facts))  # hubs on a loop too: the links it runs through
    return chosen


def loop_counts(facts: Facts, components: Mapping[str, int], drawn: Iterable[str]) -> tuple[int, int, int]:
    """How many loops some drawn node lies on, and how many of those have a cycle with no gate, or no cap.

    A loop is a strongly connected component that holds a generate step
    (``components``, from :func:`loop_components`), counted once however
    many generate steps it holds.
    """
    shown = {components[node] for node in drawn if node in components}
    ungated = {components[step] for step in facts.ungated if step in components} & shown
    uncapped = {components[step] for step in facts.uncapped if step in components} & shown
    return len(shown), len(ungated), len(uncapped)


def diagram_size(project: Project, pipeline: str | None = None, loops_only: bool = False) -> tuple[int, int]:
    """The nodes and edges the full diagram of a selection would draw, counted without drawing it.

    Raises :class:`UnknownPipeline` when ``pipeline`` names no pipeline.
    """
    flow = project.dataflow
    drawn = select_nodes(project, pipeline, loops_only)
    return len(drawn), sum(1 for tail in drawn for head in flow.succ[tail] if head in drawn)


def readable(nodes: int, edges: int) -> bool:
    """Whether ``loopscan graph`` draws the full diagram of this many nodes and edges when not told which view.

    >>> readable(58, 60), readable(988, 968), readable(400, 1001)
    (True, False, False)
    """
    return nodes <= FULL_AT_MOST_NODES and edges <= FULL_AT_MOST_EDGES


PIPELINE = "pipeline"
"""The kind of an overview node that stands for a pipeline; one that stands for URIs is ``uri``."""


def build_overview(project: Project, pipeline: str | None = None, loops_only: bool = False) -> Diagram:
    """The overview of a selection: one node per pipeline, and one per URI scheme and host.

    The selection is :func:`build_diagram`'s (``pipeline``, ``loops_only``);
    each of its nodes is drawn as its pipeline, or, when it is known only by
    URI, as its :func:`uri_group`. An edge A -> B stands for every data-flow
    edge from a node of A to a node of B, labelled with how many there are; it
    is bold and red when one of them has both ends on one loop. Where the
    shortest cycle with no gate (or no cap) of a generate step crosses from
    one pipeline to another, the edge is bolder still, and the first crossing
    from the generate step's pipeline is labelled ``no gate`` (``no cap``).
    Each pipeline's text counts what it declares, and its generate steps on
    loops with how many of them have such a cycle.

    Raises :class:`UnknownPipeline` when ``pipeline`` names no pipeline.
    """
    flow = project.dataflow
    facts = project.facts
    drawn = select_nodes(project, pipeline, loops_only)
    manifests = {manifest.pipeline: manifest for manifest in project.manifests}
    components = loop_components(facts)
    groups = {node: overview_key(node, flow.nodes[node]["pipeline"]) for node in drawn}

    links: dict[tuple[str, str], int] = {}
    on_loop: set[tuple[str, str]] = set()
    for tail in drawn:
        tail_group, component = groups[tail], components.get(tail)
        for head in flow.succ[tail]:
            head_group = groups.get(head)
            if head_group is None or head_group == tail_group:
                continue
            pair = (tail_group, head_group)
            links[pair] = links.get(pair, 0) + 1
            if component is not None and components.get(head) == component:
                on_loop.add(pair)
    edges = tuple(Edge(tail, head, LOOP_EDGE if (tail, head) in on_loop else PLAIN_EDGE,
                       LOOP_WIDTH if (tail, head) in on_loop else EDGE_WIDTH, label=counted(count, "link"))
                  for (tail, head), count in sorted(links.items()))
    edges = mark_witnesses(edges, crossings(facts.ungated, groups), crossings(facts.uncapped, groups))

    members: dict[str, list[str]] = {}
    for node, group in groups.items():
        members.setdefault(group, []).append(node)
    on_loops: dict[str, list[str]] = {}
    for step in facts.cyclic_generate_steps:
        on_loops.setdefault(str(flow.nodes[step]["pipeline"]), []).append(step)
    nodes = []
    for key in sorted(members):
        kind, _, name = key.partition(":")
        if kind == PIPELINE:
            nodes.append(_pipeline_node(key, manifests[name], on_loops.get(name, []), facts))
        else:
            nodes.append(_uri_group_node(key, name, sorted(members[key])))
    diagram = Diagram(
        title=title(sorted(manifests), pipeline, *loop_counts(facts, components, drawn), overview=True),
        clusters=(),
        nodes=tuple(nodes),
        edges=edges,
        loose=tuple(node.key for node in nodes),
        note="" if drawn else _nothing_to_draw(project, loops_only),
        layout="layered" if len(edges) <= LAYERED_AT_MOST_EDGES else "force",
    )
    return _with_overview_legend(diagram)


def overview_key(node: str, pipeline: str | None) -> str:
    """The overview node a graph node is drawn as: ``pipeline:NAME``, or ``uri:`` and its :func:`uri_group`.

    >>> overview_key("catalog-etl:listings", "catalog-etl"), overview_key("s3://lake/x/", None)
    ('pipeline:catalog-etl', 'uri:s3://lake')
    """
    return f"{PIPELINE}:{pipeline}" if pipeline is not None else f"uri:{uri_group(node)}"


def uri_group(uri: str) -> str:
    """The scheme and host of a URI, which an overview draws the artifacts known only by that URI as.

    >>> uri_group("s3://lake/team-00/raw/"), uri_group("models:/catalog-lm"), uri_group("gs://b")
    ('s3://lake', 'models:', 'gs://b')
    """
    scheme, _, rest = uri.partition(":")
    if rest.startswith("//"):
        return f"{scheme}://{rest[2:].split('/', 1)[0]}"
    return f"{scheme}:"


def crossings(witnesses: Mapping[str, list[str]], groups: Mapping[str, str]) -> dict[str, list[str]]:
    """Each witness cycle as the overview nodes it passes, in order, each once per visit.

    A cycle that never leaves one overview node becomes ``[that node]``, which crosses no edge.

    >>> groups = {"g": "A", "d": "A", "x": "B", "y": "B"}
    >>> crossings({"g": ["g", "d", "x", "y"], "h": ["g", "d"]}, groups)
    {'g': ['A', 'B'], 'h': ['A']}
    """
    found = {}
    for step, cycle in witnesses.items():
        passed: list[str] = []
        for node in cycle:
            group = groups.get(node)
            if group is None:  # a witness outside the selection is not drawn
                passed = []
                break
            if not passed or passed[-1] != group:
                passed.append(group)
        if len(passed) > 1 and passed[-1] == passed[0]:
            passed.pop()
        if passed:
            found[step] = passed
    return found


def counted(count: int, noun: str) -> str:
    """A count and its noun, plural unless it is one.

    >>> counted(1, "link"), counted(3, "step"), counted(0, "model")
    ('1 link', '3 steps', '0 models')
    """
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _pipeline_node(key: str, manifest: Manifest, on_loops: list[str], facts: Facts) -> Node:
    """A pipeline in the overview: its name, what it declares, and its generate steps on loops."""
    lines = [*text_lines(manifest.pipeline),
             f"{counted(len(manifest.datasets), 'dataset')}, {counted(len(manifest.models), 'model')}, "
             f"{counted(len(manifest.steps), 'step')}"]
    if on_loops:
        risks = [(count, word) for count, word in (
            (sum(1 for step in on_loops if step in facts.ungated), NO_GATE),
            (sum(1 for step in on_loops if step in facts.uncapped), NO_CAP)) if count]
        if len(on_loops) == 1:
            said = ", ".join(word for _, word in risks)
            lines.append("1 generate step on a loop" + (f" ({said})" if said else ""))
        else:
            said = ", ".join(f"{count:,} with {word}" for count, word in risks)
            lines.append(f"{len(on_loops):,} generate steps on loops" + (f" ({said})" if said else ""))
    owner = manifest.owner
    owners = ", ".join(str(name) for name in owner) if isinstance(owner, list) else owner
    tooltip = [*text_lines(manifest.pipeline), *text_lines(f"owner: {owners}" if owners else ""),
               *text_lines(manifest.description or "")]
    return Node(key, tuple(lines), "box", LOOP_FILL if on_loops else STEP_FILL, tooltip=tuple(tooltip))


URIS_IN_A_TOOLTIP = 10
"""How many of its URIs an overview's URI node names when hovered over."""


def _uri_group_node(key: str, group: str, uris: list[str]) -> Node:
    """The artifacts known only by URI under one scheme and host, as one dashed cylinder."""
    lines = (*text_lines(group), f"{counted(len(uris), 'artifact')} known only by URI")
    shown = [line for uri in uris[:URIS_IN_A_TOOLTIP] for line in text_lines(uri)]
    more = len(uris) - URIS_IN_A_TOOLTIP
    tooltip = (*lines, *shown, *([f"and {more:,} more"] if more > 0 else []))
    return Node(key, lines, "cylinder", PROVENANCE_FILL["unknown"], dashed=True, tooltip=tooltip)


def loop_components(facts: Facts) -> dict[str, int]:
    """Each node on a loop, with a number for the strongly connected component that holds it.

    An edge whose ends share a component lies on a cycle through a generate step. Each
    component is walked once, however many generate steps it holds.
    """
    numbers: dict[frozenset[str], int] = {}
    found: dict[str, int] = {}
    for _, component in sorted(facts.cyclic_generate_steps.items()):
        if component not in numbers:
            number = numbers[component] = len(numbers)
            found.update(dict.fromkeys(component, number))
    return found


def _edge(tail: str, head: str, overlap: bool, components: Mapping[str, int], observed: bool = False) -> Edge:
    """A data-flow edge; red and bold on a loop, dashed when it is a URI overlap or only observed."""
    component = components.get(tail)
    on_loop = component is not None and components.get(head) == component
    return Edge(tail, head, color=LOOP_EDGE if on_loop else PLAIN_EDGE,
                width=LOOP_WIDTH if on_loop else EDGE_WIDTH, dashed=overlap or observed,
                label=OBSERVED_LABEL if observed else "", observed=observed)


def mark_witnesses(edges: Iterable[Edge], ungated: Mapping[str, list[str]],
                   uncapped: Mapping[str, list[str]]) -> tuple[Edge, ...]:
    """Draw each ungated (or uncapped) witness cycle bolder, and label it where it leaves its generate step.

    A label the edge already has (an overview's count of links) comes first.

    >>> edges = [Edge("g", "d", LOOP_EDGE, LOOP_WIDTH), Edge("d", "g", LOOP_EDGE, LOOP_WIDTH),
    ...          Edge("d", "x")]
    >>> [(e.tail, e.width, e.label) for e in mark_witnesses(edges, {"g": ["g", "d"]}, {})]
    [('g', 3.5, 'no gate'), ('d', 3.5, ''), ('d', 1.0, '')]
    """
    widened: set[tuple[str, str]] = set()
    labels: dict[tuple[str, str], list[str]] = {}
    for word, witnesses in ((NO_GATE, ungated), (NO_CAP, uncapped)):
        for cycle in witnesses.values():
            if not cycle:
                continue
            steps = list(zip(cycle, [*cycle[1:], cycle[0]], strict=True))
            widened.update(steps)
            labels.setdefault(steps[0], []).append(word)
    marked = []
    for edge in edges:
        key = (edge.tail, edge.head)
        if key in widened:
            words = [edge.label, *labels.get(key, ())] if edge.label else labels.get(key, [])
            edge = replace(edge, color=LOOP_EDGE, width=WITNESS_WIDTH, label=", ".join(words))
        marked.append(edge)
    return tuple(marked)


def _node(node: str, facts: Facts) -> Node:
    """A graph node's box: shape by kind, fill by inferred provenance for data, text and tooltip."""
    attributes = facts.dataflow.nodes[node]
    kind = attributes["kind"]
    decl = attributes["decl"]
    provenance = facts.provenance.get(node, "unknown")
    tooltip = [*text_lines(node), f"{_kind_word(kind)}, provenance {provenance}" if kind in ("dataset", "model", "uri")
               else _kind_word(kind)]
    description = declared_text(decl, "description")
    if description:
        tooltip.extend(text_lines(description))
    if isinstance(decl, Step):
        unaccepted = facts.is_unaccepted_gate(node)
        return Node(node, step_lines(decl, unaccepted), STEP_SHAPE.get(kind, "ellipse"), STEP_FILL,
                    dashed=unaccepted, tooltip=tuple(tooltip))
    fill = PROVENANCE_FILL.get(provenance, PROVENANCE_FILL["unknown"])
    if isinstance(decl, Artifact):
        return Node(node, artifact_lines(decl), "box" if kind == "model" else "cylinder", fill,
                    tooltip=tuple(tooltip))
    return Node(node, text_lines(node), "cylinder", fill, dashed=True, tooltip=tuple(tooltip))


STEP_SHAPE = {"generate": "hexagon", "gate": "diamond", "ingest": "parallelogram"}
"""Steps of other kinds (train, transform, evaluate) are ellipses."""


def _kind_word(kind: str) -> str:
    return {"uri": "artifact known only by URI"}.get(kind, kind if kind in ("dataset", "model") else f"{kind} step")


def artifact_lines(artifact: Artifact) -> tuple[str, ...]:
    """An artifact's text: its id, its URI, and ``frozen`` when no step may write it."""
    lines = [artifact.id]
    if artifact.uri:
        lines.extend(text_lines(artifact.uri))
    if artifact.frozen:
        lines.append("frozen")
    return tuple(lines)


def step_lines(step: Step, unaccepted_gate: bool) -> tuple[str, ...]:
    """A step's text: its id, a gate's method, and the synthetic cap of a capping step."""
    lines = [step.id]
    if step.kind == "gate":
        method = step.method or "other"
        lines.extend(text_lines(f"{method} (not an accepted gate)" if unaccepted_gate else method))
    if step.mixing is not None and step.mixing.max_synthetic is not None:
        lines.append(f"cap {step.mixing.max_synthetic:.0%} synthetic")
    return tuple(lines)


def _cluster(manifest: Manifest, members: tuple[str, ...]) -> Cluster:
    """One pipeline's box, titled with its name and its owner."""
    owner = manifest.owner
    owners = ", ".join(str(name) for name in owner) if isinstance(owner, list) else owner
    lines = (manifest.pipeline, *text_lines(f"owner: {owners}")) if owners else (manifest.pipeline,)
    tooltip = (manifest.pipeline, *text_lines(manifest.description or ""))
    return Cluster(manifest.pipeline, lines, members, tooltip=tuple(line for line in tooltip if line))


def declared_text(decl: object, name: str) -> str | None:
    """A text field of a declaration as written in its manifest (``description``), or None."""
    if not isinstance(decl, (Step, Artifact)):
        return None
    data = decl.document.data
    for key in decl.path:
        data = data.get(key) if isinstance(data, dict) else None
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def text_lines(text: str) -> tuple[str, ...]:
    """Text as lines to draw: split at line breaks, control characters shown as U+FFFD, no empty lines.

    >>> text_lines('a "quoted"\\r\\nname\\x07 \\n\\n')
    ('a "quoted"', 'name\ufffd')
    """
    lines = (NOT_IN_A_LABEL.sub("\ufffd", line.replace("\t", " ")).strip() for line in text.splitlines())
    return tuple(line for line in lines if line)


def title(pipelines: list[str], focus: str | None, loops: int, ungated: int, uncapped: int,
          overview: bool = False) -> str:
    """One line above the picture: what is drawn and how many loops it holds.

    >>> title(["a", "b", "c"], None, 2, 1, 2)
    '3 pipelines: 2 loops (1 with no gate, 2 with no cap)'
    >>> title(["a", "b"], "a", 0, 0, 0)
    'pipeline a and its neighbours: no loops'
    >>> title(["a", "b"], None, 1, 1, 0, overview=True)
    'Overview of 2 pipelines: 1 loop (1 with no gate)'
    """
    if focus is not None:
        what = f"pipeline {focus} and its neighbours"
    elif len(pipelines) == 1:
        what = pipelines[0]
    else:
        what = f"{len(pipelines)} pipelines"
    if overview:
        what = f"Overview of {what}"
    if not loops:
        return f"{what}: no loops"
    risks = [f"{count} with no {word}" for count, word in ((ungated, "gate"), (uncapped, "cap")) if count]
    noun = "loop" if loops == 1 else "loops"
    return f"{what}: {loops} {noun}" + (f" ({', '.join(risks)})" if risks else "")


def _nothing_to_draw(project: Project, loops_only: bool) -> str:
    if not project.manifests:
        return "No pipelines: no manifest was found."
    if loops_only:
        return "No loops: no generate step's output flows back into what feeds it."
    return "Nothing to draw."


def _legend_kind(node: str, facts: Facts) -> str:
    """The legend entry a node's shape needs."""
    kind = facts.dataflow.nodes[node]["kind"]
    if kind == "gate" and facts.is_unaccepted_gate(node):
        return "unaccepted-gate"
    return kind if kind in ("dataset", "model", "uri", "generate", "gate", "ingest") else "step"


_LEGEND_SHAPES = (
    ("dataset", "cylinder", False, "dataset"),
    ("model", "box", False, "model"),
    ("uri", "cylinder", True, "known only by URI"),
    ("generate", "hexagon", False, "generate step"),
    ("gate", "diamond", False, "gate"),
    ("unaccepted-gate", "diamond", True, "gate the policy does not accept"),
    ("ingest", "parallelogram", False, "ingest step"),
    ("step", "ellipse", False, "train, transform or evaluate step"),
)


_FILL_WORDS = {"human": "human data", "ai": "AI-generated data", "mixed": "mixed data",
               "unknown": "unknown provenance"}


def _with_legend(diagram: Diagram, graph_kinds: Mapping[str, str]) -> Diagram:
    """Add a legend of the shapes, fills and kinds of edge that the diagram uses."""
    if not diagram.nodes:
        return diagram
    kinds = set(graph_kinds.values())
    nodes: list[Node] = []
    for kind, shape, dashed, text in _LEGEND_SHAPES:
        if kind in kinds:
            fill = PROVENANCE_FILL["unknown"] if shape in ("cylinder", "box") else STEP_FILL
            nodes.append(Node(f"shape-{kind}", (text,), shape, fill, dashed))
    fills = {node.fill for node in diagram.nodes if node.shape in ("cylinder", "box")}
    for provenance, fill in PROVENANCE_FILL.items():
        if fill in fills:
            nodes.append(Node(f"fill-{provenance}", (_FILL_WORDS[provenance],), "swatch", fill))
    points, edges = _sample_edges(_edge_samples(diagram.edges))
    return replace(diagram, legend=Legend("Legend", (*nodes, *points), edges))


def _with_overview_legend(diagram: Diagram) -> Diagram:
    """Add a legend of an overview: its two shapes, and the kinds of edge it uses."""
    if not diagram.nodes:
        return diagram
    nodes = [Node("shape-pipeline", ("pipeline",), "box", STEP_FILL)]
    if any(node.shape == "cylinder" for node in diagram.nodes):
        nodes.append(Node("shape-uri", ("artifacts known only by URI, by scheme and host",), "cylinder",
                          PROVENANCE_FILL["unknown"], dashed=True))
    if any(node.fill == LOOP_FILL for node in diagram.nodes):
        nodes.append(Node("fill-loop", ("holds a generate step on a loop",), "swatch", LOOP_FILL))
    samples = [(Edge("", "", label="data flows: how many links"),
                any(edge.color == PLAIN_EDGE for edge in diagram.edges)),
               *_edge_samples(diagram.edges)[1:]]
    points, edges = _sample_edges(samples)
    return replace(diagram, legend=Legend("Legend", (*nodes, *points), edges))


def _sample_edges(samples: Iterable[tuple[Edge, bool]]) -> tuple[tuple[Node, ...], tuple[Edge, ...]]:
    """The legend's sample edges that are used, each between two points of its own."""
    nodes: list[Node] = []
    edges: list[Edge] = []
    for number, (sample, used) in enumerate(samples):
        if used:
            tail, head = f"edge-{number}-from", f"edge-{number}-to"
            nodes.extend(Node(key, (), "point", PLAIN_EDGE) for key in (tail, head))
            edges.append(replace(sample, tail=tail, head=head))
    return tuple(nodes), tuple(edges)


def _edge_samples(edges: Iterable[Edge]) -> list[tuple[Edge, bool]]:
    """The legend's sample edges (overlap, loop, witness, path, observed), each with whether one is drawn."""
    drawn = list(edges)
    return [
        (Edge("", "", dashed=True, label="URI overlap"), any(edge.dashed and not edge.observed for edge in drawn)),
        (Edge("", "", LOOP_EDGE, LOOP_WIDTH, label="on a loop"), any(edge.width == LOOP_WIDTH for edge in drawn)),
        (Edge("", "", LOOP_EDGE, WITNESS_WIDTH, label="cycle with no gate or no cap"),
         any(edge.width == WITNESS_WIDTH and edge.color == LOOP_EDGE for edge in drawn)),
        (Edge("", "", PATH_EDGE, WITNESS_WIDTH, label="a path of AI data"),
         any(edge.color == PATH_EDGE for edge in drawn)),
        (Edge("", "", dashed=True, label="observed in the lineage, not declared", observed=True),
         any(edge.observed for edge in drawn)),
    ]
