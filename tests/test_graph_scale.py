"""``loopscan graph`` on projects too large for one picture: the overview by pipeline, Mermaid's limits, dot's time.

The projects are the benchmark's (``benchmarks/generate.py``): ``ring`` is the
interlinked organisation, where every pipeline reads what the one before it
publishes and one strongly connected component holds them all; ``blocks`` is
chains of ten pipelines, each with a loop across three manifests and one inside
a manifest. What is expected is worked out from the generated manifests
themselves (who reads whose published prefix, whose model a generate step uses),
never from the diagram code. DOT is laid out by the real ``dot`` and read back
with ``dot -Tjson``; Mermaid is parsed line by line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import networkx as nx
import pytest
import yaml

from loopscan.analysis.diagram import (
    FULL_AT_MOST_EDGES,
    FULL_AT_MOST_NODES,
    LAYERED_AT_MOST_EDGES,
    LOOP_EDGE,
    LOOP_FILL,
    PLAIN_EDGE,
)
from loopscan.config import Config
from loopscan.linter import analyse
from loopscan.project import Project
from loopscan.render.mermaid import MAX_EDGES, MAX_TEXT_SIZE
from loopscan.sources.discover import discover
from tests.conftest import EXAMPLES, Result, assert_usage_error
from tests.test_graph import laid_out, need_dot, parse_mermaid, parse_svg
from tests.test_performance import benchmark_module, wall_time

Run = Callable[..., Result]
Generated = Callable[[int, bool], Path]

GENERATE = benchmark_module("generate")
UPSTREAM = re.compile(r"s3://lake/team-\d+/(p\d+)/published/")
MODEL = re.compile(r"models:/(p\d+)-model")
OVERVIEW_NOTE = re.compile(
    r"loopscan: the full diagram would have ([\d,]+) nodes and ([\d,]+) edges, more than "
    rf"{FULL_AT_MOST_NODES:,} or {FULL_AT_MOST_EDGES:,}: drawing the overview by pipeline instead "
    r"\(--full draws every node\)\n")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    """``generated(pipelines, ring)``: the folder of a generated project, written once per module."""
    made: dict[tuple[int, bool], Path] = {}

    def make(pipelines: int, ring: bool) -> Path:
        if (pipelines, ring) not in made:
            folder = tmp_path_factory.mktemp(f"{'ring' if ring else 'blocks'}-{pipelines}")
            GENERATE.write_project(folder, pipelines, ring=ring)
            made[pipelines, ring] = folder
        return made[pipelines, ring]

    yield make


def manifests_of(folder: Path) -> dict[str, dict[str, object]]:
    """Each generated manifest, parsed as plain YAML, by pipeline name."""
    found = {}
    for path in folder.rglob("*.yaml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        found[document["pipeline"]] = document
    return found


def pipeline_flows(manifests: dict[str, dict[str, object]]) -> set[tuple[str, str]]:
    """Which pipeline's data reaches which, as the manifests say it: a read of another's published prefix,
    and a generate step that uses another's model."""
    flows = set()
    for name, document in manifests.items():
        datasets = document.get("datasets") or {}
        steps = document.get("steps") or {}
        assert isinstance(datasets, dict) and isinstance(steps, dict)
        for dataset in datasets.values():
            read = UPSTREAM.fullmatch(str(dataset.get("uri", "")))
            if read and read[1] != name:
                flows.add((read[1], name))
        for step in steps.values():
            for ref in step.get("inputs", []):
                used = MODEL.fullmatch(str(ref))
                if used and used[1] != name:
                    flows.add((used[1], name))
    return flows


def on_cycles(flows: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The flows between pipelines of one strongly connected component of the pipeline graph."""
    graph = nx.DiGraph(flows)
    component = {node: index for index, nodes in enumerate(nx.strongly_connected_components(graph)) for node in nodes}
    return {(tail, head) for tail, head in flows if component[tail] == component[head]}


def declared(document: dict[str, object]) -> str:
    def count(key: str, noun: str) -> str:
        items = document.get(key) or {}
        assert isinstance(items, dict)
        return f"{len(items)} {noun}" + ("" if len(items) == 1 else "s")

    return f"{count('datasets', 'dataset')}, {count('models', 'model')}, {count('steps', 'step')}"


def drawn_nodes(dot_source: str) -> int:
    """How many graph nodes (``n0``...) the real ``dot`` reads in DOT source (the legend's are ``legend0``...)."""
    laid = json.loads(subprocess.run([need_dot(), "-Tjson"], input=dot_source, capture_output=True, text=True,
                                     check=True).stdout)
    return sum(1 for item in laid["objects"] if "nodes" not in item and re.fullmatch(r"n\d+", item["name"]))


def analysed(folder: Path) -> Project:
    return analyse(discover([str(folder)], root=str(folder)), Config(root=folder), date(2026, 11, 24))


# --- the overview ------------------------------------------------------------------------------


@pytest.mark.parametrize("ring", [True, False], ids=["interlinked", "blocks"])
def test_a_generated_project_is_drawn_as_its_overview_with_its_loops_between_pipelines(
    run: Run, generated: Generated, ring: bool
) -> None:
    folder = generated(20, ring)
    manifests = manifests_of(folder)
    flows = pipeline_flows(manifests)
    project = analysed(folder)

    result = run("graph", str(folder))
    assert result.code == 0
    note = OVERVIEW_NOTE.fullmatch(result.err)
    assert note, result.err  # said in one line, with the size of the diagram it did not draw
    assert (note[1], note[2]) == (f"{len(project.dataflow.nodes):,}", f"{project.dataflow.number_of_edges():,}")

    laid = laid_out(result.out)
    on_loops: dict[str, int] = {}
    for step in project.facts.cyclic_generate_steps:
        on_loops[step.split(":")[0]] = on_loops.get(step.split(":")[0], 0) + 1
    assert {name: tuple(node["label"].split("\\n")) for name, node in laid.nodes.items()} == {
        name: (name, declared(document), *(["1 generate step on a loop"] if name in on_loops else []))
        for name, document in manifests.items()
    }
    assert {name for name, node in laid.nodes.items() if node["fillcolor"] == LOOP_FILL} == set(on_loops)
    assert set(laid.edges) == flows
    assert all(edge["label"] == "1 link" for edge in laid.edges.values())
    red = {key for key, edge in laid.edges.items() if edge["color"] == LOOP_EDGE}
    assert red == on_cycles(flows)
    assert all(laid.edges[key]["color"] == PLAIN_EDGE for key in flows - red)
    if ring:
        assert len(red) == len(manifests) == len(on_loops)  # one component through every pipeline
        assert result.out.count('label="Overview of 20 pipelines: 1 loop"') == 1
    else:
        assert len(red) == 6 and sorted(on_loops) == ["p00003", "p00004", "p00007", "p00013", "p00014", "p00017"]


def test_full_draws_every_node_of_a_large_project_and_says_nothing(run: Run, generated: Generated) -> None:
    folder = generated(20, True)
    result = run("graph", str(folder), "--full")
    assert (result.code, result.err) == (0, "")
    assert len(laid_out(result.out).clusters) == 21  # a cluster per pipeline, and the legend
    assert drawn_nodes(result.out) == len(analysed(folder).dataflow.nodes)


# --- Mermaid's limits ------------------------------------------------------------------------


@pytest.mark.parametrize("pipelines", [20, 100, 400])
def test_mermaid_of_a_generated_project_stays_within_mermaids_defaults_or_is_refused(
    run: Run, generated: Generated, pipelines: int
) -> None:
    folder = generated(pipelines, True)
    result = run("graph", str(folder), "-f", "mermaid")
    if result.code == 2:  # allowed: refused, with one line saying why and what to use
        assert_usage_error(result, "too large for Mermaid", "-f svg")
        return
    assert result.code == 0, result.err
    assert len(result.out) <= MAX_TEXT_SIZE and result.out.isascii()  # so JavaScript's length is the same
    chart = parse_mermaid(result.out)
    assert chart.links <= MAX_EDGES
    assert len(chart.named()) == pipelines
    assert len(result.err.splitlines()) == 1 and "drawing the overview by pipeline instead" in result.err
    if pipelines <= 100:
        assert len(chart.edges) == pipelines + 1  # the ring, and the legend's loop sample


def tiny_ring(folder: Path, pipelines: int, wide: bool) -> None:
    """``pipelines`` small manifests in a ring, no generate step: pipeline i writes what i + 1 reads.

    ``wide``: two steps that both read two datasets and write two, 6 nodes and 9 edges a pipeline;
    else one step from one dataset to one, 3 nodes and 3 edges a pipeline.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(pipelines):
        ahead = (index + 1) % pipelines
        lines = ["loopscan: 1", f"pipeline: r{index:04d}", "datasets:",
                 f"  in: {{uri: 's3://ring/{index}/in/', provenance: human}}",
                 f"  out: {{uri: 's3://ring/{ahead}/in/', provenance: human}}"]
        if wide:
            lines += [f"  aux: {{uri: 's3://ring/{index}/aux/', provenance: human}}",
                      f"  side: {{uri: 's3://ring/{index}/side/', provenance: human}}", "steps:",
                      "  s: {kind: transform, inputs: [in, aux], outputs: [out, side]}",
                      "  t: {kind: transform, inputs: [in, aux], outputs: [out, side]}"]
        else:
            lines += ["steps:", "  s: {kind: transform, inputs: [in], outputs: [out]}"]
        (folder / f"r{index:04d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_readable_diagram_past_mermaids_edge_limit_is_drawn_as_its_overview(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_ring(tmp_path / "wide", 60, wide=True)
    monkeypatch.chdir(tmp_path)
    full = run("graph", "wide")  # 360 nodes and 540 edges: Graphviz draws it whole
    assert (full.code, full.err) == (0, "")
    assert drawn_nodes(full.out) == 360

    result = run("graph", "wide", "-f", "mermaid")
    assert result.code == 0
    assert re.fullmatch(r"loopscan: the full diagram is too large for Mermaid \(([\d,]+) characters and 542 edges; "
                        r"Mermaid's defaults draw at most 50,000 and 500\): drawing the overview by pipeline instead "
                        r"\(--full draws every node\)\n", result.err), result.err
    chart = parse_mermaid(result.out)
    assert len(chart.named()) == 60 and len(chart.edges) == 61 and chart.links <= MAX_EDGES
    assert len(result.out) <= MAX_TEXT_SIZE

    forced = run("graph", "wide", "-f", "mermaid", "--full")
    assert forced.code == 0
    assert parse_mermaid(forced.out).links == 542  # 540, the legend's URI-overlap sample, a spacer in its row
    assert forced.err.startswith("loopscan: this diagram is too large for Mermaid (") and forced.err.endswith(
        "it renders only where mermaid.initialize sets a larger maxTextSize and maxEdges\n")
    assert len(forced.err.splitlines()) == 1


def test_mermaid_refuses_an_overview_past_its_limits_and_writes_nothing(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_ring(tmp_path / "big", 600, wide=False)
    monkeypatch.chdir(tmp_path)
    result = run("graph", "big", "-f", "mermaid", "-o", "big.mmd")
    assert_usage_error(result, "even the overview by pipeline is too large for Mermaid", "601 edges",
                       "draw it with -f svg, or draw less with --pipeline NAME or --loops-only")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["big"]

    asked = run("graph", "big", "-f", "mermaid", "--overview")  # asked for by name: written, and said so
    assert asked.code == 0 and len(asked.err.splitlines()) == 1 and "too large for Mermaid" in asked.err
    assert parse_mermaid(asked.out).links > MAX_EDGES
    dot = run("graph", "big")  # DOT has no such limit
    assert dot.code == 0 and OVERVIEW_NOTE.fullmatch(dot.err)
    assert drawn_nodes(dot.out) == 600


# --- Graphviz: the overview is quick, and a layout past --timeout leaves nothing -------------------


def test_the_svg_overview_of_400_interlinked_pipelines_is_drawn_by_dot(generated: Generated, tmp_path: Path) -> None:
    """Graphviz adds little to the analysis for the overview (the full diagram of 100 pipelines takes minutes)."""
    need_dot()
    folder = generated(400, True)
    svg, dot = tmp_path / "overview.svg", tmp_path / "overview.dot"
    command = [sys.executable, "-m", "loopscan", "graph", str(folder), "-o"]
    started = time.perf_counter()
    drawn = wall_time([*command, str(svg), "-f", "svg"])
    written = wall_time([*command, str(dot), "--overview"])  # the same analysis and model, not laid out
    print(f"svg of the overview of 400 pipelines: {drawn:.2f} s; the same as DOT source: {written:.2f} s "
          f"(in {time.perf_counter() - started:.1f} s)")
    assert drawn <= 3 * written, (drawn, written)
    drawing = parse_svg(svg.read_text(encoding="utf-8"))
    assert len(drawing.nodes) == 400 and len(drawing.edges) == 400


def test_the_dense_overview_of_400_interlinked_pipelines_is_laid_out_by_force_within_a_few_times_its_source(
        tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """Pipelines that read each other's data give an overview with thousands of edges between a few hundred
    boxes: Graphviz's layered layout takes minutes there, its force-directed one seconds."""
    need_dot()
    folder = tmp_path_factory.mktemp("interlinked-400")
    GENERATE.write_project(folder, 400, interlinked=True)
    svg, dot = tmp_path / "overview.svg", tmp_path / "overview.dot"
    command = [sys.executable, "-m", "loopscan", "graph", str(folder), "--overview", "-o"]
    written = wall_time([*command, str(dot)])
    drawn = wall_time([*command, str(svg), "-f", "svg"])
    print(f"svg of the interlinked overview of 400 pipelines: {drawn:.2f} s; as DOT source: {written:.2f} s")
    source = dot.read_text(encoding="utf-8")
    assert "layout=sfdp" in source.splitlines()[1]
    assert source.count(" -> ") > LAYERED_AT_MOST_EDGES
    assert drawn <= 4 * written, (drawn, written)
    drawing = parse_svg(svg.read_text(encoding="utf-8"))
    assert len(drawing.nodes) >= 400


def test_a_sparse_overview_is_laid_out_left_to_right(run: Run) -> None:
    source = run("graph", str(EXAMPLES), "--overview", "-f", "dot").out
    assert "layout=" not in source and "rankdir=LR" in source.splitlines()[1]


def test_a_layout_past_the_timeout_exits_2_naming_the_overview_and_leaves_no_file(
    run: Run, generated: Generated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_dot()
    folder = generated(100, True)  # the full diagram: about 5,000 nodes, which dot takes far longer than 1 s over
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    result = run("graph", str(folder), "--full", "-f", "svg", "--timeout", "1", "-o", "full.svg")
    assert_usage_error(result)
    assert result.err == ("loopscan: error: Graphviz's dot did not finish within 1 s; draw the overview by pipeline "
                          "with --overview, or allow more time with --timeout SECONDS\n")
    assert sorted(path.name for path in out.iterdir()) == []

    (out / "full.svg").write_text("the old picture", encoding="utf-8")
    assert run("graph", str(folder), "--full", "-f", "svg", "--timeout", "1", "-o", "full.svg").code == 2
    assert sorted(path.name for path in out.iterdir()) == ["full.svg"]
    assert (out / "full.svg").read_text(encoding="utf-8") == "the old picture"
