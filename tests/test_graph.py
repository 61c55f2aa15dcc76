"""``loopscan graph``: the diagram of the linked pipelines, as DOT, SVG, PNG and Mermaid.

DOT output is laid out by the real Graphviz ``dot`` and checked by parsing what
it draws (``dot -Tjson`` for attributes, the SVG as XML for text), never by
string matching alone. Mermaid is parsed line by line here (:func:`parse_mermaid`)
and rendered by the real library in tests/test_graph_browser.py. The overview
of large generated projects, and Mermaid's limits, are in tests/test_graph_scale.py.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from loopscan.analysis.diagram import (
    LOOP_EDGE,
    LOOP_FILL,
    LOOP_WIDTH,
    PLAIN_EDGE,
    PROVENANCE_FILL,
    WITNESS_WIDTH,
    Cluster,
    Diagram,
    Edge,
    Node,
    text_lines,
)
from loopscan.render.dot import render_image
from loopscan.render.mermaid import render as render_mermaid
from tests.conftest import ECHO_LOOP, EXAMPLES, REPO, Result, assert_usage_error

Run = Callable[..., Result]
Write = Callable[[str, str], Path]

MARKETPLACE = EXAMPLES / "marketplace"
COMMITTED_SVG = REPO / "docs" / "diagrams" / "marketplace.svg"
DRAW_IT = "loopscan graph examples/pipelines/marketplace/ --direction TB -f svg -o docs/diagrams/marketplace.svg"
"""The command that draws the committed diagram, as the READMEs show it."""
SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"
SVG_TAGS = {"svg", "g", "title", "path", "polygon", "polyline", "ellipse", "text", "a"}
"""Every element Graphviz draws these diagrams with; anything else was injected."""

HOSTILE = (
    's3://q/"];evil[label="pwned"];n0->n1;//',
    "<x:y>",
    "s3://h/<script>alert(1)</script>",
    "s3://h/<img src=x onerror=alert(1)>",
    "s3://n/line one\nline two",
    "s3://b/{braces}|pipes|[brackets]",
    "s3://m/a --> b ]) end",
    "s3://e/&amp;&lt;&#35;#quot;#35;",
    "s3://k/$$x^2$$ `tick` fa:fa-car",
    "s3://s/style: #quot;x#quot;;",
    's3://d/%%{init: {"theme":"dark"}}%%',
    's3://z/back\\slash\\ \\N \\" \\',
    "gs://u/é 漢字 😀",
    "s3://c/bell\x07 tab\t",
    "click:n0 call alert()",
    "subgraph:x\nend",
)
"""Names of artifacts known only by URI, each of which breaks DOT, Mermaid or HTML if written as it is."""
HOSTILE_OUTPUT = 's3://out/"quoted" <b>&amp;</b>\\'
HOSTILE_OWNER = 'Eve "</text><script>alert(1)</script>'
HOSTILE_DESCRIPTION = 'desc ]] --> }} {{ | & &amp; \\N \\G \\\\ x\\\n"quoted" <b>x</b>'
HOSTILE_DATASET_DESCRIPTION = '</title><script>alert(1)</script> & "x" \\N'
HOSTILE_NODES = len(HOSTILE) + 4
"""The URI-only inputs, and gen, learn, out and m."""
HOSTILE_EDGES = len(HOSTILE) + 4
"""Each input into gen, and the loop gen -> out -> learn -> m -> gen."""


def hostile_manifest() -> str:
    """One pipeline whose owner, description, URIs and input names try to break every format."""

    def quoted(text: str) -> str:  # a JSON string is a YAML double-quoted scalar
        return json.dumps(text, ensure_ascii=False)

    inputs = "\n".join(f"      - {quoted(name)}" for name in HOSTILE)
    return (
        "loopscan: 1\npipeline: hostile\n"
        f"owner: {quoted(HOSTILE_OWNER)}\n"
        f"description: {quoted(HOSTILE_DESCRIPTION)}\n"
        "datasets:\n  out:\n"
        f"    uri: {quoted(HOSTILE_OUTPUT)}\n    provenance: ai\n"
        f"    description: {quoted(HOSTILE_DATASET_DESCRIPTION)}\n"
        "models:\n  m: {uri: 'models:/m'}\n"
        "steps:\n  gen:\n    kind: generate\n    inputs:\n      - m\n"
        f"{inputs}\n"
        "    outputs: [out]\n"
        "  learn:\n    kind: train\n    inputs: [out]\n    outputs: [m]\n"
    )


def hostile_label_lines() -> list[tuple[str, ...]]:
    """The lines each hostile name must be drawn as: the very text, a line per line, controls as U+FFFD."""
    return [*(text_lines(name) for name in HOSTILE), ("out", *text_lines(HOSTILE_OUTPUT))]


def need_dot() -> str:
    """The path of Graphviz's ``dot``; the test fails (it does not skip) without it."""
    path = shutil.which("dot")
    if path is None:
        pytest.fail("Graphviz's dot program is needed: apt-get install graphviz (.ci/run installs it)")
    return path


# --- reading what dot drew ---------------------------------------------------------------------


@dataclass
class Laid:
    """The graph as ``dot -Tjson`` read it: nodes by first label line, edges, clusters."""

    nodes: dict[str, dict[str, Any]]
    edges: dict[tuple[str, str], dict[str, Any]]
    clusters: dict[str, list[str]]


def laid_out(dot_source: str) -> Laid:
    """Lay out DOT source with the real ``dot``; graph nodes (``n0``...) are named by their label's first line.

    ``edges`` holds the edges between graph nodes; ``clusters`` maps each cluster's first label line to the
    first label lines of its nodes (the legend's edge samples, which have no label, left out).
    """
    result = subprocess.run([need_dot(), "-Tjson"], input=dot_source, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Error" not in result.stderr, result.stderr
    document = json.loads(result.stdout)
    objects = document.get("objects", [])
    first = {item["_gvid"]: _first_line(item.get("label", "")) for item in objects}
    graph_nodes = {item["_gvid"] for item in objects if re.fullmatch(r"n\d+", item["name"])}
    nodes = {first[item["_gvid"]]: item for item in objects if item["_gvid"] in graph_nodes}
    edges = {(first[edge["tail"]], first[edge["head"]]): edge for edge in document.get("edges", [])
             if edge["tail"] in graph_nodes and edge["head"] in graph_nodes}
    clusters = {first[item["_gvid"]]: sorted(first[n] for n in item["nodes"] if first[n])
                for item in objects if "nodes" in item}
    return Laid(nodes, edges, clusters)


def _first_line(label: str) -> str:
    return re.split(r"\\[nl]", label, maxsplit=1)[0]


@dataclass
class Drawing:
    """An SVG from Graphviz, parsed: graph nodes and edges by DOT id, with their text and tooltips."""

    nodes: dict[str, tuple[str, ...]]
    tooltips: dict[str, str]
    edges: dict[tuple[str, str], tuple[str, ...]]
    clusters: dict[str, tuple[str, ...]]
    cluster_tooltips: dict[str, str]
    tags: set[str]


def parse_svg(text: str) -> Drawing:
    """Parse Graphviz's SVG as XML; ``n0``... are graph nodes, ``legend0``... the legend's."""
    root = ET.fromstring(text)
    drawing = Drawing({}, {}, {}, {}, {}, {element.tag.removeprefix(SVG) for element in root.iter()})
    for group in root.iter(f"{SVG}g"):
        kind = group.get("class")
        if kind not in ("node", "edge", "cluster"):
            continue
        title = group.findtext(f"{SVG}title") or ""
        lines = tuple(element.text or "" for element in group.iter(f"{SVG}text"))
        tooltip = next((a.get(XLINK_TITLE) for a in group.iter(f"{SVG}a")), None)
        if kind == "node" and re.fullmatch(r"n\d+", title):
            drawing.nodes[title] = lines
            if tooltip is not None:
                drawing.tooltips[title] = tooltip
        elif kind == "edge" and re.fullmatch(r"n\d+->n\d+", title):
            tail, head = title.split("->")
            drawing.edges[tail, head] = lines
        elif kind == "cluster":
            drawing.clusters[title] = lines
            if tooltip is not None:
                drawing.cluster_tooltips[title] = tooltip
    return drawing


def graph_output(run: Run, *args: str) -> str:
    result = run("graph", *args)
    assert result.code == 0, result.err
    return result.out


@dataclass
class Flowchart:
    """Mermaid source as loopscan writes it, parsed: each node's label lines, each edge, and every link."""

    nodes: dict[str, tuple[str, ...]]
    """Node id (``n0``, ``l0``...) -> its label, a line per ``<br>``, entities decoded."""
    edges: dict[tuple[str, str], str]
    """(tail, head) -> label of each visible edge."""
    links: int
    """Every link, the invisible ``~~~`` ones too: what Mermaid counts against ``maxEdges``."""

    def named(self) -> dict[str, tuple[str, ...]]:
        """The graph nodes (``n0``...) by the first line of their label."""
        return {lines[0]: lines for node_id, lines in self.nodes.items() if node_id.startswith("n")}

    def named_edges(self) -> dict[tuple[str, str], str]:
        """The edges between graph nodes, by the first lines of their ends' labels."""
        first = {node_id: lines[0] for node_id, lines in self.nodes.items()}
        return {(first[tail], first[head]): text for (tail, head), text in self.edges.items()
                if tail.startswith("n") and head.startswith("n")}


MERMAID_NODE = re.compile(r' {2,4}([nl]\d+)(?:\[\(|\[/|\{\{|\(\[|\(\(|\[|\{|\()"([^"]*)"')
MERMAID_LINK = re.compile(r' {2,4}([nl]\d+) (-->|-\.->|~~~)(?:\|"([^"]*)"\|)? ([nl]\d+)')


def unescape_mermaid(text: str) -> tuple[str, ...]:
    """A quoted Mermaid label's lines as Mermaid shows them: ``<br>`` breaks lines, ``#NN;`` is a character."""
    return tuple(re.sub(r"#(\d+);", lambda match: chr(int(match[1])), line) for line in text.split("<br>"))


def parse_mermaid(source: str) -> Flowchart:
    """Parse the lines of a loopscan Mermaid flowchart; a link line that is not an edge of a known form fails."""
    chart = Flowchart({}, {}, 0)
    for line in source.splitlines():
        link = MERMAID_LINK.fullmatch(line)
        if link:
            chart.links += 1
            if link[2] != "~~~":
                chart.edges[link[1], link[4]] = unescape_mermaid(link[3] or "")[0]
            continue
        node = MERMAID_NODE.match(line)
        if node:
            chart.nodes[node[1]] = unescape_mermaid(node[2])
    return chart


# --- what is drawn -------------------------------------------------------------------------------


def test_marketplace_has_a_cluster_per_pipeline_shapes_by_kind_and_fills_by_provenance(run: Run) -> None:
    laid = laid_out(graph_output(run, str(MARKETPLACE)))
    assert laid.clusters == {
        "catalog-etl": ["build-corpus", "catalog-corpus", "listings", "listings-normalized", "normalize"],
        "listing-writer": ["draft-listings", "drafted-listings", "seller-attributes"],
        "ranking-train": ["catalog-lm", "finetune-catalog-lm", "search-queries", "tail-queries"],
        "Legend": [
            "AI-generated data", "dataset", "generate step", "human data", "mixed data", "model",
            "train, transform or evaluate step",
        ],
    }
    shapes = {name: node["shape"] for name, node in laid.nodes.items()}
    assert shapes["drafted-listings"] == shapes["listings"] == "cylinder"
    assert shapes["catalog-lm"] == "box"
    assert shapes["draft-listings"] == "hexagon"
    assert shapes["normalize"] == shapes["finetune-catalog-lm"] == "ellipse"
    fills = {name: node["fillcolor"] for name, node in laid.nodes.items()}
    assert fills["drafted-listings"] == PROVENANCE_FILL["ai"]
    assert fills["seller-attributes"] == fills["tail-queries"] == PROVENANCE_FILL["human"]
    assert fills["listings"] == fills["catalog-lm"] == PROVENANCE_FILL["mixed"]
    assert fills["draft-listings"] == fills["normalize"] == "#ffffff"
    assert laid.nodes["drafted-listings"]["label"] == "drafted-listings\\ns3://acme-lake/listings/generated/2026/"


def test_marketplace_loop_edges_are_bold_and_red_and_its_ungated_witness_is_labelled(run: Run) -> None:
    laid = laid_out(graph_output(run, str(MARKETPLACE)))
    loop = {
        ("draft-listings", "drafted-listings"), ("drafted-listings", "listings"), ("listings", "normalize"),
        ("normalize", "listings-normalized"), ("listings-normalized", "build-corpus"),
        ("build-corpus", "catalog-corpus"), ("catalog-corpus", "finetune-catalog-lm"),
        ("finetune-catalog-lm", "catalog-lm"), ("catalog-lm", "draft-listings"),
    }
    graph_edges = laid.edges
    red = {key for key, edge in graph_edges.items() if edge["color"] == LOOP_EDGE}
    assert red == loop
    assert set(graph_edges) - loop == {("seller-attributes", "draft-listings"),
                                       ("search-queries", "finetune-catalog-lm")}
    for key in set(graph_edges) - loop:
        assert graph_edges[key]["color"] == PLAIN_EDGE and float(graph_edges[key]["penwidth"]) == 1
    assert all(float(graph_edges[key]["penwidth"]) > 2 for key in loop)
    labelled = {key: edge["label"] for key, edge in graph_edges.items() if edge.get("label")}
    assert labelled == {("draft-listings", "drafted-listings"): "no gate, no cap"}
    assert graph_edges["drafted-listings", "listings"]["style"] == "dashed"  # linked by URI overlap


def test_a_gated_loop_is_red_but_not_labelled_and_gates_ingest_and_caps_have_their_shapes(
    run: Run, project: Write
) -> None:
    project("gated.yaml", """
        loopscan: 1
        pipeline: gated
        datasets:
          web: {uri: "s3://g/web/", provenance: unknown}
          out: {uri: "s3://g/out/", provenance: ai}
          kept: {uri: "s3://g/kept/", provenance: ai}
          anchor: {uri: "s3://g/anchor/", provenance: human, frozen: true}
        models:
          lm: {uri: "models:/lm"}
        steps:
          crawl: {kind: ingest, outputs: [web]}
          serve: {kind: generate, inputs: [lm], outputs: [out]}
          review: {kind: gate, method: human-review, inputs: [out], outputs: [kept]}
          vibe-check: {kind: gate, method: other, inputs: [web], outputs: [kept]}
          tune:
            kind: train
            inputs: [kept, anchor]
            outputs: [lm]
            mixing: {max_synthetic: 0.2, anchor: anchor}
        """)
    laid = laid_out(graph_output(run, "."))
    assert laid.nodes["crawl"]["shape"] == "parallelogram"
    assert laid.nodes["review"]["shape"] == laid.nodes["vibe-check"]["shape"] == "diamond"
    assert laid.nodes["review"]["label"] == "review\\nhuman-review"
    assert laid.nodes["vibe-check"]["label"] == "vibe-check\\nother (not an accepted gate)"
    assert "dashed" in laid.nodes["vibe-check"]["style"] and "dashed" not in laid.nodes["review"]["style"]
    assert laid.nodes["tune"]["label"] == "tune\\ncap 20% synthetic"
    assert laid.nodes["anchor"]["label"] == "anchor\\ns3://g/anchor/\\nfrozen"
    red = {key for key, edge in laid.edges.items() if edge["color"] == LOOP_EDGE}
    assert red == {("serve", "out"), ("out", "review"), ("review", "kept"), ("kept", "tune"), ("tune", "lm"),
                   ("lm", "serve")}
    assert not [edge["label"] for edge in laid.edges.values() if edge.get("label")]
    assert {"gate", "gate the policy does not accept", "ingest step"} <= set(laid.clusters["Legend"])


def test_an_ungated_and_a_gated_but_uncapped_loop_are_labelled_for_what_they_miss(run: Run) -> None:
    laid = laid_out(graph_output(run, str(EXAMPLES)))
    labels = {key: edge["label"] for key, edge in laid.edges.items() if edge.get("label")}
    assert labels == {
        ("answer", "answers"): "no gate, no cap",  # rag-self-index
        ("complete", "completions"): "no cap",  # code-assistant: a real gate, no cap
        ("draft-listings", "drafted-listings"): "no gate, no cap",  # marketplace
        ("ppo", "ppo"): "no gate",  # rlhf-ppo: on-policy, capped by its own mixing, no declared gate
        ("write-digests", "digests"): "no gate",  # web-crawl: the loop through the crawl's source
    }
    assert laid.edges["serve", "raw-replies"]["color"] == LOOP_EDGE  # support-assistant: gated and capped
    assert not laid.edges["serve", "raw-replies"].get("label")


# --- options -------------------------------------------------------------------------------------


def test_pipeline_draws_it_with_its_direct_neighbours_in_other_pipelines(run: Run) -> None:
    laid = laid_out(graph_output(run, str(MARKETPLACE), "--pipeline", "catalog-etl"))
    graph_clusters = {name: nodes for name, nodes in laid.clusters.items() if name != "Legend"}
    assert graph_clusters == {
        "catalog-etl": ["build-corpus", "catalog-corpus", "listings", "listings-normalized", "normalize"],
        "listing-writer": ["drafted-listings"],
        "ranking-train": ["finetune-catalog-lm"],
    }
    assert laid.edges["drafted-listings", "listings"]["color"] == LOOP_EDGE


def test_loops_only_draws_exactly_the_nodes_on_loops(run: Run) -> None:
    loops = json.loads(graph_output_of(run, "loops", str(EXAMPLES), "-f", "json"))["loops"]
    on_loops = {node for loop in loops for node in loop["nodes"]}
    result = run("graph", str(EXAMPLES), "--loops-only", "-f", "svg")
    assert result.code == 0, result.err
    drawing = parse_svg(result.out)
    drawn = {tooltip.split("\n")[0] for tooltip in drawing.tooltips.values()}
    assert drawn == on_loops
    laid = laid_out(graph_output(run, str(EXAMPLES), "--loops-only"))
    assert laid.edges and all(edge["color"] == LOOP_EDGE for edge in laid.edges.values())


def graph_output_of(run: Run, *args: str) -> str:
    result = run(*args)
    assert result.code == 0, result.err
    return result.out


def test_loops_only_without_loops_says_so(run: Run) -> None:
    laid = laid_out(graph_output(run, str(EXAMPLES / "distillation-relabel.yaml"), "--loops-only"))
    assert not laid.nodes
    dot_source = graph_output(run, str(EXAMPLES / "distillation-relabel.yaml"), "--loops-only")
    assert "No loops" in dot_source
    mermaid = graph_output(run, str(EXAMPLES / "distillation-relabel.yaml"), "--loops-only", "-f", "mermaid")
    assert "No loops" in mermaid and "flowchart LR" in mermaid


def test_md_wraps_mermaid_in_a_fenced_block(run: Run) -> None:
    plain = graph_output(run, str(MARKETPLACE), "-f", "mermaid")
    fenced = graph_output(run, str(MARKETPLACE), "-f", "mermaid", "--md")
    assert fenced == f"```mermaid\n{plain}```\n"


@pytest.mark.parametrize(("args", "words"), [
    (("--pipeline", "catalog-et"), ("no pipeline 'catalog-et'", "did you mean 'catalog-etl'")),
    (("--md",), ("--md", "-f mermaid")),
    (("-f", "pdf"), ("pdf",)),
    (("missing-folder/",), ("missing-folder",)),
])
def test_bad_usage_exits_2_with_one_line(run: Run, args: tuple[str, ...], words: tuple[str, ...]) -> None:
    assert_usage_error(run("graph", str(MARKETPLACE), *args), *words)


def test_a_png_is_not_written_to_a_terminal(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert_usage_error(run("graph", str(MARKETPLACE), "-f", "png"), "-o FILE")


def test_a_manifest_that_cannot_be_read_is_named_and_the_rest_drawn(run: Run, project: Write) -> None:
    project("echo.yaml", ECHO_LOOP)
    project("broken.yaml", "loopscan: 1\npipeline: [\n")
    result = run("graph", ".")
    assert result.code == 1  # a diagram without a manifest must not pass for the whole project
    assert result.err == ("loopscan: broken.yaml:3:1: LS001 YAML syntax error: did not find expected node content; "
                          "it is not drawn ('loopscan check' lists every problem)\n")
    assert "echo" in laid_out(result.out).clusters


# --- the overview by pipeline --------------------------------------------------------------------

MARKETPLACE_OVERVIEW = {
    "catalog-etl": ("catalog-etl", "3 datasets, 0 models, 2 steps"),
    "listing-writer": ("listing-writer", "2 datasets, 0 models, 1 step", "1 generate step on a loop (no gate, no cap)"),
    "ranking-train": ("ranking-train", "2 datasets, 1 model, 1 step"),
}
"""The cross-team example as its overview draws it: what each pipeline declares, and its generate step."""
MARKETPLACE_OVERVIEW_EDGES = {
    ("listing-writer", "catalog-etl"): "1 link, no gate, no cap",  # the loop leaves its generate step's pipeline
    ("catalog-etl", "ranking-train"): "1 link",
    ("ranking-train", "listing-writer"): "1 link",
}


def test_the_overview_of_the_cross_team_example_is_its_three_pipelines_and_the_loop_through_them(run: Run) -> None:
    laid = laid_out(graph_output(run, str(MARKETPLACE), "--overview"))
    assert {name: tuple(node["label"].split("\\n")) for name, node in laid.nodes.items()} == MARKETPLACE_OVERVIEW
    assert {key: edge["label"] for key, edge in laid.edges.items()} == MARKETPLACE_OVERVIEW_EDGES
    # the ungated witness crosses every pipeline: every edge is on the loop and on the witness
    assert all(edge["color"] == LOOP_EDGE and float(edge["penwidth"]) == WITNESS_WIDTH for edge in laid.edges.values())
    assert {name: node["shape"] for name, node in laid.nodes.items()} == dict.fromkeys(MARKETPLACE_OVERVIEW, "box")
    assert {name for name, node in laid.nodes.items() if node["fillcolor"] == LOOP_FILL} == {"listing-writer"}
    assert laid.clusters["Legend"] == ["holds a generate step on a loop", "pipeline"]


def test_the_mermaid_overview_of_the_cross_team_example_says_the_same(run: Run) -> None:
    source = graph_output(run, str(MARKETPLACE), "--overview", "-f", "mermaid")
    chart = parse_mermaid(source)
    assert chart.named() == MARKETPLACE_OVERVIEW
    assert chart.named_edges() == MARKETPLACE_OVERVIEW_EDGES
    assert source.startswith('---\ntitle: "Overview of 3 pipelines: 1 loop (1 with no gate, 1 with no cap)"\n')
    for line in source.splitlines():
        assert MERMAID_LINE.fullmatch(line), line


def test_the_overview_of_the_examples_shows_loops_inside_one_pipeline_on_that_pipeline(run: Run) -> None:
    laid = laid_out(graph_output(run, str(EXAMPLES), "--overview"))
    on_loops = {name: node["label"].split("\\n")[2] for name, node in laid.nodes.items()
                if len(node["label"].split("\\n")) > 2}
    assert on_loops == {
        "code-assistant": "1 generate step on a loop (no cap)",  # a real gate, no cap
        "helpcenter-rag": "1 generate step on a loop (no gate, no cap)",
        "listing-writer": "1 generate step on a loop (no gate, no cap)",
        "support-assistant": "1 generate step on a loop",  # gated and capped
        "assistant-ppo": "1 generate step on a loop (no gate)",  # on-policy: capped, no declared gate
        "chat-rejection-sampling": "1 generate step on a loop",  # gated by the reward model's filter, capped
        "news-pretrain": "1 generate step on a loop (no gate)",  # the web loop, found through `source`
    }
    assert {name for name, node in laid.nodes.items() if node["fillcolor"] == LOOP_FILL} == set(on_loops)
    # only the marketplace loop crosses pipelines; the web loop leaves its pipeline for the web and comes back
    web = {("news-pretrain", "https://news.example"), ("https://news.example", "news-pretrain")}
    assert ({key for key, edge in laid.edges.items() if edge["color"] == LOOP_EDGE}
            == set(MARKETPLACE_OVERVIEW_EDGES) | web)


def test_the_overview_counts_the_links_between_two_pipelines_and_draws_only_those_on_a_loop_red(
    run: Run, project: Write
) -> None:
    project("lake.yaml", """
        loopscan: 1
        pipeline: lake
        datasets:
          a: {uri: "s3://lake/a/", provenance: human}
          b: {uri: "s3://lake/b/", provenance: human}
        steps:
          land: {kind: ingest, outputs: [a, b]}
        """)
    project("echo.yaml", """
        loopscan: 1
        pipeline: echo
        datasets:
          a: {uri: "s3://lake/a/", provenance: human}
          b: {uri: "s3://lake/b/", provenance: human}
          said: {uri: "s3://echo/said/", provenance: ai}
          kept: {uri: "s3://echo/kept/", provenance: ai}
        models:
          parrot: {uri: "models:/parrot"}
        steps:
          speak: {kind: generate, inputs: [parrot], outputs: [said]}
          review: {kind: gate, method: human-review, inputs: [said], outputs: [kept]}
          learn:
            kind: train
            inputs: [kept, a, b]
            outputs: [parrot]
            mixing: {max_synthetic: 0.2}
        """)
    project("tuner.yaml", """
        loopscan: 1
        pipeline: tuner
        datasets:
          kept: {uri: "s3://echo/kept/", provenance: ai}
        models:
          parrot: {uri: "models:/parrot"}
        steps:
          tune:
            kind: train
            inputs: [kept]
            outputs: [parrot]
            mixing: {max_synthetic: 0.2}
        """)
    laid = laid_out(graph_output(run, ".", "--overview"))
    assert {key: (edge["label"], edge["color"], float(edge["penwidth"])) for key, edge in laid.edges.items()} == {
        ("lake", "echo"): ("2 links", PLAIN_EDGE, 1.0),  # lake:a -> echo:a and lake:b -> echo:b, into the loop
        ("echo", "tuner"): ("2 links", LOOP_EDGE, LOOP_WIDTH),  # kept, and the model echo writes
        ("tuner", "echo"): ("1 link", LOOP_EDGE, LOOP_WIDTH),  # the model tuner writes
    }
    assert laid.nodes["echo"]["label"] == "echo\\n4 datasets, 1 model, 3 steps\\n1 generate step on a loop"
    assert laid.nodes["tuner"]["label"] == "tuner\\n1 dataset, 1 model, 1 step"  # on the loop, no generate step


def test_the_overview_groups_uris_by_scheme_and_host_and_hostile_names_stay_text(run: Run, project: Write) -> None:
    (Path.cwd() / "hostile.yaml").write_text(hostile_manifest(), encoding="utf-8")
    groups: dict[str, int] = {}
    for name in HOSTILE:  # the scheme and host, worked out here by hand
        scheme, _, rest = name.partition(":")
        group = f"{scheme}://{rest[2:].split('/')[0]}" if rest.startswith("//") else f"{scheme}:"
        groups[group] = groups.get(group, 0) + 1
    assert groups["s3://h"] == 2 and groups["click:"] == 1 and len(groups) == len(HOSTILE) - 1

    expected = {text_lines(group)[0]: (f"{count} artifact{'s' if count > 1 else ''} known only by URI",
                                       f"{count} link{'s' if count > 1 else ''}")
                for group, count in groups.items()}

    source = graph_output(run, "hostile.yaml", "--overview", "-f", "mermaid")
    for line in source.splitlines():
        assert MERMAID_LINE.fullmatch(line), line
    chart = parse_mermaid(source)
    assert {name: lines[-1] for name, lines in chart.named().items() if name != "hostile"} == {
        name: said for name, (said, _) in expected.items()}
    assert chart.named_edges() == {(name, "hostile"): links for name, (_, links) in expected.items()}
    drawing = parse_svg(graph_output(run, "hostile.yaml", "--overview", "-f", "svg"))
    assert drawing.tags <= SVG_TAGS
    assert len(drawing.nodes) == len(groups) + 1 and len(drawing.edges) == len(groups)
    assert {lines[0] for lines in drawing.nodes.values()} == {*expected, "hostile"}
    laid = laid_out(graph_output(run, "hostile.yaml", "--overview"))
    assert {name for name, node in laid.nodes.items() if "dashed" in node.get("style", "")} == set(expected)


def test_overview_and_pipeline_draw_it_with_its_neighbouring_pipelines(run: Run) -> None:
    laid = laid_out(graph_output(run, str(EXAMPLES), "--overview", "--pipeline", "catalog-etl"))
    assert set(laid.nodes) == {"catalog-etl", "listing-writer", "ranking-train"}
    assert set(laid.edges) == {("listing-writer", "catalog-etl"), ("catalog-etl", "ranking-train")}
    only_loops = laid_out(graph_output(run, str(EXAMPLES), "--overview", "--loops-only"))
    assert set(only_loops.nodes) == {"code-assistant", "helpcenter-rag", "listing-writer", "ranking-train",
                                     "catalog-etl", "support-assistant", "assistant-ppo",
                                     "chat-rejection-sampling", "news-pretrain", "https://news.example"}


def test_a_small_project_gets_the_full_diagram_and_nothing_on_stderr(run: Run) -> None:
    result = run("graph", str(EXAMPLES))
    assert (result.code, result.err) == (0, "")
    assert "subgraph cluster_0" in result.out  # clusters: the full diagram


def test_overview_and_full_together_is_bad_usage(run: Run) -> None:
    assert_usage_error(run("graph", str(MARKETPLACE), "--overview", "--full"), "--overview", "--full")


# --- Graphviz: SVG and PNG, and without it -----------------------------------------------------


def test_svg_and_png_are_drawn_by_dot(run: Run, tmp_path: Path) -> None:
    need_dot()
    svg_file, png_file = tmp_path / "m.svg", tmp_path / "m.png"
    assert run("graph", str(MARKETPLACE), "-f", "svg", "-o", str(svg_file)).code == 0
    assert run("graph", str(MARKETPLACE), "-f", "png", "-o", str(png_file)).code == 0

    drawing = parse_svg(svg_file.read_text(encoding="utf-8"))
    assert len(drawing.nodes) == 12 and len(drawing.edges) == 11
    assert drawing.tags <= SVG_TAGS
    assert ("draft-listings",) in drawing.nodes.values()
    assert ("no gate, no cap",) in drawing.edges.values()
    assert sorted(lines[0] for lines in drawing.clusters.values()) == [
        "Legend", "catalog-etl", "listing-writer", "ranking-train"]

    data = png_file.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 1000 and height > 300


def test_png_goes_to_stdout_when_it_is_not_a_terminal() -> None:
    need_dot()
    result = subprocess.run([sys.executable, "-m", "loopscan", "graph", str(MARKETPLACE), "-f", "png"],
                            capture_output=True, check=False, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_graphviz_svg_and_png_exit_2_naming_the_install_and_dot_and_mermaid_still_work(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on it
    for image in ("svg", "png"):
        assert_usage_error(run("graph", str(MARKETPLACE), "-f", image, "-o", str(tmp_path / "x")),
                           "Graphviz", "apt-get install graphviz")
    assert not (tmp_path / "x").exists()
    assert run("graph", str(MARKETPLACE)).out.startswith("digraph")
    assert "flowchart LR" in run("graph", str(MARKETPLACE), "-f", "mermaid").out


# --- determinism -------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["--full", "--overview"])
@pytest.mark.parametrize("image_format", ["dot", "mermaid", "svg"])
def test_output_is_the_same_whatever_the_order_of_the_files(run: Run, image_format: str, view: str) -> None:
    if image_format == "svg":
        need_dot()
    files = sorted(str(path) for path in EXAMPLES.rglob("*.yaml"))
    first = graph_output(run, *files, "-f", image_format, view)
    assert graph_output(run, *reversed(files), "-f", image_format, view) == first
    assert graph_output(run, str(EXAMPLES), "-f", image_format, view) == first


# --- hostile names -------------------------------------------------------------------------------


def test_hostile_names_are_text_in_the_svg_and_add_no_node_edge_or_element(run: Run, project: Write) -> None:
    need_dot()
    (Path.cwd() / "hostile.yaml").write_text(hostile_manifest(), encoding="utf-8")
    checked = run("check", "hostile.yaml", "-f", "json", "--select", "LS0")
    assert checked.json()["summary"]["pipelines"] == 1, checked.out  # it loads: the names reach the diagram

    drawing = parse_svg(graph_output(run, "hostile.yaml", "-f", "svg"))
    assert drawing.tags <= SVG_TAGS, drawing.tags - SVG_TAGS
    assert len(drawing.nodes) == HOSTILE_NODES
    assert len(drawing.edges) == HOSTILE_EDGES
    for lines in hostile_label_lines():
        assert lines in drawing.nodes.values(), lines
    tooltips = set(drawing.tooltips.values())
    for name in HOSTILE:
        assert "\n".join([*text_lines(name), "artifact known only by URI, provenance unknown"]) in tooltips, name
    assert "\n".join(["hostile:out", "dataset, provenance ai", HOSTILE_DATASET_DESCRIPTION]) in tooltips
    cluster = next(lines for lines in drawing.clusters.values() if lines[0] == "hostile")
    assert cluster == ("hostile", f"owner: {HOSTILE_OWNER}")
    assert "\n".join(["hostile", *text_lines(HOSTILE_DESCRIPTION)]) in drawing.cluster_tooltips.values()


def test_hostile_names_keep_dot_to_the_same_graph(run: Run, project: Write) -> None:
    (Path.cwd() / "hostile.yaml").write_text(hostile_manifest(), encoding="utf-8")
    source = graph_output(run, "hostile.yaml")
    laid = json.loads(subprocess.run([need_dot(), "-Tjson"], input=source, capture_output=True, text=True,
                                     check=True).stdout)
    graph_nodes = [item for item in laid["objects"] if "nodes" not in item and re.fullmatch(r"n\d+", item["name"])]
    graph_edges = [edge for edge in laid["edges"] if edge.get("style") != "invis"
                   and re.fullmatch(r"n\d+", laid["objects"][edge["tail"]]["name"])]
    assert len(graph_nodes) == HOSTILE_NODES and len(graph_edges) == HOSTILE_EDGES
    assert {item["name"] for item in laid["objects"] if "nodes" in item} == {"cluster_0", "cluster_legend"}


MERMAID_LINE = re.compile("|".join([
    r"---|title: \"(?:[^\"\\]|\\.)*\"|flowchart LR|  end",  # the title is a JSON (so YAML) string
    r" {2,4}(?:n|l)\d+(?:\[\(|\[/|\{\{|\(\[|\(\(|\[|\{|\()\"[^\"]*\"(?:\)\]|/\]|\}\}|\]\)|\)\)|\]|\}|\))",
    r"  note\[\"[^\"]*\"\]",
    r"  subgraph (?:c\d+|legend)\[\"[^\"]*\"\]",
    r" {2,4}(?:n|l)\d+ (?:-->|-\.->)(?:\|\"[^\"]*\"\|)? (?:n|l)\d+",
    r"    l\d+ ~~~ l\d+",
    r"  style (?:c\d+|legend) [-\w:#,. ]+",
    r"  classDef s\d+ [-\w:#,. ]+",
    r"  class [nl\d,]+ s\d+",
    r"  linkStyle [\d,]+ [-\w:#,.]+",
]))


def test_hostile_names_stay_inside_mermaid_strings(run: Run, project: Write) -> None:
    """Every line of the Mermaid source is one of the forms loopscan writes; the real parse is in the browser test."""
    (Path.cwd() / "hostile.yaml").write_text(hostile_manifest(), encoding="utf-8")
    source = graph_output(run, "hostile.yaml", "-f", "mermaid")
    for line in source.splitlines():
        assert MERMAID_LINE.fullmatch(line), line
    strings = re.findall(r'"([^"]*)"', source)
    assert all(re.fullmatch(r"(?:[A-Za-z0-9 .,/_-]|#\d+;|<br>)*", text) for text in strings[1:])
    assert len(re.findall(r"^    n\d+|^  n\d+\S*[\[({]", source, flags=re.MULTILINE)) == HOSTILE_NODES


# --- the committed diagram -----------------------------------------------------------------------


SHAPE_TAGS = {f"{SVG}{tag}" for tag in ("path", "polygon", "polyline", "ellipse")}


def svg_content(text: str) -> list[tuple[str, ...]]:
    """What an SVG from Graphviz shows, without positions: the title, then each node, edge and cluster in
    order with its id, text, tooltip and colours (so the layout details of one Graphviz build do not matter)."""
    root = ET.fromstring(text)
    graph = root.find(f"{SVG}g")
    assert graph is not None
    content: list[tuple[str, ...]] = [tuple(element.text or "" for element in graph.findall(f"{SVG}text"))]
    for group in graph.iter(f"{SVG}g"):
        if group.get("class") not in ("node", "edge", "cluster"):
            continue
        shown = [element.text or "" for element in group.iter(f"{SVG}text")]
        tooltip = next((a.get(XLINK_TITLE) or "" for a in group.iter(f"{SVG}a")), "")
        paint = [f"{element.tag.removeprefix(SVG)} {element.get('fill')} {element.get('stroke')} "
                 f"{element.get('stroke-width')} {element.get('stroke-dasharray')}"
                 for element in group.iter() if element.tag in SHAPE_TAGS]
        content.append((group.get("class") or "", group.findtext(f"{SVG}title") or "", *shown, tooltip, *paint))
    return content


def test_the_committed_marketplace_diagram_is_current(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/diagrams/marketplace.svg is what docs/diagrams/README.md's command draws today.

    Regenerate it with that command when this fails.
    """
    need_dot()
    monkeypatch.chdir(REPO)
    assert COMMITTED_SVG.is_file(), f"{COMMITTED_SVG} is missing; docs/diagrams/README.md says how to draw it"
    fresh = graph_output(run, "examples/pipelines/marketplace/", "--direction", "TB", "-f", "svg")
    committed = COMMITTED_SVG.read_text(encoding="utf-8")
    assert svg_content(committed) == svg_content(fresh), f"docs/diagrams/marketplace.svg is stale: run '{DRAW_IT}'"
    for doc in (REPO / "docs" / "diagrams" / "README.md", REPO / "README.md"):
        assert DRAW_IT in doc.read_text(encoding="utf-8"), doc


README_WIDTH_PX = 900
"""About how wide GitHub shows an image in a README: the SVG is scaled down to it."""


def text_heights_at_readme_width(svg: str) -> tuple[float, float]:
    """The smallest text in the boxes, and the smallest text at all, in px, with the SVG shown 900 px wide.

    Each text's height there is its font size in the SVG's user units times
    900 over the viewBox's width (a narrower picture is not scaled up). Only
    the layout's proportions count, not the positions one Graphviz version picks.
    """
    root = ET.fromstring(svg)
    width = float((root.get("viewBox") or "").split()[2])
    scale = README_WIDTH_PX / max(width, README_WIDTH_PX)
    every = [float(element.get("font-size") or 0) * scale for element in root.iter(f"{SVG}text")]
    in_boxes = [float(element.get("font-size") or 0) * scale
                for group in root.iter(f"{SVG}g") if group.get("class") == "node"
                for element in group.iter(f"{SVG}text")]
    assert len(in_boxes) > 20
    return min(in_boxes), min(every)


def test_the_committed_marketplace_diagram_is_readable_at_readme_width(run: Run) -> None:
    """At 900 px wide, the names in the boxes are at least 9 px tall, and no text is under 8 px."""
    in_boxes, smallest = text_heights_at_readme_width(COMMITTED_SVG.read_text(encoding="utf-8"))
    assert in_boxes >= 9 and smallest >= 8, (in_boxes, smallest)
    need_dot()
    left_to_right = graph_output(run, str(MARKETPLACE), "-f", "svg")  # what the README showed before
    assert text_heights_at_readme_width(left_to_right)[0] < 6


def test_the_stale_check_sees_a_changed_pipeline(run: Run, project: Write) -> None:
    """The content compared above changes when a pipeline does (so the check can fail)."""
    need_dot()
    for name in ("catalog-etl.yaml", "listing-writer.yaml", "ranking-train.yaml"):
        project(name, (MARKETPLACE / name).read_text(encoding="utf-8"))
    before = svg_content(graph_output(run, ".", "-f", "svg"))
    original = (MARKETPLACE / "catalog-etl.yaml").read_text(encoding="utf-8")
    project("catalog-etl.yaml", original.replace("  normalize:\n", "  scrub:\n"))
    assert svg_content(graph_output(run, ".", "-f", "svg")) != before


NASTY = 'a"\n]\x00\\N}<b>'
"""Text the model would have split and cleaned, handed to the renderers as it is."""


def nasty_diagram() -> Diagram:
    """Two nodes and an edge whose every text holds a raw line break, a NUL, a quote and markup."""
    return Diagram(
        title=NASTY,
        clusters=(Cluster("c", (NASTY,), ("x",), tooltip=(NASTY,)),),
        nodes=(Node("x", (NASTY, NASTY), "box", "#ffffff", tooltip=(NASTY,)), Node("y", (NASTY,), "point", "#000000")),
        edges=(Edge("x", "y", label=NASTY),),
        loose=("y",),
    )


def test_renderers_escape_even_text_the_model_would_have_cleaned() -> None:
    """The renderers do not rely on the model: raw line breaks, NUL and quotes in any text stay text."""
    need_dot()
    drawing = parse_svg(render_image(nasty_diagram(), "svg").decode("utf-8"))
    assert len(drawing.nodes) == 2 and list(drawing.edges) == [("n0", "n1")]
    assert drawing.tags <= SVG_TAGS
    assert drawing.nodes["n0"] == ('a"', "]\ufffd\\N}<b>") * 2
    for line in render_mermaid(nasty_diagram()).splitlines():
        assert MERMAID_LINE.fullmatch(line), line


def test_direction_tb_lays_the_data_flow_out_top_to_bottom_in_every_format(run: Run) -> None:
    assert "flowchart TB" in graph_output(run, str(MARKETPLACE), "-f", "mermaid", "--direction", "TB")
    assert "rankdir=TB" in graph_output(run, str(MARKETPLACE), "--direction", "TB").splitlines()[1]
    assert "rankdir=LR" in graph_output(run, str(MARKETPLACE)).splitlines()[1]
    need_dot()
    laid = laid_out(graph_output(run, str(MARKETPLACE), "--direction", "TB"))
    (corpus_x, corpus_y), (normalize_x, normalize_y) = (
        map(float, laid.nodes[name]["pos"].split(",")) for name in ("catalog-corpus", "normalize"))
    # DOT's y grows upwards: the corpus, two steps on, is below what normalizes it, in the same column
    assert corpus_y < normalize_y and abs(corpus_x - normalize_x) < 50
