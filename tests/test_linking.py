"""Linking manifests into one graph: LS004 (unknown references), LS005 (conflicts), URI overlap.

LS004/LS005 are checked through the real CLI's JSON output at exact lines and
columns; the graph is checked on what the load and link steps build from files.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopscan.graph.globs import compile_glob, is_glob, literal_prefix
from loopscan.graph.link import link
from loopscan.graph.uris import find_overlaps, overlapping_pairs
from loopscan.sources.discover import discover
from loopscan.sources.load import load_files
from tests.conftest import Result

Run = Callable[..., Result]
Project = Callable[[str, str], Path]


def check(run: Run) -> Result:
    return run("check", ".", "-f", "json", "--select", "LS00")


def findings(result: Result, rule: str) -> list[dict[str, Any]]:
    return [f for f in result.json()["findings"] if f["rule"] == rule]


def position(path: Path, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based line and column where the ``occurrence``-th ``needle`` starts in ``path``."""
    text = path.read_text(encoding="utf-8")
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def located(result: Result, rule: str) -> list[tuple[str, int, int]]:
    return [(f["file"], f["line"], f["column"]) for f in findings(result, rule)]


def graph_of_folder() -> nx.DiGraph:
    """The project graph of the working directory, as ``loopscan check .`` builds it."""
    loaded = load_files(discover(["."]))
    assert not loaded.problems, loaded.problems
    linked = link(loaded.manifests)
    assert not linked.problems, linked.problems
    return linked.graph


SUPPORT = """
    loopscan: 1
    pipeline: support
    owner: maria
    datasets:
      transcripts: {uri: "s3://acme/transcripts/", provenance: mixed}
      anchor-v3: {uri: "s3://acme/anchor/v3/", provenance: human, frozen: true}
      tail-evals: {uri: "s3://acme/evals/", provenance: human, frozen: true}
    models:
      support-llm:
        uri: models:/support-llm
        monitoring: {eval_set: tail-evals}
    steps:
      serve:
        kind: generate
        inputs: [support-llm]
        outputs: [transcripts]
      finetune:
        kind: train
        inputs: [transcripts, anchor-v3]
        outputs: [support-llm]
        mixing: {max_synthetic: 0.2, anchor: anchor-v3}
    loops:
      feedback:
        through: [serve, finetune]
        safeguards: [finetune]
    overrides:
      - rule: LS301
        target: finetune
        reason: Migration, tracked in OPS-1.
        approved_by: maria
        approved: 2026-11-01
        expires: 2026-12-01
    """


# LS004 -----------------------------------------------------------------------


def test_the_reference_manifest_links_without_findings(project: Project, run: Run) -> None:
    project("support.yaml", SUPPORT)
    result = check(run)
    assert result.code == 0, result.out
    assert result.json()["findings"] == []


@pytest.mark.parametrize("fragment, broken, typo, suggestion", [
    ("inputs: [transcripts, anchor-v3]", "inputs: [transcript, anchor-v3]", "transcript", "transcripts"),
    ("outputs: [support-llm]", "outputs: [suport-llm]", "suport-llm", "support-llm"),
    ("anchor: anchor-v3}", "anchor: anchor-v4}", "anchor-v4", "anchor-v3"),
    ("eval_set: tail-evals}", "eval_set: tail-eval}", "tail-eval", "tail-evals"),
    ("through: [serve, finetune]", "through: [serve, finetun]", "finetun", "finetune"),
    ("safeguards: [finetune]", "safeguards: [fine-tune]", "fine-tune", "finetune"),
    ("target: finetune", "target: finetunee", "finetunee", "finetune"),
], ids=["input", "output", "anchor", "eval-set", "loop-step", "safeguard", "override-target"])
def test_unknown_reference_is_reported_at_the_reference_with_a_suggestion(
    project: Project, run: Run, fragment: str, broken: str, typo: str, suggestion: str
) -> None:
    assert SUPPORT.count(fragment) == 1
    path = project("support.yaml", SUPPORT.replace(fragment, broken))
    line, column = position(path, broken)
    result = check(run)
    assert result.code == 1
    assert located(result, "LS004") == [("support.yaml", line, column + broken.index(typo))]
    message = findings(result, "LS004")[0]["message"]
    assert f"{typo!r}" in message
    assert f"did you mean {suggestion!r}?" in message


def test_unknown_reference_in_a_ref_mapping_is_reported_at_the_ref(project: Project, run: Run) -> None:
    path = project("support.yaml", SUPPORT.replace(
        "inputs: [transcripts, anchor-v3]", "inputs: [transcripts, {ref: anchr-v3, share: 0.8}]"))
    result = check(run)
    assert result.code == 1
    assert located(result, "LS004") == [("support.yaml", *position(path, "anchr-v3"))]


def test_a_step_named_as_an_input_is_explained(project: Project, run: Run) -> None:
    path = project("support.yaml", SUPPORT.replace("inputs: [transcripts, anchor-v3]", "inputs: [serve, anchor-v3]"))
    result = check(run)
    assert result.code == 1
    assert located(result, "LS004") == [("support.yaml", *position(path, "serve, anchor"))]
    assert "is a step" in findings(result, "LS004")[0]["message"]


def test_override_targets_may_name_a_node_a_loop_or_a_pipeline(project: Project, run: Run) -> None:
    for target in ("support-llm", "feedback", "support"):
        project("support.yaml", SUPPORT.replace("target: finetune", f"target: {target}"))
        result = check(run)
        assert findings(result, "LS004") == [], target


def test_loops_may_name_steps_of_other_pipelines(project: Project, run: Run) -> None:
    project("support.yaml", SUPPORT)
    project("ops.yaml", """
        loopscan: 1
        pipeline: ops
        loops:
          cross:
            through: ["support:serve", "support:finetune"]
            safeguards: ["support:nothing"]
        """)
    result = check(run)
    assert result.code == 1
    assert [(f["file"], f["message"]) for f in findings(result, "LS004")] == [
        ("ops.yaml", "'support:nothing' names no step")]


# LS005 -----------------------------------------------------------------------


def test_duplicate_pipeline_name_across_two_files_is_reported_on_the_second(project: Project, run: Run) -> None:
    project("team-a/support.yaml", SUPPORT)
    second = project("team-b/support.yaml", "loopscan: 1\npipeline: support\nowner: lee\n")
    result = check(run)
    assert result.code == 1
    line, column = position(second, "support")
    assert located(result, "LS005") == [("team-b/support.yaml", line, column)]
    assert "team-a/support.yaml" in findings(result, "LS005")[0]["message"]
    assert result.json()["summary"]["pipelines"] == 1


def test_same_uri_with_different_provenance_in_two_pipelines_is_a_conflict(project: Project, run: Run) -> None:
    project("a-generator.yaml", """
        loopscan: 1
        pipeline: generator
        datasets:
          drafts: {uri: "s3://lake/listings/", provenance: ai}
        """)
    catalog = project("b-catalog.yaml", """
        loopscan: 1
        pipeline: catalog
        datasets:
          listings:
            uri: s3://lake/listings/
            provenance: human
        """)
    result = check(run)
    assert result.code == 1
    assert located(result, "LS005") == [("b-catalog.yaml", *position(catalog, "human"))]
    message = findings(result, "LS005")[0]["message"]
    assert "s3://lake/listings/" in message and "generator:drafts" in message and "'ai'" in message


def test_same_uri_with_the_same_provenance_is_one_shared_artifact(project: Project, run: Run) -> None:
    for name, pipeline in (("a.yaml", "a"), ("b.yaml", "b")):
        project(name, f"""
            loopscan: 1
            pipeline: {pipeline}
            datasets:
              shared: {{uri: "s3://lake/shared/", provenance: mixed}}
            """)
    result = check(run)
    assert result.code == 0
    assert findings(result, "LS005") == []


def test_an_id_declared_as_both_a_dataset_and_a_step_is_a_conflict(project: Project, run: Run) -> None:
    path = project("p.yaml", """
        loopscan: 1
        pipeline: p
        datasets:
          review: {provenance: ai}
        steps:
          review: {kind: gate}
        """)
    result = check(run)
    assert result.code == 1
    assert located(result, "LS005") == [("p.yaml", *position(path, "review", 2))]


# The graph ---------------------------------------------------------------------


def test_edges_run_from_input_to_step_to_output(project: Project) -> None:
    project("support.yaml", SUPPORT)
    graph = graph_of_folder()
    own = {(a, b) for a, b, linked in graph.edges(data="link") if not linked}
    assert own == {
        ("support:support-llm", "support:serve"),
        ("support:serve", "support:transcripts"),
        ("support:transcripts", "support:finetune"),
        ("support:anchor-v3", "support:finetune"),
        ("support:finetune", "support:support-llm"),
    }
    assert graph.nodes["support:serve"]["kind"] == "generate"
    assert graph.nodes["support:transcripts"]["kind"] == "dataset"
    assert graph.nodes["support:support-llm"]["kind"] == "model"


def writer_and_reader(project: Project, written: str, read: str, declare_read: bool = True) -> None:
    """Team A's generator writes ``written``; team B's training job reads ``read``."""
    project("team-a/generator.yaml", f"""
        loopscan: 1
        pipeline: generator
        datasets:
          drafts: {{uri: "{written}", provenance: ai}}
        steps:
          generate: {{kind: generate, outputs: [drafts]}}
        """)
    if declare_read:
        project("team-b/trainer.yaml", f"""
            loopscan: 1
            pipeline: trainer
            datasets:
              corpus: {{uri: "{read}", provenance: ai}}
            steps:
              train: {{kind: train, inputs: [corpus]}}
            """)
    else:
        project("team-b/trainer.yaml", f"""
            loopscan: 1
            pipeline: trainer
            steps:
              train: {{kind: train, inputs: ["{read}"]}}
            """)


@pytest.mark.parametrize("written, read, feeds", [
    ("s3://b/x/", "s3://b/x/", True),
    ("s3://b/x/", "s3://b/x/y/z.json", True),
    ("s3://b/x/y/z.json", "s3://b/x/", True),
    ("s3://b/2026/gen/part.json", "s3://b/*/gen/part.json", True),
    ("s3://b/2026/gen/part.json", "s3://b/*/part.json", False),
    ("s3://b/2026/gen/part.json", "s3://b/**/part.json", True),
    ("s3://b/2026/gen/part.json", "s3://b/**", True),
    ("s3://b/2026/gen/", "s3://b/*/gen/*.json", True),
    ("s3://b/x/", "s3://b/xy/", False),
    ("s3://b/x/a.json", "s3://b/x/b.json", False),
    ("s3://b/x/", "gs://b/x/", False),
], ids=lambda value: str(value))
def test_a_writer_feeds_a_reader_exactly_when_their_uris_overlap(
    project: Project, written: str, read: str, feeds: bool
) -> None:
    writer_and_reader(project, written, read)
    graph = graph_of_folder()
    assert nx.has_path(graph, "generator:generate", "trainer:train") is feeds
    if feeds:
        assert graph.edges["generator:drafts", "trainer:corpus"]["link"] is True
        # Nothing writes the reader's corpus, so it has no data to pass back.
        assert not graph.has_edge("trainer:corpus", "generator:drafts")


def test_siblings_under_a_prefix_that_is_only_read_are_not_joined_through_it(project: Project) -> None:
    project("gen.yaml", """
        loopscan: 1
        pipeline: gen
        datasets:
          drafts: {uri: "s3://lake/a/", provenance: ai}
        models:
          writer: {uri: "models:/writer"}
        steps:
          generate: {kind: generate, inputs: [writer], outputs: [drafts]}
        """)
    project("etl.yaml", """
        loopscan: 1
        pipeline: etl
        datasets:
          lake: {uri: "s3://lake/", provenance: mixed}
        steps:
          index: {kind: transform, inputs: [lake]}
        """)
    project("trainer.yaml", """
        loopscan: 1
        pipeline: trainer
        datasets:
          curated: {uri: "s3://lake/b/", provenance: human}
        steps:
          train: {kind: train, inputs: [curated], outputs: ["models:/writer"]}
        """)
    graph = graph_of_folder()
    assert nx.has_path(graph, "gen:generate", "etl:index")  # the prefix's reader sees the drafts
    assert not nx.has_path(graph, "gen:generate", "trainer:train")  # s3://lake/b/ never holds them


def test_a_step_may_read_another_pipeline_s_artifact_by_its_uri(project: Project) -> None:
    writer_and_reader(project, "s3://b/x/", "s3://b/x/", declare_read=False)
    graph = graph_of_folder()
    assert graph.has_edge("generator:drafts", "trainer:train")


def test_a_step_reading_below_another_pipeline_s_prefix_is_linked_through_a_uri_node(project: Project) -> None:
    writer_and_reader(project, "s3://b/x/", "s3://b/x/2026/part.json", declare_read=False)
    graph = graph_of_folder()
    assert graph.nodes["s3://b/x/2026/part.json"]["kind"] == "uri"
    assert nx.shortest_path(graph, "generator:generate", "trainer:train") == [
        "generator:generate", "generator:drafts", "s3://b/x/2026/part.json", "trainer:train"]


# URI overlap ---------------------------------------------------------------------


def pairs(*uris: str) -> set[tuple[str, str]]:
    found = list(overlapping_pairs(uris))
    assert len(found) == len(set(found)), "each pair must be yielded once"
    return set(found)


def test_overlapping_pairs_yields_each_unordered_pair_once_in_sorted_order() -> None:
    assert pairs("s3://b/x/y/z.json", "s3://b/x/", "s3://b/", "s3://b/x/") == {
        ("s3://b/", "s3://b/x/"),
        ("s3://b/", "s3://b/x/y/z.json"),
        ("s3://b/x/", "s3://b/x/y/z.json"),
    }


def test_globs_overlap_prefixes_above_and_below_their_literal_part() -> None:
    assert pairs("s3://b/*/gen/**", "s3://b/", "s3://b/2026/", "s3://b/2026/gen/a.json", "s3://c/") == {
        ("s3://b/", "s3://b/*/gen/**"),
        ("s3://b/", "s3://b/2026/"),
        ("s3://b/", "s3://b/2026/gen/a.json"),
        ("s3://b/*/gen/**", "s3://b/2026/"),
        ("s3://b/*/gen/**", "s3://b/2026/gen/a.json"),
        ("s3://b/2026/", "s3://b/2026/gen/a.json"),
    }


def test_globs_with_disjoint_literal_parts_never_overlap() -> None:
    assert pairs("s3://b/x/*.json", "s3://b/y/*.json", "s3://b/xy/a.json") == set()


SEGMENTS = st.sampled_from(["a", "b", "ab", "a.json", "b.json"])


@st.composite
def concrete_uris(draw: st.DrawFn) -> str:
    parts = draw(st.lists(SEGMENTS, min_size=1, max_size=4))
    return "s3://" + "/".join(parts) + draw(st.sampled_from(["", "/"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(concrete_uris(), max_size=30))
def test_concrete_uris_overlap_exactly_when_one_is_a_folder_prefix_of_the_other(uris: list[str]) -> None:
    expected = {
        (a, b) for a in set(uris) for b in set(uris)
        if a < b and ((a.endswith("/") and b.startswith(a)) or (b.endswith("/") and a.startswith(b)))
    }
    assert pairs(*uris) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(concrete_uris().filter(lambda u: not u.endswith("/")), max_size=30),
       st.lists(st.sampled_from(["a", "b", "*", "**", "a*", "*.json"]), min_size=1, max_size=4))
def test_a_glob_overlaps_exactly_the_files_it_matches(files: list[str], glob_parts: list[str]) -> None:
    pattern = "s3://" + "/".join(glob_parts)
    matched = {tuple(sorted((pattern, f))) for f in files if f != pattern and compile_glob(pattern).match(f)}
    assert pairs(pattern, *files) == matched


def test_100000_uris_link_exactly_and_in_time_linear_in_their_number() -> None:
    """1,000 folders of 99 files, plus 10 globs; every file pairs with its folder and nothing else.

    The time is compared with a floor measured here on the same URIs (sorting them
    and splitting each into segments), never with an absolute number of seconds: a
    comparison of every pair would be thousands of times the floor.
    """
    folders = {f"s3://lake/t{i}/": [f"s3://lake/t{i}/part-{j}.json" for j in range(99)] for i in range(1000)}
    globs = {f"s3://lake/t{i}/*.json": f"s3://lake/t{i}/" for i in range(10)}
    uris = [*folders, *(file for files in folders.values() for file in files), *globs]
    assert len(uris) >= 100_000
    random.Random(2).shuffle(uris)

    # t1/ holds none of t10/ ... t19/: siblings that share a string prefix do not overlap.
    expected = {(folder, file) for folder, files in folders.items() for file in files}
    for glob, folder in globs.items():
        expected.add((folder, glob))
        expected.update((glob, file) for file in folders[folder])

    def best_of_three(work: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        return min(times)

    found: list[tuple[str, str]] = []
    took = best_of_three(lambda: found.__setitem__(slice(None), overlapping_pairs(uris)))
    floor = best_of_three(lambda: (sorted(set(uris)), [uri.split("/") for uri in uris]))

    assert len(found) == len(expected) == 100_000
    assert set(found) == expected
    assert took < 20 * floor, f"linking took {took:.3f}s, {took / floor:.1f}x the floor of {floor:.3f}s"


def overlap(first: str, second: str) -> bool:
    """Whether two URIs overlap, decided by comparing the two (the rules in :mod:`loopscan.graph.uris`)."""
    if first == second:
        return True
    if is_glob(first) and is_glob(second):
        one, other = literal_prefix(first), literal_prefix(second)
        return one.startswith(other) or other.startswith(one)
    if is_glob(first) or is_glob(second):
        pattern, uri = (first, second) if is_glob(first) else (second, first)
        glob = compile_glob(pattern + "**" if pattern.endswith("/") else pattern)
        return glob.reaches(uri) if uri.endswith("/") else glob.match(uri)
    return (first.endswith("/") and second.startswith(first)) or (second.endswith("/") and first.startswith(second))


GLOB_SEGMENTS = st.sampled_from(["a", "b", "ab", "a.json", "", "*", "**", "a*", "*.json", "[ab]", "?", "**.json"])


@st.composite
def any_uris(draw: st.DrawFn) -> str:
    """URIs, prefixes and globs of every shape the index takes apart: literal, wildcard and ``**`` segments."""
    parts = draw(st.lists(GLOB_SEGMENTS, max_size=4))
    root = draw(st.sampled_from(["s3://", "s3:/", "gs://", "s3://lake/"]))
    return root + "/".join(parts) + draw(st.sampled_from(["", "/"]))


@settings(max_examples=1000, deadline=None)
@given(st.lists(any_uris(), max_size=25))
def test_indexed_overlaps_are_those_of_comparing_every_pair(uris: list[str]) -> None:
    unique = sorted(set(uris))
    expected = {(a, b) for index, a in enumerate(unique) for b in unique[index + 1:] if overlap(a, b)}
    assert pairs(*uris) == expected


@pytest.mark.parametrize("glob, prefix, overlaps", [
    ("s3://b/x/*.json", "s3://b/x/", True),
    ("s3://b/x/*.json", "s3://b/x/y/", False),  # nothing under y/ is a .json file directly in x/
    ("s3://b/*/gen/**", "s3://b/2026/", True),
    ("s3://b/*/gen/**", "s3://b/2026/raw/", False),
    ("s3://b/*/gen/**", "s3://b/2026/gen/a/", True),
    ("s3://b/te*/x", "s3://b/", True),
    ("s3://**", "s3://anything/at/all/", True),
], ids=lambda value: str(value))
def test_a_glob_overlaps_a_prefix_when_something_under_the_prefix_may_match(
        glob: str, prefix: str, overlaps: bool) -> None:
    assert (pairs(glob, prefix) == {tuple(sorted((glob, prefix)))}) is overlaps


def test_globs_are_grouped_by_their_literal_part_so_that_a_folder_of_globs_is_no_clique() -> None:
    globs = [f"s3://lake/*/part-{i}.json" for i in range(1000)]
    found = find_overlaps([*globs, "s3://lake/t/*.json", "s3://other/*"])
    assert found.globs == {"s3://lake/": tuple(sorted(globs)), "s3://lake/t/": ("s3://lake/t/*.json",),
                           "s3://other/": ("s3://other/*",)}
    assert found.nested == (("s3://lake/", "s3://lake/t/"),)
    assert found.pairs == ()
    assert len(set(found.glob_pairs())) == 1000 * 999 // 2 + 1000
