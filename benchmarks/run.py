"""Benchmark loopscan against the parsing floor, and against check-jsonschema on the examples.

``python benchmarks/run.py`` generates projects of about 1k, 10k and 100k
graph nodes (:mod:`generate`), then, for each, times ``loopscan check
--format json`` and the floor (:mod:`floor`: parse with libyaml keeping line
marks, build a networkx graph, one SCC pass) as fresh processes, side by side
and in turns, and prints a table of files, nodes, edges, median wall seconds,
peak MiB and the ratio to the floor. Then it checks the targets: at most 2x
the floor at the largest size, at most 12x the time for 10x the nodes, peak
under 1.5 GiB, and a median ``loopscan check examples/pipelines`` at or below
``check-jsonschema --schemafile schemas/pipeline.schema.json`` on the same
files (when check-jsonschema is installed).

Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from generate import TODAY, pipelines_for, write_project  # noqa: E402

SIZES = (1_000, 10_000, 100_000)
MAX_FLOOR_RATIO = 2.0
MAX_GROWTH = 12.0
MAX_PEAK_MIB = 1536.0


@dataclass(frozen=True)
class Timing:
    """The median wall time of several runs of one command, and the highest peak memory of any run."""

    seconds: float
    peak_mib: float
    runs: tuple[float, ...]


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


def installed_environment() -> dict[str, str]:
    """The environment, but with bytecode written: an installed tool runs from compiled bytecode."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run_once(command: Sequence[str], output: Path) -> tuple[float, float]:
    """Run ``command`` in a fresh process; its wall seconds and peak resident MiB (its own, from wait4)."""
    with open(output, "wb") as stream:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=stream, stderr=subprocess.PIPE, cwd=REPO,
                                   env=installed_environment())
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    if process.returncode not in (0, 1):  # loopscan exits 1 when it finds something, as it should here
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: {stderr}")
    return seconds, usage.ru_maxrss / 1024


def measure_side_by_side(commands: dict[str, Sequence[str]], repeat: int, scratch: Path) -> dict[str, Timing]:
    """Run each command ``repeat`` times, in turns (so that a noisy moment hits all of them alike)."""
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for name, command in commands.items():  # one warm-up each: page cache and bytecode are warm after it
        run_once(command, scratch / f"{name}.out")
    for _ in range(repeat):
        for name, command in commands.items():
            runs[name].append(run_once(command, scratch / f"{name}.out"))
    return {name: Timing(statistics.median(s for s, _ in found), max(m for _, m in found),
                         tuple(s for s, _ in found))
            for name, found in runs.items()}


def loopscan_command(folder: Path) -> list[str]:
    return [sys.executable, "-m", "loopscan", "check", str(folder), "--format", "json", "--today", TODAY]


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

    Counted in a child process: a parent that grew would be counted in the peak
    memory of the children it starts afterwards.
    """
    completed = subprocess.run([sys.executable, "-c", GRAPH_SIZE, str(folder), TODAY], capture_output=True,
                               text=True, check=True, cwd=REPO)
    files, nodes, edges = (int(word) for word in completed.stdout.split())
    return files, nodes, edges


def bench_size(nodes: int, repeat: int, scratch: Path, ring: bool = False) -> Row:
    """Generate a project of about ``nodes`` graph nodes (one ring through every manifest with ``ring``) and time it."""
    folder = scratch / f"{'ring' if ring else 'project'}-{nodes}"
    write_project(folder, pipelines_for(nodes), ring=ring)
    timings = measure_side_by_side({"loopscan": loopscan_command(folder), "floor": floor_command(folder)},
                                   repeat, scratch)
    files, graph_nodes, edges = graph_size(folder)
    return Row(nodes, files, graph_nodes, edges, timings["loopscan"], timings["floor"])


def bench_latency(repeat: int, scratch: Path) -> dict[str, Timing] | None:
    """``loopscan check examples/pipelines`` against check-jsonschema on the same files, side by side."""
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which(
        "check-jsonschema")
    if checker is None:
        return None
    files = sorted(str(path.relative_to(REPO)) for path in (REPO / "examples" / "pipelines").rglob("*.yaml"))
    script = shutil.which("loopscan", path=str(Path(sys.executable).parent))
    commands = {
        "loopscan": [*([script] if script else [sys.executable, "-m", "loopscan"]), "check", "examples/pipelines"],
        "check-jsonschema": [checker, "--schemafile", "schemas/pipeline.schema.json", *files],
    }
    return measure_side_by_side(commands, repeat, scratch)


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


def table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    lines = ["| nodes (target) | files | nodes | edges | loopscan s | floor s | ratio | loopscan peak MiB "
             "| floor peak MiB |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row.nodes_asked:,} | {row.files:,} | {row.nodes:,} | {row.edges:,} | "
                     f"{row.loopscan.seconds:.2f} | {row.floor.seconds:.2f} | {row.ratio:.2f}x | "
                     f"{row.loopscan.peak_mib:.0f} | {row.floor.peak_mib:.0f} |")
    return "\n".join(lines)


def verdicts(rows: list[Row], latency: dict[str, Timing] | None) -> list[tuple[bool, str]]:
    """Each target, met or not, in words."""
    found = []
    largest = rows[-1]
    found.append((largest.ratio <= MAX_FLOOR_RATIO,
                  f"{largest.nodes:,} nodes: {largest.ratio:.2f}x the floor (target at most {MAX_FLOOR_RATIO:g}x)"))
    for smaller, larger in pairwise(rows):
        growth = larger.loopscan.seconds / smaller.loopscan.seconds
        scale = larger.nodes / smaller.nodes
        allowed = MAX_GROWTH * scale / 10
        found.append((growth <= allowed, f"{scale:.1f}x the nodes ({smaller.nodes:,} -> {larger.nodes:,}) took "
                                         f"{growth:.2f}x the time (target at most {allowed:.1f}x)"))
    peak = max(row.loopscan.peak_mib for row in rows)
    found.append((peak < MAX_PEAK_MIB, f"peak memory {peak:.0f} MiB (target under {MAX_PEAK_MIB:.0f} MiB)"))
    if latency is None:
        found.append((False, "check-jsonschema is not installed: latency not measured "
                             "(pip install check-jsonschema)"))
    else:
        ours, theirs = latency["loopscan"].seconds, latency["check-jsonschema"].seconds
        found.append((ours <= theirs, f"examples/pipelines: loopscan check {ours:.3f} s, check-jsonschema "
                                      f"{theirs:.3f} s (medians; target at or below)"))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark loopscan against the parsing floor.")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="graph nodes, about")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each command per size")
    parser.add_argument("--latency-repeat", type=int, default=15, help="timed runs of each latency command")
    parser.add_argument("--keep", type=Path, help="generate the projects here and keep them")
    parser.add_argument("--ring", type=int, metavar="NODES",
                        help="also time the stress case: one loop through every manifest of a project this big "
                             "(reported apart; no target)")
    args = parser.parse_args()

    print(machine())
    with tempfile.TemporaryDirectory(prefix="loopscan-bench-") as temporary:
        scratch = args.keep or Path(temporary)
        scratch.mkdir(parents=True, exist_ok=True)
        rows = []
        for nodes in sorted(args.sizes):
            rows.append(bench_size(nodes, args.repeat, scratch))
            print(f"  {nodes:,} nodes: loopscan {rows[-1].loopscan.seconds:.2f} s, "
                  f"floor {rows[-1].floor.seconds:.2f} s", file=sys.stderr)
        ring = bench_size(args.ring, args.repeat, scratch, ring=True) if args.ring else None
        latency = bench_latency(args.latency_repeat, scratch)
    print()
    print(table(rows))
    print()
    if ring is not None:
        print(f"Stress case, one strongly connected component through all {ring.files:,} manifests "
              f"({ring.nodes:,} nodes, every generate step on it, no loop documented):")
        print(table([ring]))
        print()
    results = verdicts(rows, latency)
    for met, text in results:
        print(f"{'met ' if met else 'MISSED'}  {text}")
    return 0 if all(met for met, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
