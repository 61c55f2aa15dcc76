"""What ``loopscan graph`` draws: one pure step from the analysed project to a :class:`Diagram`.

Everything a picture shows is decided here, once, for every format: which
nodes and edges are drawn (``--pipeline``, ``--loops-only``), the clusters
(one per pipeline), each node's shape (by kind), fill (by inferred
provenance) and text, which edges lie on a loop (bold and red), the witness
of each loop that gets past every gate or cap (thicker, labelled ``no gate``
or ``no cap`` where it leaves the generate step), and a legend of what
appears. The renderers (:mod:`loopscan.render.dot`,
:mod:`loopscan.render.mermaid`) only turn this model into syntax.

Text in the model is plain: lines without line breaks or control characters,
never escaped. Escaping for a format is the renderer's job.

Everything is sorted, so the same pipelines always give the same diagram.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from difflib import get_close_matches

from loopscan.analysis.facts import Facts, Loop
from loopscan.printable import NOT_IN_A_LABEL
from loopscan.project import Project
from loopscan.sources.manifest import Artifact, Manifest, Step

SHAPES = ("cylinder", "box", "diamond", "hexagon", "parallelogram", "ellipse", "swatch", "point")
"""The shapes a node can have; each renderer maps every one of them."""

PROVENANCE_FILL = {"human": "#cfe5f5", "ai": "#f7c99b", "mixed": "#e6d5ee", "unknown": "#d9d9d9"}
"""Fill by inferred provenance: light blue, orange, purple (their blend) and grey."""
STEP_FILL = "#ffffff"
PLAIN_EDGE = "#555555"
LOOP_EDGE = "#c62828"

EDGE_WIDTH = 1.0
LOOP_WIDTH = 2.0
WITNESS_WIDTH = 3.5
"""A loop's edges are drawn bold; the cycle that gets past every gate (or cap) bolder still."""

NO_GATE = "no gate"
NO_CAP = "no cap"



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
    """Nodes in no pipeline (artifacts known only by URI)."""


class UnknownPipeline(ValueError):
    """``--pipeline`` names no pipeline of the project."""


def build_diagram(project: Project, pipeline: str | None = None, loops_only: bool = False) -> Diagram:
    """The diagram of a project: every node, or one pipeline with its neighbours, or only the loops.

    Raises :class:`UnknownPipeline` when ``pipeline`` names no pipeline.
    """
    flow = project.dataflow
    facts = project.facts
    drawn = select_nodes(project, pipeline, loops_only)
    manifests = {manifest.pipeline: manifest for manifest in project.manifests}
    components = loop_components(facts)

    nodes = {node: _node(node, facts) for node in drawn}
    edges = tuple(_edge(tail, head, flow.succ[tail][head]["link"], components)
                  for tail, head in sorted((tail, head) for tail in drawn for head in flow.succ[tail] if head in drawn))
    edges = mark_witnesses(edges, facts.ungated, facts.uncapped)

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

    loops = shown_loops(facts, drawn)
    diagram = Diagram(
        title=title(sorted(manifests), pipeline, len(loops),
                    sum(1 for loop in loops if loop.ungated), sum(1 for loop in loops if loop.uncapped)),
        clusters=clusters,
        nodes=tuple(ordered),
        edges=edges,
        loose=tuple(loose),
        note="" if drawn else _nothing_to_draw(project, loops_only),
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
        chosen &= set(project.facts.loop_by_node)
    return chosen


def shown_loops(facts: Facts, drawn: Iterable[str]) -> list[Loop]:
    """The loops that some drawn node lies on, sorted by generate step."""
    found = {loop.generate: loop for node in drawn for loop in facts.loops_on(node)}
    return [found[generate] for generate in sorted(found)]


def loop_components(facts: Facts) -> dict[str, int]:
    """Each node on a loop, with a number for the strongly connected component that holds it.

    An edge whose ends share a component lies on a cycle through a generate step.
    """
    numbers: dict[frozenset[str], int] = {}
    return {node: numbers.setdefault(component, len(numbers))
            for _, component in sorted(facts.cyclic_generate_steps.items()) for node in component}


def _edge(tail: str, head: str, overlap: bool, components: Mapping[str, int]) -> Edge:
    """A data-flow edge; red and bold on a loop, dashed when it is a URI overlap."""
    component = components.get(tail)
    on_loop = component is not None and components.get(head) == component
    return Edge(tail, head, color=LOOP_EDGE if on_loop else PLAIN_EDGE,
                width=LOOP_WIDTH if on_loop else EDGE_WIDTH, dashed=overlap)


def mark_witnesses(edges: Iterable[Edge], ungated: Mapping[str, list[str]],
                   uncapped: Mapping[str, list[str]]) -> tuple[Edge, ...]:
    """Draw each ungated (or uncapped) witness cycle bolder, and label it where it leaves its generate step.

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
            edge = Edge(edge.tail, edge.head, LOOP_EDGE, WITNESS_WIDTH, edge.dashed, ", ".join(labels.get(key, ())))
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


def title(pipelines: list[str], focus: str | None, loops: int, ungated: int, uncapped: int) -> str:
    """One line above the picture: what is drawn and how many loops it holds.

    >>> title(["a", "b", "c"], None, 2, 1, 2)
    '3 pipelines: 2 loops (1 with no gate, 2 with no cap)'
    >>> title(["a", "b"], "a", 0, 0, 0)
    'pipeline a and its neighbours: no loops'
    """
    if focus is not None:
        what = f"pipeline {focus} and its neighbours"
    elif len(pipelines) == 1:
        what = pipelines[0]
    else:
        what = f"{len(pipelines)} pipelines"
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
    edges: list[Edge] = []
    for number, (sample, used) in enumerate(_edge_samples(diagram.edges)):
        if used:
            tail, head = f"edge-{number}-from", f"edge-{number}-to"
            nodes.extend(Node(key, (), "point", PLAIN_EDGE) for key in (tail, head))
            edges.append(replace(sample, tail=tail, head=head))
    return replace(diagram, legend=Legend("Legend", tuple(nodes), tuple(edges)))


def _edge_samples(edges: Iterable[Edge]) -> list[tuple[Edge, bool]]:
    """The legend's sample edges (overlap, loop, witness), each with whether the diagram has one like it."""
    drawn = list(edges)
    return [
        (Edge("", "", dashed=True, label="URI overlap"), any(edge.dashed for edge in drawn)),
        (Edge("", "", LOOP_EDGE, LOOP_WIDTH, label="on a loop"), any(edge.width == LOOP_WIDTH for edge in drawn)),
        (Edge("", "", LOOP_EDGE, WITNESS_WIDTH, label="cycle with no gate or no cap"),
         any(edge.width == WITNESS_WIDTH for edge in drawn)),
    ]
