"""Observed lineage at scale: events are streamed, in time a small multiple of ``json.loads`` and in memory that
grows with the runs, not with the file (benchmarks/lineage.py measures a million events)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_performance import benchmark_module, medians_side_by_side

MAX_FLOOR_RATIO = 5.0
"""A guard against regressions, with room for a busy machine: about 2.5x when measured. benchmarks/lineage.py
measures the ratio at a million events (README)."""


def test_reading_events_takes_a_small_multiple_of_json_loads_of_the_same_lines(tmp_path: Path) -> None:
    bench = benchmark_module("lineage")
    events = tmp_path / "events.jsonl"
    bench.generate(events, 20_000, 2_000)
    commands = {"loopscan": [sys.executable, "-c", bench.LOOPSCAN, str(events)],
                "floor": [sys.executable, "-c", bench.FLOOR, str(events)]}
    done = subprocess.run(commands["loopscan"], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["20000", "2000", "10000", "2000", "0"]  # events, jobs, runs, datasets, problems
    medians = medians_side_by_side(commands, repeat=3)
    ratio = medians["loopscan"] / medians["floor"]
    assert ratio <= MAX_FLOOR_RATIO, f"{medians}: {ratio:.2f}x the floor"


def test_memory_grows_by_less_than_the_bytes_read(tmp_path: Path) -> None:
    """The file is streamed: what is kept per run (its jobs, datasets, row counts and evidence) is less than
    the events it came from, where holding the lines, or their parsed objects, would be several times more."""
    bench = benchmark_module("lineage")
    peaks = {}
    sizes = {}
    for count in (5_000, 40_000):
        events = tmp_path / f"events-{count}.jsonl"
        sizes[count] = bench.generate(events, count, 1_000)
        peaks[count] = bench.measure([sys.executable, "-c", bench.LOOPSCAN, str(events)])[2]
    growth = peaks[40_000] - peaks[5_000]
    read = sizes[40_000] - sizes[5_000]
    assert growth < read * 0.8, f"{growth:,} bytes more memory for {read:,} more bytes of events"


def test_a_progress_line_goes_to_stderr_when_it_is_a_terminal(tmp_path: Path) -> None:
    import os
    import pty

    bench = benchmark_module("lineage")
    events = tmp_path / "events.jsonl"
    bench.generate(events, 20_000, 100)
    command = [sys.executable, "-m", "loopscan", "check", str(tmp_path), "--lineage", str(events), "-q"]
    leader, follower = pty.openpty()
    done = subprocess.run(command, stderr=follower, stdout=subprocess.PIPE, text=True, check=False)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal is closed once everything written to it is read
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert done.returncode == 0, shown
    assert b"\rreading lineage: 10,000 events\rreading lineage: 20,000 events\r\x1b[K" in shown
    piped = subprocess.run(command, capture_output=True, text=True, check=False)
    assert piped.stderr == ""  # not a terminal: no progress line
