"""A schema error (LS002) no longer hides the rest of its file: what it does not touch is still analysed.

docs/manifest.md ("A manifest with schema errors") is the contract: an
unknown key is ignored, an entry with any other error is left out with what
refers to it, an error in the head leaves the file out. The property at the
end breaks each entry of each example in turn and checks that the other
rules then report exactly what they report on the examples without that
entry and what depends on it: nothing is guessed from a broken entry.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, TODAY, Run, Write, line_of

MISSPELT_KEY = """
    loopscan: 1
    pipeline: support-assistant
    owner: [maria.chen, jonas.berg]
    datasets:
      customer-messages: {uri: "s3://acme-support/messages/", provenance: human}
      raw-replies:
        uri: s3://acme-support/replies/raw/
        provenence: ai
      transcripts: {uri: "s3://acme-support/transcripts/", provenance: mixed}
      anchor-v3: {uri: "s3://acme-anchor/support/v3/", provenance: human, frozen: true}
    models:
      support-llm: {uri: "models:/support-llm"}
    steps:
      serve:
        kind: generate
        inputs: [support-llm, customer-messages]
        outputs: [raw-replies]
      review:
        kind: gate
        method: human-review
        inputs: [raw-replies]
        outputs: [transcript]
      finetune:
        kind: train
        inputs: [transcripts, anchor-v3]
        outputs: [support-llm]
        mixing: {max_synthetic: 0.2, anchor: anchor-v3, log: "mlflow://support/mix"}
    overrides:
      - rule: LS206
        target: finetune
        reason: Ratio logging moves to the new tracker, tracked in OPS-1234.
        approved_by: maria.chen
        approved: 2026-09-01
        expires: 2026-10-31
    """
"""One misspelt key, two owners, an unknown output, an unmonitored model and an expired override."""


def position(path: Path, needle: str) -> tuple[int, int]:
    """The 1-based line and column where ``needle`` first starts in ``path``."""
    line = line_of(path, needle)
    return line, path.read_text(encoding="utf-8").splitlines()[line - 1].index(needle) + 1


def check(run: Run, *paths: str) -> list[dict[str, Any]]:
    result = run("check", *(paths or (".",)), "-f", "json", "--today", TODAY)
    assert result.code == 1, result.err
    findings: list[dict[str, Any]] = result.json()["findings"]
    return findings


def found(findings: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    return [(f["rule"], f["line"], f["column"]) for f in findings]


def test_one_misspelt_key_hides_none_of_the_other_findings(project: Write, run: Run) -> None:
    path = project("support.yaml", MISSPELT_KEY)
    findings = check(run)
    assert found(findings) == [
        ("LS601", 3, 8),    # two owners
        ("LS101", 6, 3),    # the misspelt provenance is ignored, so the dataset is untagged
        ("LS002", 8, 5),    # the misspelt key itself
        ("LS401", 12, 3),   # the model that feeds 'serve' is not monitored
        ("LS502", 12, 3),
        ("LS004", 22, 15),  # 'transcript' names nothing
        ("LS603", 34, 14),  # the override expired
    ]
    assert line_of(path, "provenence") == 8 and line_of(path, "[transcript]") == 22
    messages = {f["rule"]: f["message"] for f in findings}
    assert messages["LS002"] == "unknown field 'provenence' (did you mean 'provenance'?) in datasets.raw-replies"
    assert messages["LS004"] == ("'transcript' names no dataset or model of pipeline 'support-assistant' "
                                 "(did you mean 'transcripts'?)")
    assert messages["LS101"].startswith("dataset 'raw-replies' has no provenance tag")


def test_the_findings_beside_an_unknown_key_are_those_of_the_file_without_it(project: Write, run: Run) -> None:
    project("support.yaml", MISSPELT_KEY)
    with_key = check(run)
    # The same file with the misspelt line made a comment: every other line stays where it was.
    project("support.yaml", MISSPELT_KEY.replace("provenence: ai", "# removed"))
    without_key = check(run)
    assert [f for f in with_key if f["rule"] != "LS002"] == without_key


def test_an_invalid_provenance_is_neither_human_nor_untagged(project: Write, run: Run) -> None:
    """The anchor is left out with the step that names it: no LS204 (no anchor), no LS203 (shares), no LS101."""
    path = project("tune.yaml", """
        loopscan: 1
        pipeline: tune
        owner: ana
        datasets:
          drafts: {uri: "s3://tune/drafts/", provenance: ai}
          anchor: {uri: "s3://tune/anchor/", provenance: humn, frozen: true}
        models:
          m: {uri: "models:/m"}
        steps:
          train:
            kind: train
            inputs: [{ref: drafts, share: 0.1}, {ref: anchor, share: 0.9}]
            outputs: [m]
            mixing: {max_synthetic: 0.2, anchor: anchor, log: runs}
        """)
    [finding] = check(run)
    assert (finding["rule"], finding["line"], finding["column"]) == ("LS002", *position(path, "humn"))
    assert finding["message"] == (
        "datasets.anchor.provenance: 'humn' is not one of: human, ai, mixed, unknown; dataset 'anchor' is left "
        "out of the analysis, and with it step 'train', which depends on it")
    result = run("graph", ".", "-f", "mermaid")
    assert result.code == 1
    assert "anchor" not in result.out and "train" not in result.out and "drafts" in result.out


def test_a_broken_step_on_a_loop_takes_its_loops_entry_and_override_with_it(project: Write, run: Run) -> None:
    """No LS004 for the names of the left-out step, no LS304 for a loops entry whose loop is now cut,
    no LS605 for the override of a finding that can no longer be made."""
    project("echo.yaml", """
        loopscan: 1
        pipeline: echo
        owner: ana
        datasets:
          said: {uri: "s3://echo/said/", provenance: ai}
        models:
          parrot: {uri: "models:/parrot"}
        steps:
          speak: {kind: generate, inputs: [parrot], outputs: [said]}
          learn: {kind: train, inputs: [said], outputs: [parrot], mixing: {max_synthetic: 2}}
        loops:
          echo-loop: {through: [speak, learn], why: It learns from what it said.}
        overrides:
          - {rule: LS201, target: learn, reason: tracked in OPS-1, approved_by: ana, approved: 2026-11-01,
             expires: 2026-12-01}
          - {rule: LS303, target: echo-loop, reason: tracked in OPS-2, approved_by: ana, approved: 2026-11-01,
             expires: 2026-12-01}
        """)
    findings = check(run)
    assert [f["rule"] for f in findings] == ["LS401", "LS502", "LS002"]
    assert findings[-1]["message"] == (
        "steps.learn.mixing.max_synthetic: 2 is greater than the maximum of 1; step 'learn' is left out of the "
        "analysis, and with it loop 'echo-loop', the override of LS201 for 'learn' and the override of LS303 "
        "for 'echo-loop', which depend on it")
    assert "feeds generate step 'speak'" in findings[0]["message"]  # no longer on a loop: 'learn' is left out


def test_an_entry_left_out_in_one_manifest_takes_what_refers_to_it_in_another(project: Write, run: Run) -> None:
    project("serve.yaml", """
        loopscan: 1
        pipeline: serve
        owner: ana
        datasets:
          said: {uri: "s3://echo/said/", provenance: ai, retention: forever}
        steps:
          speak: {kind: generate, outputs: [said]}
        """)
    project("train.yaml", """
        loopscan: 1
        pipeline: train
        owner: ben
        models:
          parrot: {uri: "models:/parrot"}
        steps:
          learn: {kind: train, inputs: ["s3://echo/said/"], outputs: [parrot]}
        loops:
          echo-loop: {through: ["serve:speak", learn]}
        """)
    findings = check(run)
    assert [(f["rule"], f["file"]) for f in findings] == [("LS002", "serve.yaml")]
    assert findings[0]["message"].endswith(
        "dataset 'said' is left out of the analysis, and with it steps 'speak' and 'train:learn' and "
        "loop 'train:echo-loop', which depend on it")


def test_a_broken_override_leaves_the_others_at_their_own_lines(project: Write, run: Run) -> None:
    path = project("echo.yaml", """
        loopscan: 1
        pipeline: echo
        owner: ana
        overrides:
          - {rule: LS601, target: echo, reason: r, approved_by: ana, approved: 2026-11-01, expires: soon}
          - {rule: LS601, target: echo, reason: r, approved_by: ana, approved: 2026-01-01, expires: 2026-02-01}
        """)
    findings = check(run)
    assert found(findings) == [("LS002", *position(path, "soon")), ("LS603", *position(path, "2026-02-01"))]
    assert findings[0]["message"].endswith("this override is left out of the analysis")
    result = run("overrides", ".", "-f", "json", "--today", TODAY)
    assert result.code == 1
    assert [(o["line"], o["status"]) for o in json.loads(result.out)["overrides"]] == [
        (line_of(path, "2026-02-01"), "expired")]


@pytest.mark.parametrize(("head", "message"), [
    ("loopscan: 2\npipeline: p\nowner: ana\n", "loopscan: must be 1, not 2"),
    ("loopscan: 1\nowner: ana\n", "manifest: 'pipeline' is a required property"),
    ("loopscan: 1\npipeline: p\nowner: 7\n", "owner: must be a string, not a number"),
    ("loopscan: 1\npipeline: p\nowner: ana\nmodels: [m]\n", "models: must be a mapping, not a list"),
])
def test_an_error_in_the_head_leaves_the_whole_file_out(project: Write, run: Run, head: str, message: str) -> None:
    project("p.yaml", head + "steps:\n  s: {kind: train, inputs: [nothing], colour: red}\n")
    result = run("check", ".", "-f", "json", "--today", TODAY)
    report = result.json()
    rules = [f["rule"] for f in report["findings"]]
    assert set(rules) == {"LS002"} and report["summary"]["pipelines"] == 0  # no LS004 for 'nothing'
    assert f"{message}; the file is left out of the analysis until this is fixed" in [
        f["message"] for f in report["findings"]]


def test_review_commands_use_a_partly_usable_file_and_say_so(project: Write, run: Run) -> None:
    path = project("echo.yaml", """
        loopscan: 1
        pipeline: echo
        owner: ana
        datasets:
          said: {uri: "s3://echo/said/", provenance: ai, colour: red}
        models:
          parrot: {uri: "models:/parrot"}
        steps:
          speak: {kind: generate, inputs: [parrot], outputs: [said]}
          learn: {kind: train, inputs: [said], outputs: [parrot]}
        """)
    line, column = position(path, "colour")
    note = (f"loopscan: echo.yaml:{line}:{column}: LS002 unknown field 'colour' in datasets.said; the rest of the "
            "file is used ('loopscan check' lists every problem)\n")
    loops = run("loops", ".", "-f", "json")
    assert (loops.code, loops.err) == (1, note)
    assert [loop["generate"] for loop in json.loads(loops.out)["loops"]] == ["echo:speak"]
    graph = run("graph", ".", "-f", "mermaid")
    assert (graph.code, graph.err) == (1, note)
    assert "said" in graph.out
    overrides = run("overrides", ".", "--today", TODAY)
    assert (overrides.code, overrides.err) == (1, note)


# The property: the analysis of a broken manifest is that of what it leaves usable ----------------------

BREAKS = {
    "datasets": ("provenance", "reviewed"),
    "models": ("frozen", "yes"),
    "steps": ("kind", "deploy"),
    "loops": ("through", []),
    "overrides": ("expires", "2026-13-01"),
}
"""For each block, a field and a value that breaks an entry of it."""

Project = dict[str, dict[str, Any]]
"""File name -> manifest data."""


def example_projects() -> list[tuple[str, Project]]:
    """Each example on its own, and each folder of examples that link to each other as one project."""
    def read(paths: list[Path]) -> Project:
        return {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in paths}

    alone = [(path.name, read([path])) for path in sorted(EXAMPLES.glob("*.yaml"))]
    linked = [(folder.name, read(sorted(folder.glob("*.yaml"))))
              for folder in sorted(EXAMPLES.iterdir()) if folder.is_dir() and any(folder.glob("*.yaml"))]
    return alone + linked


def entries(data: dict[str, Any]) -> Iterator[tuple[str, str | int]]:
    for block in BREAKS:
        items = data.get(block) or {}
        yield from ((block, key) for key in (range(len(items)) if isinstance(items, list) else items))


def refs_of(block: str, spec: dict[str, Any]) -> list[tuple[str, str]]:
    """What an entry refers to, as (text, group); written from docs/manifest.md, not from the loader."""
    def texts(items: Any, group: str) -> list[tuple[str, str]]:
        return [(item["ref"] if isinstance(item, dict) else item, group) for item in items or ()]

    if block == "models":
        return texts([(spec.get("monitoring") or {}).get("eval_set")] if (spec.get("monitoring") or {}).get(
            "eval_set") else [], "artifact")
    if block == "steps":
        anchor = (spec.get("mixing") or {}).get("anchor")
        source = [(spec["source"], "uri")] if ":" in str(spec.get("source", "")) else []
        return texts([*spec.get("inputs", ()), *spec.get("outputs", ()), *([anchor] if anchor else [])],
                     "artifact") + source
    if block == "loops":
        return texts([*spec.get("through", ()), *spec.get("safeguards", ())], "step")
    if block == "overrides":
        return [(spec["target"], "target")]
    return []


GROUPS = {"datasets": "artifact", "models": "artifact", "steps": "step", "loops": "loop"}

Place = tuple[str, str, str | int]
"""An entry of a project: its file, block and key."""


def names_of(project: Project, places: set[Place]) -> set[tuple[str, str]]:
    """How entries can be referred to: ``file/id`` and ``pipeline:id``, an artifact's URI, a loop's name."""
    named = set()
    for f, b, k in places:
        if b in ("datasets", "models", "steps"):
            named |= {(GROUPS[b], f"{f}/{k}"), (GROUPS[b], f"{project[f]['pipeline']}:{k}")}
            spec = project[f][b][k]
            if isinstance(spec, dict) and spec.get("uri"):
                named.add(("uri", spec["uri"]))
        elif b == "loops":
            named.add(("loop", str(k)))
    return named


def refers_to_lost(project: Project, used: set[tuple[str, str]], lost: set[tuple[str, str]],
                   f: str, text: str, kind: str) -> bool:
    """Whether ``text``, written in file ``f`` where a ``kind`` is expected, names something lost."""
    if kind == "target" and (text in {data["pipeline"] for data in project.values()} or ("loop", text) in used):
        return False
    kinds = ("artifact", "step") if kind == "target" else (kind,)
    if ":" in text:
        return any((k, text) in lost for k in kinds) or (kind != "step" and ("uri", text) in lost)
    local = {(k, f"{f}/{text}") for k in kinds}
    return not (local & used) and bool(local & lost or (kind == "target" and ("loop", text) in lost))


def left_out_with(project: Project, broken: Place) -> set[Place]:
    """The broken entry and everything that refers to it, directly or not."""
    gone = {broken}
    every = {(f, b, k) for f, data in project.items() for b, k in entries(data)}
    while True:
        kept = every - gone
        used = names_of(project, kept)
        lost = names_of(project, gone) - used
        more = {(f, b, k) for f, b, k in kept if any(refers_to_lost(project, used, lost, f, text, kind)
                                                     for text, kind in refs_of(b, project[f][b][k]))}
        if not more:
            return gone
        gone |= more


def without(project: Project, gone: set[Place]) -> Project:
    cleaned = json.loads(json.dumps(project, default=str))
    for f, b, k in sorted(gone, key=str, reverse=True):
        items = cleaned[f][b]
        if isinstance(items, list):
            items[k] = None
        else:
            del items[k]
    for data in cleaned.values():
        if isinstance(data.get("overrides"), list):
            data["overrides"] = [item for item in data["overrides"] if item is not None]
    return cleaned


def analysed(run: Run, folder: Path, project: Project) -> list[dict[str, Any]]:
    for old in folder.glob("*.yaml"):
        old.unlink()
    for name, data in project.items():
        (folder / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = run("check", ".", "-f", "json", "--today", TODAY)
    assert result.code in (0, 1), result.err
    findings: list[dict[str, Any]] = result.json()["findings"]
    return findings


def comparable(findings: list[dict[str, Any]]) -> Counter[tuple[str, str, str | None, str]]:
    """Findings without their lines, which differ once entries are removed from the file."""
    return Counter((f["file"], f["rule"], f["node"], re.sub(r"\.yaml:\d+(:\d+)?", ".yaml", f["message"]))
                   for f in findings if f["rule"] != "LS002")


@pytest.mark.parametrize(("name", "example"), example_projects(), ids=lambda value: value if isinstance(value, str)
                         else "")
def test_breaking_any_entry_leaves_the_analysis_of_the_rest_unchanged(
    project: Write, run: Run, tmp_path: Path, name: str, example: Project
) -> None:
    broken_entries = 0
    for file, data in example.items():
        for block, key in entries(data):
            field, value = BREAKS[block]
            mutant = json.loads(json.dumps(example, default=str))
            mutant[file][block][key][field] = value
            gone = left_out_with(example, (file, block, key))
            findings = analysed(run, tmp_path, mutant)
            expected = analysed(run, tmp_path, without(example, gone))
            case = f"{file}: {block}.{key}.{field} = {value!r}"
            assert comparable(findings) == comparable(expected), case
            [schema_error] = [f for f in findings if f["rule"] == "LS002"]
            for f, b, k in gone - {(file, block, key)}:
                if b != "overrides":
                    shown = k if f == file else f"{example[f]['pipeline']}:{k}"
                    assert f"'{shown}'" in schema_error["message"], (case, schema_error["message"])
            overrides = sum(1 for _, b, _ in gone - {(file, block, key)} if b == "overrides")
            assert schema_error["message"].count("override of") == overrides, (case, schema_error["message"])
            broken_entries += 1
    assert broken_entries > 0
