"""Hostile files: each gives a finding or a clear error within 5 seconds and under 500 MiB.

Every file is checked by a fresh ``loopscan check`` process, measured by a
parent process of its own: the wall time of the run, and the peak resident
memory of its one child (``getrusage(RUSAGE_CHILDREN).ru_maxrss``), so that
nothing else the test session ran can blur the number. The child also runs
under a 2 GiB address-space limit and is killed after 20 seconds, so that a
regression fails the test instead of taking the CI machine down with it.

The bounds are the issue's safety limits, not a benchmark: each of these
files takes well under a second today.

``tests/test_loader.py`` pins where each finding points; here the point is
that the run ends quickly, in little memory, with the right finding.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from loopscan.sources import yamlsource
from loopscan.sources.yamlsource import MAX_BYTES, MAX_CHARS, MAX_DEPTH
from tests.conftest import Result, Run, Write

SECONDS = 5.0
MEMORY = 500 * 1024 * 1024
KILL_AFTER = 20.0
ADDRESS_SPACE = 2 * 1024 * 1024 * 1024

LOADERS = ["libyaml", "pure-python"]

_LOOPSCAN = """
import sys
if sys.argv[1] == "pure-python":
    import yaml
    import loopscan.sources.yamlsource
    loopscan.sources.yamlsource._Loader = yaml.SafeLoader
from loopscan.cli import main
main(sys.argv[2:])
"""

_MEASURE = """
import json, resource, subprocess, sys, time
cwd, out_path, kill_after, address_space, *command = sys.argv[1:]

def limit():
    resource.setrlimit(resource.RLIMIT_AS, (int(address_space), int(address_space)))

start = time.monotonic()
with open(out_path, "wb") as out:
    try:
        done = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.PIPE,
                              timeout=float(kill_after), preexec_fn=limit)
        code, err = done.returncode, done.stderr
    except subprocess.TimeoutExpired as expired:
        code, err = None, expired.stderr or b""
seconds = time.monotonic() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
peak = peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux
print(json.dumps({"code": code, "err": err.decode("utf-8", "replace"), "seconds": seconds, "peak": peak}))
"""


@dataclass
class Measured:
    """One measured run: exit code (None when it was killed), output, wall time and peak memory."""

    code: int | None
    out: str
    err: str
    seconds: float
    peak: int

    def findings(self) -> list[dict[str, Any]]:
        return list(json.loads(self.out)["findings"])

    def rules(self) -> list[str]:
        return [finding["rule"] for finding in self.findings()]


def measured(folder: Path, *args: str, loader: str = "libyaml", kill_after: float = KILL_AFTER) -> Measured:
    """Run ``loopscan ARGS`` in ``folder`` in a fresh process and measure it."""
    out_path = folder.parent / f"{folder.name}.stdout"
    command = [sys.executable, "-c", _LOOPSCAN, loader, *args]
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(folder), str(out_path), str(kill_after), str(ADDRESS_SPACE), *command],
        capture_output=True, text=True, check=True,
    )
    report = json.loads(done.stdout)
    with open(out_path, encoding="utf-8", errors="replace") as stream:
        out = stream.read(4 * 1024 * 1024)
    return Measured(report["code"], out, report["err"], report["seconds"], report["peak"])


def assert_within_limits(run: Measured) -> None:
    """Ended by itself with 0, 1 or 2, in time and memory, with no traceback."""
    assert run.code is not None, f"killed after {KILL_AFTER} s"
    assert run.code in (0, 1, 2), run.err
    assert run.seconds < SECONDS, f"{run.seconds:.1f} s"
    assert run.peak < MEMORY, f"{run.peak / 1024 / 1024:.0f} MiB"
    assert "Traceback" not in run.err
    assert "internal error" not in run.err


def check(folder: Path, name: str, loader: str = "libyaml", *extra: str) -> Measured:
    """``loopscan check NAME -f json`` with only the integrity rules, measured."""
    run = measured(folder, "check", name, "-f", "json", "--select", "LS00", *extra, loader=loader)
    assert_within_limits(run)
    return run


def in_process(run: Run, name: str, *extra: str) -> Result:
    """The same check in this process, for variants of a hostile file already measured above."""
    result = run("check", name, "-f", "json", "--select", "LS00", *extra)
    assert result.code in (0, 1), result.err
    return result


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder for the hostile file (the measured run's output goes next to it)."""
    path = tmp_path / "scan"
    path.mkdir()
    return path


# YAML bombs ---------------------------------------------------------------------------------


def billion_laughs(levels: int = 12, width: int = 10) -> str:
    """Ten to the twelfth strings once expanded, in under a kilobyte."""
    lines = ["loopscan: 1", "pipeline: laughs", 'lol0: &lol0 "lol"']
    for level in range(1, levels + 1):
        lines.append(f"lol{level}: &lol{level} [" + ", ".join([f"*lol{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("loader", LOADERS)
def test_billion_laughs_is_an_ls006_finding_within_limits(folder: Path, loader: str) -> None:
    (folder / "laughs.yaml").write_text(billion_laughs(), encoding="utf-8")
    run = check(folder, "laughs.yaml", loader)
    assert run.code == 1
    assert run.rules() == ["LS006"]
    assert "a YAML bomb" in run.findings()[0]["message"]


def long_string_aliased_in_refs(copies: int = 2000, length: int = 100_000) -> str:
    """A 100 KB id written once and referenced by 2,000 steps: 200 MB of text once expanded.

    Every copy is a reference that names nothing, so without a limit each would be
    quoted in a finding of its own: a 200 KB file, a 300 MB report and a 30 s run.
    """
    lines = ["loopscan: 1", "pipeline: quadratic", f"description: &big {'x' * length}", "steps:"]
    lines += [f"  s{index}: {{kind: transform, inputs: [*big]}}" for index in range(copies)]
    return "\n".join(lines) + "\n"


def long_keys_merged_into_many_mappings(copies: int = 2000, length: int = 1000, keys: int = 100) -> str:
    """A mapping of 100 KB of explicit keys, merged (``<<``) into 2,000 steps."""
    long_keys = ", ".join(f"? {'k' * length}{index} : 1" for index in range(keys))
    lines = ["loopscan: 1", "pipeline: quadratic", "steps:", f"  s: &big {{kind: gate, {long_keys}}}"]
    lines += [f"  s{index}: {{<<: *big}}" for index in range(copies)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text", [long_string_aliased_in_refs(), long_keys_merged_into_many_mappings()],
                         ids=["aliased-value", "merged-keys"])
def test_one_long_string_aliased_many_times_is_an_ls006_finding_within_limits(folder: Path, text: str) -> None:
    (folder / "quadratic.yaml").write_text(text, encoding="utf-8")
    run = check(folder, "quadratic.yaml")
    assert run.code == 1
    assert run.rules() == ["LS006"]
    assert f"more than {MAX_CHARS:,} characters" in run.findings()[0]["message"]


def test_aliases_whose_expansion_stays_under_the_text_limit_still_load(folder: Path) -> None:
    """The text limit stops bombs only: a long description aliased a few times is plain YAML."""
    (folder / "aliases.yaml").write_text(long_string_aliased_in_refs(copies=20, length=10_000), encoding="utf-8")
    run = check(folder, "aliases.yaml")
    assert "LS006" not in run.rules()
    assert run.rules().count("LS004") == 20


# Size and shape -----------------------------------------------------------------------------


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("opener, closer", [("[", "]"), ("{a: ", "}")], ids=["lists", "mappings"])
def test_20000_levels_of_nesting_is_an_ls006_finding_within_limits(
    folder: Path, loader: str, opener: str, closer: str
) -> None:
    depth = 20_000
    (folder / "deep.yaml").write_text(
        "loopscan: 1\npipeline: deep\ndescription: " + opener * depth + "1" + closer * depth + "\n", encoding="utf-8")
    run = check(folder, "deep.yaml", loader)
    assert run.code == 1
    assert run.rules() == ["LS006"]
    assert f"nesting deeper than {MAX_DEPTH} levels" in run.findings()[0]["message"]


def test_a_30_mb_manifest_is_an_ls006_finding_within_limits(folder: Path) -> None:
    line = b"# " + b"padding " * 12 + b"\n"
    (folder / "huge.yaml").write_bytes(b"loopscan: 1\npipeline: huge\n" + line * (30 * 1024 * 1024 // len(line)))
    assert (folder / "huge.yaml").stat().st_size > 30 * 1000 * 1000
    run = check(folder, "huge.yaml")
    assert run.code == 1
    assert run.rules() == ["LS006"]
    assert "larger than the 8 MiB limit" in run.findings()[0]["message"]


def test_a_manifest_just_under_the_size_limit_is_read_within_limits(folder: Path) -> None:
    head = b"loopscan: 1\npipeline: big\ndescription: "
    (folder / "big.yaml").write_bytes(head + b"x" * (MAX_BYTES - len(head) - 1) + b"\n")
    run = check(folder, "big.yaml")
    assert (run.code, run.rules()) == (0, [])


@pytest.mark.parametrize("raw", [
    random.Random(8).randbytes(256 * 1024),
    b"\x00" * 4096,
    "loopscan: 1\npipeline: utf16\n".encode("utf-16"),
    "loopscan: 1\npipeline: latin\ndescription: caf\u00e9\n".encode("latin-1"),
], ids=["random-bytes", "nul-bytes", "utf-16", "latin-1"])
def test_binary_junk_and_non_utf8_text_are_an_ls001_finding_within_limits(folder: Path, raw: bytes) -> None:
    (folder / "junk.yaml").write_bytes(raw)
    run = check(folder, "junk.yaml")
    assert run.code == 1
    assert run.rules() == ["LS001"]


MANIFEST = """\
loopscan: 1
pipeline: plain
owner: ana
datasets:
  raw: {uri: "s3://plain/raw/", provenance: human}
steps:
  fetch: {kind: ingest, outputs: [raw]}
  fetch: {kind: ingest, outputs: [raw]}
"""


def test_a_utf8_byte_order_mark_loads_exactly_like_the_same_file_without_it(folder: Path) -> None:
    (folder / "plain.yaml").write_text(MANIFEST, encoding="utf-8")
    (folder / "bom.yaml").write_text(MANIFEST.replace("plain", "bom"), encoding="utf-8-sig")
    assert (folder / "bom.yaml").read_bytes().startswith(b"\xef\xbb\xbf")
    plain, bom = check(folder, "plain.yaml"), check(folder, "bom.yaml")
    assert bom.code == plain.code == 1
    assert [(f["rule"], f["line"], f["column"]) for f in bom.findings()] == [("LS003", 8, 3)]
    assert [(f["rule"], f["line"], f["column"]) for f in plain.findings()] == [("LS003", 8, 3)]


@pytest.mark.parametrize("text", ["", "42\n", "- loopscan: 1\n  pipeline: listed\n"],
                         ids=["empty", "top-level-scalar", "top-level-list"])
def test_an_empty_file_or_a_top_level_scalar_or_list_is_passed_over_and_v_says_why(folder: Path, text: str) -> None:
    """Not a manifest (a pre-commit run passes every YAML file); ``-v`` says so, in one line."""
    (folder / "odd.yaml").write_text(text, encoding="utf-8")
    run = check(folder, "odd.yaml", "libyaml", "-v")
    assert (run.code, run.rules()) == (0, [])
    assert run.err == "passed over odd.yaml: no top-level 'loopscan' key\n"


@pytest.mark.parametrize("text", ["# nothing here yet\n\n", "---\n...\n", "loopscan\n", "[loopscan, 1]\n",
                                  "--- 1\n--- [loopscan]\n"])
def test_other_files_without_a_top_level_mapping_are_passed_over_too(project: Write, run: Run, text: str) -> None:
    Path("odd.yaml").write_text(text, encoding="utf-8")
    result = in_process(run, "odd.yaml", "-v")
    assert (result.code, result.json()["findings"]) == (0, [])
    assert result.err == "passed over odd.yaml: no top-level 'loopscan' key\n"


def test_a_multi_document_manifest_is_an_ls001_finding_within_limits(folder: Path) -> None:
    documents = "".join(f"---\nloopscan: 1\npipeline: p{index}\n" for index in range(10_000))
    (folder / "many.yaml").write_text(documents, encoding="utf-8")
    run = check(folder, "many.yaml")
    assert run.code == 1
    assert run.rules() == ["LS001"]
    assert run.findings()[0]["message"] == "a manifest file holds one YAML document; this one has 10000"


TABS = "loopscan: 1\npipeline: tabs\nsteps:\n\tfetch: {kind: ingest}\n"
TAB_MESSAGE = "YAML syntax error: a tab character; YAML indents with spaces only"


def test_indenting_with_tabs_is_an_ls001_finding_that_names_the_tab(folder: Path) -> None:
    (folder / "tabs.yaml").write_text(TABS, encoding="utf-8")
    run = check(folder, "tabs.yaml")
    assert run.code == 1
    assert [(f["rule"], f["line"], f["column"], f["message"]) for f in run.findings()] == [
        ("LS001", 4, 1, TAB_MESSAGE)]


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("text, line", [
    (TABS, 4),
    ("loopscan: 1\npipeline: tabs\nsteps:\n  fetch:\n\tkind: ingest\n", 5),
    ("loopscan: 1\npipeline: tabs\ndescription: \u00e9\u00e9\nsteps:\n  fetch:\n  \t  kind: ingest\n", 6),
], ids=["key", "value", "after-non-ascii"])
def test_every_tab_indent_is_named_with_either_parser(
    project: Write, run: Run, monkeypatch: pytest.MonkeyPatch, loader: str, text: str, line: int
) -> None:
    monkeypatch.setattr(yamlsource, "_Loader", yaml.SafeLoader if loader == "pure-python" else yaml.CSafeLoader)
    Path("tabs.yaml").write_text(text, encoding="utf-8")
    [finding] = in_process(run, "tabs.yaml").json()["findings"]
    assert (finding["rule"], finding["line"], finding["message"]) == ("LS001", line, TAB_MESSAGE)


def test_a_tab_inside_a_value_is_plain_yaml(project: Write, run: Run) -> None:
    Path("tabs.yaml").write_text('loopscan: 1\npipeline: tabs\ndescription: "a\tb"\t# c\n', encoding="utf-8")
    assert in_process(run, "tabs.yaml").json()["findings"] == []


def huge_number(number: str) -> str:
    return f"loopscan: 1\npipeline: huge\nsteps:\n  train:\n    kind: train\n    mixing: {{max_synthetic: {number}}}\n"


NUMBER_COLUMN = len("    mixing: {max_synthetic: ") + 1

HUGE_NUMBERS = {
    "decimal": "9" * 5000,
    "hex": "0x" + "f" * 5000,  # constructs at once, then fails when printed in decimal
    "base-60": "1" + ":59" * 200_000,  # seconds of big-number arithmetic to construct
    "binary": "0b" + "1" * 20_000,
    "octal": "0" + "7" * 5000,
    "2**64": str(2**64),
}


@pytest.mark.parametrize("number", ["decimal", "hex", "base-60"])
def test_huge_integers_are_an_ls006_finding_within_limits(folder: Path, number: str) -> None:
    text = HUGE_NUMBERS[number]
    (folder / "huge.yaml").write_text(huge_number(text), encoding="utf-8")
    run = check(folder, "huge.yaml")
    assert run.code == 1
    [finding] = run.findings()
    assert (finding["rule"], finding["line"], finding["column"]) == ("LS006", 6, NUMBER_COLUMN)
    assert finding["message"] == f"number {text[:20]}... is too large"


@pytest.mark.parametrize("number", ["binary", "octal", "2**64"])
def test_any_integer_past_64_bits_is_an_ls006_finding(project: Write, run: Run, number: str) -> None:
    Path("huge.yaml").write_text(huge_number(HUGE_NUMBERS[number]), encoding="utf-8")
    [finding] = in_process(run, "huge.yaml").json()["findings"]
    assert (finding["rule"], finding["line"], finding["column"]) == ("LS006", 6, NUMBER_COLUMN)


def test_the_largest_64_bit_integer_is_still_a_number(project: Write, run: Run) -> None:
    Path("big.yaml").write_text(huge_number(str(2**64 - 1)), encoding="utf-8")
    [finding] = in_process(run, "big.yaml").json()["findings"]
    assert finding["rule"] == "LS002"
    assert "18446744073709551615 is greater than the maximum of 1" in finding["message"]


def test_nan_and_infinity_are_schema_errors_where_a_number_is_wanted(project: Write, run: Run) -> None:
    """As floats they passed every minimum and maximum, then crashed the mix arithmetic (internal error)."""
    path = project("nan.yaml", """
        loopscan: 1
        pipeline: nan
        owner: ana
        description: .inf
        datasets:
          mixed: {provenance: mixed, synthetic_fraction: .NaN}
          anchor: {provenance: human, frozen: true}
        steps:
          train:
            kind: train
            inputs: [{ref: mixed, share: .nan}, {ref: anchor, share: 0.5}]
            mixing: {max_synthetic: -.inf, anchor: anchor, log: runs}
        """)
    result = in_process(run, "nan.yaml")
    assert result.err == ""
    text = path.read_text(encoding="utf-8")
    written = [text.splitlines()[f["line"] - 1][f["column"] - 1:].split(",")[0].rstrip("}")
               for f in result.json()["findings"]]
    assert written == [".NaN", ".nan", "-.inf"]
    assert {(f["rule"], f["message"].split(": ", 1)[1].split("; ")[0]) for f in result.json()["findings"]} == {
        ("LS002", "must be a number, not a string")}


def test_nan_in_the_config_is_a_one_line_config_error(project: Write, run: Run) -> None:
    project("loopscan.yaml", "policy:\n  max_synthetic: .nan\n")
    project("p.yaml", "loopscan: 1\npipeline: p\nowner: ana\n")
    result = run("check", ".")
    assert (result.code, result.out) == (2, "")
    assert result.err == "loopscan: error: loopscan.yaml:2:3: config key 'policy.max_synthetic': " \
                         ".nan is not a finite number between 0 and 1; write a share such as 0.3\n"


# Code in YAML tags ----------------------------------------------------------------------------


PAYLOADS = {
    "apply-os-system": "!!python/object/apply:os.system ['touch {marker}']",
    "apply-exec": "!!python/object/apply:builtins.exec ['open(\"{marker}\", \"w\")']",
    "apply-popen": "!!python/object/apply:subprocess.Popen [['touch', '{marker}']]",
}


def tagged(payload: str, marker: Path) -> str:
    return f"loopscan: 1\npipeline: tagged\ndescription: {PAYLOADS[payload].format(marker=marker)}\n"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_is_live_code_for_an_unsafe_loader(tmp_path: Path, payload: str) -> None:
    """The control: so that the tests below would see the marker if loopscan ran the tag."""
    marker = tmp_path / "pwned"
    loaded = yaml.unsafe_load(tagged(payload, marker))["description"]
    if hasattr(loaded, "wait"):
        loaded.wait()
    assert marker.exists()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_python_tags_are_an_ls006_finding_and_never_run(folder: Path, payload: str) -> None:
    marker = folder.parent / "pwned"
    (folder / "tagged.yaml").write_text(tagged(payload, marker), encoding="utf-8")
    run = check(folder, "tagged.yaml")
    assert run.code == 1
    assert "LS006" in run.rules()
    assert "is not allowed: loopscan reads plain data only" in run.findings()[-1]["message"]
    assert not marker.exists()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_python_tags_are_never_run_by_the_pure_python_parser_either(
    project: Write, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, payload: str
) -> None:
    monkeypatch.setattr(yamlsource, "_Loader", yaml.SafeLoader)
    marker = tmp_path / "pwned"
    Path("tagged.yaml").write_text(tagged(payload, marker), encoding="utf-8")
    assert "LS006" in [f["rule"] for f in in_process(run, "tagged.yaml").json()["findings"]]
    assert not marker.exists()


@pytest.mark.parametrize("loader", LOADERS)
def test_a_lone_surrogate_escape_is_an_ls001_finding_with_either_parser(
    project: Write, run: Run, loader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libyaml refuses ``"\\ud800"``; the pure-Python parser once let it through, and no report could be written."""
    monkeypatch.setattr(yamlsource, "_Loader", yaml.SafeLoader if loader == "pure-python" else yaml.CSafeLoader)
    Path("surrogate.yaml").write_text('loopscan: 1\npipeline: s\ndescription: "half \\ud800 a pair"\n')
    Path("key.yaml").write_text('loopscan: 1\npipeline: k\nsteps:\n  "\\udfff": {kind: gate}\n')
    for output_format in ("text", "json", "sarif", "junit", "github", "markdown"):
        result: Result = run("check", ".", "-f", output_format, "--select", "LS00")
        assert result.code == 1, result.err
        assert result.err == ""
    findings = run("check", ".", "-f", "json", "--select", "LS00").json()["findings"]
    assert [(f["file"], f["rule"], f["line"]) for f in findings] == [("key.yaml", "LS001", 4),
                                                                    ("surrogate.yaml", "LS001", 3)]


# URI globs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("uri", ["s3://lake/[z-a]", "s3://lake/[[:alpha:]]", "s3://lake/[^]]", "s3://lake/[!]"])
def test_a_uri_with_an_odd_bracket_expression_is_a_uri_not_an_internal_error(project: Write, run: Run,
                                                                            uri: str) -> None:
    """``re`` refused '[z-a]' (internal error) and warned about '[[:alpha:]]' (a stray stderr line)."""
    project("odd.yaml", f"""
        loopscan: 1
        pipeline: odd
        owner: ana
        datasets:
          pattern: {{uri: "{uri}", provenance: ai}}
          data: {{uri: "s3://lake/q", provenance: ai}}
        """)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = run("check", ".", "-f", "json", "--select", "LS00")
    assert (result.code, result.err) == (0, "")


_MATCH_GLOB = """
import sys
from loopscan.graph.globs import compile_glob
print(compile_glob("s3://" + "**a" * 12 + "!").match("s3://" + "a" * 3000))
"""


def test_a_uri_glob_of_many_double_stars_is_matched_in_well_under_the_time_limit() -> None:
    """'s3://**a**a...!' against a long URI in the same bucket: a backtracking regex takes hours.

    (Run in a child process with a short kill, so that a regression fails in two seconds, not hours.)
    """
    try:
        done = subprocess.run([sys.executable, "-c", _MATCH_GLOB], capture_output=True, text=True, timeout=2)
    except subprocess.TimeoutExpired:
        pytest.fail("matching one glob took more than 2 seconds")
    assert done.stdout == "False\n", done.stderr


def test_a_long_pipeline_name_is_a_schema_error_not_a_huge_report(folder: Path) -> None:
    """A 1 MB pipeline name and 200 steps: ids are at most 128 characters, so nothing repeats it."""
    lines = ["loopscan: 1", f"pipeline: {'p' * 1_000_000}", "owner: ana", "steps:"]
    lines += [f"  s{index}: {{kind: train}}" for index in range(200)]
    (folder / "long.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_within_limits(measured(folder, "check", "long.yaml", "-f", "json", kill_after=SECONDS + 1))
