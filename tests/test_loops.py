"""The loop rules LS301-LS305, loop detection across manifests, witnesses, and ``loopscan loops``.

Every test writes real manifests and runs the real command line; expected
lines are computed from the files with ``line_of``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, REPO, TODAY, Result, line_of

Run = Callable[..., Result]
Write = Callable[[str, str], Path]

LOOP_RULES = ("LS301", "LS302", "LS303", "LS304", "LS305")

# A feedback loop done right: gated, capped and documented.
SUPPORT = """\
loopscan: 1
pipeline: support
owner: maria
datasets:
  raw:
    uri: s3://acme/support/raw/
    provenance: ai
  reviewed:
    uri: s3://acme/support/reviewed/
    provenance: mixed
  archive:
    uri: s3://acme/support/archive/
    provenance: mixed
    retention: replace
models:
  llm:
    uri: models:/support-llm
steps:
  serve:
    kind: generate
    inputs: [llm]
    outputs: [raw]
  review:
    kind: gate
    method: human-review
    inputs: [raw]
    outputs: [reviewed]
  finetune:
    kind: train
    inputs: [reviewed]
    outputs: [llm]
    mixing: {max_synthetic: 0.2}
  export:
    kind: gate
    method: score-filter
    inputs: [reviewed]
    outputs: [archive]
loops:
  feedback:
    through: [serve, review, finetune]
    why: Reviewed replies teach the assistant current answers.
    safeguards: [review, finetune]
"""
SUPPORT_CYCLE = ["support:serve", "support:raw", "support:review", "support:reviewed", "support:finetune",
                 "support:llm"]


def check(run: Run, *args: str) -> list[dict[str, Any]]:
    """The findings of a JSON run of ``loopscan check`` (loop and integrity rules only)."""
    result = run("check", *args, "--select", "LS0", "--select", "LS3", "-f", "json", "--today", TODAY)
    assert result.code in (0, 1), result.err
    findings: list[dict[str, Any]] = result.json()["findings"]
    return findings


def of_rule(findings: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    return [finding for finding in findings if finding["rule"] == rule]


def where(finding: dict[str, Any]) -> tuple[str, str, int]:
    return finding["rule"], finding["file"], finding["line"]


def column_of(path: Path, line: int, word: str) -> int:
    """The 1-based column of ``word`` on a line of ``path``."""
    return path.read_text(encoding="utf-8").splitlines()[line - 1].index(word) + 1


# ---------------------------------------------------------------- the clean case


def test_a_gated_capped_documented_loop_has_no_loop_findings(run: Run, project: Write) -> None:
    project("support.yaml", SUPPORT)
    assert check(run, ".") == []


# ---------------------------------------------------------------- LS301 ungated-loop


def test_ungated_loop_is_reported_at_the_generate_step_with_its_witness(run: Run, project: Write) -> None:
    path = project("support.yaml", SUPPORT.replace("    kind: gate\n    method: human-review\n",
                                                   "    kind: transform\n"))
    [finding] = of_rule(check(run, "."), "LS301")
    line = line_of(path, "  serve:")
    assert where(finding) == ("LS301", "support.yaml", line)
    assert finding["column"] == 3
    assert finding["node"] == "support:serve"
    assert finding["pipeline"] == "support"
    assert finding["loop"] == "feedback"
    assert finding["cycle"] == SUPPORT_CYCLE
    assert finding["message"] == ("loop through generate step 'serve' has a cycle with no quality gate "
                                  "(via 'review', 'finetune')")


def test_a_gate_whose_method_the_policy_does_not_accept_is_no_gate(run: Run, project: Write) -> None:
    project("support.yaml", SUPPORT.replace("method: human-review", "method: other"))
    [finding] = of_rule(check(run, "."), "LS301")
    assert finding["cycle"] == SUPPORT_CYCLE
    assert finding["message"].endswith(
        "; gate 'review' has method 'other', which policy.gate_methods does not accept")


def test_a_gate_with_no_method_counts_as_other(run: Run, project: Write) -> None:
    project("support.yaml", SUPPORT.replace("    method: human-review\n", ""))
    [finding] = of_rule(check(run, "."), "LS301")
    assert "gate 'review' declares no method (counted as 'other')" in finding["message"]


def test_the_policy_decides_which_gate_methods_count(run: Run, project: Write) -> None:
    # A gate of method `other` detects nothing unless it says what: here it removes low-quality replies.
    project("support.yaml", SUPPORT.replace("method: human-review", "method: other\n    detects: [quality]"))
    project("loopscan.yaml", "policy:\n  gate_methods: [human-review, other]\n")
    assert of_rule(check(run, "."), "LS301") == []


def test_two_cycles_through_one_generate_step_the_witness_takes_the_ungated_one(
        run: Run, project: Write) -> None:
    # serve -> raw -> review (gate) -> reviewed -> finetune: short and gated;
    # serve -> raw -> copy -> staged -> shortcut -> logs -> finetune: longer, and no gate.
    path = project("two.yaml", """\
        loopscan: 1
        pipeline: two
        owner: maria
        datasets:
          raw: {provenance: ai}
          reviewed: {provenance: ai}
          staged: {provenance: ai}
          logs: {provenance: ai}
        models:
          llm: {}
        steps:
          serve: {kind: generate, inputs: [llm], outputs: [raw]}
          review: {kind: gate, method: human-review, inputs: [raw], outputs: [reviewed]}
          copy: {kind: transform, inputs: [raw], outputs: [staged]}
          shortcut: {kind: transform, inputs: [staged], outputs: [logs]}
          finetune:
            kind: train
            inputs: [reviewed, logs]
            outputs: [llm]
            mixing: {max_synthetic: 0.2}
        """)
    findings = check(run, ".")
    [ungated] = of_rule(findings, "LS301")
    assert where(ungated) == ("LS301", "two.yaml", line_of(path, "  serve:"))
    assert ungated["cycle"] == ["two:serve", "two:raw", "two:copy", "two:staged", "two:shortcut", "two:logs",
                                "two:finetune", "two:llm"]
    # The loop as a whole (LS303) is witnessed by its shortest cycle, through the gate.
    [undocumented] = of_rule(findings, "LS303")
    assert undocumented["cycle"] == ["two:serve", "two:raw", "two:review", "two:reviewed", "two:finetune",
                                     "two:llm"]
    assert of_rule(findings, "LS302") == []


# ---------------------------------------------------------------- LS302 uncapped-loop


def test_uncapped_loop_is_reported_at_the_generate_step(run: Run, project: Write) -> None:
    path = project("support.yaml", SUPPORT.replace("    mixing: {max_synthetic: 0.2}\n", ""))
    findings = check(run, ".")
    [finding] = of_rule(findings, "LS302")
    assert where(finding) == ("LS302", "support.yaml", line_of(path, "  serve:"))
    assert finding["node"] == "support:serve"
    assert finding["cycle"] == SUPPORT_CYCLE
    assert "no mixing cap" in finding["message"]
    assert of_rule(findings, "LS301") == []


def test_a_mixing_block_without_max_synthetic_is_no_cap(run: Run, project: Write) -> None:
    project("support.yaml", SUPPORT.replace("mixing: {max_synthetic: 0.2}", "mixing: {log: mlflow://x}"))
    assert [f["node"] for f in of_rule(check(run, "."), "LS302")] == ["support:serve"]


# ---------------------------------------------------------------- LS303 undocumented-loop


def test_undocumented_loop_is_reported_at_the_generate_step(run: Run, project: Write) -> None:
    path = project("support.yaml", SUPPORT[: SUPPORT.index("loops:")])
    [finding] = of_rule(check(run, "."), "LS303")
    assert where(finding) == ("LS303", "support.yaml", line_of(path, "  serve:"))
    assert finding["node"] == "support:serve"
    assert finding["cycle"] == SUPPORT_CYCLE
    assert finding["loop"] == "support:serve"  # an undocumented loop is named by its first generate step
    assert finding["message"].startswith("loop through generate step 'serve' is not documented")


def test_a_loop_documented_in_another_manifest_is_documented(run: Run, project: Write) -> None:
    project("support.yaml", SUPPORT[: SUPPORT.index("loops:")])
    architecture = project("architecture.yaml", """\
        loopscan: 1
        pipeline: architecture
        owner: lena
        loops:
          support-feedback:
            through: ["support:serve", "support:review", "support:finetune"]
            why: Documented by the architecture team for every product.
            safeguards: ["support:review", "support:finetune"]
        """)
    assert check(run, ".") == []
    [loop] = run("loops", ".", "-f", "json").json()["loops"]
    assert loop["name"] == "support-feedback"
    assert loop["documented_by"] == [{"name": "support-feedback", "pipeline": "architecture",
                                      "file": "architecture.yaml",
                                      "line": line_of(architecture, "support-feedback:")}]


# ---------------------------------------------------------------- LS304 stale-loop-doc


def test_entry_whose_steps_lie_on_no_loop_is_stale(run: Run, project: Write) -> None:
    path = project("support.yaml", SUPPORT + """\
  archive-flow:
    through: [export]
    why: Old archive loop, redesigned since.
""")
    [finding] = of_rule(check(run, "."), "LS304")
    assert where(finding) == ("LS304", "support.yaml", line_of(path, "  archive-flow:"))
    assert finding["loop"] == "archive-flow"
    assert finding["message"] == ("loop entry 'archive-flow' matches no loop: none of its steps ('export') "
                                  "lies on a cycle through a generate step")


def test_entry_whose_steps_are_on_two_different_loops_is_stale(run: Run, project: Write) -> None:
    second = """\
loopscan: 1
pipeline: search
owner: jonas
datasets:
  clicks: {provenance: ai}
models:
  ranker: {}
steps:
  rank: {kind: generate, inputs: [ranker], outputs: [clicks]}
  retrain: {kind: train, inputs: [clicks], outputs: [ranker]}
"""
    project("search.yaml", second)
    path = project("support.yaml", SUPPORT + """\
  mixed-up:
    through: [serve, "search:retrain"]
""")
    [finding] = of_rule(check(run, "."), "LS304")
    assert where(finding) == ("LS304", "support.yaml", line_of(path, "  mixed-up:"))
    assert finding["message"] == ("loop entry 'mixed-up' matches no loop: 'search:retrain' is not on the loop "
                                  "through generate step 'serve'")


def test_entry_that_does_not_list_the_generate_step_is_stale_and_the_loop_undocumented(
        run: Run, project: Write) -> None:
    path = project("support.yaml", SUPPORT.replace("through: [serve, review, finetune]",
                                                   "through: [review, finetune]"))
    findings = check(run, ".")
    assert [where(f) for f in findings] == [
        ("LS303", "support.yaml", line_of(path, "  serve:")),
        ("LS304", "support.yaml", line_of(path, "  feedback:")),
    ]
    assert "add 'serve' to `through`" in of_rule(findings, "LS304")[0]["message"]


def test_safeguard_off_the_loop_is_reported_at_the_safeguard(run: Run, project: Write) -> None:
    path = project("support.yaml", SUPPORT.replace("safeguards: [review, finetune]",
                                                   "safeguards: [review, finetune, export]"))
    [finding] = of_rule(check(run, "."), "LS304")
    line = line_of(path, "safeguards:")
    assert where(finding) == ("LS304", "support.yaml", line)
    assert finding["column"] == column_of(path, line, "export")
    assert finding["node"] == "support:export"
    assert finding["loop"] == "feedback"
    assert finding["message"] == ("safeguard 'export' of loop entry 'feedback' is not on the loop through "
                                  "generate step 'serve'")


def test_safeguard_that_is_neither_gate_nor_cap_is_reported(run: Run, project: Write) -> None:
    path = project("support.yaml", SUPPORT.replace("safeguards: [review, finetune]",
                                                   "safeguards: [serve, finetune]"))
    [finding] = of_rule(check(run, "."), "LS304")
    line = line_of(path, "safeguards:")
    assert (finding["line"], finding["column"]) == (line, column_of(path, line, "serve"))
    assert finding["message"] == ("safeguard 'serve' of loop entry 'feedback' is a generate step, neither a "
                                  "gate nor a step with mixing.max_synthetic")


def test_safeguard_gate_with_an_unaccepted_method_is_reported(run: Run, project: Write) -> None:
    project("support.yaml", SUPPORT.replace("method: human-review", "method: other"))
    [finding] = of_rule(check(run, "."), "LS304")
    assert finding["node"] == "support:review"
    assert finding["message"] == ("safeguard 'review' of loop entry 'feedback' is a gate with method 'other', "
                                  "which policy.gate_methods does not accept")


def test_unknown_names_in_an_entry_are_ls004_only(run: Run, project: Write) -> None:
    path = project("support.yaml", SUPPORT.replace("safeguards: [review, finetune]",
                                                   "safeguards: [reveiw, finetune]"))
    findings = check(run, ".")
    assert [where(f) for f in findings] == [("LS004", "support.yaml", line_of(path, "safeguards:"))]


# ---------------------------------------------------------------- LS305 replace-in-loop


def test_replaced_dataset_on_a_loop_is_reported_at_its_retention(run: Run, project: Write) -> None:
    text = SUPPORT.replace("    uri: s3://acme/support/reviewed/\n",
                           "    uri: s3://acme/support/reviewed/\n    retention: replace\n")
    path = project("support.yaml", text)
    [finding] = of_rule(check(run, "."), "LS305")
    line = line_of(path, "    retention: replace")  # the first one: 'reviewed', on the loop
    assert where(finding) == ("LS305", "support.yaml", line)
    assert finding["column"] == column_of(path, line, "replace")
    assert finding["node"] == "support:reviewed"
    assert finding["loop"] == "feedback"
    assert finding["message"].startswith("dataset 'reviewed' is on the loop through generate step 'serve'")


def test_replaced_dataset_off_the_loop_is_not_reported(run: Run, project: Write) -> None:
    # 'archive' is retention: replace too, but export writes it and nothing reads it back.
    project("support.yaml", SUPPORT)
    assert of_rule(check(run, "."), "LS305") == []


# ---------------------------------------------------------------- loop names and overrides


def test_an_override_can_target_a_loop_by_name(run: Run, project: Write) -> None:
    project("support.yaml", SUPPORT.replace("    mixing: {max_synthetic: 0.2}\n", "") + """\
overrides:
  - rule: LS302
    target: feedback
    reason: The cap lands with the next trainer release, PLAT-77.
    approved_by: maria
    approved: 2026-11-01
    expires: 2026-12-15
""")
    result = run("check", ".", "--select", "LS302", "-f", "json", "--today", TODAY)
    [finding] = result.json()["findings"]
    assert (finding["rule"], finding["loop"]) == ("LS302", "feedback")
    assert finding["suppressed"]["reason"].startswith("The cap lands")
    assert result.code == 0


# ---------------------------------------------------------------- shapes of loops


def cross_team(run: Run, project: Write, written: str, read: str) -> list[dict[str, Any]]:
    """A writer team's generate step and a trainer team's train step, linked only by two URIs."""
    project("writer.yaml", f"""\
        loopscan: 1
        pipeline: writer
        owner: priya
        datasets:
          drafts: {{uri: "{written}", provenance: ai}}
        steps:
          draft:
            kind: generate
            inputs: ["models:/shared-lm"]
            outputs: [drafts]
        """)
    project("trainer.yaml", f"""\
        loopscan: 1
        pipeline: trainer
        owner: jonas
        datasets:
          corpus: {{uri: "{read}", provenance: ai}}
        models:
          lm: {{uri: "models:/shared-lm"}}
        steps:
          train:
            kind: train
            inputs: [corpus]
            outputs: [lm]
        """)
    return check(run, ".")


@pytest.mark.parametrize(("written", "read"), [
    ("s3://lake/drafts/", "s3://lake/drafts/"),
    ("s3://lake/listings/generated/2026/", "s3://lake/listings/"),
    ("s3://lake/listings/generated/part-1.json", "s3://lake/listings/*/part-*.json"),
    ("s3://lake/listings/**", "s3://lake/listings/generated/part-1.json"),
], ids=["equal-uris", "prefix", "glob-read", "glob-write"])
def test_cross_manifest_loop(run: Run, project: Write, written: str, read: str) -> None:
    findings = cross_team(run, project, written, read)
    assert sorted(f["rule"] for f in findings) == ["LS301", "LS302", "LS303"]
    line = line_of("writer.yaml", "  draft:")
    for finding in findings:
        assert (finding["file"], finding["line"], finding["node"]) == ("writer.yaml", line, "writer:draft")
        assert finding["cycle"] == ["writer:draft", "writer:drafts", "trainer:corpus", "trainer:train",
                                    "trainer:lm"]


def test_uris_that_do_not_overlap_make_no_loop(run: Run, project: Write) -> None:
    assert cross_team(run, project, "s3://lake/drafts/", "s3://lake/corpus/") == []
    assert cross_team(run, project, "s3://lake/listings/a.json", "s3://lake/*/b.json") == []


def test_the_text_output_shows_the_witness_with_file_and_line(run: Run, project: Write) -> None:
    cross_team(run, project, "s3://lake/listings/generated/2026/", "s3://lake/listings/")
    result = run("check", ".", "--select", "LS301", "--today", TODAY, "--no-color")
    writer, trainer = Path("writer.yaml"), Path("trainer.yaml")
    expected = [
        ("writer:draft", f"writer.yaml:{line_of(writer, '  draft:')}"),
        ("writer:drafts", f"writer.yaml:{line_of(writer, '  drafts:')}"),
        ("trainer:corpus", f"trainer.yaml:{line_of(trainer, '  corpus:')}"),
        ("trainer:train", f"trainer.yaml:{line_of(trainer, '  train:')}"),
        ("trainer:lm", f"trainer.yaml:{line_of(trainer, '  lm:')}"),
    ]
    path_lines = [line.strip() for line in result.out.splitlines() if line.strip().startswith("->")]
    assert path_lines == [f"-> {node}  ({place})" for node, place in expected] + [
        "-> writer:draft  (back to the start)"]
    assert result.out.startswith(f"writer.yaml:{line_of(writer, '  draft:')}:3: LS301 [error] loop through "
                                 "generate step 'draft' has a cycle with no quality gate")


def test_a_generate_step_that_reads_what_it_writes_is_a_loop(run: Run, project: Write) -> None:
    path = project("selfie.yaml", """\
        loopscan: 1
        pipeline: selfie
        owner: ana
        datasets:
          memory: {provenance: ai}
        models:
          bot: {}
        steps:
          chat:
            kind: generate
            inputs: [bot, memory]
            outputs: [memory]
        """)
    findings = check(run, ".")
    line = line_of(path, "  chat:")
    assert [where(f) for f in findings] == [("LS301", "selfie.yaml", line), ("LS302", "selfie.yaml", line),
                                            ("LS303", "selfie.yaml", line)]
    assert all(f["cycle"] == ["selfie:chat", "selfie:memory"] for f in findings)
    assert "(it reads back its own output 'memory')" in findings[0]["message"]


def test_a_rag_loop_with_no_train_step_is_a_loop(run: Run, project: Write) -> None:
    path = project("rag.yaml", """\
        loopscan: 1
        pipeline: rag
        owner: daniel
        datasets:
          articles: {provenance: human}
          index: {provenance: mixed}
          answers: {provenance: ai}
        models:
          answerer: {uri: "models:/answerer"}
        steps:
          index-articles: {kind: transform, inputs: [articles], outputs: [index]}
          answer: {kind: generate, inputs: [answerer, index], outputs: [answers]}
          index-answers: {kind: transform, inputs: [answers], outputs: [index]}
        """)
    findings = check(run, ".")
    line = line_of(path, "  answer:")
    assert [where(f) for f in findings] == [("LS301", "rag.yaml", line), ("LS302", "rag.yaml", line),
                                            ("LS303", "rag.yaml", line)]
    assert all(f["cycle"] == ["rag:answer", "rag:answers", "rag:index-answers", "rag:index"] for f in findings)


NESTED = """\
loopscan: 1
pipeline: nested
owner: ana
datasets:
  drafts: {provenance: ai}
  reviewed: {provenance: ai}
  queries: {provenance: ai}
models:
  lm: {}
steps:
  draft: {kind: generate, inputs: [lm], outputs: [drafts]}
  review: {kind: gate, method: human-review, inputs: [drafts], outputs: [reviewed]}
  suggest: {kind: generate, inputs: [lm], outputs: [queries]}
  train:
    kind: train
    inputs: [reviewed, queries]
    outputs: [lm]
    mixing: {max_synthetic: 0.2}
loops:
  drafting:
    through: [draft, review, train]
    safeguards: [review, train]
  suggestions:
    through: [suggest, train]
    safeguards: [train]
"""


def test_nested_loops_each_generate_step_is_judged_on_its_own_cycles(run: Run, project: Write) -> None:
    # Both generate steps share one component (draft's loop lies inside the
    # suggest-train loop's): one loop, named by its first documenting entry.
    # Only suggest has a cycle with no gate.
    path = project("nested.yaml", NESTED)
    findings = check(run, ".")
    assert [where(f) for f in findings] == [("LS301", "nested.yaml", line_of(path, "  suggest:"))]
    assert findings[0]["cycle"] == ["nested:suggest", "nested:queries", "nested:train", "nested:lm"]
    assert findings[0]["loop"] == "drafting"
    [loop] = run("loops", ".", "-f", "json").json()["loops"]
    assert (loop["id"], loop["name"], loop["generates"]) == ("drafting", "drafting", ["nested:draft", "nested:suggest"])
    assert (loop["ungated_generates"], loop["uncapped_generates"]) == (["nested:suggest"], [])
    assert [entry["name"] for entry in loop["documented_by"]] == ["drafting", "suggestions"]


def test_overlapping_loops_of_two_teams_share_a_train_step(run: Run, project: Write) -> None:
    project("chat.yaml", """\
        loopscan: 1
        pipeline: chat
        owner: maria
        datasets:
          chat-logs: {provenance: ai}
          corpus: {uri: "s3://lake/corpus/", provenance: mixed}
        models:
          lm: {uri: "models:/lm"}
        steps:
          serve: {kind: generate, inputs: [lm], outputs: [chat-logs]}
          review: {kind: gate, method: classifier, inputs: [chat-logs], outputs: [corpus]}
          train: {kind: train, inputs: [corpus], outputs: [lm], mixing: {max_synthetic: 0.3}}
        """)
    project("search.yaml", """\
        loopscan: 1
        pipeline: search
        owner: jonas
        datasets:
          snippets: {uri: "s3://lake/corpus/search/", provenance: ai}
        steps:
          summarise: {kind: generate, inputs: ["models:/lm"], outputs: [snippets]}
        """)
    findings = check(run, ".")
    # One loop across both teams, undocumented once; the ungated cycle is search's.
    assert [(f["rule"], f["node"], f["loop"]) for f in findings] == [
        ("LS303", "chat:serve", "chat:serve"), ("LS301", "search:summarise", "chat:serve")]
    [ungated] = of_rule(findings, "LS301")
    assert ungated["cycle"] == ["search:summarise", "search:snippets", "chat:corpus", "chat:train", "chat:lm"]
    [loop] = run("loops", ".", "-f", "json").json()["loops"]
    assert (loop["id"], loop["generates"], loop["pipelines"], loop["gates"], loop["ungated_generates"]) == (
        "chat:serve", ["chat:serve", "search:summarise"], ["chat", "search"], ["chat:review"], ["search:summarise"])


def test_exponentially_many_cycles_are_never_enumerated(run: Run, project: Write) -> None:
    # 40 diamonds in a row: 2**40 cycles through the generate step. Each
    # diamond has a gate on one side only, so the ungated witness takes every
    # 'side' step.
    diamonds = 40
    steps = ["  gen: {kind: generate, inputs: [lm], outputs: [d0]}"]
    for i in range(diamonds):
        steps.append(f"  gate{i}: {{kind: gate, method: score-filter, inputs: [d{i}], outputs: [d{i + 1}]}}")
        steps.append(f"  side{i}: {{kind: transform, inputs: [d{i}], outputs: [d{i + 1}]}}")
    steps.append(f"  train: {{kind: train, inputs: [d{diamonds}], outputs: [lm], mixing: {{max_synthetic: 0.1}}}}")
    datasets = [f"  d{i}: {{provenance: ai}}" for i in range(diamonds + 1)]
    project("ladder.yaml", "\n".join(["loopscan: 1", "pipeline: ladder", "owner: ana", "datasets:", *datasets,
                                      "models:", "  lm: {}", "steps:", *steps]) + "\n")
    findings = check(run, ".")
    assert [f["rule"] for f in findings] == ["LS301", "LS303"]
    side_path = [node for i in range(diamonds) for node in (f"ladder:d{i}", f"ladder:side{i}")]
    whole = ["ladder:gen", *side_path, f"ladder:d{diamonds}", "ladder:train", "ladder:lm"]
    # The finding shows the witness's first and last ten nodes; `loops --loop` shows it whole.
    assert findings[0]["cycle"] == whole[:10] + whole[-10:]
    assert findings[0]["cycle_length"] == len(whole) == 84
    assert findings[0]["cycle_omitted"] == {"after": 10, "count": 64}
    [witnesses] = run("loops", ".", "--loop", "ladder:gen", "-f", "json").json()["loop"]["witnesses"]
    assert witnesses["ungated"] == whole


# ---------------------------------------------------------------- loopscan loops


def test_loops_table_lists_generate_step_steps_pipelines_gates_caps_and_entry(run: Run, project: Write) -> None:
    path = project("support.yaml", SUPPORT)
    result = run("loops", ".")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["LOOP", "GENERATE", "STEPS", "PIPELINES", "GATES", "CAPS", "DOCUMENTED"]
    assert lines[2].split() == ["feedback", "support:serve", "support:finetune", "support", "support:review",
                                "support:finetune", "feedback", f"(support.yaml:{line_of(path, '  feedback:')})"]
    assert lines[3].split() == ["support:review"]
    assert lines[4].split() == ["support:serve"]
    assert lines[-2:] == ["1 loop: 1 documented, 0 with an ungated cycle, 0 with an uncapped cycle.",
                          "`loopscan loops --loop ID` lists one loop whole, with the witness of each generate step."]


def test_loops_table_says_when_a_cycle_bypasses_the_gates(run: Run, project: Write) -> None:
    project("support.yaml", SUPPORT.replace("inputs: [reviewed]\n    outputs: [llm]",
                                            "inputs: [reviewed, raw]\n    outputs: [llm]"))
    out = run("loops", ".").out
    assert "(bypassed: LS301)" in out
    assert "(bypassed: LS302)" not in out
    assert out.splitlines()[-2] == "1 loop: 1 documented, 1 with an ungated cycle, 0 with an uncapped cycle."


def test_loops_json_fills_the_contract(run: Run, project: Write) -> None:
    path = project("support.yaml", SUPPORT)
    result = run("loops", ".", "--format", "json")
    assert result.json() == {"loops": [{
        "id": "feedback",
        "name": "feedback",
        "generate": "support:serve",
        "generates": ["support:serve"],
        "size": 6,
        "nodes": ["support:finetune", "support:llm", "support:raw", "support:review", "support:reviewed",
                  "support:serve"],
        "gates": ["support:review"],
        "caps": ["support:finetune"],
        "documented": True,
        "steps": ["support:finetune", "support:review", "support:serve"],
        "pipelines": ["support"],
        "ungated": False,
        "uncapped": False,
        "ungated_generates": [],
        "uncapped_generates": [],
        "documented_by": [{"name": "feedback", "pipeline": "support", "file": "support.yaml",
                           "line": line_of(path, "  feedback:")}],
    }]}
    # `check` describes each loop exactly as `loops` does.
    assert run("check", ".", "-f", "json", "--today", TODAY).json()["loops"] == result.json()["loops"]


def test_no_loops_says_so(run: Run, project: Write) -> None:
    project("support.yaml", SUPPORT.replace("outputs: [llm]", "outputs: [archive]"))
    assert run("loops", ".").out == "No loops: no generate step's output flows back into what feeds it.\n"
    assert run("loops", ".", "-f", "json").json() == {"loops": []}


def test_marketplace_loop_across_three_teams(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    marketplace = "examples/pipelines/marketplace"
    [loop] = run("loops", marketplace, "-f", "json").json()["loops"]
    assert loop["generate"] == "listing-writer:draft-listings"
    assert loop["pipelines"] == ["catalog-etl", "listing-writer", "ranking-train"]
    assert loop["steps"] == ["catalog-etl:build-corpus", "catalog-etl:normalize", "listing-writer:draft-listings",
                             "ranking-train:finetune-catalog-lm"]
    assert (loop["gates"], loop["caps"], loop["documented"]) == ([], [], False)
    assert (loop["ungated"], loop["uncapped"]) == (True, True)

    table = run("loops", marketplace).out.splitlines()
    assert table[2].split() == ["listing-writer:draft-listings", "listing-writer:draft-listings",
                                "catalog-etl:build-corpus", "catalog-etl", "none", "none", "no"]
    assert table[-2] == "1 loop: 0 documented, 1 with an ungated cycle, 1 with an uncapped cycle."

    writer = EXAMPLES / "marketplace" / "listing-writer.yaml"
    findings = check(run, marketplace)
    line = line_of(writer, "  draft-listings:")
    assert [where(f) for f in findings] == [(rule, f"{marketplace}/listing-writer.yaml", line)
                                            for rule in ("LS301", "LS302", "LS303")]
    assert findings[0]["cycle"] == [
        "listing-writer:draft-listings", "listing-writer:drafted-listings", "catalog-etl:listings",
        "catalog-etl:normalize", "catalog-etl:listings-normalized", "catalog-etl:build-corpus",
        "catalog-etl:catalog-corpus", "ranking-train:finetune-catalog-lm", "ranking-train:catalog-lm",
    ]


# ---------------------------------------------------------------- the rule modules


def test_the_five_loop_rules_are_listed_and_explained(run: Run) -> None:
    listing = run("rules").out
    for rule_id, name in zip(LOOP_RULES, ("ungated-loop", "uncapped-loop", "undocumented-loop", "stale-loop-doc",
                                          "replace-in-loop"), strict=True):
        assert f"{rule_id} " in listing and f" {name} " in listing
        doc = run("explain", rule_id).out
        for section in ("## Why is this bad?", "## Example", "```yaml", "## Fix", "Play 3"):
            assert section in doc, (rule_id, section)


def test_no_product_code_enumerates_cycles() -> None:
    sources = [*(REPO / "loopscan").rglob("*.py"), *(REPO / "rules").rglob("*.py")]
    assert sources
    assert [str(path) for path in sources if "simple_cycles" in path.read_text(encoding="utf-8")] == []

