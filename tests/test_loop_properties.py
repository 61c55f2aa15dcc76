"""Property tests: loop detection agrees with brute force on random multi-manifest projects.

Each example writes a few random manifests to a temporary folder and runs the
real loader, linker and loop rules on them. The reference enumerates every
simple cycle of the same linked graph with ``networkx.simple_cycles`` (fine
for a test on a few dozen nodes; the product never enumerates cycles).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopscan.analysis.cycles import shortest_cycle, strongly_connected_components, successor_lists
from loopscan.config import Config
from loopscan.findings import Finding
from loopscan.linter import analyse, check
from loopscan.project import Project
from loopscan.registry import builtin_rules
from loopscan.sources.discover import discover
from loopscan.sources.manifest import Step

LOOP_RULES = ("LS301", "LS302", "LS303", "LS305")
# URIs chosen to link in every way linking knows: equal URIs, a prefix and what
# lies under it, a glob and what it matches, and one that overlaps nothing.
DATASET_URIS = (
    "s3://lake/a/",
    "s3://lake/a/x/part.json",
    "s3://lake/b/*.json",
    "s3://lake/b/y.json",
    "s3://other/c/",
)
MODEL_URIS = ("models:/m1", "models:/m2")
PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def manifest_spec(draw: st.DrawFn, pipeline: str) -> dict[str, Any]:
    """One random manifest as plain data, shaped like real pipelines so that loops are long.

    Datasets are in a row: a generate step reads the model and writes the
    first dataset, a gate or transform reads one dataset and writes a later
    one, and a train step reads the last dataset and writes the model. Any of
    them may name a shared URI instead, which links the manifests. So every
    cycle closes through a train step or a URI link, and passes a random mix
    of gates and caps on the way.
    """
    datasets = {
        f"d{i}": {
            "uri": draw(st.one_of(st.none(), st.none(), st.sampled_from(DATASET_URIS))),
            "provenance": "ai",
            "retention": draw(st.sampled_from(("accumulate", "replace"))),
        }
        for i in range(draw(st.integers(2, 3)))
    }
    models = {"m0": {"uri": draw(st.sampled_from((None, *MODEL_URIS)))}}
    for artifacts in (datasets, models):
        for spec in artifacts.values():
            if spec["uri"] is None:
                del spec["uri"]
    names = list(datasets)
    steps = {f"s{i}": draw(step_spec(names)) for i in range(draw(st.integers(3, 6)))}
    loops = {
        f"loop{i}": {"through": draw(st.lists(st.sampled_from(list(steps)), min_size=1, max_size=2, unique=True))}
        for i in range(draw(st.integers(0, 1)))
    }
    manifest: dict[str, Any] = {"loopscan": 1, "pipeline": pipeline, "owner": "owner",
                                "datasets": datasets, "models": models, "steps": steps}
    if loops:
        manifest["loops"] = loops
    return manifest


def mostly(usual: str, others: tuple[str, ...]) -> st.SearchStrategy[str]:
    """``usual`` three times in four, else one of ``others``."""
    return st.one_of(st.just(usual), st.just(usual), st.just(usual), st.sampled_from(others))


@st.composite
def step_spec(draw: st.DrawFn, datasets: list[str]) -> dict[str, Any]:
    """A random step over the manifest's datasets (in order), its model ``m0``, and the shared URIs;
    one in six is wired at random."""
    kind = draw(st.sampled_from(("generate", "generate", "gate", "gate", "gate-other", "transform",
                                 "train", "train-capped", "train-capped", "train-onpolicy", "ingest")))
    model = mostly("m0", MODEL_URIS)
    first = mostly(datasets[0], DATASET_URIS)
    last = mostly(datasets[-1], DATASET_URIS)
    step: dict[str, Any] = {"kind": kind.split("-")[0]}
    if kind == "generate":
        step["inputs"] = [draw(model)]
        step["outputs"] = [draw(first)]
    elif kind.startswith("train"):
        step["inputs"] = draw(st.lists(last, min_size=1, max_size=2, unique=True))
        step["outputs"] = [draw(model)]
        if kind == "train-capped":
            step["mixing"] = {"max_synthetic": 0.2}
        if kind == "train-onpolicy":  # it samples from what it trains: a loop of one step, capped or not
            step["on_policy"] = True
            if draw(st.booleans()):
                step["mixing"] = {"max_synthetic": 0.2}
    elif kind == "ingest":  # a source URI links like an input: it reads what is written under it
        step["source"] = draw(st.sampled_from(DATASET_URIS))
        step["outputs"] = [draw(first)]
    else:
        source = draw(st.integers(0, len(datasets) - 1))
        later = st.sampled_from(datasets[source + 1:] or DATASET_URIS)
        step["inputs"] = [datasets[source]]
        step["outputs"] = [draw(st.one_of(later, later, later, st.sampled_from(DATASET_URIS)))]
        if kind == "gate":
            step["method"] = draw(st.sampled_from(("human-review", "classifier", "score-filter", "dedup")))
        elif kind == "gate-other":
            step["method"] = "other"
        if kind.startswith("gate") and draw(st.integers(0, 3)) == 0:
            step["detects"] = draw(st.lists(st.sampled_from(DETECTABLE), max_size=2, unique=True))
    if draw(st.integers(0, 5)) == 0:  # now and then, any wiring at all: self-loops, URI-only nodes
        anything = st.sampled_from(("m0", *datasets, *DATASET_URIS, *MODEL_URIS))
        step["inputs"] = draw(st.lists(anything, max_size=2, unique=True))
        step["outputs"] = draw(st.lists(anything, min_size=1, max_size=2, unique=True))
    return step


@st.composite
def project_specs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Two to three manifests that may link through shared, nested or globbed URIs."""
    return [draw(manifest_spec(f"p{i}")) for i in range(draw(st.integers(2, 3)))]


@dataclass
class Analysed:
    project: Project
    findings: list[Finding]

    def flagged(self, rule: str) -> set[str]:
        return {f.problem.node for f in self.findings if f.rule == rule if f.problem.node is not None}


def analyse_specs(specs: list[dict[str, Any]]) -> Analysed:
    """Write the manifests to a temporary folder, then load, link and check them for real."""
    with tempfile.TemporaryDirectory() as folder:
        for spec in specs:
            text = json.dumps(spec, indent=1)  # JSON is YAML, and much faster to write
            (Path(folder) / f"{spec['pipeline']}.yaml").write_text(text, encoding="utf-8")
        config = Config(root=Path(folder))
        project = analyse(discover([folder]), config, date(2026, 11, 24))
        assert not project.load_problems, [p.problem.message for p in project.load_problems]
        rules = [r for r in builtin_rules() if r.id in LOOP_RULES]
        return Analysed(project, check(project, rules, config))


@dataclass
class Reference:
    """What brute force over every simple cycle says."""

    cycles: list[list[str]]
    on_cycle: set[str]
    ungated: set[str]
    uncapped: set[str]


DETECTABLE = ("synthetic", "quality", "duplicates", "incorrect", "unsafe")
DEFAULT_DETECTS = {"human-review": {"synthetic", "quality", "incorrect", "unsafe"}, "classifier": {"synthetic"},
                   "score-filter": {"quality"}, "dedup": {"duplicates"}, "other": set()}
"""What a gate detects when it does not say, by method: the table of docs/manifest.md, written out again."""


def is_generating(graph: nx.DiGraph, node: str) -> bool:
    decl = graph.nodes[node]["decl"]
    return graph.nodes[node]["kind"] == "generate" or (isinstance(decl, Step) and decl.kind == "train"
                                                       and decl.on_policy)


def is_accepted_gate(graph: nx.DiGraph, node: str) -> bool:
    decl = graph.nodes[node]["decl"]
    if not (isinstance(decl, Step) and decl.kind == "gate" and decl.method in Config().policy.gate_methods):
        return False
    detects = set(decl.detects_written) if decl.detects_written is not None else DEFAULT_DETECTS[decl.method]
    return bool(detects & set(Config().policy.loop_gate_detects))


def is_capping(graph: nx.DiGraph, node: str) -> bool:
    decl = graph.nodes[node]["decl"]
    return isinstance(decl, Step) and decl.mixing is not None and decl.mixing.max_synthetic is not None


def brute_force(graph: nx.DiGraph) -> Reference:
    cycles = [cycle for cycle in nx.simple_cycles(graph) if any(is_generating(graph, n) for n in cycle)]
    reference = Reference(cycles, set(), set(), set())
    for cycle in cycles:
        generates = {n for n in cycle if is_generating(graph, n)}
        reference.on_cycle |= generates
        if not any(is_accepted_gate(graph, n) for n in cycle):
            reference.ungated |= generates
        if not any(is_capping(graph, n) for n in cycle):
            reference.uncapped |= generates
    return reference


def assert_is_shortest_witness(graph: nx.DiGraph, finding: Finding, cycles: list[list[str]],
                               allowed: Any) -> None:
    """The witness is a real cycle through the finding's node, offends, and no offending cycle is shorter."""
    witness = [waypoint.node for waypoint in finding.problem.cycle]
    generate = finding.problem.node
    assert witness[0] == generate
    assert len(set(witness)) == len(witness)
    for here, there in zip(witness, witness[1:] + witness[:1], strict=True):
        assert graph.has_edge(here, there), (here, there, witness)
    assert all(allowed(node) for node in witness)
    shortest = min(len(cycle) for cycle in cycles if generate in cycle and all(allowed(n) for n in cycle))
    assert len(witness) == shortest


@PROPERTY_SETTINGS
@given(project_specs())
def test_loop_rules_match_brute_force(specs: list[dict[str, Any]]) -> None:
    analysed = analyse_specs(specs)
    project = analysed.project
    graph = project.graph
    reference = brute_force(graph)

    # One loop per strongly connected component that holds a generate step on a cycle.
    components = [frozenset(c) for c in nx.strongly_connected_components(graph) if c & reference.on_cycle]
    loops = project.facts.loops
    assert sorted((frozenset(loop.nodes) for loop in loops), key=sorted) == sorted(components, key=sorted)
    for loop in loops:
        assert set(loop.generates) == set(loop.nodes) & reference.on_cycle
        assert set(loop.ungated_generates) == set(loop.generates) & reference.ungated
        assert set(loop.uncapped_generates) == set(loop.generates) & reference.uncapped
    assert len({loop.id for loop in loops}) == len(loops)
    assert analysed.flagged("LS301") == reference.ungated
    assert analysed.flagged("LS302") == reference.uncapped
    listed = {project.nodes[ref] for manifest in project.manifests for doc in manifest.loops.values()
              for ref in doc.through}
    assert analysed.flagged("LS303") == {min(c & reference.on_cycle) for c in components
                                         if not c & reference.on_cycle & listed}
    replaced = {artifact.qualified for manifest in project.manifests for artifact in manifest.datasets.values()
                if artifact.retention == "replace"}
    # LS305 is for replaced data that a train step on the same loop learns from, directly or through a link.
    learners = {dataset: {step for reader in (dataset, *(n for n, e in graph.succ[dataset].items() if e["link"]))
                          for step, edge in graph.succ[reader].items()
                          if not edge["link"] and edge.get("role") == "targets"}
                for dataset in replaced}
    assert analysed.flagged("LS305") == {
        dataset for dataset in replaced for generate in reference.on_cycle
        if nx.has_path(graph, generate, dataset) and nx.has_path(graph, dataset, generate)
        and any(nx.has_path(graph, generate, step) and nx.has_path(graph, step, generate)
                for step in learners[dataset])
    }

    offends = {
        "LS301": lambda node: not is_accepted_gate(graph, node),
        "LS302": lambda node: not is_capping(graph, node),
        "LS303": lambda node: True,
    }
    for finding in analysed.findings:
        if finding.rule in offends:
            assert_is_shortest_witness(graph, finding, reference.cycles, offends[finding.rule])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=40), st.sets(st.integers(0, 12)))
def test_components_match_networkx(edges: list[tuple[int, int]], removed: set[int]) -> None:
    graph = nx.DiGraph()
    graph.add_nodes_from(str(n) for n in range(13))
    graph.add_edges_from((str(a), str(b)) for a, b in edges)
    kept = graph.subgraph(n for n in graph if int(n) not in removed)
    expected = {frozenset(c) for c in nx.strongly_connected_components(kept)}
    found = list(strongly_connected_components(successor_lists(graph), {str(n) for n in removed}))
    assert {frozenset(c) for c in found} == expected
    assert sum(len(c) for c in found) == len(kept)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), max_size=25), st.integers(0, 8))
def test_shortest_cycle_is_shortest(edges: list[tuple[int, int]], start: int) -> None:
    graph = nx.DiGraph(edges)
    graph.add_node(start)
    found = shortest_cycle(successor_lists(graph), start, set(graph))
    lengths = [len(cycle) for cycle in nx.simple_cycles(graph) if start in cycle]
    if not lengths:
        assert found == []
        return
    assert found[0] == start and len(found) == min(lengths)
    assert all(graph.has_edge(a, b) for a, b in zip(found, found[1:] + found[:1], strict=True))
