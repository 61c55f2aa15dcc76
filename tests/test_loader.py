"""Reading files: LS001 (syntax), LS003 (duplicate keys), LS006 (unsafe YAML), and which files count.

Every finding is checked through the real CLI's JSON output, at the exact line
and column of the node a reviewer must change. Only the LS00x rules are
selected, so rules added later cannot change these results.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from loopscan.sources import yamlsource
from loopscan.sources.yamlsource import MAX_BYTES, MAX_DEPTH, MAX_NODES
from tests.conftest import Result

Run = Callable[..., Result]
Project = Callable[[str, str], Path]

GOOD = """
    loopscan: 1
    pipeline: support
    owner: maria
    datasets:
      raw-replies: {uri: "s3://acme/replies/", provenance: ai}
      transcripts: {uri: "s3://acme/transcripts/", provenance: mixed}
    steps:
      review:
        kind: gate
        method: human-review
        inputs: [raw-replies]
        outputs: [transcripts]
    """


def check(run: Run, *args: str) -> Result:
    """``loopscan check . -f json`` with only the integrity rules."""
    return run("check", ".", "-f", "json", "--select", "LS00", *args)


def findings(result: Result, rule: str | None = None) -> list[dict[str, Any]]:
    return [f for f in result.json()["findings"] if rule is None or f["rule"] == rule]


def located(result: Result, rule: str) -> list[tuple[str, int, int]]:
    """(file, line, column) of each finding of ``rule``."""
    return [(f["file"], f["line"], f["column"]) for f in findings(result, rule)]


def position(path: Path, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based line and column where the ``occurrence``-th ``needle`` starts in ``path``."""
    text = path.read_text(encoding="utf-8")
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


@pytest.fixture(params=["libyaml", "pure-python"])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test with libyaml's parser and again with PyYAML's pure-Python fallback."""
    if request.param == "libyaml":
        if not hasattr(yaml, "CSafeLoader"):
            pytest.skip("PyYAML was built without libyaml")
        monkeypatch.setattr(yamlsource, "_Loader", yaml.CSafeLoader)
    else:
        monkeypatch.setattr(yamlsource, "_Loader", yaml.SafeLoader)
    yield request.param


def test_libyaml_is_used_when_present() -> None:
    if not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML was built without libyaml")
    assert yamlsource._Loader is yaml.CSafeLoader


def test_a_valid_manifest_has_no_integrity_findings(project: Project, run: Run) -> None:
    project("support.yaml", GOOD)
    result = check(run)
    assert result.code == 0, result.out
    assert findings(result) == []
    assert result.json()["summary"]["files"] == 1


# LS001 -----------------------------------------------------------------------


def test_syntax_error_is_reported_at_its_line_and_column(project: Project, run: Run, loader: str) -> None:
    path = project("support.yaml", """
        loopscan: 1
        pipeline: support
        steps:
          review:
            kind: gate
           inputs: [raw-replies]
        """)
    result = check(run)
    assert result.code == 1
    assert located(result, "LS001") == [("support.yaml", *position(path, "inputs"))]
    assert "syntax" in findings(result, "LS001")[0]["message"]


def test_non_utf8_bytes_are_reported_at_the_offending_byte(project: Project, run: Run) -> None:
    Path("menu.yaml").write_bytes(b"loopscan: 1\npipeline: menu\ndescription: caf\xe9 au lait\n")
    result = check(run)
    assert result.code == 1
    assert located(result, "LS001") == [("menu.yaml", 3, len("description: caf") + 1)]
    message = findings(result, "LS001")[0]["message"]
    assert "UTF-8" in message and "0xe9" in message


def test_a_utf8_byte_order_mark_is_accepted(project: Project, run: Run) -> None:
    text = "loopscan: 1\npipeline: bom\nsteps:\n  a: {kind: gate}\n  a: {kind: gate}\n"
    Path("bom.yaml").write_bytes(b"\xef\xbb\xbf" + text.encode())
    result = check(run)
    assert result.code == 1
    assert located(result, "LS003") == [("bom.yaml", 5, 3)]
    assert located(result, "LS001") == []


def test_an_unreadable_file_is_reported_not_passed_over(project: Project, run: Run) -> None:
    path = project("locked.yaml", GOOD)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("this user can read a file with mode 000 (running as root)")
        result = check(run)
    finally:
        path.chmod(0o644)
    assert result.code == 1
    assert located(result, "LS001") == [("locked.yaml", 1, 1)]
    assert "cannot read" in findings(result, "LS001")[0]["message"]


def test_a_dangling_symlink_is_reported_not_passed_over(project: Project, run: Run) -> None:
    """A file that cannot be opened at all (this one works even for root)."""
    os.symlink("gone.yaml", "pipeline.yaml")
    result = check(run)
    assert result.code == 1
    assert located(result, "LS001") == [("pipeline.yaml", 1, 1)]
    assert "cannot read" in findings(result, "LS001")[0]["message"]


def test_a_manifest_file_with_two_documents_is_reported_at_the_second(project: Project, run: Run, loader: str) -> None:
    path = project("twice.yaml", """
        loopscan: 1
        pipeline: first
        ---
        loopscan: 1
        pipeline: second
        """)
    result = check(run)
    assert result.code == 1
    assert located(result, "LS001") == [("twice.yaml", *position(path, "---"))]
    assert "2" in findings(result, "LS001")[0]["message"]
    assert result.json()["summary"]["pipelines"] == 0


def test_a_broken_yaml_file_that_is_not_a_manifest_is_still_reported(project: Project, run: Run) -> None:
    path = project("values.yaml", """
        replicas: 3
        image: nginx
          tag: latest
        """)
    result = check(run)
    assert result.code == 1
    line, column = position(path, "tag: latest")
    assert located(result, "LS001") == [("values.yaml", line, column + len("tag"))]


def test_a_templated_key_is_a_file_loopscan_cannot_read(project: Project, run: Run, loader: str) -> None:
    """``{{ .Values.name }}`` is valid YAML (a mapping used as a key) but not plain data."""
    path = project("deploy/pipeline.yaml", """
        loopscan: 1
        pipeline: {{ .Values.name }}
        """)
    result = check(run)
    assert result.code == 1
    line, column = position(path, "{{")
    assert located(result, "LS001") == [("deploy/pipeline.yaml", line, column + 1)]
    assert findings(result, "LS002") == []


def test_a_broken_manifest_does_not_hide_the_others(project: Project, run: Run) -> None:
    project("a-broken.yaml", "loopscan: 1\npipeline: [\n")
    project("b-good.yaml", GOOD)
    project("c-dup.yaml", "loopscan: 1\npipeline: c\nsteps:\n  s: {kind: gate}\n  s: {kind: gate}\n")
    result = check(run)
    assert result.code == 1
    assert [f["file"] for f in findings(result)] == ["a-broken.yaml", "c-dup.yaml"]
    summary = result.json()["summary"]
    assert summary["files"] == 3
    assert summary["pipelines"] == 2


# LS003 -----------------------------------------------------------------------


def test_duplicate_step_is_reported_at_the_second_key_naming_the_first(
    project: Project, run: Run, loader: str
) -> None:
    path = project("support.yaml", """
        loopscan: 1
        pipeline: support
        datasets:
          raw: {provenance: ai}
          clean: {provenance: ai}
        steps:
          review:
            kind: gate
            method: human-review
            inputs: [raw]
            outputs: [clean]
          review:
            kind: transform
            inputs: [raw]
            outputs: [clean]
        """)
    first, second = position(path, "review:"), position(path, "review:", 2)
    result = check(run)
    assert result.code == 1
    assert located(result, "LS003") == [("support.yaml", *second)]
    message = findings(result, "LS003")[0]["message"]
    assert "'review'" in message
    assert f"line {first[0]}" in message


def test_every_repeat_of_a_key_names_its_first_line(project: Project, run: Run, loader: str) -> None:
    path = project("p.yaml", """
        loopscan: 1
        pipeline: p
        steps:
          s: {kind: gate}
          t: {kind: gate}
          s: {kind: transform}
          s: {kind: train}
        """)
    result = check(run)
    first = position(path, "s: {")[0]
    assert located(result, "LS003") == [("p.yaml", *position(path, "s: {", n)) for n in (2, 3)]
    assert all(f"first at line {first}" in f["message"] for f in findings(result, "LS003"))


def test_duplicate_key_in_a_nested_flow_mapping_is_located_at_its_column(
    project: Project, run: Run, loader: str
) -> None:
    path = project("p.yaml", """
        loopscan: 1
        pipeline: p
        steps:
          train:
            kind: train
            mixing: {max_synthetic: 0.2, max_synthetic: 0.9}
        """)
    result = check(run)
    assert result.code == 1
    assert located(result, "LS003") == [("p.yaml", *position(path, "max_synthetic", 2))]


def test_the_same_key_in_different_mappings_is_not_a_duplicate(project: Project, run: Run) -> None:
    project("p.yaml", """
        loopscan: 1
        pipeline: p
        steps:
          a: {kind: gate, method: dedup}
          b: {kind: gate, method: dedup}
        """)
    result = check(run)
    assert result.code == 0
    assert findings(result) == []


def test_anchors_and_merge_keys_are_plain_yaml_not_findings(project: Project, run: Run, loader: str) -> None:
    project("p.yaml", """
        loopscan: 1
        pipeline: p
        datasets:
          a: &ai {provenance: ai}
          b: *ai
        steps:
          first: &gate {kind: gate, method: dedup, inputs: [a]}
          second:
            <<: *gate
            method: classifier
        """)
    result = check(run)
    assert result.code == 0, result.out
    assert findings(result) == []


# LS006 -----------------------------------------------------------------------


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["loopscan: 1", "pipeline: laughs", 'lol0: &lol0 "lol"']
    for level in range(1, levels + 1):
        lines.append(f"lol{level}: &lol{level} [" + ", ".join([f"*lol{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def first_alias_past_the_limit(levels: int = 9, width: int = 9) -> tuple[int, int]:
    """Where expanding :func:`billion_laughs` passes MAX_NODES (containers and values count, keys do not)."""
    total = 4  # the top mapping, 1, "laughs", "lol"
    size = 1
    for level in range(1, levels + 1):
        total += 1  # the list
        for index in range(width):
            total += size
            if total > MAX_NODES:
                column = len(f"lol{level}: &lol{level} [") + index * len(f"*lol{level - 1}, ") + 1
                return 3 + level, column
        size = 1 + width * size
    raise AssertionError("the bomb is too small to pass the limit")


def test_billion_laughs_is_a_finding_at_the_alias_that_passes_the_limit(
    project: Project, run: Run, loader: str
) -> None:
    path = project("laughs.yaml", billion_laughs())
    result = check(run)
    assert result.code == 1
    line, column = first_alias_past_the_limit()
    assert located(result, "LS006") == [("laughs.yaml", line, column)]
    assert path.read_text().splitlines()[line - 1][column - 1] == "*"
    assert "alias" in findings(result, "LS006")[0]["message"]


def test_a_flood_of_empty_lists_counts_against_the_node_limit(project: Project, run: Run, loader: str) -> None:
    """Empty containers cost as much to read as values; they used to go uncounted (seconds per file)."""
    prefix = "description: ["
    project("flood.yaml", "loopscan: 1\npipeline: flood\n" + prefix + "[], " * (MAX_NODES + 10) + "[]]\n")
    result = check(run)
    assert result.code == 1
    index = MAX_NODES - 3  # after the top mapping, 1, "flood" and the outer list
    assert located(result, "LS006") == [("flood.yaml", 3, len(prefix) + 4 * (index - 1) + 1)]


@pytest.mark.parametrize("opener, closer", [("[", "]"), ("{a: ", "}")], ids=["lists", "mappings"])
def test_20000_levels_of_nesting_is_a_finding_at_the_first_level_past_the_limit(
    project: Project, run: Run, loader: str, opener: str, closer: str
) -> None:
    prefix = "description: "
    project("deep.yaml", "loopscan: 1\npipeline: deep\n" + prefix + opener * 20_000 + "1" + closer * 20_000 + "\n")
    result = check(run)
    assert result.code == 1
    # The top-level mapping is level 1, so the limit is passed by the MAX_DEPTH-th opener.
    column = len(prefix) + len(opener) * (MAX_DEPTH - 1) + 1
    assert located(result, "LS006") == [("deep.yaml", 3, column)]
    assert "nesting" in findings(result, "LS006")[0]["message"]


def test_python_object_apply_tag_is_a_finding_and_is_never_run(
    project: Project, run: Run, loader: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = 'loopscan: 1\npipeline: tagged\ndescription: !!python/object/apply:builtins.open ["pwned.txt", "w"]\n'
    # The payload is live: an unsafe loader would create the file.
    control = tmp_path / "control"
    control.mkdir()
    monkeypatch.chdir(control)
    yaml.unsafe_load(text)["description"].close()
    assert (control / "pwned.txt").exists()
    monkeypatch.chdir(tmp_path)

    path = project("tagged.yaml", text)
    result = check(run)
    assert result.code == 1
    assert located(result, "LS006") == [("tagged.yaml", *position(path, "!!python"))]
    assert "!!python/object/apply" in findings(result, "LS006")[0]["message"]
    assert not (tmp_path / "pwned.txt").exists()


@pytest.mark.parametrize("tagged", [
    "description: !!python/name:os.system ''",
    "steps: !!python/object:collections.OrderedDict {}",
    "description: !include secrets.yaml",
    "!!python/str key: value",
])
def test_any_language_or_local_tag_is_a_finding_at_the_tag(
    project: Project, run: Run, tagged: str, loader: str
) -> None:
    path = project("tagged.yaml", f"loopscan: 1\npipeline: tagged\n{tagged}\n")
    result = check(run)
    assert result.code == 1
    assert located(result, "LS006") == [("tagged.yaml", *position(path, "!"))]


def test_a_huge_integer_is_a_finding_at_the_number(project: Project, run: Run, loader: str) -> None:
    path = project("huge.yaml", f"""
        loopscan: 1
        pipeline: huge
        steps:
          train:
            kind: train
            mixing: {{max_synthetic: {"9" * 5000}}}
        """)
    result = check(run)
    assert result.code == 1
    assert located(result, "LS006") == [("huge.yaml", *position(path, "9999"))]
    assert "too large" in findings(result, "LS006")[0]["message"]


def test_an_oversized_manifest_is_a_finding(project: Project, run: Run) -> None:
    padding = b"# padding\n" * (MAX_BYTES // 10 + 1)
    Path("big.yaml").write_bytes(b"loopscan: 1\npipeline: big\n" + padding)
    result = check(run)
    assert result.code == 1
    assert located(result, "LS006") == [("big.yaml", 1, 1)]
    assert f"{MAX_BYTES // 1024 // 1024} MiB" in findings(result, "LS006")[0]["message"]


def test_an_oversized_file_that_never_mentions_loopscan_is_passed_over(project: Project, run: Run) -> None:
    Path("dump.yaml").write_bytes(b"rows:\n" + b"  - 1\n" * (MAX_BYTES // 6 + 1))
    result = check(run, "-v")
    assert result.code == 0
    assert findings(result) == []
    assert "dump.yaml" in result.err


# Which files count -------------------------------------------------------------


def test_yaml_files_that_are_not_manifests_are_passed_over_and_v_says_which(project: Project, run: Run) -> None:
    project("deploy/k8s.yaml", "apiVersion: v1\nkind: ConfigMap\n")
    project("deploy/list.yml", "- just\n- a list\n")
    project("empty.yaml", "")
    project("pipelines/support.yaml", GOOD)
    quiet = check(run)
    assert quiet.code == 0
    assert quiet.err == ""
    assert quiet.json()["summary"]["files"] == 1

    verbose = check(run, "-v")
    assert verbose.code == 0
    assert findings(verbose) == []
    passed = [line for line in verbose.err.splitlines() if line.startswith("passed over")]
    assert sorted(line.split()[2].rstrip(":") for line in passed) == [
        "deploy/k8s.yaml", "deploy/list.yml", "empty.yaml"]
    assert "support.yaml" not in verbose.err


def test_only_yaml_suffixes_are_read_when_walking_a_folder(project: Project, run: Run) -> None:
    project("notes.txt", "loopscan: 1\npipeline: [\n")
    project("data.json", '{"loopscan": 1, "pipeline": [}')
    project("p.yml", "loopscan: 1\npipeline: [\n")
    result = check(run)
    assert [f["file"] for f in findings(result)] == ["p.yml"]


def test_a_file_named_on_the_command_line_is_read_whatever_its_suffix(project: Project, run: Run) -> None:
    project("pipeline.conf", "loopscan: 1\npipeline: p\nsteps:\n  s: {kind: gate}\n  s: {kind: gate}\n")
    result = run("check", "pipeline.conf", "-f", "json", "--select", "LS00")
    assert result.code == 1
    assert located(result, "LS003") == [("pipeline.conf", 5, 3)]


# The two parsers -------------------------------------------------------------
#
# Every file goes through one walk of the event stream, whichever parser makes the stream:
# libyaml when PyYAML has it, PyYAML's pure-Python parser when not. What the walk builds
# must not depend on which: the same data, the same mark for every node and key, the same
# findings.

FEATURES = {
    "anchors, aliases and merge keys": """\
        loopscan: 1
        pipeline: p
        base: &base {kind: gate, method: dedup, inputs: [a]}
        list: &list [1, 2]
        steps:
          first:
            <<: *base
            method: classifier
          second:
            <<: [*base, {owner: ana}]
          third: *base
        again: [*list, *list]
        scalar: &s text
        other: *s
        """,
    "duplicate keys": """\
        loopscan: 1
        steps:
          s: {kind: gate}
          t: {kind: gate}
          s: {kind: transform, kind: train}
          s: [1]
        """,
    "tags": """\
        loopscan: 1
        a: !!python/object/apply:os.system ["true"]
        !!python/str b: 1
        c: !local {x: 1}
        d: !!str 12
        e: ! 12
        f: =
        """,
    "every kind of scalar": """\
        loopscan: 1
        ints: [0, -1, +7, 0x1F, 0o17, 017, 0b101, 1_000, 1:30]
        floats: [1.5, -0.25, 1.0e+3, .inf, -.inf, .nan, 6.8523015e+5]
        bools: [yes, No, TRUE, off, on, n]
        nulls: [~, null, Null, ""]
        dates: [2026-11-24, 2026-11-24T10:00:00Z]
        strings: ['1', "2", plain text, "tab\\there", 'it''s', "\\u00e9t\\u00e9", s3://b/**, "<<"]
        block: |
          two
          lines
        folded: >
          one
          line
        empty:
        """,
    "nesting, flow and keys of every kind": """\
        loopscan: 1
        ? complex key
        : value
        "quoted key": 1
        '': empty key
        42: number key
        nested: {a: [b, {c: [d, [e]]}], f: {}}
        list:
          - - inner
            - {k: v}
          - []
        """,
    "two documents": """\
        loopscan: 1
        pipeline: first
        ---
        loopscan: 1
        pipeline: second
        ...
        """,
}


def read_with(parser: type, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """Everything ``load_text`` gives for ``text`` when the events come from ``parser``."""
    monkeypatch.setattr(yamlsource, "_Loader", parser)
    loaded = yamlsource.load_text(text, "f.yaml")
    documents = [(d.data, d.start, d.marks, d.key_marks) for d in loaded.documents]
    problems = [(p.rule, str(p.problem.location), p.problem.message, p.fatal) for p in loaded.problems]
    return documents, problems


def yaml_texts() -> Iterator[tuple[str, str]]:
    """The examples, the rule case files (whose manifests are block scalars) and the test data, by name."""
    root = Path(__file__).resolve().parent.parent
    for folder in ("examples", "tests/rules", "tests/data"):
        for path in sorted((root / folder).rglob("*.y*ml")):
            yield str(path.relative_to(root)), path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_libyaml_and_the_pure_python_parser_give_the_same_documents_and_findings(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML was built without libyaml")
    import textwrap

    text = textwrap.dedent(FEATURES[name])
    assert read_with(yaml.CSafeLoader, text, monkeypatch) == read_with(yaml.SafeLoader, text, monkeypatch)


def test_every_example_and_case_file_reads_the_same_with_either_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML was built without libyaml")
    texts = dict(yaml_texts())
    assert len(texts) > 30
    for name, text in texts.items():
        assert read_with(yaml.CSafeLoader, text, monkeypatch) == read_with(yaml.SafeLoader, text, monkeypatch), name


def test_anchors_and_merge_keys_read_as_what_they_name(loader: str) -> None:
    import textwrap

    text = textwrap.dedent(FEATURES["anchors, aliases and merge keys"])
    loaded = yamlsource.load_text(text, "f.yaml")
    assert loaded.problems == []
    [document] = loaded.documents
    steps = document.data["steps"]
    assert steps["first"] == {"kind": "gate", "method": "classifier", "inputs": ["a"]}
    assert steps["second"] == {"kind": "gate", "method": "dedup", "inputs": ["a"], "owner": "ana"}
    assert steps["third"] == document.data["base"]
    assert document.data["again"] == [[1, 2], [1, 2]] and document.data["other"] == "text"

    def at(needle: str, occurrence: int = 1) -> str:
        index = -1
        for _ in range(occurrence):
            index = text.index(needle, index + 1)
        return f"f.yaml:{text.count(chr(10), 0, index) + 1}:{index - (text.rfind(chr(10), 0, index) + 1) + 1}"

    # An alias is placed where it is written, not where its anchor is.
    assert str(document.location(("steps", "third"))) == at("*base", 3)
    assert str(document.location(("again", 1))) == at("*list", 2)
    # A key that only a merge gives is placed at its mapping; a key written out, at itself.
    assert str(document.location(("steps", "first", "kind"))) == at("<<")
    assert str(document.key_location(("steps", "first", "method"))) == at("method: classifier")


def test_every_kind_of_scalar_reads_as_plain_data(loader: str) -> None:
    import textwrap

    loaded = yamlsource.load_text(textwrap.dedent(FEATURES["every kind of scalar"]), "f.yaml")
    assert loaded.problems == []
    data = loaded.documents[0].data
    assert data["ints"] == [0, -1, 7, 31, "0o17", 15, 5, 1000, 90]  # YAML 1.1: 0o is no prefix, 0 is
    assert data["floats"][:3] == [1.5, -0.25, 1000.0] and data["floats"][3:6] == [".inf", "-.inf", ".nan"]
    assert data["bools"] == [True, False, True, False, True, "n"]
    assert data["nulls"] == [None, None, None, ""]
    assert data["dates"] == ["2026-11-24", "2026-11-24T10:00:00Z"]
    assert data["strings"] == ["1", "2", "plain text", "tab\there", "it's", "\u00e9t\u00e9", "s3://b/**", "<<"]
    assert data["block"] == "two\nlines\n" and data["folded"] == "one line\n" and data["empty"] is None
