"""Performance guards: ratios measured in the same test, never absolute times (the machines are noisy).

* a generated project of 10,000 nodes is checked in at most 4x the time of its
  own floor (parse with libyaml keeping marks, a networkx graph, one SCC pass);
* the examples are checked at least as fast as check-jsonschema validates them;
* ``--version``, ``--help``, ``rules`` and ``explain`` import neither networkx,
  jsonschema nor graphviz, and a check of valid manifests imports neither networkx
  nor jsonschema;
* the fast JSON writer is byte-identical to ``json.dumps(indent=2)``, and so
  are the outputs of a generated project whatever the fast paths.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopscan.render.json import dumps
from tests.conftest import EXAMPLES, REPO

BENCHMARKS = REPO / "benchmarks"
GUARD_NODES = 10_000
MAX_FLOOR_RATIO = 4.0


def benchmark_module(name: str) -> ModuleType:
    """``benchmarks/<name>.py``, imported by path (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"loopscan_benchmarks_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def installed_environment() -> dict[str, str]:
    """The environment, but with bytecode written: an installed tool runs from compiled bytecode."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def wall_time(command: Sequence[str]) -> float:
    """Seconds a fresh process takes to run ``command`` (exit 0 or 1: findings are expected)."""
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=installed_environment())
    seconds = time.perf_counter() - start
    assert completed.returncode in (0, 1), completed.stderr
    return seconds


def medians_side_by_side(commands: dict[str, Sequence[str]], repeat: int) -> dict[str, float]:
    """The median wall time of each command, run in turns so that a noisy moment hits all of them."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            times[name].append(wall_time(command))
    return {name: statistics.median(found) for name, found in times.items()}


def test_a_project_of_10k_nodes_takes_at_most_4x_its_floor(tmp_path: Path) -> None:
    generate = benchmark_module("generate")
    folder = tmp_path / "project"
    files = generate.write_project(folder, generate.pipelines_for(GUARD_NODES))
    assert len(files) == 200
    loopscan = [sys.executable, "-m", "loopscan", "check", str(folder), "--format", "json", "--today", generate.TODAY]
    floor = [sys.executable, str(BENCHMARKS / "floor.py"), str(folder)]
    medians_side_by_side({"loopscan": loopscan, "floor": floor}, repeat=1)  # bytecode and page cache, for both
    medians = medians_side_by_side({"loopscan": loopscan, "floor": floor}, repeat=3)
    ratio = medians["loopscan"] / medians["floor"]
    assert ratio <= MAX_FLOOR_RATIO, f"{medians}: {ratio:.2f}x the floor"


def test_the_examples_are_checked_no_slower_than_check_jsonschema_validates_them() -> None:
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which(
        "check-jsonschema")
    if checker is None:
        pytest.skip("check-jsonschema is not installed (pip install check-jsonschema)")
    loopscan = shutil.which("loopscan", path=str(Path(sys.executable).parent))
    files = sorted(str(path) for path in EXAMPLES.rglob("*.yaml"))
    commands = {
        "loopscan": [loopscan] if loopscan else [sys.executable, "-m", "loopscan"],
        "check-jsonschema": [checker, "--schemafile", str(REPO / "schemas" / "pipeline.schema.json"), *files],
    }
    commands["loopscan"] = [*commands["loopscan"], "check", str(EXAMPLES)]
    medians_side_by_side(commands, repeat=1)  # warm the page cache and the bytecode for both
    medians = medians_side_by_side(commands, repeat=7)
    assert medians["loopscan"] <= medians["check-jsonschema"], medians


HEAVY = ("networkx", "jsonschema", "graphviz")


def imported_by(args: list[str]) -> list[str]:
    """Which of the heavy libraries a fresh interpreter has imported after running the CLI with ``args``."""
    script = (
        "import sys\n"
        "from loopscan.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.splitlines()[-1].replace("'", '"'))


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["rules"], ["explain", "LS301"], ["check", "--help"]],
                         ids=" ".join)
def test_start_up_imports_no_heavy_library(args: list[str]) -> None:
    assert imported_by(args) == []


def test_checking_valid_manifests_imports_neither_networkx_nor_jsonschema() -> None:
    assert imported_by(["check", str(EXAMPLES), "--format", "json"]) == []


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(st.text(max_size=3), max_size=4),
        st.dictionaries(st.text(max_size=4), inner, max_size=4),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_dumps_writes_what_json_dumps_writes(value: Any) -> None:
    assert dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


@settings(max_examples=300, deadline=None)
@given(json_values, st.integers(0, 3))
def test_dumps_one_line_from_a_depth_reads_back_the_same_and_puts_each_deep_value_on_one_line(
        value: Any, depth: int) -> None:
    text = dumps(value, one_line_from=depth)
    assert json.loads(text) == json.loads(json.dumps(value))
    assert len(text.splitlines()) <= len(dumps(value).splitlines())
    if depth == 0:
        assert text == json.dumps(value, ensure_ascii=False)


def test_dumps_encodes_a_repeated_list_once_and_the_same_way() -> None:
    shared = [f"p:{n}" for n in range(50)]
    document = {"loops": [{"nodes": shared}, {"nodes": list(shared)}], "other": [shared, (1, "a")]}
    assert dumps(document) == json.dumps(document, indent=2, ensure_ascii=False)


def test_the_provenance_bit_sets_join_as_the_lattice_does() -> None:
    from loopscan.analysis.provenance import _BITS, _LABELS, classified, join

    labels = [None, "human", "ai", "mixed", "unknown"]
    for a in labels:
        assert _LABELS[_BITS[a]] == a
        assert _LABELS[3 if _BITS[a] == 7 else _BITS[a]] == classified(a)
        for b in labels:
            assert _LABELS[_BITS[a] | _BITS[b]] == join(a, b), (a, b)
