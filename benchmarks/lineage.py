"""Benchmark: reading one million OpenLineage run events, against the time to ``json.loads`` the same lines.

``python benchmarks/lineage.py [--events N] [--jobs J] [--folder DIR]`` writes
N events (half START, half COMPLETE, about 1 KB each, as the Python client's
file transport writes them: one per line) of J jobs into ``DIR/events.jsonl``,
then measures in the same run, each in a fresh process:

* the floor: read the file line by line and ``json.loads`` every line,
  nothing else;
* loopscan: :func:`loopscan.sources.lineage.read_lineage` on the same file
  (every event checked against the OpenLineage schema, datasets named by the
  naming spec, runs merged), and ``loopscan check --lineage`` on it with a
  manifest that ties one job.

Each is given as wall and CPU seconds and peak memory (the process's maximum
resident set size), and loopscan's CPU time as a multiple of the floor's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
FLOOR = """
import json, sys
count = 0
with open(sys.argv[1], "rb") as stream:
    for line in stream:
        json.loads(line)
        count += 1
print(count)
"""
WRAPPER = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], check=False)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}", end="")
sys.exit(done.returncode)
"""
LOOPSCAN = """
import sys
from loopscan.sources.lineage import read_lineage
lineage = read_lineage([sys.argv[1]])
print(lineage.events, len(lineage.jobs), len(lineage.runs), len(lineage.datasets), len(lineage.problems))
"""


def event(job: int, run: str, state: str, jobs: int) -> str:
    """One run event of job ``job``: it reads two datasets and writes one, with schema and statistics facets."""
    facets_url = "https://openlineage.io/spec/facets/1-1-1/"
    schema = {"_producer": PRODUCER, "_schemaURL": facets_url + "SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
              "fields": [{"name": name, "type": kind} for name, kind in
                         (("id", "BIGINT"), ("text", "STRING"), ("score", "DOUBLE"))]}
    inputs = [{"namespace": "s3://lake", "name": f"stage-{(job + offset) % jobs}/part/",
               "facets": {"schema": schema} if offset == 0 else {},
               "inputFacets": {"inputStatistics": {
                   "_producer": PRODUCER, "rowCount": 1000 + job, "size": 65536,
                   "_schemaURL": facets_url + "InputStatisticsInputDatasetFacet.json"}} if state == "COMPLETE" else {}}
              for offset in (0, 7)]
    outputs = [{"namespace": "s3://lake", "name": f"stage-{(job + 1) % jobs}/part/", "facets": {}, "outputFacets": {}}]
    return json.dumps({
        "eventTime": f"2026-03-01T10:{'00' if state == 'START' else '30'}:00.000Z", "eventType": state,
        "inputs": inputs, "job": {"facets": {}, "name": f"etl.task_{job}", "namespace": f"team-{job % 100}"},
        "outputs": outputs, "producer": PRODUCER,
        "run": {"facets": {}, "runId": run},
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    }, sort_keys=True)


def generate(path: Path, events: int, jobs: int) -> int:
    """Write ``events`` events (START then COMPLETE of ``events // 2`` runs) and return the file's size."""
    with path.open("w", encoding="utf-8") as stream:
        for index in range(events // 2):
            run = str(uuid.UUID(int=index + 1, version=4))
            job = index % jobs
            stream.write(event(job, run, "START", jobs) + "\n")
            stream.write(event(job, run, "COMPLETE", jobs) + "\n")
    return path.stat().st_size


def measure(args: list[str]) -> tuple[float, float, int, str]:
    """Run ``args`` in a fresh process: its wall time, its CPU time, its peak resident memory in bytes, and what
    it printed.

    A wrapper process runs it, so that the peak its ``RUSAGE_CHILDREN`` reports is this run's alone. The CPU
    time (user and system) is what the ratio is taken of: on a machine shared with other work it is the
    measure that the others' load does not inflate.
    """
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    output, _, usage = done.stdout.rpartition("\n")
    cpu, _, peak = usage.partition(" ")
    if done.returncode not in (0, 1) or not peak.isdigit():
        raise SystemExit(f"{args[:3]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, float(cpu), int(peak) * 1024, output.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/loopscan-lineage-bench"))
    options = parser.parse_args()
    options.folder.mkdir(parents=True, exist_ok=True)
    events = options.folder / "events.jsonl"
    size = generate(events, options.events, options.jobs)
    manifest = options.folder / "project" / "etl.yaml"
    manifest.parent.mkdir(exist_ok=True)
    manifest.write_text('loopscan: 1\npipeline: etl\nowner: data\ndatasets:\n  part: {uri: "s3://lake/stage-1/part/", '
                        'provenance: human}\nsteps:\n  task:\n    kind: transform\n    job: team-0/etl.task_0\n'
                        '    outputs: [part]\n', "utf-8")
    print(f"{options.events:,} events of {options.jobs:,} jobs, {size / 2**30:.2f} GiB of NDJSON")
    floor = measure([sys.executable, "-c", FLOOR, str(events)])
    read = measure([sys.executable, "-c", LOOPSCAN, str(events)])
    check = measure([sys.executable, "-m", "loopscan", "check", str(manifest.parent), "--lineage", str(events),
                     "--select", "LS7", "-q"])
    print(f"{'':34} {'wall s':>8} {'CPU s':>8} {'x floor':>8} {'peak MiB':>9}")
    for name, (seconds, cpu, peak, _) in (("json.loads of every line (floor)", floor),
                                          ("loopscan read_lineage", read), ("loopscan check --lineage", check)):
        print(f"{name:34} {seconds:8.1f} {cpu:8.1f} {cpu / floor[1]:8.2f} {peak / 2**20:9.0f}")
    print(f"read: {read[3]} (events, jobs, runs, datasets, problems)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
