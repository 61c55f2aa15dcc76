"""Play 1: provenance inference and rules LS101-LS104."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import networkx as nx

from loopscan.analysis.provenance import analyse_provenance
from loopscan.sources.manifest import Step
from tests.conftest import TODAY, Result, line_of, rule_findings, where

Run = Callable[..., Result]
Write = Callable[[str, str], Path]






# ---- the fixpoint ---------------------------------------------------------------------------

def graph_of(edges: list[tuple[str, str]], kinds: dict[str, str]) -> nx.DiGraph:
    graph = nx.DiGraph()
    for a, b in edges:
        graph.add_edge(a, b, link=False)
    for node in graph:
        graph.nodes[node].update(kind=kinds.get(node, "dataset"), decl=None)
    return graph


def test_ai_output_keeps_its_provenance_round_a_cycle() -> None:
    graph = graph_of(
        [("model", "serve"), ("serve", "replies"), ("replies", "review"), ("review", "reviewed"),
         ("reviewed", "tune"), ("human-data", "tune"), ("tune", "model")],
        {"serve": "generate", "review": "gate", "tune": "train", "model": "model"},
    )
    flow = analyse_provenance(graph)
    assert flow.value["reviewed"] == "ai"  # a gate keeps provenance
    assert flow.value["model"] == "unknown"  # trained on ai and on data with no label at all
    assert flow.ai_source("reviewed") == ("serve", "replies", "review", "reviewed")


def test_the_result_does_not_depend_on_the_order_nodes_are_visited() -> None:
    """An unlabelled artifact is unknown only when nothing flows in, whatever is visited first."""
    edges = [("gen", "out"), ("out", "copy"), ("copy", "final")]
    kinds = {"gen": "generate", "copy": "transform", "out": "uri", "final": "uri"}
    forward = graph_of(edges, kinds)
    backward = nx.DiGraph()
    backward.add_nodes_from(reversed(list(forward.nodes(data=True))))
    backward.add_edges_from(forward.edges(data=True))
    assert analyse_provenance(forward).value == analyse_provenance(backward).value
    assert analyse_provenance(backward).value["final"] == "ai"


def test_a_classifier_gate_turns_unknown_into_mixed_but_not_ai_into_human() -> None:
    graph = graph_of(
        [("crawl", "raw"), ("raw", "classify"), ("classify", "tagged"),
         ("gen", "drafts"), ("drafts", "filter"), ("filter", "kept")],
        {"crawl": "ingest", "classify": "gate", "gen": "generate", "filter": "gate"},
    )
    for node in ("classify", "filter"):
        graph.nodes[node]["decl"] = Step("p", node, ("steps", node), None, kind="gate", method="classifier")
    values = analyse_provenance(graph).value
    assert (values["raw"], values["tagged"], values["kept"]) == ("unknown", "mixed", "ai")


# ---- LS101 ----------------------------------------------------------------------------------

MISSING = """
    loopscan: 1
    pipeline: notes
    owner: ana
    datasets:
      drafts:
        uri: s3://notes/drafts/
      reviewed:
        uri: s3://notes/reviewed/
        provenance: human
"""


def test_ls101_reports_a_dataset_without_provenance(project: Write, run: Run) -> None:
    path = project("notes.yaml", MISSING)
    assert where(rule_findings(run, "LS101")) == [("notes.yaml", line_of(path, "drafts:"), "notes:drafts")]


def test_ls101_passes_tagged_datasets(project: Write, run: Run) -> None:
    project("notes.yaml", MISSING.replace("uri: s3://notes/drafts/", "uri: s3://notes/drafts/\n    provenance: ai"))
    assert rule_findings(run, "LS101") == []


# ---- LS102 and LS104 ------------------------------------------------------------------------

CRAWL = """
    loopscan: 1
    pipeline: news
    owner: sofia
    datasets:
      crawl-raw: {uri: "s3://crawl/raw/", provenance: unknown}
      crawl-text: {uri: "s3://crawl/text/", provenance: unknown}
      archive: {uri: "s3://licensed/archive/", provenance: human, frozen: true}
    models:
      base: {uri: "models:/news-base"}
      news: {uri: "models:/news"}
    steps:
      crawl:
        kind: ingest
        source: https://seeds.example.net/news.txt
        outputs: [crawl-raw]
      extract:
        kind: transform
        inputs: [crawl-raw]
        outputs: [crawl-text]
      pretrain:
        kind: train
        inputs: [base, crawl-text, archive]
        outputs: [news]
"""


def test_ls102_reports_unknown_data_reaching_a_train_step(project: Write, run: Run) -> None:
    path = project("news.yaml", CRAWL)
    found = rule_findings(run, "LS102")
    assert where(found) == [("news.yaml", line_of(path, "pretrain:"), "news:pretrain")]
    assert "'crawl-text'" in found[0]["message"] and "ingest step 'crawl'" in found[0]["message"]
    assert "'base'" not in found[0]["message"]  # a base model is not data


def test_ls102_passes_when_the_ingest_runs_a_classifier(project: Write, run: Run) -> None:
    project("news.yaml", CRAWL.replace("source: https://seeds.example.net/news.txt",
                                       "source: https://seeds.example.net/news.txt\n    classifier: detector-v2"))
    assert rule_findings(run, "LS102") == []
    assert rule_findings(run, "LS104") == []


def test_ls102_passes_when_a_classifier_gate_is_on_the_way(project: Write, run: Run) -> None:
    gated = CRAWL.replace("""      extract:
        kind: transform""", """      extract:
        kind: gate
        method: classifier""")
    project("news.yaml", gated)
    found = rule_findings(run, "LS102")
    assert "'crawl-text' (declared 'unknown')" in found[0]["message"]  # the classifier's output keeps its label
    project("news.yaml", gated.replace('crawl-text: {uri: "s3://crawl/text/", provenance: unknown}',
                                       'crawl-text: {uri: "s3://crawl/text/", provenance: mixed}'))
    assert rule_findings(run, "LS102") == []


def test_ls104_reports_an_ingest_without_classifier(project: Write, run: Run) -> None:
    path = project("news.yaml", CRAWL)
    found = rule_findings(run, "LS104")
    assert where(found) == [("news.yaml", line_of(path, "crawl:"), "news:crawl")]
    assert found[0]["severity"] == "warning"


# ---- LS103 ----------------------------------------------------------------------------------

GENERATOR = """
    loopscan: 1
    pipeline: distill
    owner: lena
    datasets:
      prompts: {uri: "gs://distill/prompts/", provenance: human}
      answers: {uri: "gs://distill/answers/raw/", provenance: ai}
      answers-clean: {uri: "gs://distill/answers/clean/", provenance: ai}
    models:
      teacher: {uri: "models:/teacher"}
    steps:
      answer:
        kind: generate
        inputs: [teacher, prompts]
        outputs: [answers]
      clean:
        kind: transform
        inputs: [answers]
        outputs: [answers-clean]
"""

RELABEL = """
    loopscan: 1
    pipeline: student
    owner: omar
    datasets:
      deduped: {uri: "gs://student/deduped/", provenance: ai}
      corpus:
        uri: gs://student/corpus/
        provenance: {label}
    steps:
      near-dedup:
        kind: transform
        inputs: ["gs://distill/answers/clean/"]
        outputs: [deduped]
      format:
        kind: transform
        inputs: [deduped]
        outputs: [corpus]
"""


def test_ls103_follows_ai_output_through_three_transforms_across_two_manifests(project: Write, run: Run) -> None:
    project("distill.yaml", GENERATOR)
    path = project("student.yaml", RELABEL.replace("{label}", "human"))
    found = rule_findings(run, "LS103")
    assert where(found) == [("student.yaml", line_of(path, "provenance: human"), "student:corpus")]
    message = found[0]["message"]
    assert "generate step 'distill:answer'" in message
    assert "'distill:clean', 'near-dedup' and 'format'" in message
    assert "declare it 'ai'" in message


def test_ls103_accepts_mixed_for_ai_inflow(project: Write, run: Run) -> None:
    project("distill.yaml", GENERATOR)
    project("student.yaml", RELABEL.replace("{label}", "mixed"))
    assert rule_findings(run, "LS103") == []


def test_ls103_passes_human_data_that_only_human_data_flows_into(project: Write, run: Run) -> None:
    project("notes.yaml", """
        loopscan: 1
        pipeline: notes
        owner: ana
        datasets:
          written: {provenance: human}
          formatted: {provenance: human}
        steps:
          format:
            kind: transform
            inputs: [written]
            outputs: [formatted]
        """)
    assert rule_findings(run, "LS103") == []


def test_ls103_passes_human_data_a_model_transforms(project: Write, run: Run) -> None:
    """A model is not data: embedding human articles keeps them human, whatever the model was trained on."""
    project("index.yaml", """
        loopscan: 1
        pipeline: index
        owner: daniel
        datasets:
          articles: {provenance: human}
          index: {provenance: human}
        models:
          embedder: {uri: "models:/embedder"}
        steps:
          embed:
            kind: transform
            inputs: [embedder, articles]
            outputs: [index]
        """)
    assert rule_findings(run, "LS103") == []


def test_ls103_reports_unclassified_ingested_data_declared_human(project: Write, run: Run) -> None:
    path = project("news.yaml", CRAWL.replace("crawl-raw: {uri: \"s3://crawl/raw/\", provenance: unknown}",
                                              "crawl-raw: {uri: \"s3://crawl/raw/\", provenance: human}"))
    found = rule_findings(run, "LS103")
    assert where(found) == [("news.yaml", line_of(path, "crawl-raw: {"), "news:crawl-raw")]
    assert "unknown provenance from ingest step 'crawl'" in found[0]["message"]


def test_ls103_sees_generated_data_inside_a_prefix_declared_human(project: Write, run: Run) -> None:
    project("distill.yaml", GENERATOR)
    path = project("lake.yaml", """
        loopscan: 1
        pipeline: lake
        owner: tomasz
        datasets:
          everything: {uri: "gs://distill/", provenance: human}
        """)
    found = rule_findings(run, "LS103")
    assert where(found) == [("lake.yaml", line_of(path, "everything:"), "lake:everything")]
    assert "generate step 'distill:answer'" in found[0]["message"]


def test_a_label_does_not_cross_a_uri_overlap(project: Write, run: Run) -> None:
    """A frozen human anchor under a prefix another team declares mixed stays human."""
    project("lake.yaml", """
        loopscan: 1
        pipeline: lake
        owner: tomasz
        datasets:
          lake: {uri: "s3://lake/", provenance: mixed}
        """)
    project("tune.yaml", """
        loopscan: 1
        pipeline: tune
        owner: ana
        datasets:
          anchor: {uri: "s3://lake/anchor/v1/", provenance: human, frozen: true}
        models:
          m: {uri: "models:/m"}
        steps:
          train:
            kind: train
            inputs: [{ref: anchor, share: 1}]
            outputs: [m]
            mixing: {max_synthetic: 0.1, anchor: anchor, log: "mlflow://tune/ratio"}
        """)
    assert [f["rule"] for f in run("check", ".", "-f", "json", "--today", TODAY).json()["findings"]] == []
