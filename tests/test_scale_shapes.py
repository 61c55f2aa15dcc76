"""Hostile shapes of an organisation at scale: every output stays linear, in little memory, with the finding due.

Each shape comes from ``benchmarks/generate.py`` and is checked by the real
CLI in a fresh process, measured by a small parent of its own (the peak is the
child's own ``ru_maxrss``), under a time, address-space and output limit so
that a regression fails the test instead of filling the machine:

* 2,000 generate steps on one loop: one loop record, a JSON report under 2 MiB;
* 2,000 datasets that share one URI: no finding, under 500 MiB;
* an 18-line manifest that reads and writes ``s3://**``, added to 400
  pipelines: the report stays within a small factor of the one without it;
* ``loopscan loops`` on 400 interlinked pipelines: one row per loop, under 1 MB;
* one loop of 5,001 steps: SARIF that validates and fits GitHub's limits.

Time is only ever compared with the floor (``benchmarks/floor.py``) on the
same files in the same test, never with a number of seconds.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TODAY, line_of, sarif_errors
from tests.test_performance import benchmark_module

generate = benchmark_module("generate")
bench = benchmark_module("run")

PEAK_MIB = bench.SHAPE_PEAK_MIB
MAX_FLOOR_RATIO = 5.0
"""Each shape takes at most this many times its floor: far above a linear tool, far below a quadratic one."""
LIMITS = bench.Limits(seconds=30.0, memory=2 * 1024 ** 3, output=512 * 1024 ** 2)
loopscan = bench.loopscan


def measured(command: Sequence[str], folder: Path, tmp_path: Path, repeat: int = 3) -> Any:
    """``command`` and the floor of ``folder``, side by side: the command's timing, after checking the limits.

    It must have ended by itself with 0 or 1, with no traceback, under
    :data:`PEAK_MIB`, in at most :data:`MAX_FLOOR_RATIO` times the floor.
    """
    work = tmp_path / f"run-{len(list(tmp_path.glob('run-*')))}"
    work.mkdir()
    timings = bench.measure_side_by_side({"loopscan": command, "floor": bench.floor_command(folder)}, repeat, work,
                                         LIMITS, slow=LIMITS.seconds / 3)
    ours, floor = timings["loopscan"], timings["floor"]
    assert floor.stopped is None, floor.stopped
    assert ours.stopped is None, f"{ours.stopped}: {ours.last.stderr[-2000:]}"
    assert "Traceback" not in ours.last.stderr and "internal error" not in ours.last.stderr, ours.last.stderr
    assert ours.peak_mib < PEAK_MIB, f"peak {ours.peak_mib:.0f} MiB"
    ratio = ours.seconds / floor.seconds
    assert ratio <= MAX_FLOOR_RATIO, f"{ours.seconds:.2f} s, {ratio:.1f}x the floor's {floor.seconds:.2f} s"
    return ours


def parsed(timing: Any, limit: int) -> Any:
    """The JSON output of a run, once its size is known to be under ``limit`` bytes."""
    assert timing.output_bytes < limit, f"{timing.output_bytes:,} bytes (limit {limit:,})"
    return json.loads(timing.last.output.read_text(encoding="utf-8"))


def generate_steps(manifest: Path, pipeline: str) -> dict[str, int]:
    """Each ``kind: generate`` step of a flow-style manifest, as its node, with its line."""
    found = {}
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), start=1):
        if "{kind: generate" in line:
            found[f"{pipeline}:{line.split(':', 1)[0].strip()}"] = number
    return found


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    path = tmp_path / "scan"
    path.mkdir()
    return path


def test_2000_generate_steps_on_one_loop_are_one_loop_record_in_a_json_report_under_2_mib(
        scan: Path, tmp_path: Path) -> None:
    manifest = generate.write_fanout(scan)
    steps = generate_steps(manifest, "fanout")
    assert len(steps) == 2000

    run = measured(loopscan("check", str(scan), "-f", "json", "--today", TODAY), scan, tmp_path)
    assert run.last.code == 1
    document = parsed(run, bench.FANOUT_JSON_BYTES)

    [loop] = document["loops"]  # one strongly connected component: one record, however many generate steps
    assert set(steps) <= set(bench.strings_in(loop))
    findings = document["findings"]
    assert {finding["rule"] for finding in findings} == {"LS303"}, "the loop is gated, capped and monitored"
    assert len(findings) in (1, len(steps)), "once for the loop, or once for each of its generate steps"
    for finding in findings:
        assert (Path(finding["file"]).name, finding["column"]) == (manifest.name, 3), finding
        assert steps[finding["node"]] == finding["line"], finding
        assert finding["loop"] == loop["id"], "a finding names its loop"


def test_2000_datasets_that_share_one_uri_are_linked_without_a_finding_in_little_memory(
        scan: Path, tmp_path: Path) -> None:
    generate.write_shared_uri(scan)
    run = measured(loopscan("check", str(scan), "-f", "json", "--today", TODAY), scan, tmp_path)
    assert run.last.code == 0, run.last.stderr
    document = parsed(run, 1024 * 1024)
    assert document["findings"] == []
    assert document["summary"]["error"] == 0


def test_a_manifest_that_reads_and_writes_everything_keeps_the_report_of_400_pipelines_linear(
        tmp_path: Path) -> None:
    without, with_it = tmp_path / "without", tmp_path / "with"
    generate.write_project(without, bench.SHAPE_PIPELINES)
    shutil.copytree(without, with_it)
    mirror = generate.write_everything(with_it)
    assert len(mirror.read_text(encoding="utf-8").splitlines()) == 18

    base = measured(loopscan("check", str(without), "-f", "json", "--today", TODAY), without, tmp_path, repeat=1)
    run = measured(loopscan("check", str(with_it), "-f", "json", "--today", TODAY), with_it, tmp_path, repeat=1)
    factor = run.output_bytes / base.output_bytes
    assert factor <= bench.EVERYTHING_FACTOR, \
        f"{run.output_bytes:,} bytes with it, {base.output_bytes:,} without: {factor:.1f}x"
    findings = parsed(run, LIMITS.output)["findings"]
    due = [finding for finding in findings if finding["severity"] == "error" and bench.involves(finding, "lake-mirror")]
    assert due, "restoring every object into every dataset is a finding, in lake-mirror.yaml or through it"


def test_the_loops_table_of_400_interlinked_pipelines_is_one_row_per_loop_under_1_mb(
        scan: Path, tmp_path: Path) -> None:
    generate.write_project(scan, bench.SHAPE_PIPELINES, interlinked=True)
    standalone = sum(1 for pipeline in generate.plan_interlinked(bench.SHAPE_PIPELINES) if not pipeline.feeds)
    assert 0 < standalone < bench.SHAPE_PIPELINES / 10

    table = measured(loopscan("loops", str(scan), "--today", TODAY), scan, tmp_path, repeat=1)
    assert table.output_bytes < bench.LOOPS_TABLE_BYTES, f"{table.output_bytes:,} bytes"

    listing = measured(loopscan("loops", str(scan), "-f", "json", "--today", TODAY), scan, tmp_path, repeat=1)
    loops = parsed(listing, bench.LOOPS_TABLE_BYTES)["loops"]
    assert len(loops) == 1 + standalone, "the giant component, and the loop of each pipeline that stands alone"


def test_the_sarif_of_one_loop_of_5001_steps_validates_and_fits_githubs_limits(scan: Path, tmp_path: Path) -> None:
    manifest = generate.write_long_loop(scan)
    run = measured(loopscan("check", str(scan), "-f", "sarif", "--today", TODAY), scan, tmp_path)
    assert run.last.code == 1
    raw = run.last.output.read_bytes()
    document = json.loads(raw)
    errors = sarif_errors(document)
    assert not errors, errors[0]
    assert bench.github_sarif_misses(document, raw) == []

    results = document["runs"][0]["results"]
    assert [result["ruleId"] for result in results] == ["LS301"], "the loop is documented and capped, not gated"
    [result] = results
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": line_of(manifest, "  generate: {kind: generate"), "startColumn": 3}
    assert result["codeFlows"][0]["threadFlows"][0]["locations"], "the witness is there, bounded"
