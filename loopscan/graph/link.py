"""Link manifests into one project graph, resolving every reference on the way.

Nodes are steps and artifacts, named ``pipeline:id``; an artifact known only
by URI is named by its URI. Edges run input -> step -> output, and from each
artifact a step writes to every artifact whose URI overlaps it (see
:mod:`loopscan.graph.uris`), because what is written there may be read through the
other.

Node attributes: ``kind`` (a step kind, or ``dataset``/``model``/``uri``),
``pipeline`` (None for URI nodes) and ``decl`` (the :class:`Step` or
:class:`Artifact`, None for URI nodes). Edge attribute ``link`` is True on
URI-overlap edges. The graph is a :class:`~loopscan.graph.dataflow.DataFlow` (plain
dicts, what the analyses walk); :attr:`Linked.graph` gives the same graph as a
``networkx.DiGraph``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from loopscan.findings import Location, Problem, RecordedProblem
from loopscan.graph.dataflow import DataFlow
from loopscan.graph.uris import overlapping_pairs
from loopscan.integrity import CONFLICTING_ARTIFACT, UNKNOWN_REFERENCE
from loopscan.sources.manifest import Artifact, Manifest, Ref, Step
from loopscan.wording import did_you_mean

if TYPE_CHECKING:
    import networkx as nx


@dataclass
class Linked:
    """The linked project: the graph, and what linking found wrong."""

    manifests: list[Manifest]
    dataflow: DataFlow
    """The graph as plain dicts, which the analyses walk; complete once :func:`link` returns."""
    nodes: dict[Ref, str] = field(default_factory=dict)
    """Every reference that names a graph node, mapped to that node's id."""
    problems: list[RecordedProblem] = field(default_factory=list)

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The same graph as a ``networkx.DiGraph``, made on first use (a scan itself never needs it)."""
        return self.dataflow.to_networkx()


def link(manifests: Iterable[Manifest]) -> Linked:
    """Resolve references (LS004), find conflicts (LS005) and build the graph.

    >>> from loopscan.sources.manifest import build_manifest
    >>> from loopscan.sources.yamlsource import load_text
    >>> text = '''loopscan: 1
    ... pipeline: p
    ... datasets: {d: {uri: "s3://b/d/"}}
    ... steps: {s: {kind: train, inputs: [d], outputs: ["models:/m"]}}
    ... '''
    >>> linked = link([build_manifest(load_text(text, "p.yaml").documents[0])])
    >>> sorted(linked.graph.edges)
    [('p:d', 'p:s'), ('p:s', 'models:/m')]
    """
    linked = Linked([], DataFlow())
    by_name: dict[str, Manifest] = {}
    for manifest in sorted(manifests, key=lambda m: (m.file, m.document.start.line)):
        first = by_name.get(manifest.pipeline)
        if first is not None:
            message = f"pipeline name {manifest.pipeline!r} is already used by {first.file}; names must be unique"
            linked.problems.append(_problem(CONFLICTING_ARTIFACT, message, manifest.at("pipeline"), manifest))
            continue
        by_name[manifest.pipeline] = manifest
        linked.manifests.append(manifest)

    _add_declarations(linked)
    declared_uri = _declared_uris(linked)
    loop_names = _loop_names(linked.manifests)
    for manifest in linked.manifests:
        for step in manifest.steps.values():
            for ref in step.inputs:
                _connect(linked, manifest, ref, declared_uri, step, into_step=True)
            for ref in step.outputs:
                _connect(linked, manifest, ref, declared_uri, step, into_step=False)
        _check_other_references(linked, manifest, by_name, declared_uri, loop_names)
    _link_uris(linked.dataflow)
    return linked


def _problem(rule: str, message: str, location: Location, manifest: Manifest,
             node: str | None = None) -> RecordedProblem:
    return RecordedProblem(rule, Problem(message, location, pipeline=manifest.pipeline, node=node))


def _add_declarations(linked: Linked) -> None:
    graph = linked.dataflow
    for manifest in linked.manifests:
        declared: dict[str, str] = {}
        for kind, items in (("dataset", manifest.datasets), ("model", manifest.models), ("step", manifest.steps)):
            for item_id, item in items.items():
                if item_id in declared:
                    message = f"id {item_id!r} is declared as both a {declared[item_id]} and a {kind}"
                    linked.problems.append(
                        _problem(CONFLICTING_ARTIFACT, message, item.location, manifest, item.qualified))
                    continue
                declared[item_id] = kind
                node_kind = item.kind if isinstance(item, Step) else kind
                graph.add_node(item.qualified, kind=node_kind, pipeline=manifest.pipeline, decl=item)


def _declared_uris(linked: Linked) -> dict[str, Artifact]:
    """The first declaration of each URI; later ones with other provenance conflict (LS005)."""
    first: dict[str, Artifact] = {}
    for manifest in linked.manifests:
        for artifact in manifest.artifacts.values():
            if artifact.uri is None:
                continue
            earlier = first.setdefault(artifact.uri, artifact)
            if (earlier is not artifact and earlier.pipeline != artifact.pipeline
                    and earlier.provenance and artifact.provenance
                    and earlier.provenance != artifact.provenance):
                message = (f"{artifact.uri} is declared {artifact.provenance!r} here but "
                           f"{earlier.provenance!r} by {earlier.qualified} ({earlier.location})")
                linked.problems.append(
                    _problem(CONFLICTING_ARTIFACT, message, artifact.at("provenance"), manifest, artifact.qualified))
    return first


def _connect(linked: Linked, manifest: Manifest, ref: Ref, declared_uri: dict[str, Artifact],
             step: Step, into_step: bool) -> None:
    node = _artifact_node(linked, manifest, ref, declared_uri)
    if node is None:
        return
    linked.nodes[ref] = node
    graph = linked.dataflow
    if node not in graph:
        graph.add_node(node, kind="uri", pipeline=None, decl=None)
    if into_step:
        graph.add_edge(node, step.qualified, link=False)
    else:
        graph.add_edge(step.qualified, node, link=False)


def _artifact_node(linked: Linked, manifest: Manifest, ref: Ref,
                   declared_uri: dict[str, Artifact]) -> str | None:
    """The graph node an input, output, anchor or eval set names; None (and LS004) if none."""
    if not ref.is_uri:
        artifact = manifest.artifacts.get(ref.text)
        if artifact is not None:
            return artifact.qualified
        hint = ""
        if ref.text in manifest.steps:
            hint = f" ({ref.text!r} is a step; inputs and outputs name datasets and models)"
        else:
            hint = did_you_mean(ref.text, manifest.artifacts)
        message = f"{ref.text!r} names no dataset or model of pipeline {manifest.pipeline!r}{hint}"
        linked.problems.append(_problem(UNKNOWN_REFERENCE, message, ref.location, manifest))
        return None
    for artifact in manifest.artifacts.values():
        if artifact.uri == ref.text:
            return artifact.qualified
    qualified = linked.dataflow.nodes.get(ref.text)
    if qualified is not None and qualified["kind"] in ("dataset", "model"):
        return ref.text
    declared = declared_uri.get(ref.text)
    return declared.qualified if declared is not None else ref.text


def _check_other_references(linked: Linked, manifest: Manifest, by_name: dict[str, Manifest],
                             declared_uri: dict[str, Artifact], loop_names: dict[str, None]) -> None:
    """Anchors, eval sets, loop steps and override targets must name something (LS004)."""
    for step in manifest.steps.values():
        if step.mixing is not None and step.mixing.anchor is not None:
            node = _artifact_node(linked, manifest, step.mixing.anchor, declared_uri)
            if node is not None:
                linked.nodes[step.mixing.anchor] = node
    for model in manifest.models.values():
        if model.monitoring is not None and model.monitoring.eval_set is not None:
            node = _artifact_node(linked, manifest, model.monitoring.eval_set, declared_uri)
            if node is not None:
                linked.nodes[model.monitoring.eval_set] = node
    for loop in manifest.loops.values():
        for ref in (*loop.through, *loop.safeguards):
            node = _step_node(linked, manifest, ref)
            if node is not None:
                linked.nodes[ref] = node
    for override in manifest.overrides:
        target = override.target
        if target is None or target.text in by_name or target.text in loop_names:
            continue
        node = f"{manifest.pipeline}:{target.text}" if not target.is_uri else target.text
        attributes = linked.dataflow.nodes.get(node)
        if attributes is not None and attributes["pipeline"] is not None:
            linked.nodes[target] = node
            continue
        choices = [*manifest.artifacts, *manifest.steps, *by_name, *loop_names]
        message = (f"override target {target.text!r} names no node, loop or pipeline"
                   f"{did_you_mean(target.text, choices)}")
        linked.problems.append(_problem(UNKNOWN_REFERENCE, message, target.location, manifest))


def _step_node(linked: Linked, manifest: Manifest, ref: Ref) -> str | None:
    """A step named in a ``loops`` entry: a local id or ``pipeline:step``."""
    node = ref.text if ref.is_uri else f"{manifest.pipeline}:{ref.text}"
    attributes = linked.dataflow.nodes.get(node)
    if attributes is not None and isinstance(attributes["decl"], Step):
        return node
    hint = did_you_mean(ref.text, manifest.steps)
    if not hint and not ref.is_uri and ref.text in manifest.artifacts:
        hint = f" ({ref.text!r} is a dataset or model; a loop lists steps)"
    linked.problems.append(_problem(UNKNOWN_REFERENCE, f"{ref.text!r} names no step{hint}", ref.location, manifest))
    return None


def _loop_names(manifests: Iterable[Manifest]) -> dict[str, None]:
    """The name of every ``loops`` entry of the project, in manifest order (looked up once per override).

    >>> from types import SimpleNamespace
    >>> list(_loop_names([SimpleNamespace(loops={"b": 1}), SimpleNamespace(loops={"a": 2, "b": 3})]))
    ['b', 'a']
    """
    return {name: None for manifest in manifests for name in manifest.loops}



def _link_uris(graph: DataFlow) -> None:
    """Add a ``link`` edge from each artifact a step writes to every artifact whose URI overlaps it.

    Only written artifacts get outgoing links: a write to W feeds a reader of
    R when W and R overlap, and an artifact nothing writes has no data of its
    own to pass on. This also keeps two sibling datasets from being joined
    through a common prefix that only ever is read (``s3://lake/a/`` and
    ``s3://lake/b/`` through ``s3://lake/``).
    """
    by_uri: dict[str, list[str]] = defaultdict(list)
    for node, attributes in graph.nodes.items():
        decl = attributes["decl"]
        uri = decl.uri if isinstance(decl, Artifact) else (node if attributes["kind"] == "uri" else None)
        if uri is not None:
            by_uri[uri].append(node)
    written = {node for nodes in by_uri.values() for node in nodes
               if any(not edge["link"] for edge in graph.pred[node].values())}
    pairs = [(uri, uri) for uri, nodes in by_uri.items() if len(nodes) > 1]
    for first, second in (*pairs, *overlapping_pairs(by_uri)):
        for a in by_uri[first]:
            for b in by_uri[second]:
                if a == b:
                    continue
                if a in written:
                    graph.add_edge(a, b, link=True)
                if b in written:
                    graph.add_edge(b, a, link=True)
