"""Linking at scale: many artifacts at one URI, a glob that matches everything, many globs in one folder.

Each hostile shape is written as YAML into a temporary folder and checked by
the real CLI in a fresh process (measured as ``tests/test_hostile.py``
measures: peak memory of that one child). The checks are what a user relies
on: the same findings as the same project linked pair by pair (every writer
straight to every artifact it overlaps, as linking did before it had hubs),
a graph and a JSON report that grow linearly, and memory well under the
hostile-file bound. Times are never compared with a number of seconds, only
with the floor (``benchmarks/floor.py``) measured in the same run.

The hubs themselves are checked in process, on random projects: linking
through them changes nothing that any analysis, rule or output reports.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loopscan.graph.link as linking
from loopscan.analysis.cycles import SuccessorLists, shortest_cycle
from loopscan.config import Config
from loopscan.graph.dataflow import DataFlow, ThroughHubs, is_hub
from loopscan.graph.link import link
from loopscan.linter import analyse, check
from loopscan.project import Project
from loopscan.registry import builtin_rules
from loopscan.sources.discover import discover
from loopscan.sources.load import load_files
from loopscan.sources.manifest import Artifact
from tests.conftest import TODAY
from tests.test_hostile import MEMORY, measured
from tests.test_linking import overlap
from tests.test_performance import BENCHMARKS, benchmark_module, medians_side_by_side

PAIR_BY_PAIR = 10**9
"""A ``DIRECT_AT_MOST`` no URI reaches: every link drawn from writer to artifact, no hub."""
MAX_FLOOR_RATIO = 4.0
"""As ``tests/test_performance.py`` allows a generated project of 10,000 nodes."""

_WITH_DIRECT_AT_MOST = """
import sys
import loopscan.graph.link
loopscan.graph.link.DIRECT_AT_MOST = int(sys.argv[1])
from loopscan.cli import main
main(sys.argv[2:])
"""


def check_json(folder: Path, direct_at_most: int | None = None) -> dict[str, Any]:
    """``loopscan check . -f json`` in ``folder`` in a fresh process; with ``direct_at_most``, linking set so."""
    args = ["check", ".", "-f", "json", "--today", TODAY]
    command = ([sys.executable, "-m", "loopscan", *args] if direct_at_most is None
               else [sys.executable, "-c", _WITH_DIRECT_AT_MOST, str(direct_at_most), *args])
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def linked_flow(folder: Path) -> DataFlow:
    loaded = load_files(discover([str(folder)]))
    assert not loaded.problems
    return link(loaded.manifests).dataflow


def hubs_of(flow: DataFlow) -> list[str]:
    return [node for node, attributes in flow.nodes.items() if is_hub(attributes)]


def without_hubs(document: dict[str, Any], hubs: list[str]) -> dict[str, Any]:
    """The report with the hub nodes taken out of its loops and its count of nodes (the places a hub shows)."""
    document["summary"]["nodes"] -= len(hubs)
    for loop in document["loops"]:
        kept = [node for node in loop["nodes"] if node not in hubs]
        loop["size"] -= len(loop["nodes"]) - len(kept)
        loop["nodes"] = kept
    return document


def write(folder: Path, name: str, lines: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


# The shapes ------------------------------------------------------------------------------------------------


def shared_uri(folder: Path, count: int, per_file: int) -> Path:
    """``count`` datasets at one URI, each written by one step and read by another; nothing to report.

    Linked pair by pair, that is ``count`` squared links: 4 million for 2,000.
    """
    for start in range(0, count, per_file):
        indexes = range(start, min(count, start + per_file))
        lines = ["loopscan: 1", f"pipeline: p{start:05d}", "owner: ana", "datasets:"]
        for i in indexes:
            lines += [f'  shared{i}: {{uri: "s3://lake/shared/", provenance: human}}',
                      f'  source{i}: {{uri: "s3://lake/sources/{i}/", provenance: human}}',
                      f'  report{i}: {{uri: "s3://lake/reports/{i}/", provenance: human}}']
        lines.append("steps:")
        for i in indexes:
            lines += [f"  publish{i}: {{kind: transform, inputs: [source{i}], outputs: [shared{i}]}}",
                      f"  summarise{i}: {{kind: transform, inputs: [shared{i}], outputs: [report{i}]}}"]
        write(folder, f"p{start:05d}.yaml", lines)
    return folder


def echo_loops(folder: Path, count: int) -> Path:
    """``count`` pipelines that each train on what they generate, all at one URI: one loop through them all."""
    for i in range(count):
        write(folder, f"p{i:05d}.yaml", [
            "loopscan: 1", f"pipeline: p{i:05d}", "owner: ana",
            "datasets:", '  said: {uri: "s3://echo/said/", provenance: ai}',
            "models:", f'  parrot: {{uri: "models:/parrot-{i}"}}',
            "steps:",
            "  speak: {kind: generate, inputs: [parrot], outputs: [said]}",
            "  learn: {kind: train, inputs: [said], outputs: [parrot]}",
        ])
    return folder


EVERYTHING = [
    "loopscan: 1", "pipeline: everything", "owner: ana",
    "datasets:",
    '  all: {uri: "s3://**", provenance: mixed}',
    '  copy: {uri: "s3://backup/all/", provenance: mixed}',
    "steps:",
    "  mirror: {kind: transform, inputs: [all], outputs: [copy]}",
    "  restore: {kind: transform, inputs: [copy], outputs: [all]}",
]
"""A manifest that reads and writes ``s3://**``: a glob that overlaps every other s3 URI of the project."""


def generated_with_everything(folder: Path, pipelines: int) -> Path:
    benchmark_module("generate").write_project(folder, pipelines)
    write(folder, "zz-everything.yaml", EVERYTHING)
    return folder


def globs_in_one_folder(folder: Path, count: int) -> Path:
    """``count`` different globs under ``s3://lake/``: each two overlap, so pair by pair that is a clique."""
    for start in range(0, count, 50):
        indexes = range(start, min(count, start + 50))
        lines = ["loopscan: 1", f"pipeline: g{start:05d}", "owner: ana", "datasets:"]
        for i in indexes:
            lines += [f'  parts{i}: {{uri: "s3://lake/*/part-{i}.json", provenance: human}}',
                      f'  source{i}: {{uri: "s3://sources/{i}/", provenance: human}}',
                      f'  report{i}: {{uri: "s3://reports/{i}/", provenance: human}}']
        lines.append("steps:")
        for i in indexes:
            lines += [f"  split{i}: {{kind: transform, inputs: [source{i}], outputs: [parts{i}]}}",
                      f"  count{i}: {{kind: transform, inputs: [parts{i}], outputs: [report{i}]}}"]
        write(folder, f"g{start:05d}.yaml", lines)
    return folder


# Through the CLI -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("per_file", [2000, 20], ids=["one-manifest", "100-manifests"])
def test_2000_datasets_at_one_uri_check_clean_in_linear_size_and_little_memory(tmp_path: Path, per_file: int) -> None:
    big = shared_uri(tmp_path / "big", 2000, per_file)
    run = measured(big, "check", ".", "-f", "json", "--today", TODAY)
    assert run.code == 0, run.err
    assert run.peak < MEMORY, f"{run.peak / 2**20:.0f} MiB"
    report = json.loads(run.out)
    assert report["findings"] == []
    assert report["summary"]["pipelines"] == 2000 // per_file

    small = shared_uri(tmp_path / "small", 4, per_file)  # 4 datasets: linked pair by pair, no hub
    assert check_json(small)["findings"] == []
    assert hubs_of(linked_flow(small)) == []

    flow = linked_flow(big)
    assert hubs_of(flow) == ["s3://lake/shared/"]
    # Each dataset: its two steps' edges, one link into the hub and one out of it.
    assert flow.number_of_edges() == 2000 * 4 + 2000 * 2


def test_2000_datasets_at_one_uri_take_at_most_4x_the_floor(tmp_path: Path) -> None:
    folder = shared_uri(tmp_path / "shared", 2000, 2000)
    commands: dict[str, Sequence[str]] = {
        "loopscan": [sys.executable, "-m", "loopscan", "check", str(folder), "--format", "json"],
        "floor": [sys.executable, str(BENCHMARKS / "floor.py"), str(folder)],
    }
    medians_side_by_side(commands, repeat=1)  # bytecode and page cache, for both
    medians = medians_side_by_side(commands, repeat=3)
    ratio = medians["loopscan"] / medians["floor"]
    assert ratio <= MAX_FLOOR_RATIO, f"{medians}: {ratio:.2f}x the floor"


def test_a_loop_through_one_uri_is_reported_as_if_every_pair_were_linked(tmp_path: Path) -> None:
    folder = echo_loops(tmp_path / "echo", 40)
    hubs = hubs_of(linked_flow(folder))
    assert hubs == ["s3://echo/said/"]
    through_hub = check_json(folder)
    pair_by_pair = check_json(folder, PAIR_BY_PAIR)
    assert through_hub["findings"] == pair_by_pair["findings"]
    assert {"LS301", "LS302", "LS303"} <= {finding["rule"] for finding in through_hub["findings"]}
    # A loop lists its steps and artifacts, never the hub that stands for their links.
    assert through_hub["loops"] == pair_by_pair["loops"]
    assert without_hubs(through_hub, hubs) == pair_by_pair


def test_a_loop_through_one_uri_grows_linearly(tmp_path: Path) -> None:
    sizes = {}
    for count in (200, 400):
        folder = echo_loops(tmp_path / str(count), count)
        run = measured(folder, "check", ".", "-f", "json", "--today", TODAY, kill_after=120)
        assert run.code == 1, run.err
        assert run.peak < MEMORY, f"{run.peak / 2**20:.0f} MiB"
        report = json.loads(run.out)
        assert len(report["loops"]) == 1 and len(report["loops"][0]["generates"]) == count
        sizes[count] = len(run.out.encode())
        assert linked_flow(folder).number_of_edges() <= 8 * count
    assert sizes[400] <= 2.2 * sizes[200], sizes


def test_a_glob_that_matches_everything_adds_linearly_many_links_and_output(tmp_path: Path) -> None:
    small = linked_flow(generated_with_everything(tmp_path / "small", 20))
    assert link_pairs(small) == brute_force_link_pairs(small)
    edges, sizes = {}, {}
    for pipelines in (100, 200):
        folder = generated_with_everything(tmp_path / str(pipelines), pipelines)
        flow = linked_flow(folder)
        assert hubs_of(flow) == []  # one glob, one writer: the glob's own dataset is the only hub it needs
        edges[pipelines] = flow.number_of_edges()
        run = measured(folder, "check", ".", "-f", "json", "--today", TODAY, kill_after=120)
        assert run.code == 1, run.err
        assert run.peak < MEMORY, f"{run.peak / 2**20:.0f} MiB"
        report = json.loads(run.out)
        assert len(report["loops"]) == 1  # every loop of the project runs through the glob now
        sizes[pipelines] = len(run.out.encode())
    assert edges[200] <= 2.2 * edges[100], edges
    assert sizes[200] <= 2.2 * sizes[100], sizes


def test_1000_globs_in_one_folder_link_through_one_hub(tmp_path: Path) -> None:
    big = globs_in_one_folder(tmp_path / "big", 1000)
    run = measured(big, "check", ".", "-f", "json", "--today", TODAY)
    assert run.code == 0, run.err
    assert run.peak < MEMORY, f"{run.peak / 2**20:.0f} MiB"
    assert json.loads(run.out)["findings"] == []
    flow = linked_flow(big)
    assert hubs_of(flow) == ["globs from s3://lake/"]
    assert flow.number_of_edges() == 1000 * 4 + 1000 * 2

    small = globs_in_one_folder(tmp_path / "small", 60)
    flow = linked_flow(small)
    assert hubs_of(flow) == ["globs from s3://lake/"]
    assert without_hubs(check_json(small), hubs_of(flow)) == check_json(small, PAIR_BY_PAIR)
    assert link_pairs(flow) == brute_force_link_pairs(flow)


# What the links stand for ------------------------------------------------------------------------------------


def link_pairs(flow: DataFlow) -> set[tuple[str, str]]:
    """Each (writer, artifact) that a link joins: straight, or through hubs."""
    found = set()
    for tail, heads in flow.succ.items():
        if is_hub(flow.nodes[tail]):
            continue
        stack = [head for head, edge in heads.items() if edge["link"]]
        seen: set[str] = set()
        while stack:
            head = stack.pop()
            if head in seen:
                continue
            seen.add(head)
            if is_hub(flow.nodes[head]):
                stack.extend(flow.succ[head])
            elif head != tail:
                found.add((tail, head))
    return found


def brute_force_link_pairs(flow: DataFlow) -> set[tuple[str, str]]:
    """Each written artifact with each other artifact whose URI overlaps its own, by comparing every pair."""
    uris = {}
    for node, attributes in flow.nodes.items():
        decl = attributes["decl"]
        if isinstance(decl, Artifact) and decl.uri is not None:
            uris[node] = decl.uri
        elif attributes["kind"] == "uri" and not is_hub(attributes):
            uris[node] = node
    written = {node for node in uris if any(not edge["link"] for edge in flow.pred[node].values())}
    return {(tail, head) for tail in written for head in uris if head != tail and overlap(uris[tail], uris[head])}


DATASET_URIS = (
    "s3://lake/", "s3://lake/a/", "s3://lake/a/x/", "s3://lake/a/x/part.json", "s3://lake/b/y.json",
    "s3://lake/b/*.json", "s3://lake/b/*", "s3://lake/*/x/**", "s3://lake/a/*", "s3://**", "gs://other/c/",
)
"""Every way URIs overlap: equal, nested prefixes, files under them, globs (one that matches everything,
two with one literal part, globs whose literal parts nest), and one that overlaps nothing."""


@st.composite
def manifest_spec(draw: st.DrawFn, pipeline: str) -> dict[str, Any]:
    """A random manifest whose datasets and references crowd onto a few URIs."""
    datasets = {
        f"d{i}": {
            "uri": draw(st.one_of(st.none(), st.sampled_from(DATASET_URIS))),
            "provenance": draw(st.sampled_from(("human", "ai", "mixed", "unknown", None))),
            "frozen": draw(st.booleans()),
        }
        for i in range(draw(st.integers(1, 4)))
    }
    for spec in datasets.values():
        for key in [key for key, value in spec.items() if value is None or value is False]:
            del spec[key]
    models = {"m": {"uri": draw(st.sampled_from(("models:/m1", "models:/m2")))}}
    anything = st.sampled_from((*datasets, "m", *DATASET_URIS))
    steps = {}
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(("generate", "gate", "transform", "train", "ingest")))
        step: dict[str, Any] = {"kind": kind,
                                "inputs": draw(st.lists(anything, max_size=2, unique=True)),
                                "outputs": draw(st.lists(anything, min_size=1, max_size=2, unique=True))}
        if kind == "gate":
            step["method"] = draw(st.sampled_from(("human-review", "classifier", "other")))
        if kind == "train" and draw(st.booleans()):
            step["mixing"] = {"max_synthetic": 0.2}
        steps[f"s{i}"] = step
    return {"loopscan": 1, "pipeline": pipeline, "owner": "ana", "datasets": datasets, "models": models,
            "steps": steps}


@st.composite
def project_specs(draw: st.DrawFn) -> list[dict[str, Any]]:
    return [draw(manifest_spec(f"p{i}")) for i in range(draw(st.integers(2, 4)))]


def everything_reported(folder: Path, direct_at_most: int) -> dict[str, Any]:
    """What every analysis, rule and output says of the project in ``folder``, linked with ``direct_at_most``."""
    with mock.patch.object(linking, "DIRECT_AT_MOST", direct_at_most):
        config = Config(root=folder)
        project = analyse(discover([str(folder)]), config, date(2026, 11, 24))
        findings = check(project, builtin_rules(), config)
        return {"hubs": hubs_of(project.dataflow), "links": link_pairs(project.dataflow), **_seen(project, findings)}


def _seen(project: Project, findings: list[Any]) -> dict[str, Any]:
    facts, flow = project.facts, project.dataflow
    real = [node for node in flow.nodes if not is_hub(flow.nodes[node])]
    graph = project.graph
    return {
        "reach": {node: set(nx.descendants(graph, node)) - {node} - set(hubs_of(flow)) for node in real},
        "provenance": {node: facts.provenance[node] for node in real},
        "inflow": facts.provenance_flow.inflow,
        "sources": {node: (facts.provenance_flow.ai_source(node), facts.provenance_flow.unknown_source(node))
                    for node in real},
        "writes": facts.writes,
        "witnesses": {node: facts.witness(node) for node in facts.cyclic_generate_steps},
        "ungated": facts.ungated,
        "uncapped": facts.uncapped,
        "loops": [(loop.id, loop.generates, loop.ungated_generates, loop.uncapped_generates, loop.gates, loop.caps,
                   [node for node in loop.nodes if node in real]) for loop in facts.loops],
        "findings": sorted((f.rule, f.problem.location.file, f.problem.location.line, f.problem.location.column,
                            f.problem.node, f.problem.message, tuple(w.node for w in f.problem.cycle))
                           for f in findings),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(project_specs())
def test_hubs_change_nothing_an_analysis_a_rule_or_a_report_says(specs: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for spec in specs:
            (folder / f"{spec['pipeline']}.yaml").write_text(json.dumps(spec), encoding="utf-8")
        assert_hubs_change_nothing(folder)


def assert_hubs_change_nothing(folder: Path) -> None:
    pair_by_pair = everything_reported(folder, PAIR_BY_PAIR)
    assert pair_by_pair.pop("hubs") == []
    for direct_at_most in (0, 1):  # 0: every link through hubs; 1: some straight, some through hubs
        through_hubs = everything_reported(folder, direct_at_most)
        hubs = through_hubs.pop("hubs")
        if direct_at_most == 0:
            assert bool(hubs) == bool(pair_by_pair["links"])  # every link through a hub
        for key, value in pair_by_pair.items():
            assert through_hubs[key] == value, (direct_at_most, key)


def test_hubs_are_named_by_their_uri_and_never_take_a_node_s_name(tmp_path: Path) -> None:
    echo_loops(tmp_path, 10)
    write(tmp_path, "reads.yaml", ["loopscan: 1", "pipeline: reads", "owner: ana",
                                   "datasets:", '  below: {uri: "s3://echo/said/x.json", provenance: ai}',
                                   "steps:", "  look: {kind: transform, inputs: [below]}"])
    flow = linked_flow(tmp_path)
    # The URI overlaps another, so what is written there and what is read there have a hub each.
    assert hubs_of(flow) == ["s3://echo/said/ (written)", "s3://echo/said/ (read)"]
    assert all(flow.nodes[hub] == {"kind": "uri", "pipeline": None, "decl": None, "hub": True}
               for hub in hubs_of(flow))
    assert ("p00000:said", "reads:below") in link_pairs(flow)
    assert link_pairs(flow) == brute_force_link_pairs(flow)


REAL = [f"r{i}" for i in range(7)]
OUT_HUBS, IN_HUBS = ["o0", "o1"], ["i0", "i1"]


@st.composite
def graphs_with_hubs(draw: st.DrawFn) -> dict[str, list[str]]:
    """Sorted successor lists of a few artifacts, with hubs as linking makes them: artifacts link into
    "written" hubs (o), those link to "read" hubs (i) and to artifacts, and read hubs link to artifacts."""
    def some(choices: list[str]) -> list[str]:
        return draw(st.lists(st.sampled_from(choices), max_size=4, unique=True))

    adjacency = {node: some([*REAL, *OUT_HUBS, *IN_HUBS]) for node in REAL}
    adjacency.update({hub: some([*REAL, *IN_HUBS]) for hub in OUT_HUBS})
    adjacency.update({hub: some(REAL) for hub in IN_HUBS})
    for node in REAL:  # an artifact never links to itself
        adjacency[node] = [head for head in adjacency[node] if head != node]
    return {node: sorted(heads) for node, heads in adjacency.items()}


def drawn_one_by_one(adjacency: dict[str, list[str]]) -> dict[str, list[str]]:
    """The same links without hubs: each artifact to everything its hubs lead to, but itself."""
    def ends(node: str) -> set[str]:
        return set().union(*({head} if head in REAL else ends(head) for head in adjacency[node]))

    return {node: sorted(ends(node) - {node}) for node in REAL}


def visits(successors: Any, start: str) -> list[tuple[str, str]]:
    """A breadth-first search: each node with the node it was first reached from, in order."""
    parent, queue, order = {start: start}, [start], []
    for node in queue:
        for head in successors(node):
            if head not in parent:
                parent[head] = node
                order.append((head, node))
                queue.append(head)
    return order


@settings(max_examples=1500, deadline=None)
@given(graphs_with_hubs())
def test_a_search_through_hubs_meets_what_the_links_drawn_one_by_one_meet(adjacency: dict[str, list[str]]) -> None:
    direct = drawn_one_by_one(adjacency)
    lists = SuccessorLists(adjacency)
    lists.hubs = frozenset([*OUT_HUBS, *IN_HUBS])
    for start in REAL:
        assert visits(ThroughHubs(adjacency, lists.hubs).successors, start) == visits(direct.__getitem__, start)
        assert shortest_cycle(lists, start, None) == shortest_cycle(direct, start, None)


def test_a_loops_only_diagram_keeps_the_hub_its_loop_runs_through(tmp_path: Path) -> None:
    from loopscan.analysis.diagram import build_diagram
    from loopscan.config import Config
    from loopscan.linter import analyse

    folder = echo_loops(tmp_path / "echo", 40)
    project = analyse(discover([str(folder)]), Config(root=folder), date.fromisoformat(TODAY))
    everything, on_loops = build_diagram(project), build_diagram(project, loops_only=True)
    assert hubs_of(project.dataflow) == ["s3://echo/said/"]
    assert "s3://echo/said/" in {node.key for node in on_loops.nodes}
    assert len(on_loops.edges) == len(everything.edges)  # every edge of this project lies on the loop
