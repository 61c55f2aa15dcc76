"""Never a traceback: generated and mutated files through every command and every output format.

For any file content a user can write, a scan ends with findings (or a clear
one-line error) and its outputs still parse as their formats. Cases in CI:

=============================================================  =====
generated manifests (Hypothesis: 1-3 linked manifests, values    600
  right and wrong, shared mappings as aliases, then mutated)
arbitrary text, bytes and YAML-like token soup (Hypothesis)     1,700
mutated examples (seeded: 300 mutants of each of the 9 files    2,700
  in examples/pipelines: line deletion and duplication, indent
  changes, byte flips, removed colons, swapped lines,
  truncation, inserted YAML syntax; 1-4 edits each)
mutated examples through the real CLI: check, loops,              60
  overrides and graph on each
loopscan.yaml configs through the real CLI (Hypothesis)           150
rule ids and names to explain (Hypothesis)                        100
-------------------------------------------------------------  -----
total                                                           5,310
=============================================================  =====

The bulk runs the engine in this process (discover, load, link, rules,
overrides: what ``loopscan.cli.main`` runs, without paying for Typer's set-up
on every case), then renders and parses text and GitHub annotations for every
case, and one more output in turn (JSON, SARIF, JUnit, the loops and overrides
tables and JSON, the graph as DOT and Mermaid). The CLI tests run ``main``
itself and check exit codes and that every stderr line is a clear one.

``FUZZ_SCALE=10 pytest tests/test_fuzz.py`` runs ten times as many cases, and
lets Hypothesis explore new inputs on every run (CI's are derandomized).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopscan.analysis.diagram import build_diagram
from loopscan.cli import main
from loopscan.config import Config
from loopscan.linter import Report, analyse
from loopscan.linter import report as make_report
from loopscan.overrides import review
from loopscan.project import Project
from loopscan.registry import all_rules
from loopscan.render import dot, github, junit, markdown, mermaid, sarif
from loopscan.render import json as json_format
from loopscan.render import loops as loops_format
from loopscan.render import overrides as overrides_format
from loopscan.render import text as text_format
from loopscan.sources.discover import discover
from tests.conftest import EXAMPLES, TODAY

SCALE = int(os.environ.get("FUZZ_SCALE", "1"))
EXPLORE = SCALE > 1
"""Locally, a larger scale also lets Hypothesis pick new inputs each run (CI's are fixed: derandomized)."""

GENERATED_MANIFESTS = 600 * SCALE
ARBITRARY_TEXTS = 1700 * SCALE
MUTANTS_PER_EXAMPLE = 300 * SCALE
CLI_MUTANTS = 60 * SCALE
CONFIGS = 150 * SCALE
RULE_IDS = 100 * SCALE

EXAMPLE_FILES = sorted(EXAMPLES.rglob("*.yaml"))
RULES = all_rules()
TODAY_DATE = date.fromisoformat(TODAY)


def fuzz_settings(examples: int) -> Callable[[Any], Any]:
    return settings(max_examples=examples, deadline=None, derandomize=not EXPLORE, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])


# Checking every output of a scan ---------------------------------------------------------------

UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
FINDING_LINE = re.compile(r"^\S.*?:\d+:\d+: [A-Z]+\d+ \[(error|warning|info)\] ")
TEXT_LINE = re.compile(r"^(    cycle:( as above)?|      -> .*|(Found|No findings) .*\.|)$")
GITHUB_LINE = re.compile(r"^::(error|warning|notice) file=[^,:\r\n]*,line=\d+,col=\d+,title=[^,:\r\n]*::[^\r\n]*$")
MARKDOWN_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")


def scan(folder: Path) -> tuple[Report, Project]:
    """What ``loopscan check FOLDER`` computes, in this process, and the project the other commands read."""
    config = Config(root=folder)
    project = analyse(discover([str(folder)]), config, TODAY_DATE)
    return make_report(project, RULES, config), project


def in_force(report: Report) -> int:
    return sum(1 for finding in report.findings if finding.suppressed is None)


def check_text(report: Report, project: Project) -> None:
    """One line per finding in force, witness lines, a summary; no control character; colour only added."""
    text = text_format.render(report)
    assert UNPRINTABLE.search(text) is None, repr(UNPRINTABLE.search(text))
    lines = text.splitlines()
    assert sum(1 for line in lines if FINDING_LINE.match(line)) == in_force(report)
    assert all(FINDING_LINE.match(line) or TEXT_LINE.match(line) for line in lines), text
    assert text_format.render(report, color=True).count("\x1b[0m") >= in_force(report)


def check_github(report: Report, project: Project) -> None:
    annotations = github.render(report).splitlines()
    assert len(annotations) == in_force(report)
    assert all(GITHUB_LINE.match(line) for line in annotations), annotations


def check_markdown(report: Report, project: Project) -> None:
    """One table row of exactly four cells per finding in force, and no HTML (no case comes near 1 MiB)."""
    text = markdown.render(report)
    rows = [line for line in text.splitlines()[6:] if line.startswith("|")]
    assert len(rows) == in_force(report)
    assert all(len(MARKDOWN_CELL_SEPARATOR.split(row)) == 6 for row in rows), rows
    assert "<" not in text and UNPRINTABLE.search(text) is None


def check_json(report: Report, project: Project) -> None:
    assert len(json.loads(json_format.render(report))["findings"]) == len(report.findings)


def check_sarif(report: Report, project: Project) -> None:
    # Only the rules that found something are described (as with --select): the other descriptors do
    # not depend on the input, and dumping every rule's docs would dominate the case.
    found = {finding.rule for finding in report.findings}
    document = json.loads(sarif.render(replace(report, rules=[r for r in report.rules if r.id in found])))
    assert len(document["runs"][0]["results"]) == len(report.findings)


def check_junit(report: Report, project: Project) -> None:
    assert len(list(ET.fromstring(junit.render(report)).iter("failure"))) == in_force(report)


def check_loops(report: Report, project: Project) -> None:
    loops_format.render_table(report.loops)
    assert len(json.loads(loops_format.render_json(report.loops))["loops"]) == len(report.loops)


def check_overrides(report: Report, project: Project) -> None:
    reviews = review(project)
    overrides_format.render_table(reviews, project.today)
    json.loads(overrides_format.render_json(reviews, project.today))


def check_graph(report: Report, project: Project) -> None:
    diagram = build_diagram(project)
    assert dot.render(diagram).startswith("digraph")
    assert "\nflowchart " in mermaid.render(diagram)


ROTATING = (check_json, check_sarif, check_junit, check_loops, check_overrides, check_graph)


def check_outputs(scanned: tuple[Report, Project], rotation: int | None = None) -> None:
    """Text, GitHub annotations and Markdown always; the other outputs all, or the one ``rotation`` picks.

    Text, GitHub and Markdown are where an escaping slip turns into an injection; the others are rotated
    over the cases, so that each still sees a sixth of thousands of inputs.
    """
    report, project = scanned
    check_text(report, project)
    check_github(report, project)
    check_markdown(report, project)
    for check in ROTATING if rotation is None else [ROTATING[rotation % len(ROTATING)]]:
        check(report, project)


def scan_files(folder: Path, files: dict[str, bytes], rotation: int | None = None) -> None:
    """Write ``files`` into an empty ``folder``, scan it, and check its outputs (see :func:`check_outputs`)."""
    for old in folder.iterdir():
        old.unlink()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    check_outputs(scan(folder), rotation)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder reused by every case of a test (Hypothesis runs many cases per test call)."""
    return tmp_path_factory.mktemp("fuzz")


# Mutations -------------------------------------------------------------------------------------

FRAGMENTS = (
    "&anchor", "*anchor", "<<: *anchor", "? ", "- ", "{", "}", "[", "]", ": ", "#", "'", '"', "\t", "---", "...",
    "!!python/object/apply:os.system ['true']", "!!binary aGk=", "!!set {a}", "!!omap [a: 1]", "!include x",
    "%YAML 1.1", "|-", ">", "loopscan: 1", "pipeline: p0", "kind: generate", "inputs: [a, b]", "outputs: [a]",
    "steps:", "datasets:", "overrides:", "- {rule: LS301, target: a}", "1e400", ".nan", "0x" + "f" * 40, "~",
    "\u202e", "\x00", "\xff", "\ufeff", "\u2028", "\r",
)


def mutate(data: bytes, operations: list[tuple[int, int, int]]) -> bytes:
    """Apply each (operation, where, what) to ``data``: edits a person or a half-written save could make."""
    for operation, where, what in operations:
        lines = data.split(b"\n")
        line = where % len(lines)
        if operation == 0:  # delete a line
            del lines[line]
        elif operation == 1:  # duplicate a line
            lines.insert(line, lines[line])
        elif operation == 2:  # indent a line more
            lines[line] = b" " * (1 + what % 4) + lines[line]
        elif operation == 3:  # indent a line less
            lines[line] = lines[line][1 + what % 4:] if lines[line].startswith(b" ") else lines[line]
        elif operation == 4:  # remove a colon
            cut = lines[line].find(b":")
            lines[line] = lines[line][:cut] + lines[line][cut + 1:] if cut >= 0 else lines[line]
        elif operation == 5:  # flip one bit of one byte
            flipped = bytearray(data or b"\n")
            flipped[where % len(flipped)] ^= 1 << (what % 8)
            data = bytes(flipped)
            continue
        elif operation == 6:  # swap two lines
            other = what % len(lines)
            lines[line], lines[other] = lines[other], lines[line]
        elif operation == 7:  # a half-written file
            data = data[: where % (len(data) + 1)]
            continue
        else:  # insert YAML syntax
            text = FRAGMENTS[what % len(FRAGMENTS)].encode("utf-8", "surrogatepass")
            at = where % (len(lines[line]) + 1)
            lines[line] = lines[line][:at] + text + lines[line][at:]
        data = b"\n".join(lines)
    return data


OPERATIONS = 9


def random_operations(rng: random.Random) -> list[tuple[int, int, int]]:
    return [(rng.randrange(OPERATIONS), rng.randrange(1 << 20), rng.randrange(256))
            for _ in range(rng.randint(1, 4))]


operations = st.lists(st.tuples(st.integers(0, OPERATIONS - 1), st.integers(0, 1 << 20), st.integers(0, 255)),
                      max_size=4)


# Generated manifests -----------------------------------------------------------------------------

IDS = ("a", "b", "c", "gen", "train", "x.y_z-1")
PIPELINES = ("p0", "p1", "p2")
URIS = ("s3://lake/a/", "s3://lake/a/b.json", "s3://lake/*/gen/**", "s3://lake/a/?", "s3://lake/", "models:/m",
        "gs://other/x", "s3://lake/a/**", "s3://lake/[a-c]/*", "s3://lake/[!a]/", "s3://lake/[z-a]", "s3://[")
"""URI shapes: prefixes, files inside them, globs (bracket expressions, odd ones too)."""
DATES = ("2026-11-01", "2026-12-31", "2025-01-01", "9999-12-31", "0001-01-01", "2026-02-30", "2026-13-01", "soon")
RULE_NAMES = ("LS101", "LS104", "LS301", "LS302", "LS303", "LS305", "LS601", "LS605", "LS999", "ls301")

junk = st.sampled_from([
    None, True, False, 0, -1, 2**63, 2**65, 1.5, -0.0, float("nan"), float("inf"), "", "x", "2026-11-01",
    "s3://lake/", "p1:a", [], [None], [1, "a"], {}, {"a": 1}, {"ref": 1}, [[["deep"]]],
])
"""Values of every YAML type, most of them wrong wherever they land (cheaper to draw than random trees)."""


def mostly(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a value the schema accepts; sometimes any value at all."""
    return st.one_of(good, good, good, junk)


ident = st.sampled_from(IDS)
fraction = st.one_of(st.floats(0, 1), st.sampled_from([0, 1, 0.3, 1.5, -0.1, float("nan"), float("inf")]))
reference = st.one_of(
    ident, st.sampled_from(URIS), st.builds(lambda p, i: f"{p}:{i}", st.sampled_from(PIPELINES), ident),
    st.fixed_dictionaries({"ref": st.one_of(ident, st.sampled_from(URIS))}, optional={"share": mostly(fraction)}),
)
references = st.lists(mostly(reference), max_size=3)
words = st.text(max_size=12)

dataset = st.fixed_dictionaries({}, optional={
    "uri": mostly(st.sampled_from(URIS)),
    "provenance": mostly(st.sampled_from(["human", "ai", "mixed", "unknown"])),
    "frozen": mostly(st.booleans()),
    "retention": mostly(st.sampled_from(["accumulate", "replace"])),
    "synthetic_fraction": mostly(fraction),
    "description": words,
})
model = st.fixed_dictionaries({}, optional={
    "uri": mostly(st.sampled_from(URIS)),
    "frozen": mostly(st.booleans()),
    "monitoring": mostly(st.fixed_dictionaries({}, optional={
        "metrics": st.lists(st.sampled_from(["distinct-2", "perplexity", "x"]), max_size=2),
        "eval_set": mostly(reference),
        "alert": mostly(st.fixed_dictionaries({"metric": st.sampled_from(["distinct-2", "y"]),
                                               "max_drop": mostly(fraction)})),
        "compare_to": mostly(st.sampled_from(["previous", "baseline"])),
    })),
    "rollback": mostly(st.fixed_dictionaries({}, optional={
        "checkpoint": words, "last_drill": mostly(st.sampled_from(DATES))})),
})
step = st.fixed_dictionaries({"kind": mostly(st.sampled_from(
    ["ingest", "transform", "gate", "train", "generate", "evaluate"]))}, optional={
    "inputs": references,
    "outputs": references,
    "owner": mostly(st.sampled_from(["ana", "ana, bo", "ana and bo"])),
    "method": mostly(st.sampled_from(["human-review", "classifier", "score-filter", "dedup", "other"])),
    "source": words,
    "classifier": words,
    "mixing": mostly(st.fixed_dictionaries({}, optional={
        "max_synthetic": mostly(fraction), "anchor": mostly(reference), "log": words})),
})
loop_entry = st.fixed_dictionaries({"through": mostly(st.lists(ident, min_size=1, max_size=3))},
                                   optional={"why": words, "safeguards": st.lists(ident, max_size=2)})
override = st.fixed_dictionaries({"rule": mostly(st.sampled_from(RULE_NAMES)), "target": mostly(reference)}, optional={
    "reason": words, "approved_by": words,
    "approved": mostly(st.sampled_from(DATES)), "expires": mostly(st.sampled_from(DATES)),
})


@st.composite
def manifest(draw: st.DrawFn, pipeline: str) -> dict[str, Any]:
    document: dict[str, Any] = {"loopscan": draw(mostly(st.just(1))), "pipeline": draw(mostly(st.just(pipeline)))}
    if draw(st.booleans()):
        document["owner"] = draw(mostly(st.sampled_from(["ana", "ana, bo", ["ana"]])))
    sections = {"datasets": dataset, "models": model, "steps": step, "loops": loop_entry}
    for section, strategy in sections.items():
        if draw(st.booleans()):
            entries = draw(st.dictionaries(ident, strategy, max_size=4))
            if entries and draw(st.booleans()):
                # Share one mapping between entries: the YAML then holds an anchor and aliases.
                shared = next(iter(entries.values()))
                entries = {key: shared for key in entries}
            document[section] = entries
    if draw(st.booleans()):
        document["overrides"] = draw(st.lists(override, max_size=3))
    return document


@st.composite
def projects(draw: st.DrawFn) -> dict[str, bytes]:
    """One to three manifests that share ids and URIs (so they link and loop), one of them mutated."""
    count = draw(st.integers(1, 3))
    files = {}
    for index in range(count):
        document = draw(manifest(PIPELINES[index]))
        flow = draw(st.sampled_from([False, None]))
        files[f"{PIPELINES[index]}.yaml"] = yaml.safe_dump(document, sort_keys=False, default_flow_style=flow,
                                                           allow_unicode=draw(st.booleans())).encode()
    victim = f"{PIPELINES[draw(st.integers(0, count - 1))]}.yaml"
    files[victim] = mutate(files[victim], draw(operations))
    return files


rotation = st.integers(0, len(ROTATING) - 1)


@fuzz_settings(GENERATED_MANIFESTS)
@given(files=projects(), rotation=rotation)
def test_generated_manifests_never_crash_any_command_or_format(workspace: Path, files: dict[str, bytes],
                                                               rotation: int) -> None:
    scan_files(workspace, files, rotation)


yamlish = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6) | st.sampled_from(["\n", "\n  ", "\n- "]),
                   max_size=30).map("".join)


@fuzz_settings(ARBITRARY_TEXTS)
@given(content=st.one_of(
    st.binary(max_size=400),
    st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
    yamlish.map(lambda text: ("loopscan: 1\npipeline: p0\n" + text).encode("utf-8", "surrogatepass")),
    yamlish.map(lambda text: text.encode("utf-8", "surrogatepass")),
), rotation=rotation)
def test_arbitrary_text_and_bytes_never_crash_any_command_or_format(workspace: Path, content: bytes,
                                                                    rotation: int) -> None:
    scan_files(workspace, {"m.yaml": content}, rotation)


# Mutated examples ---------------------------------------------------------------------------------


def siblings(example: Path) -> dict[str, bytes]:
    """The manifests next to ``example`` (linked across files, as in the marketplace example)."""
    return {path.name: path.read_bytes() for path in sorted(example.parent.glob("*.yaml")) if path != example}


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=[str(p.relative_to(EXAMPLES)) for p in EXAMPLE_FILES])
def test_mutated_examples_never_crash_any_command_or_format(workspace: Path, example: Path) -> None:
    rng = random.Random(f"mutants of {example.relative_to(EXAMPLES)}")
    original, others = example.read_bytes(), siblings(example)
    for case in range(MUTANTS_PER_EXAMPLE):
        operations_done = random_operations(rng)
        mutant = mutate(original, operations_done)
        try:
            scan_files(workspace, {**others, example.name: mutant}, rotation=case)
        except Exception as failure:
            raise AssertionError(f"case {case} of {example.name}: mutate(original, {operations_done}) "
                                 f"gives {mutant!r}") from failure


# The real command line -----------------------------------------------------------------------------


def cli(*args: str) -> tuple[int, str, str]:
    """``loopscan ARGS`` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exited:
            code = exited.code
        else:  # pragma: no cover - main always exits
            code = 0
    return (code if isinstance(code, int) else 0), out.getvalue(), err.getvalue()


def assert_clean_end(code: int, out: str, err: str, allowed: tuple[int, ...] = (0, 1)) -> None:
    """An expected exit code, no traceback, and every stderr line a clear loopscan line."""
    assert code in allowed, (code, err)
    assert "Traceback" not in err and "internal error" not in err, err
    assert all(line.startswith(("loopscan: ", "passed over ")) for line in err.splitlines()), err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("loopscan: error: "), err
        assert out == ""


CLI_COMMANDS = [
    ["check", ".", "-f", "{format}", "--today", TODAY, "-v"],
    ["loops", ".", "-f", "{table}"],
    ["overrides", ".", "-f", "{table}", "--today", TODAY],
    ["graph", ".", "-f", "{diagram}"],
]


def test_every_command_ends_with_0_or_1_and_clear_lines_on_mutated_examples(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workspace)
    rng = random.Random("mutants for the command line")
    formats = ["text", "json", "sarif", "junit", "github", "markdown"]
    for case in range(CLI_MUTANTS):
        example = EXAMPLE_FILES[case % len(EXAMPLE_FILES)]
        mutant = mutate(example.read_bytes(), random_operations(rng))
        for old in workspace.iterdir():
            old.unlink()
        for name, content in {**siblings(example), example.name: mutant}.items():
            (workspace / name).write_bytes(content)
        for command in CLI_COMMANDS:
            args = [part.format(format=formats[case % len(formats)], table=("text", "json")[case % 2],
                                diagram=("dot", "mermaid")[case % 2]) for part in command]
            code, out, err = cli(*args)
            assert_clean_end(code, out, err)
            assert out or "github" in args, (args, err)  # annotations are the one output that may be empty


config_values = st.one_of(
    junk,
    st.fixed_dictionaries({}, optional={
        "paths": mostly(st.lists(st.sampled_from([".", "pipelines", "missing", "pipelines/web-crawl.yaml"]),
                                 max_size=2)),
        "exclude": mostly(st.lists(st.sampled_from(["**/x/**", "*.yaml", "a?", "**", "[!a]*"]), max_size=2)),
        "policy": mostly(st.fixed_dictionaries({}, optional={
            "max_synthetic": mostly(fraction),
            "gate_methods": mostly(st.lists(st.sampled_from(["dedup", "classifier", "nope"]), max_size=2)),
            "drill_every_days": mostly(st.integers(-5, 10**6)),
            "override_max_days": mostly(st.integers(-5, 10**6)),
        })),
        "severity": mostly(st.dictionaries(st.sampled_from(RULE_NAMES), st.sampled_from(["error", "info", "x"]),
                                           max_size=2)),
        "ignore": mostly(st.lists(st.sampled_from(RULE_NAMES), max_size=2)),
        "rules_dirs": mostly(st.lists(st.sampled_from(["rules", "missing"]), max_size=1)),
    }),
)


@pytest.fixture(scope="module")
def project_with_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("configured")
    (folder / "pipelines").mkdir()
    for example in EXAMPLE_FILES[:3]:
        (folder / "pipelines" / example.name).write_bytes(example.read_bytes())
    return folder


@fuzz_settings(CONFIGS)
@given(config=st.one_of(
    config_values.map(lambda data: yaml.safe_dump(data).encode()),
    config_values.flatmap(lambda data: operations.map(lambda ops: mutate(yaml.safe_dump(data).encode(), ops))),
    st.binary(max_size=100),
    yamlish.map(lambda text: text.encode("utf-8", "surrogatepass")),
))
def test_any_loopscan_yaml_ends_the_run_with_0_1_or_2_and_clear_lines(
    project_with_config: Path, monkeypatch: pytest.MonkeyPatch, config: bytes
) -> None:
    monkeypatch.chdir(project_with_config)
    (project_with_config / "loopscan.yaml").write_bytes(config)
    code, out, err = cli("check", "-f", "json", "--today", TODAY)
    assert_clean_end(code, out, err, allowed=(0, 1, 2))
    if code != 2:
        json.loads(out)


@fuzz_settings(RULE_IDS)
@given(wanted=st.one_of(st.text(max_size=20), st.sampled_from([r.id for r in RULES] + [r.name for r in RULES])))
def test_explain_ends_with_0_or_2_and_clear_lines_for_any_text(wanted: str) -> None:
    code, out, err = cli("explain", "--", wanted)
    assert_clean_end(code, out, err, allowed=(0, 2))
    assert UNPRINTABLE.search(err) is None, repr(err)


def test_rules_lists_every_rule_once_per_line() -> None:
    code, out, err = cli("rules")
    assert_clean_end(code, out, err, allowed=(0,))
    assert len(out.splitlines()) == len(RULES) + 1

