"""Link manifests into one project graph, resolving every reference on the way.

Nodes are steps and artifacts, named ``pipeline:id``; an artifact known only
by URI is named by its URI. Edges run input -> step -> output, and from each
artifact a step writes to every artifact whose URI overlaps it (see
:mod:`loopscan.graph.uris`), because what is written there may be read through the
other.

Node attributes: ``kind`` (a step kind, or ``dataset``/``model``/``uri``),
``pipeline`` (None for URI nodes) and ``decl`` (the :class:`Step` or
:class:`Artifact`, None for URI nodes). Edge attribute ``link`` is True on
URI-overlap edges; an edge into a step carries the input's ``role``
(:func:`~loopscan.sources.manifest.input_role`, None when it has none). An
ingest whose ``source`` is a URI reads it like an input. An ``on_policy``
train step has an edge to itself (``on_policy`` True): it samples from the
model it trains, a loop inside one step. A URI that many artifacts share is linked through a hub
node (kind ``uri``, attribute ``hub``) instead of artifact to artifact
(:func:`_link_uris`), so that linking stays near-linear. The graph is a
:class:`~loopscan.graph.dataflow.DataFlow` (plain dicts, what the analyses
walk); :attr:`Linked.graph` gives the same graph as a ``networkx.DiGraph``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from loopscan.findings import Location, Problem, RecordedProblem
from loopscan.graph.dataflow import DataFlow, GraphLike
from loopscan.graph.uris import find_overlaps
from loopscan.integrity import CONFLICTING_ARTIFACT, SCHEMA, UNKNOWN_REFERENCE
from loopscan.sources.manifest import Artifact, ArtifactKind, Manifest, Ref, Step, input_role
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
    pipelines: dict[str, Manifest] = field(default_factory=dict)
    """The linked manifests by pipeline name."""
    external: dict[str, Artifact] = field(default_factory=dict)
    """Each URI that some declaration calls an ``external`` model, with that declaration."""
    problems: list[RecordedProblem] = field(default_factory=list)

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The same graph as a ``networkx.DiGraph``, made on first use (a scan itself never needs it)."""
        return self.dataflow.to_networkx()


def link(manifests: Iterable[Manifest], before_uris: Callable[[Linked], None] | None = None) -> Linked:
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
    by_name = linked.pipelines
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
    linked.external = {model.uri: model for manifest in linked.manifests for model in manifest.models.values()
                       if model.external and model.uri is not None}
    loop_names = _loop_names(linked.manifests)
    for manifest in linked.manifests:
        own = _Own.of(manifest)
        for step in manifest.steps.values():
            source = step.source_ref
            for ref in (*step.inputs, *([source] if source is not None else ())):
                _connect(linked, manifest, own, ref, declared_uri, step, into_step=True)
            for ref in step.outputs:
                _connect(linked, manifest, own, ref, declared_uri, step, into_step=False)
            if step.on_policy and step.kind == "train":
                linked.dataflow.add_edge(step.qualified, step.qualified, link=False, on_policy=True)
            elif step.on_policy:
                message = (f"step '{step.id}' is a {step.kind} step; on_policy says a train step samples from the "
                           "model it trains, and is read on train steps only")
                linked.problems.append(_problem(SCHEMA, message, step.at("on_policy"), manifest, step.qualified))
        _check_other_references(linked, manifest, own, by_name, declared_uri, loop_names)
    if before_uris is not None:  # more flows (observed lineage), linked by their URIs like the declared ones
        before_uris(linked)
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


@dataclass(frozen=True)
class _Own:
    """One manifest's artifacts by id, and by URI (the first with each URI): made once, looked up per reference."""

    artifacts: dict[str, Artifact]
    by_uri: dict[str, Artifact]

    @classmethod
    def of(cls, manifest: Manifest) -> _Own:
        artifacts = manifest.artifacts
        by_uri: dict[str, Artifact] = {}
        for artifact in artifacts.values():
            if artifact.uri is not None:
                by_uri.setdefault(artifact.uri, artifact)
        return cls(artifacts, by_uri)


def _connect(linked: Linked, manifest: Manifest, own: _Own, ref: Ref, declared_uri: dict[str, Artifact],
             step: Step, into_step: bool) -> None:
    node = _artifact_node(linked, manifest, own, ref, declared_uri)
    if node is None:
        return
    linked.nodes[ref] = node
    graph = linked.dataflow
    if node not in graph:
        graph.add_node(node, kind="uri", pipeline=None, decl=None)
    decl = graph.nodes[node]["decl"]
    if into_step:
        role = input_role(ref, step.kind, artifact_kind(graph, node))
        graph.add_edge(node, step.qualified, link=False, role=role)
        if role == "targets" and isinstance(decl, Artifact) and decl.retention == "transient":
            message = (f"step '{step.id}' learns from {decl.qualified}, which is declared transient "
                       "(a buffer that no step learns from); declare its retention, or give the input another role")
            linked.problems.append(_problem(CONFLICTING_ARTIFACT, message, ref.location, manifest, step.qualified))
    else:
        graph.add_edge(step.qualified, node, link=False)
        uri = decl.uri if isinstance(decl, Artifact) and decl.uri is not None else node
        external = decl if isinstance(decl, Artifact) and decl.external else linked.external.get(uri)
        if external is not None:
            message = (f"step '{step.id}' writes model '{node}', declared external at {external.location} "
                       "(trained outside the project); drop `external` if this step trains it")
            linked.problems.append(_problem(CONFLICTING_ARTIFACT, message, ref.location, manifest, step.qualified))


def artifact_kind(graph: GraphLike, node: str) -> ArtifactKind:
    """A node's artifact kind; a URI node is a model when its scheme is ``models:``."""
    kind = graph.nodes[node]["kind"]
    if kind == "uri":
        return "model" if node.startswith("models:") else "dataset"
    return "model" if kind == "model" else "dataset"


def _artifact_node(linked: Linked, manifest: Manifest, own: _Own, ref: Ref,
                   declared_uri: dict[str, Artifact]) -> str | None:
    """The graph node an input, output, anchor or eval set names; None (and LS004) if none."""
    if not ref.is_uri:
        artifact = own.artifacts.get(ref.text)
        if artifact is not None:
            return artifact.qualified
        hint = ""
        if ref.text in manifest.steps:
            hint = f" ({ref.text!r} is a step; inputs and outputs name datasets and models)"
        else:
            hint = did_you_mean(ref.text, own.artifacts)
        message = f"{ref.text!r} names no dataset or model of pipeline {manifest.pipeline!r}{hint}"
        linked.problems.append(_problem(UNKNOWN_REFERENCE, message, ref.location, manifest))
        return None
    artifact = own.by_uri.get(ref.text)
    if artifact is not None:
        return artifact.qualified
    node = linked.dataflow.nodes.get(ref.text)
    if node is not None and node["kind"] in ("dataset", "model"):
        return ref.text
    declared = declared_uri.get(ref.text)
    if declared is not None:
        return declared.qualified
    qualified = ref.qualified_id
    if qualified is not None and (qualified[0] in linked.pipelines or qualified[0].lower() not in URI_SCHEMES):
        linked.problems.append(_problem(UNKNOWN_REFERENCE, _unknown_qualified(linked, *qualified),
                                        ref.location, manifest))
        return None
    return ref.text


URI_SCHEMES = frozenset({
    "s3", "s3a", "s3n", "gs", "gcs", "hdfs", "abfs", "abfss", "wasb", "wasbs", "az", "adl", "file", "http",
    "https", "ftp", "sftp", "models", "hf", "huggingface", "mlflow", "wandb", "runs", "dbfs", "bigquery",
    "postgres", "postgresql", "mysql", "snowflake", "redshift", "kafka", "hive", "delta", "iceberg", "jdbc",
    "oci", "azureml", "sagemaker", "vertex", "vertexai", "urn", "arn", "tfds", "kaggle", "torchvision",
    "openai", "anthropic", "bedrock", "ollama", "dvc", "lakefs", "minio", "r2", "git", "github", "docker",
    "comet", "neptune", "clearml", "feast", "redis", "mongodb", "elasticsearch", "opensearch", "pinecone",
    "weaviate", "qdrant", "milvus", "chroma", "databricks", "unity", "glue", "athena", "trino", "presto",
    "sqlite", "duckdb", "bigtable", "spanner", "dynamodb", "cassandra", "pubsub", "kinesis", "nfs", "smb",
})
"""Schemes that make ``scheme:name`` a URI (``hf:gpt2``) rather than ``pipeline:id``, unless a scanned
pipeline has that name."""


def _unknown_qualified(linked: Linked, pipeline: str, artifact_id: str) -> str:
    """Why ``pipeline:id`` names nothing: the pipeline has no such artifact, or was not scanned."""
    other = linked.pipelines.get(pipeline)
    if other is not None:
        if artifact_id in other.steps:
            hint = f" ({artifact_id!r} is a step; inputs and outputs name datasets and models)"
        else:
            hint = did_you_mean(artifact_id, other.artifacts, pipeline)
        return f"'{pipeline}:{artifact_id}' names no dataset or model of pipeline {pipeline!r}{hint}"
    hint = did_you_mean(pipeline, linked.pipelines) or "; scan its manifest too, or name the data by its URI"
    return f"'{pipeline}:{artifact_id}' names pipeline {pipeline!r}, which is not among the scanned manifests{hint}"


def _check_other_references(linked: Linked, manifest: Manifest, own: _Own, by_name: dict[str, Manifest],
                             declared_uri: dict[str, Artifact], loop_names: dict[str, None]) -> None:
    """Anchors, eval sets, loop steps and override targets must name something (LS004)."""
    for step in manifest.steps.values():
        if step.mixing is not None and step.mixing.anchor is not None:
            node = _artifact_node(linked, manifest, own, step.mixing.anchor, declared_uri)
            if node is not None:
                linked.nodes[step.mixing.anchor] = node
    for model in manifest.models.values():
        if model.monitoring is not None and model.monitoring.eval_set is not None:
            node = _artifact_node(linked, manifest, own, model.monitoring.eval_set, declared_uri)
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
        qualified = target.qualified_id
        if qualified is not None and qualified[0] in by_name:
            other = by_name[qualified[0]]
            hint = did_you_mean(qualified[1], [*other.artifacts, *other.steps], other.pipeline)
        else:
            hint = did_you_mean(target.text, [*manifest.artifacts, *manifest.steps, *by_name, *loop_names])
        message = f"override target {target.text!r} names no node, loop or pipeline{hint}"
        linked.problems.append(_problem(UNKNOWN_REFERENCE, message, target.location, manifest))


def _step_node(linked: Linked, manifest: Manifest, ref: Ref) -> str | None:
    """A step named in a ``loops`` entry: a local id or ``pipeline:step``."""
    node = ref.text if ref.is_uri else f"{manifest.pipeline}:{ref.text}"
    attributes = linked.dataflow.nodes.get(node)
    if attributes is not None and isinstance(attributes["decl"], Step):
        return node
    qualified = ref.qualified_id
    if qualified is not None and qualified[0] in linked.pipelines:
        hint = did_you_mean(qualified[1], linked.pipelines[qualified[0]].steps, qualified[0])
    elif qualified is not None:
        hint = did_you_mean(qualified[0], linked.pipelines) or f" (no pipeline {qualified[0]!r} was scanned)"
    else:
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


DIRECT_AT_MOST = 8
"""How many writers, and how many artifacts, a URI may have and still be linked artifact to artifact.

Beyond that it is linked through a hub node (:func:`_link_uris`), so that
2,000 artifacts at one URI make 4,000 edges, not 4 million.
"""


@dataclass
class _Shared:
    """Artifacts linked as one: those at one URI, or those at the globs of one literal part."""

    name: str
    """What its hub nodes are named after."""
    members: list[str]
    writers: list[str]
    """The members that some step writes."""
    partners: int = 0
    """How many other groups it is linked with."""
    sources: list[str] = field(default_factory=list)
    """What its links start from: its writers, or the hub they write into."""
    targets: list[str] = field(default_factory=list)
    """What its links end at: its members, or the hub they are read from."""


def _link_uris(graph: DataFlow) -> None:
    """Link each artifact a step writes to every artifact whose URI overlaps it.

    Only written artifacts get outgoing links: a write to W feeds a reader of
    R when W and R overlap, and an artifact nothing writes has no data of its
    own to pass on. This also keeps two sibling datasets from being joined
    through a common prefix that only ever is read (``s3://lake/a/`` and
    ``s3://lake/b/`` through ``s3://lake/``).

    A link is an edge from writer to artifact, unless a URI has more than
    :data:`DIRECT_AT_MOST` writers or artifacts: its writers then link into one
    hub node, and its artifacts are linked from one. Hubs are nodes of kind
    ``uri``, marked ``hub``, named after the URI; every edge at a hub is a link.
    A URI linked with no other URI has one hub for both; one that overlaps
    others has one for what is written there (``URI (written)``) and one for
    what is read there (``URI (read)``), so that data written at one URI never
    reaches a third through the hubs of a second: the analyses follow a hub's
    links as the links it stands for (:func:`loopscan.graph.dataflow.is_hub`).
    """
    by_uri: dict[str, list[str]] = defaultdict(list)
    for node, attributes in graph.nodes.items():
        decl = attributes["decl"]
        uri = decl.uri if isinstance(decl, Artifact) else (node if attributes["kind"] == "uri" else None)
        if uri is not None:
            by_uri[uri].append(node)
    written = {node for nodes in by_uri.values() for node in nodes
               if any(not edge["link"] for edge in graph.pred[node].values())}

    def shared(name: str, members: list[str]) -> _Shared:
        return _Shared(name, members, [node for node in members if node in written])

    groups = {uri: shared(uri, nodes) for uri, nodes in by_uri.items()}
    pairs = [(group, group) for group in groups.values() if len(group.members) > 1]
    found = find_overlaps(by_uri)
    for uri, other in found.pairs:
        pairs += _both_ways(groups[uri], groups[other])
    by_literal = {literal: shared(f"globs from {literal}", [node for glob in globs for node in by_uri[glob]])
                  for literal, globs in found.globs.items()}
    pairs += [(by_literal[literal], by_literal[literal]) for literal, globs in found.globs.items() if len(globs) > 1]
    for shorter, longer in found.nested:
        pairs += _both_ways(by_literal[shorter], by_literal[longer])
    pairs = [(first, second) for first, second in pairs if first.writers]

    linked: dict[int, tuple[_Shared, bool]] = {}
    for first, second in pairs:
        linked.setdefault(id(first), (first, False))
        linked[id(second)] = (second, True)
        if first is not second:
            first.partners += 1
            second.partners += 1
    for group, read in linked.values():
        _add_hubs(graph, group, read)
    for first, second in pairs:
        for tail in first.sources:
            for head in second.targets:
                if tail != head:
                    graph.add_edge(tail, head, link=True)


def _both_ways(first: _Shared, second: _Shared) -> list[tuple[_Shared, _Shared]]:
    return [(first, second), (second, first)]


def _add_hubs(graph: DataFlow, group: _Shared, read: bool) -> None:
    """Decide where the group's links start and end (``read``: some link ends at it), adding hubs where they pay."""
    many_writers = len(group.writers) > DIRECT_AT_MOST
    many_members = read and len(group.members) > DIRECT_AT_MOST
    if many_writers and many_members and not group.partners:
        hub = _add_hub(graph, group.name)
        group.sources = group.targets = [hub]
    else:
        group.sources = [_add_hub(graph, f"{group.name} (written)")] if many_writers else group.writers
        group.targets = [_add_hub(graph, f"{group.name} (read)")] if many_members else group.members
    if group.sources != group.writers:
        for writer in group.writers:
            graph.add_edge(writer, group.sources[0], link=True)
    if group.targets != group.members:
        for member in group.members:
            graph.add_edge(group.targets[0], member, link=True)


def _add_hub(graph: DataFlow, name: str) -> str:
    """Add a hub node named ``name`` (or ``name (2)``... when a node already has that name)."""
    node, count = name, 1
    while node in graph:
        count += 1
        node = f"{name} ({count})"
    graph.add_node(node, kind="uri", pipeline=None, decl=None, hub=True)
    return node
