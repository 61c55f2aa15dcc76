"""Observed lineage joined to the declared graph: what really ran, as edges that carry their evidence.

A step names the job that runs it (``job: namespace/name``). Each run that
counts (a completed one, or any that ended with ``--lineage-include-failed``)
adds its flows to the graph before URIs are linked:

* a run of a job that some step names adds edges to and from that step;
* a run of a job that no step names adds a node for the job
  (:func:`job_node`, kind ``transform``: it passes provenance on, as an
  undeclared copy does);
* a dataset is the declared artifact with its URI (or one of its symlink
  aliases), else a URI node; URI nodes are then linked to the declared
  artifacts they overlap, as :mod:`loopscan.graph.link` links declared URIs.

An edge that the manifests did not make carries ``observed``: the
:class:`~loopscan.findings.Evidence` of the first event that showed it (job,
run id, event time, file and line). An edge the manifests made keeps no
evidence: it was declared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from loopscan.findings import Evidence
from loopscan.graph.dataflow import DataFlow
from loopscan.graph.link import Linked
from loopscan.graph.uris import find_overlaps
from loopscan.sources.lineage import Lineage, Run
from loopscan.sources.manifest import Artifact

OBSERVED = "observed"
"""The edge attribute that holds an observed edge's :class:`Evidence`, and the node attribute of observed nodes."""


def job_node(job: str) -> str:
    """The graph node of a job that no step names.

    >>> job_node("curation/copy-answers")
    'curation/copy-answers (job)'
    """
    return f"{job} (job)"


@dataclass
class Observed:
    """The observed lineage as it was joined to the graph."""

    lineage: Lineage
    include_failed: bool = False
    steps_by_job: dict[str, list[str]] = field(default_factory=dict)
    """Each job some step names, with those steps' nodes."""
    job_nodes: dict[str, str] = field(default_factory=dict)
    """Each job that no step names and that ran, with its node."""
    dataset_nodes: dict[str, str] = field(default_factory=dict)
    """Each observed dataset URI (identity or alias), with the node that stands for it."""
    declared_loops: frozenset[str] = frozenset()
    """The generate steps on a loop of the declared graph alone (set by the linter)."""

    def flows(self) -> Iterator[Run]:
        """The runs that count as flows."""
        return self.lineage.flows(self.include_failed)

    def runs_of(self, job: str) -> list[Run]:
        """The runs of ``job`` that count as flows, in the order first seen."""
        observed = self.lineage.jobs.get(job)
        if observed is None:
            return []
        runs = (self.lineage.runs[run_id] for run_id in observed.runs)
        return [run for run in runs if run.counts(self.include_failed)]

    def node_of(self, uri: str) -> str:
        """The node of an observed dataset URI."""
        return self.dataset_nodes[self.lineage.identity(uri)]


def joiner(lineage: Lineage, include_failed: bool = False) -> tuple[Observed, Callable[[Linked], None]]:
    """The :class:`Observed` to fill, and the step of :func:`loopscan.graph.link.link` that fills it."""
    observed = Observed(lineage, include_failed)

    def join(linked: Linked) -> None:
        _join(linked, observed)

    return observed, join


def _join(linked: Linked, observed: Observed) -> None:
    graph = linked.dataflow
    declared_by_uri: dict[str, str] = {}
    for manifest in linked.manifests:
        for step in manifest.steps.values():
            if step.job is not None and step.qualified in graph:
                observed.steps_by_job.setdefault(step.job, []).append(step.qualified)
        for artifact in manifest.artifacts.values():
            if artifact.uri is not None and artifact.qualified in graph:
                declared_by_uri.setdefault(artifact.uri, artifact.qualified)
    lineage = observed.lineage
    for uri, dataset in lineage.datasets.items():
        node = next((declared_by_uri[name] for name in (uri, *dataset.aliases) if name in declared_by_uri), None)
        if node is None:
            node = uri
            if node not in graph:
                graph.add_node(node, kind="uri", pipeline=None, decl=None, observed=True)
            if dataset.provenance is not None and not isinstance(graph.nodes[node]["decl"], Artifact):
                graph.nodes[node]["provenance"] = dataset.provenance
        for name in (uri, *dataset.aliases):
            observed.dataset_nodes[name] = node
    for run in observed.flows():
        steps = observed.steps_by_job.get(run.job)
        if not steps:
            steps = [observed.job_nodes.setdefault(run.job, job_node(run.job))]
            if steps[0] not in graph:
                graph.add_node(steps[0], kind="transform", pipeline=None, decl=None, observed=True, job=run.job)
        for node in steps:
            for uri, use in run.inputs.items():
                _add_observed_edge(graph, observed.node_of(uri), node, use.event)
            for uri, use in run.outputs.items():
                _add_observed_edge(graph, node, observed.node_of(uri), use.event)


def _add_observed_edge(graph: DataFlow, tail: str, head: str, evidence: Evidence) -> None:
    """Add the edge with its evidence, unless the manifests (or an earlier event) made it already."""
    if head not in graph.succ.get(tail, {}):
        graph.add_edge(tail, head, link=False, observed=evidence)


def evidence_along(graph: DataFlow, nodes: list[str] | tuple[str, ...]) -> tuple[Evidence, ...]:
    """The evidence of the observed edges along a cycle (its last node leads back to its first), each once."""
    found: dict[Evidence, None] = {}
    for tail, head in zip(nodes, (*nodes[1:], *nodes[:1]), strict=True):
        evidence = graph.succ.get(tail, {}).get(head, {}).get(OBSERVED)
        if isinstance(evidence, Evidence):
            found[evidence] = None
    return tuple(found)



def overlapping(uris: Iterable[str], others: Iterable[str]) -> set[str]:
    """The ``uris`` that name the same data as one of ``others``: equal, a prefix of it or under it, or a glob match.

    >>> sorted(overlapping(["s3://b/x/1.json", "s3://c/y"], ["s3://b/x/", "s3://d/"]))
    ['s3://b/x/1.json']
    """
    wanted, against = set(uris), set(others)
    found = wanted & against
    overlaps = find_overlaps(wanted | against)
    for first, second in (*overlaps.pairs, *overlaps.glob_pairs()):
        if first in wanted and second in against:
            found.add(first)
        if second in wanted and first in against:
            found.add(second)
    return found
