"""Benchmark loopscan against the parsing floor, on generated projects, hostile shapes and big outputs.

``python benchmarks/run.py`` measures, each command in a fresh process:

* **blocks**: projects of about 1k, 10k and 100k graph nodes in blocks of ten
  pipelines (:func:`generate.plan`): ``loopscan check --format json`` against
  the floor (:mod:`floor`: parse with libyaml keeping line marks, build a
  networkx graph, one SCC pass), side by side and in turns;
* **interlinked**: the same for an organisation whose pipelines read each
  other's data (:func:`generate.plan_interlinked`), one giant loop holding a
  generate step of nearly every pipeline, with the size of the JSON report;
* **latency**: ``loopscan check examples/pipelines`` against
  ``check-jsonschema`` on the same files (when it is installed);
* **shapes**: the hostile shapes of :mod:`generate` (2,000 generate steps on
  one loop, 2,000 datasets that share one URI, an 18-line ``s3://**`` manifest
  added to 400 pipelines, one loop of 5,001 steps) and ``loopscan loops`` on
  400 interlinked pipelines: time, peak memory, output size, and the finding
  each is due; the SARIF of the 5,001-step loop against the SARIF 2.1.0 schema
  and GitHub's documented upload limits;
* **diagrams**: Mermaid output against Mermaid's default limits, and the SVG
  overview of 400 interlinked pipelines.

It prints Markdown tables, then checks each target of the issue "Org scale"
(and the earlier ones); exit status 0 when every target checked is met, 1
otherwise, with each miss named. ``--quick`` stops at 10k nodes and runs fewer
repeats. Every run is limited in time, memory and output size, so that a
regression is a miss rather than a machine brought down.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice, pairwise
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from generate import (  # noqa: E402
    TODAY,
    pipelines_for,
    write_everything,
    write_fanout,
    write_long_loop,
    write_project,
    write_shared_uri,
)

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
MAX_FLOOR_RATIO = 2.0
MAX_GROWTH = 12.0
"""At most this much more time for ten times the nodes."""
MAX_PEAK_MIB = 1536.0
MAX_JSON_MIB = 64.0
"""The JSON report of the interlinked organisation at about 100k nodes."""

SHAPE_SECONDS = 5.0
SHAPE_PEAK_MIB = 500.0
FANOUT_JSON_BYTES = 2 * 1024 * 1024
"""The JSON report of 2,000 generate steps on one loop: under 2 MiB."""
LOOPS_TABLE_BYTES = 1_000_000
"""``loopscan loops`` on 400 interlinked pipelines: under 1 MB."""
EVERYTHING_FACTOR = 24.0
"""The report with the ``s3://**`` manifest, at most this many times the report without it.

The glob may rightly add a finding for each dataset and loop it reaches (the
restore overwrites every frozen anchor and eval set and feeds every corpus
ungated: about a dozen findings per pipeline, some ten times the report
without it), or it may be one finding; what it must never add is a finding
or a witness per pair of datasets, which at 400 pipelines is over 1,000x.
"""
SHAPE_PIPELINES = 400
"""The pipelines that the ``s3://**`` manifest, the ``loops`` table and the SVG overview are measured on."""

GITHUB_SARIF_LIMITS = {
    "runs per file": 20,
    "results per run": 25_000,
    "rules per run": 25_000,
    "tool extensions per run": 100,
    "thread flow locations per result": 10_000,
    "locations per result": 1_000,
    "tags per rule": 20,
}
"""The maximum values above which GitHub code scanning rejects a SARIF upload.

From "SARIF results exceed one or more limits",
https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit
(the table that "SARIF support for code scanning", section "Validating your
SARIF file", points to).
"""
GITHUB_SARIF_GZIP_BYTES = 10_000_000
"""Upload size: at most 10 MB gzip-compressed ("SARIF file is too large",
https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/file-too-large)."""
SARIF_SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"

MERMAID_MAX_TEXT = 50_000
"""Mermaid's default ``maxTextSize`` (https://mermaid.js.org/config/schema-docs/config-properties-maxtextsize.html)."""
MERMAID_MAX_EDGES = 500
"""Mermaid's default ``maxEdges`` (https://mermaid.js.org/config/schema-docs/config-properties-maxedges.html)."""
SVG_SECONDS = 30.0

Verdict = tuple[bool | None, str]
"""A target met (True) or missed (False), or a note (None), in words."""

PARTS = ("blocks", "interlinked", "latency", "shapes", "diagrams")
READ_AT_MOST = 64 * 1024 * 1024
"""Outputs larger than this are measured but not parsed (the benchmark itself stays small)."""


@dataclass(frozen=True)
class Limits:
    """What one run may take before it is stopped: wall seconds, address space and output bytes."""

    seconds: float = 600.0
    memory: int = 8 * 1024 ** 3
    output: int = 4 * 1024 ** 3


@dataclass(frozen=True)
class Run:
    """One run of a command: wall seconds, its own peak resident MiB, exit code and output."""

    seconds: float
    peak_mib: float
    code: int | None
    """None when it was stopped at the time limit."""
    output: Path
    """Where its stdout went (a later run of the same command may write there again)."""
    output_bytes: int
    stderr: str

    def stopped(self, limits: Limits, codes: Sequence[int] = (0, 1)) -> str | None:
        """Why the run did not finish as it should, in words; None when it did."""
        if self.code is None:
            return f"stopped after {limits.seconds:.0f} s"
        if self.code in codes:
            return None
        if self.code == -25 or self.output_bytes >= limits.output:  # SIGXFSZ: the output hit its limit
            return f"output cut off at {limits.output / 1024 ** 3:.0f} GiB"
        last = self.stderr.strip().splitlines()[-1:] or [""]
        if "MemoryError" in self.stderr or "Cannot allocate memory" in self.stderr:
            return f"ran out of its {limits.memory / 1024 ** 3:.0f} GiB address space"
        return f"exited {self.code}: {last[0][:200]}"


# The measuring parent: a fresh, small interpreter. The peak memory of the
# command is read from its RUSAGE_CHILDREN, so that the benchmark's own size
# (which a forked child would inherit in its ru_maxrss) never blurs it.
_MEASURE = """
import json, resource, subprocess, sys, threading, time
out_path, err_path, seconds, memory, output, *command = sys.argv[1:]

def limit():
    resource.setrlimit(resource.RLIMIT_AS, (int(memory), int(memory)))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(output), int(output)))

with open(out_path, "wb") as out, open(err_path, "wb") as err:
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=out, stderr=err, preexec_fn=limit)
    timer = threading.Timer(float(seconds), process.kill)
    timer.start()
    code = process.wait()
    wall = time.perf_counter() - start
    killed = not timer.is_alive()
    timer.cancel()
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
peak = peak if sys.platform == "darwin" else peak * 1024
print(json.dumps({"code": None if killed else code, "seconds": wall, "peak": peak}))
"""


def installed_environment() -> dict[str, str]:
    """The environment, but with bytecode written: an installed tool runs from compiled bytecode."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run_once(command: Sequence[str], output: Path, limits: Limits = Limits(), cwd: Path = REPO) -> Run:
    """Run ``command`` in a fresh process within ``limits``, its stdout into ``output``; measure it."""
    errors = output.with_name(output.name + ".stderr")
    measured = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(output), str(errors), str(limits.seconds), str(limits.memory),
         str(limits.output), *command],
        cwd=cwd, env=installed_environment(), capture_output=True, text=True, check=True)
    report = json.loads(measured.stdout)
    stderr = errors.read_text(encoding="utf-8", errors="replace")[-100_000:]
    return Run(report["seconds"], report["peak"] / 1024 / 1024, report["code"], output, output.stat().st_size,
               stderr)


@dataclass(frozen=True)
class Timing:
    """The median wall time of several runs of one command, the highest peak memory of any, and its last run."""

    seconds: float
    peak_mib: float
    runs: tuple[float, ...]
    last: Run
    stopped: str | None = None
    """Why a run did not finish (then the numbers are those of that run)."""

    @property
    def output_bytes(self) -> int:
        return self.last.output_bytes


def measure_side_by_side(commands: Mapping[str, Sequence[str]], repeat: int, scratch: Path, limits: Limits,
                         slow: float, codes: Sequence[int] = (0, 1)) -> dict[str, Timing]:
    """Run each command ``repeat`` times, in turns (so that a noisy moment hits all of them alike).

    Each first runs once to warm the page cache and the bytecode. A command
    whose warm-up took longer than ``slow`` seconds, or did not finish, is
    not run again: that one run is its timing.
    """
    found: dict[str, list[Run]] = {}
    stopped: dict[str, str | None] = {}
    for name, command in commands.items():
        warm = run_once(command, scratch / f"{name}.out", limits)
        stopped[name] = warm.stopped(limits, codes)
        if stopped[name] is not None or warm.seconds > slow:
            found[name] = [warm]
    timed_once = set(found)
    for _ in range(repeat):
        for name, command in commands.items():
            if name in timed_once or stopped[name] is not None:
                continue
            done = run_once(command, scratch / f"{name}.out", limits)
            found.setdefault(name, []).append(done)
            stopped[name] = done.stopped(limits, codes)
    return {name: Timing(statistics.median(run.seconds for run in runs), max(run.peak_mib for run in runs),
                         tuple(run.seconds for run in runs), runs[-1], stopped[name])
            for name, runs in found.items()}


def loopscan(*args: str) -> list[str]:
    """The command line of ``loopscan ARGS`` with this interpreter."""
    return [sys.executable, "-m", "loopscan", *args]


def loopscan_command(folder: Path) -> list[str]:
    return loopscan("check", str(folder), "--format", "json", "--today", TODAY)


def floor_command(folder: Path) -> list[str]:
    return [sys.executable, str(HERE / "floor.py"), str(folder)]


GRAPH_SIZE = """
import sys
from datetime import date
from pathlib import Path
from loopscan.config import Config
from loopscan.sources.discover import discover
from loopscan.linter import analyse
folder = Path(sys.argv[1])
project = analyse(discover([str(folder)]), Config(root=folder), date.fromisoformat(sys.argv[2]))
print(len(project.files), project.dataflow.number_of_nodes(), project.dataflow.number_of_edges())
"""


def graph_size(folder: Path) -> tuple[int, int, int]:
    """Files, nodes and edges of loopscan's linked graph of ``folder`` (not timed).

    Counted in a child process: the benchmark stays small, and the count uses
    loopscan's own linking, whatever it becomes.
    """
    completed = subprocess.run([sys.executable, "-c", GRAPH_SIZE, str(folder), TODAY], capture_output=True,
                               text=True, check=True, cwd=REPO)
    files, nodes, edges = (int(word) for word in completed.stdout.split())
    return files, nodes, edges


@dataclass(frozen=True)
class Row:
    """One project size: what it holds, and how loopscan and the floor did on it."""

    nodes_asked: int
    files: int
    nodes: int
    edges: int
    loopscan: Timing
    floor: Timing

    @property
    def ratio(self) -> float:
        return self.loopscan.seconds / self.floor.seconds


@dataclass(frozen=True)
class Settings:
    """How the benchmark runs: repeats, where it works, and the limits of each run."""

    repeat: int
    scratch: Path
    limits: Limits
    slow: float


def bench_size(nodes: int, settings: Settings, kind: str = "project") -> Row:
    """Generate a project of about ``nodes`` graph nodes and time loopscan against the floor on it.

    ``kind`` is ``project`` (blocks of ten), ``ring`` (one loop through every
    manifest) or ``interlinked`` (the organisation whose pipelines read each other).
    """
    folder = settings.scratch / f"{kind}-{nodes}"
    if not folder.exists():
        write_project(folder, pipelines_for(nodes), ring=kind == "ring", interlinked=kind == "interlinked")
    work = settings.scratch / f"run-{kind}-{nodes}"
    work.mkdir(exist_ok=True)
    timings = measure_side_by_side({"loopscan": loopscan_command(folder), "floor": floor_command(folder)},
                                   settings.repeat, work, settings.limits, settings.slow)
    files, graph_nodes, edges = graph_size(folder)
    return Row(nodes, files, graph_nodes, edges, timings["loopscan"], timings["floor"])


def bench_latency(repeat: int, scratch: Path, limits: Limits) -> dict[str, Timing] | None:
    """``loopscan check examples/pipelines`` against check-jsonschema on the same files, side by side."""
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which(
        "check-jsonschema")
    if checker is None:
        return None
    files = sorted(str(path.relative_to(REPO)) for path in (REPO / "examples" / "pipelines").rglob("*.yaml"))
    script = shutil.which("loopscan", path=str(Path(sys.executable).parent))
    commands = {
        "loopscan": [*([script] if script else loopscan()), "check", "examples/pipelines"],
        "check-jsonschema": [checker, "--schemafile", "schemas/pipeline.schema.json", *files],
    }
    return measure_side_by_side(commands, repeat, scratch, limits, slow=float("inf"))


# ---- reading outputs -------------------------------------------------------------------------

def read_json(run: Run) -> Any | None:
    """The parsed output of a run, or None when it is too large to read here or is not JSON."""
    if run.output_bytes > READ_AT_MOST:
        return None
    try:
        return json.loads(run.output.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


def findings_of(run: Run) -> list[dict[str, Any]] | None:
    """The findings of a ``check --format json`` run (None when its output cannot be read)."""
    document = read_json(run)
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list):
        return None
    return list(document["findings"])


def strings_in(value: Any) -> Iterator[str]:
    """Every string anywhere in a parsed JSON value.

    >>> sorted(strings_in({"a": ["x", {"b": "y"}], "c": 1}))
    ['a', 'b', 'c', 'x', 'y']
    """
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def involves(finding: dict[str, Any], pipeline: str) -> bool:
    """Whether a finding is in ``pipeline``'s manifest, names it, or has a witness through it.

    >>> involves({"pipeline": "p", "message": "m"}, "lake-mirror")
    False
    >>> involves({"pipeline": "p", "cycle": ["p:generate", "lake-mirror:lake"]}, "lake-mirror")
    True
    """
    return (finding.get("pipeline") == pipeline or f"'{pipeline}'" in str(finding.get("message", ""))
            or any(text.startswith(f"{pipeline}:") for text in strings_in(finding.get("cycle"))))


def github_sarif_misses(document: Any, raw: bytes) -> list[str]:
    """Each of GitHub's documented SARIF upload limits that ``document`` (the bytes ``raw``) exceeds.

    >>> github_sarif_misses({"runs": [{"tool": {"driver": {"rules": []}}, "results": [
    ...     {"codeFlows": [{"threadFlows": [{"locations": [{}] * 10_001}]}]}]}]}, b"")
    ['thread flow locations per result: 10,001 (limit 10,000)']
    """
    found: dict[str, int] = {"runs per file": len(document.get("runs", []))}
    for run in document.get("runs", []):
        driver = run.get("tool", {}).get("driver", {})
        counts = {
            "results per run": len(run.get("results", [])),
            "rules per run": len(driver.get("rules", [])),
            "tool extensions per run": len(run.get("tool", {}).get("extensions", [])),
            "tags per rule": max((len(rule.get("properties", {}).get("tags", [])) for rule in driver.get("rules", [])),
                                 default=0),
        }
        for result in run.get("results", []):
            counts["thread flow locations per result"] = max(counts.get("thread flow locations per result", 0), sum(
                len(thread.get("locations", [])) for flow in result.get("codeFlows", [])
                for thread in flow.get("threadFlows", [])))
            counts["locations per result"] = max(counts.get("locations per result", 0),
                                                 len(result.get("locations", [])))
        for name, count in counts.items():
            found[name] = max(found.get(name, 0), count)
    misses = [f"{name}: {found[name]:,} (limit {limit:,})" for name, limit in GITHUB_SARIF_LIMITS.items()
              if found.get(name, 0) > limit]
    compressed = len(gzip.compress(raw))
    if compressed > GITHUB_SARIF_GZIP_BYTES:
        misses.append(f"gzip-compressed size: {compressed:,} bytes (limit {GITHUB_SARIF_GZIP_BYTES:,})")
    return misses


def sarif_schema_errors(document: Any) -> list[str]:
    """What the SARIF 2.1.0 schema kept in tests/data says is wrong with ``document`` (the first few)."""
    from jsonschema import Draft4Validator  # only the SARIF check needs it

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    errors = Draft4Validator(schema).iter_errors(document)
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}" for error in islice(errors, 3)]


_MERMAID_LINK = re.compile(r"(?<=\s)(?:<?-{2,}[->ox]|<?-\.+-[>ox]?|<?={2,}[=>ox]|-{3,}|~{3})(?:\|[^|]*\|)?(?=\s)")
_MERMAID_STATEMENTS = ("style ", "classDef ", "class ", "linkStyle ", "subgraph ", "click ", "title", "%%")


def mermaid_edges(text: str) -> int:
    """How many edges a Mermaid flowchart draws (what Mermaid's ``maxEdges`` counts).

    >>> mermaid_edges('flowchart LR\\n  n0(["a --> b"]) \\n  n0 --> n1\\n  n1 -.-> n2\\n  n2 -->|"no gate"| n0\\n')
    3
    """
    count = 0
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped == "---" or stripped.startswith(_MERMAID_STATEMENTS):
            continue
        unquoted = re.sub(r'"[^"]*"', '""', f" {stripped} ")
        count += len(_MERMAID_LINK.findall(unquoted))
    return count


# ---- shapes and diagrams ---------------------------------------------------------------------

@dataclass
class Measured:
    """One measured command of the shapes or diagrams: what it is, its numbers, and what they mean."""

    name: str
    what: str
    timing: Timing
    floor: Timing | None = None
    output_target: str = ""
    verdicts: list[Verdict] = field(default_factory=list)

    def within(self, seconds: float, peak_mib: float) -> None:
        """Add the verdicts of time and memory (and of a run that did not finish)."""
        timing = self.timing
        if timing.stopped is not None:
            self.verdicts.append((False, f"{self.name}: {timing.stopped}"))
            return
        self.verdicts.append((timing.seconds < seconds,
                              f"{self.name}: {timing.seconds:.2f} s (target under {seconds:g} s)"))
        self.verdicts.append((timing.peak_mib < peak_mib,
                              f"{self.name}: peak {timing.peak_mib:.0f} MiB (target under {peak_mib:g} MiB)"))

    def check(self, met: bool, text: str) -> None:
        self.verdicts.append((met, f"{self.name}: {text}"))


def size(count: int) -> str:
    """A byte count for a table.

    >>> size(512), size(230_000), size(292_000_000)
    ('512 B', '225 KiB', '278.5 MiB')
    """
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KiB"
    return f"{count / 1024 / 1024:.1f} MiB"


def measure_shape(name: str, what: str, command: Sequence[str], folder: Path, settings: Settings,
                  codes: Sequence[int] = (0, 1)) -> Measured:
    """Time ``command`` against the floor of ``folder``, side by side."""
    work = settings.scratch / f"run-{name}"
    work.mkdir(exist_ok=True)
    timings = measure_side_by_side({"command": command, "floor": floor_command(folder)}, settings.repeat, work,
                                   settings.limits, settings.slow, codes)
    return Measured(name, what, timings["command"], timings["floor"])


def bench_shapes(settings: Settings) -> list[Measured]:
    """Each hostile shape, measured, with the verdicts of its targets."""
    scratch = settings.scratch
    measured = []

    fanout = scratch / "shape-fanout"
    if not fanout.exists():
        write_fanout(fanout)
    one = measure_shape("fanout", "2,000 generate steps on one loop: check -f json",
                        loopscan_command(fanout), fanout, settings)
    one.output_target = f"< {size(FANOUT_JSON_BYTES)}"
    one.within(SHAPE_SECONDS, SHAPE_PEAK_MIB)
    one.check(one.timing.output_bytes < FANOUT_JSON_BYTES,
              f"JSON {size(one.timing.output_bytes)} (target under {size(FANOUT_JSON_BYTES)})")
    findings = findings_of(one.timing.last)
    one.check(findings is not None and bool(findings) and {f["rule"] for f in findings} == {"LS303"},
              "the finding due, LS303 (undocumented loop) and nothing else"
              + ("" if findings is not None else ": output too large to read"))
    measured.append(one)

    shared = scratch / "shape-shared-uri"
    if not shared.exists():
        write_shared_uri(shared)
    one = measure_shape("shared-uri", "2,000 datasets that share one URI: check -f json",
                        loopscan_command(shared), shared, settings)
    one.within(SHAPE_SECONDS, SHAPE_PEAK_MIB)
    findings = findings_of(one.timing.last)
    one.check(findings == [] and one.timing.last.code == 0, "no finding, exit 0 (the files are clean)")
    measured.append(one)

    base, everything = scratch / f"blocks-{SHAPE_PIPELINES}", scratch / f"blocks-{SHAPE_PIPELINES}-everything"
    for folder in (base, everything):
        if not folder.exists():
            write_project(folder, SHAPE_PIPELINES)
    write_everything(everything)
    without = measure_shape("without-glob", f"{SHAPE_PIPELINES} pipelines: check -f json",
                            loopscan_command(base), base, settings)
    one = measure_shape("everything", "the same + one 18-line manifest of s3://**: check -f json",
                        loopscan_command(everything), everything, settings)
    allowed = EVERYTHING_FACTOR * without.timing.output_bytes
    one.output_target = f"< {EVERYTHING_FACTOR:g}x without"
    one.within(SHAPE_SECONDS, SHAPE_PEAK_MIB)
    one.check(one.timing.output_bytes <= allowed,
              f"JSON {size(one.timing.output_bytes)}, {one.timing.output_bytes / without.timing.output_bytes:.1f}x "
              f"the {size(without.timing.output_bytes)} without it (target at most {EVERYTHING_FACTOR:g}x)")
    findings = findings_of(one.timing.last)
    one.check(findings is not None and any(f["severity"] == "error" and involves(f, "lake-mirror") for f in findings),
              "an error finding that names lake-mirror, in its file or on its witness"
              + ("" if findings is not None else ": output too large to read"))
    measured += [without, one]

    long_loop = scratch / "shape-long-loop"
    if not long_loop.exists():
        write_long_loop(long_loop)
    one = measure_shape("long-loop", "one loop of 5,001 steps: check -f json", loopscan_command(long_loop),
                        long_loop, settings)
    one.within(SHAPE_SECONDS, SHAPE_PEAK_MIB)
    findings = findings_of(one.timing.last)
    one.check(findings is not None and any(f["rule"] == "LS301" for f in findings), "the finding due, LS301")
    measured.append(one)
    sarif = measure_shape("long-loop-sarif", "the same: check -f sarif",
                          loopscan("check", str(long_loop), "-f", "sarif", "--today", TODAY), long_loop, settings)
    sarif.output_target = "GitHub's limits"
    sarif.within(SHAPE_SECONDS, SHAPE_PEAK_MIB)
    document = read_json(sarif.timing.last)
    if document is None:
        sarif.check(False, "the SARIF could not be read")
    else:
        errors = sarif_schema_errors(document)
        sarif.check(not errors, "validates against the SARIF 2.1.0 schema" + (f": {errors}" if errors else ""))
        misses = github_sarif_misses(document, sarif.timing.last.output.read_bytes())
        sarif.check(not misses, "within GitHub's documented SARIF limits"
                    + (f": {'; '.join(misses)}" if misses else ""))
        results = document.get("runs", [{}])[0].get("results", [])
        sarif.check(any(result.get("ruleId") == "LS301" for result in results), "an LS301 result")
    measured.append(sarif)

    interlinked = scratch / f"interlinked-{SHAPE_PIPELINES}"
    if not interlinked.exists():
        write_project(interlinked, SHAPE_PIPELINES, interlinked=True)
    one = measure_shape("loops-table", f"{SHAPE_PIPELINES} interlinked pipelines: loops",
                        loopscan("loops", str(interlinked), "--today", TODAY), interlinked, settings)
    one.output_target = f"< {LOOPS_TABLE_BYTES / 1e6:g} MB"
    one.within(SHAPE_SECONDS, SHAPE_PEAK_MIB)
    one.check(one.timing.output_bytes < LOOPS_TABLE_BYTES,
              f"{one.timing.output_bytes:,} bytes (target under {LOOPS_TABLE_BYTES:,})")
    measured.append(one)
    return measured


def has_option(command: str, option: str) -> bool:
    """Whether ``loopscan COMMAND --help`` lists ``option``."""
    completed = subprocess.run(loopscan(command, "--help"), capture_output=True, text=True, cwd=REPO,
                               env={**installed_environment(), "COLUMNS": "200"})
    return option in completed.stdout


def bench_diagrams(settings: Settings) -> list[Measured]:
    """Mermaid diagrams against Mermaid's defaults, and the SVG overview of the interlinked organisation."""
    measured = []
    projects = {
        "blocks-20": lambda folder: write_project(folder, 20),
        "interlinked-20": lambda folder: write_project(folder, 20, interlinked=True),
        f"interlinked-{SHAPE_PIPELINES}": lambda folder: write_project(folder, SHAPE_PIPELINES, interlinked=True),
    }
    once = Settings(1, settings.scratch, settings.limits, settings.slow)
    for name, write in projects.items():
        folder = settings.scratch / name
        if not folder.exists():
            write(folder)
        one = measure_shape(f"mermaid {name}", f"{name.replace('-', ' ')} pipelines: graph -f mermaid",
                            loopscan("graph", str(folder), "-f", "mermaid"), folder, once, codes=(0, 1, 2))
        one.output_target = f"{MERMAID_MAX_TEXT:,} chars, {MERMAID_MAX_EDGES} edges, or says so"
        if one.timing.stopped is not None:
            one.check(False, one.timing.stopped)
        else:
            text = one.timing.last.output.read_text(encoding="utf-8", errors="replace")
            edges, stderr = mermaid_edges(text), one.timing.last.stderr.strip()
            # An empty diagram is a refusal, not a diagram within the limits: it counts only if stderr says why.
            within = bool(text) and len(text) <= MERMAID_MAX_TEXT and edges <= MERMAID_MAX_EDGES
            said = bool(stderr) and "Traceback" not in stderr
            one.what += f" ({len(text):,} chars, {edges:,} edges)" if text else " (refused)"
            one.check(within or said, f"{len(text):,} characters and {edges:,} edges "
                                      f"(Mermaid's defaults {MERMAID_MAX_TEXT:,} and {MERMAID_MAX_EDGES}); "
                      + ("within them" if within else f"stderr: {stderr.splitlines()[0][:160]!r}" if said
                         else "over them and nothing said on stderr"))
        measured.append(one)

    folder = settings.scratch / f"interlinked-{SHAPE_PIPELINES}"
    if not has_option("graph", "--overview"):
        skipped = Measured("svg overview", f"{SHAPE_PIPELINES} interlinked pipelines: graph --overview -f svg",
                           Timing(0.0, 0.0, (), Run(0.0, 0.0, 0, settings.scratch / "none", 0, "")),
                           output_target=f"< {SVG_SECONDS:g} s")
        skipped.check(False, "not measured: this loopscan's graph command has no --overview option")
        return [*measured, skipped]
    svg = settings.scratch / "overview.svg"
    svg.unlink(missing_ok=True)  # a kept scratch folder must not pass off an old drawing as this run's
    limits = Limits(max(SVG_SECONDS * 4, 60.0), settings.limits.memory, settings.limits.output)
    command = loopscan("graph", str(folder), "--overview", "-f", "svg", "-o", str(svg))
    run = run_once(command, settings.scratch / "overview.out", limits)
    if svg.exists():  # -o writes the diagram to its file, so its size is the output, not stdout's
        run = replace(run, output=svg, output_bytes=svg.stat().st_size)
    one = Measured("svg overview", f"{SHAPE_PIPELINES} interlinked pipelines: graph --overview -f svg",
                   Timing(run.seconds, run.peak_mib, (run.seconds,), run, run.stopped(limits, (0,))))
    one.output_target = f"< {SVG_SECONDS:g} s"
    if one.timing.stopped is not None:
        one.check(False, one.timing.stopped)
    else:
        drawn = svg.exists() and "<svg" in svg.read_text(encoding="utf-8", errors="replace")[:10_000]
        one.check(drawn and run.seconds < SVG_SECONDS,
                  f"{run.seconds:.1f} s (target under {SVG_SECONDS:g} s)" + ("" if drawn else ", but no SVG written"))
    return [*measured, one]


# ---- the report ------------------------------------------------------------------------------

def machine() -> str:
    """``nproc``, memory, CPU model and Python version, as the README quotes them."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total_kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {total_kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}){memory}, Python {platform.python_version()}, {platform.system()}"


def _seconds(timing: Timing) -> str:
    return f"{timing.seconds:.2f}" if timing.stopped is None else f"{timing.seconds:.0f}+ ({timing.stopped})"


def table(rows: list[Row], with_output: bool = False) -> str:
    """The results as a Markdown table (with the size of the JSON report when ``with_output``)."""
    extra = " JSON |" if with_output else ""
    lines = ["| nodes (target) | files | nodes | edges | loopscan s | floor s | ratio | loopscan peak MiB "
             f"| floor peak MiB |{extra}",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if with_output else "")]
    for row in rows:
        done = row.loopscan.stopped is None
        output = f" {size(row.loopscan.output_bytes) if done else 'none'} |" if with_output else ""
        ratio = f"{row.ratio:.2f}x" if done else f"over {row.ratio:.0f}x"
        lines.append(f"| {row.nodes_asked:,} | {row.files:,} | {row.nodes:,} | {row.edges:,} | "
                     f"{_seconds(row.loopscan)} | {row.floor.seconds:.2f} | {ratio} | "
                     f"{row.loopscan.peak_mib:.0f} | {row.floor.peak_mib:.0f} |{output}")
    return "\n".join(lines)


def shapes_table(measured: list[Measured]) -> str:
    """The shapes and diagrams as a Markdown table."""
    lines = ["| shape | command | s | floor s | peak MiB | output | target |", "|---|---|---:|---:|---:|---:|---|"]
    for one in measured:
        timing = one.timing
        if not timing.runs:
            lines.append(f"| {one.name} | {one.what} | not run | | | | {one.output_target} |")
            continue
        floor = f"{one.floor.seconds:.2f}" if one.floor is not None else ""
        output = size(timing.output_bytes)
        lines.append(f"| {one.name} | {one.what} | {_seconds(timing)} | {floor} | {timing.peak_mib:.0f} | "
                     f"{output} | {one.output_target} |")
    return "\n".join(lines)


def scaling_verdicts(rows: list[Row], label: str, json_target: float | None = None) -> list[Verdict]:
    """The targets of one series of project sizes: ratio to the floor, growth, peak memory, JSON size."""
    found: list[Verdict] = []
    largest = rows[-1]
    at = f"{label} at {largest.nodes:,} nodes"
    if largest.loopscan.stopped is not None:
        found.append((False, f"{at}: loopscan {largest.loopscan.stopped}, over {largest.ratio:.0f}x the floor "
                             f"(target at most {MAX_FLOOR_RATIO:g}x)"))
    else:
        found.append((largest.ratio <= MAX_FLOOR_RATIO,
                      f"{at}: {largest.ratio:.3f}x the floor (target at most {MAX_FLOOR_RATIO:g}x)"))
    for smaller, larger in pairwise(rows):
        growth = larger.loopscan.seconds / smaller.loopscan.seconds
        scale = larger.nodes / smaller.nodes
        allowed = MAX_GROWTH * scale / 10
        bound = "" if larger.loopscan.stopped is None else "at least "
        found.append((growth <= allowed and not bound,
                      f"{label}: {scale:.1f}x the nodes ({smaller.nodes:,} -> {larger.nodes:,}) took "
                      f"{bound}{growth:.2f}x the time (target at most {allowed:.1f}x)"))
    peak = max(row.loopscan.peak_mib for row in rows)
    found.append((peak <= MAX_PEAK_MIB, f"{label}: peak memory {peak:.0f} MiB (target at most {MAX_PEAK_MIB:.0f} MiB)"))
    if json_target is not None and largest.loopscan.stopped is not None:
        found.append((False, f"{at}: no whole JSON report (target at most {json_target:g} MiB)"))
    elif json_target is not None:
        output = largest.loopscan.output_bytes / 1024 / 1024
        found.append((output <= json_target, f"{at}: JSON {output:,.1f} MiB (target at most {json_target:g} MiB)"))
    if largest.nodes_asked < SIZES[-1]:
        found.append((None, f"{label}: measured up to {largest.nodes_asked:,} nodes only; the targets are set "
                            f"at {SIZES[-1]:,}"))
    return found


def latency_verdicts(latency: dict[str, Timing] | None) -> list[Verdict]:
    if latency is None:
        return [(False, "check-jsonschema is not installed: latency not measured (pip install check-jsonschema)")]
    ours, theirs = latency["loopscan"].seconds, latency["check-jsonschema"].seconds
    return [(ours <= theirs, f"examples/pipelines: loopscan check {ours:.3f} s, check-jsonschema "
                             f"{theirs:.3f} s (medians; target at or below)")]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark loopscan against the parsing floor.")
    parser.add_argument("--sizes", type=int, nargs="+", help="graph nodes, about (default 1k, 10k and 100k)")
    parser.add_argument("--quick", action="store_true",
                        help="sizes of 1k and 10k nodes only, 3 repeats, 5 latency repeats: a few minutes")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to measure")
    parser.add_argument("--repeat", type=int, help="timed runs of each command per size (default 5; 3 quick)")
    parser.add_argument("--latency-repeat", type=int, help="timed runs of each latency command (default 15)")
    parser.add_argument("--keep", type=Path, help="generate the projects here and keep them (reused if there)")
    parser.add_argument("--ring", type=int, metavar="NODES",
                        help="also time the stress case: one loop through every manifest of a project this big "
                             "(reported apart; no target)")
    parser.add_argument("--timeout", type=float, default=600.0, help="stop any one run after this many seconds")
    parser.add_argument("--memory-gib", type=float, default=8.0, help="address space each run may use")
    parser.add_argument("--slow", type=float, default=20.0,
                        help="a command whose warm-up takes longer than this many seconds is timed by it alone")
    args = parser.parse_args(argv)
    sizes = sorted(args.sizes or (QUICK_SIZES if args.quick else SIZES))
    repeat = args.repeat or (3 if args.quick else 5)
    latency_repeat = args.latency_repeat or (5 if args.quick else 15)
    limits = Limits(args.timeout, int(args.memory_gib * 1024 ** 3))

    print(machine())
    results: list[Verdict] = []
    with tempfile.TemporaryDirectory(prefix="loopscan-bench-") as temporary:
        scratch = args.keep or Path(temporary)
        scratch.mkdir(parents=True, exist_ok=True)
        settings = Settings(repeat, scratch, limits, args.slow)
        for part, kind, label, json_target in (("blocks", "project", "blocks", None),
                                               ("interlinked", "interlinked", "interlinked", MAX_JSON_MIB)):
            if part not in args.parts:
                continue
            rows = []
            for nodes in sizes:
                rows.append(bench_size(nodes, settings, kind))
                print(f"  {label} {nodes:,} nodes: loopscan {_seconds(rows[-1].loopscan)} s, "
                      f"floor {rows[-1].floor.seconds:.2f} s", file=sys.stderr)
            print(f"\n{label.capitalize()}: `loopscan check --format json` against the floor\n")
            print(table(rows, with_output=json_target is not None))
            results += scaling_verdicts(rows, label, json_target)
        if args.ring:
            ring = bench_size(args.ring, settings, "ring")
            print(f"\nStress case, one strongly connected component through all {ring.files:,} manifests "
                  f"({ring.nodes:,} nodes, every generate step on it, no loop documented):\n")
            print(table([ring], with_output=True))
        if "latency" in args.parts:
            results += latency_verdicts(bench_latency(latency_repeat, scratch, limits))
        measured = []
        if "shapes" in args.parts:
            measured += bench_shapes(settings)
        if "diagrams" in args.parts:
            measured += bench_diagrams(settings)
        if measured:
            print("\nHostile shapes, big outputs and diagrams\n")
            print(shapes_table(measured))
            results += [verdict for one in measured for verdict in one.verdicts]
    print()
    for met, text in results:
        print(f"{'note  ' if met is None else 'met   ' if met else 'MISSED'}  {text}")
    not_run = [part for part in PARTS if part not in args.parts]
    if not_run:
        print(f"not run: {', '.join(not_run)}")
    return 0 if all(met is not False for met, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
