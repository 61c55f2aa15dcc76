"""The same input gives byte-identical output, under any PYTHONHASHSEED and in any file-listing order.

The project mixes the examples (loops across manifests), broken and odd files,
overrides, a rule loaded with ``--rules-dir`` that reports its own module name,
and every command and format is compared: check (text, JSON, SARIF, JUnit,
GitHub), loops, overrides, graph (DOT, Mermaid), rules and explain.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ECHO_LOOP, EXAMPLES, TODAY, Run

COMMANDS: list[list[str]] = [
    *(["check", ".", "-f", output_format, "--today", TODAY, "--rules-dir", "rules"]
      for output_format in ("text", "json", "sarif", "junit", "github", "markdown")),
    ["check", ".", "-f", "text", "--today", TODAY, "--fail-on", "info", "--select", "LS3", "--select", "LS1"],
    ["loops", "."], ["loops", ".", "-f", "json"],
    ["overrides", ".", "--today", TODAY], ["overrides", ".", "-f", "json", "--today", TODAY],
    ["graph", "."], ["graph", ".", "-f", "mermaid"],
    ["rules", "--rules-dir", "rules"], ["explain", "LS301"],
]

NAMING_RULE = '''
from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule


@rule("ORDER001", "module-name", severity="info", play=0)
def module_name(project: Project):
    """Reports the name its module was loaded under."""
    for manifest in project.manifests:
        yield Problem(f"loaded as {__name__}", manifest.key_at("pipeline"), pipeline=manifest.pipeline)
'''

OVERRIDDEN = ECHO_LOOP + """
    overrides:
      - rule: LS301
        target: speak
        reason: Review queue rebuilt, OPS-77.
        approved_by: ana
        approved: 2026-11-01
        expires: 2026-12-15
      - rule: LS302
        target: nothing
        reason: stale
        approved_by: bo
        approved: 2026-01-01
        expires: 2026-02-01
    """


def files() -> dict[str, bytes]:
    """Every file of the project, by relative path."""
    tree = {f"pipelines/{path.relative_to(EXAMPLES)}": path.read_bytes() for path in sorted(EXAMPLES.rglob("*.yaml"))}
    tree |= {
        "team-b/echo.yaml": OVERRIDDEN.replace("\n    ", "\n").lstrip().encode(),
        "team-b/echo-copy.yaml": ECHO_LOOP.replace("\n    ", "\n").replace("echo", "echo2").lstrip().encode(),
        "team-b/broken.yaml": b"loopscan: 1\npipeline: [\n",
        "team-b/dup.yaml": b"loopscan: 1\npipeline: dup\nsteps:\n  a: {kind: gate}\n  a: {kind: gate}\n",
        "team-b/values.yaml": b"replicas: 3\n",
        "z/deep/deeper/latin.yaml": "loopscan: 1\ndescription: caf\u00e9\n".encode("latin-1"),
        "rules/naming.py": NAMING_RULE.encode(),
    }
    return tree


def write_tree(root: Path, tree: dict[str, bytes], order: list[str]) -> None:
    for name in order:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tree[name])


_DRIVER = """
import contextlib, io, json, sys
from loopscan.cli import main

outputs = []
for command in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(command)
        except SystemExit as exited:
            code = exited.code
    outputs.append([command, code, out.getvalue(), err.getvalue()])
print(json.dumps(outputs))
"""


def outputs_with_hash_seed(folder: Path, seed: str) -> list[Any]:
    environment = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(COMMANDS)], cwd=folder, env=environment,
                          capture_output=True, text=True, timeout=120, check=True)
    return list(json.loads(done.stdout))


def test_every_command_and_format_is_byte_identical_under_any_hash_seed(tmp_path: Path) -> None:
    tree = files()
    write_tree(tmp_path, tree, sorted(tree))
    first = outputs_with_hash_seed(tmp_path, "0")
    for command, code, out, err in first:
        assert code in (0, 1), (command, err)
        assert out, command
    by_rule = json.loads(first[1][2])
    assert {"LS001", "LS003", "LS004", "LS301", "ORDER001"} <= {f["rule"] for f in by_rule["findings"]}
    assert any("suppressed" in finding for finding in by_rule["findings"])
    assert by_rule["loops"], "the project must have loops for their order to be tested"
    for seed in ("1", "4242", "random"):
        assert outputs_with_hash_seed(tmp_path, seed) == first, f"PYTHONHASHSEED={seed}"


def run_all(run: Run) -> list[tuple[int, str, str]]:
    results = []
    for command in COMMANDS:
        result = run(*command)
        assert result.code in (0, 1), (command, result.err)
        results.append((result.code, result.out, result.err))
    return results


class _Listing:
    """What ``os.scandir`` returns, with its entries in another order."""

    def __init__(self, entries: list[os.DirEntry[str]]) -> None:
        self._entries = iter(entries)

    def __iter__(self) -> Iterator[os.DirEntry[str]]:
        return self

    def __next__(self) -> os.DirEntry[str]:
        return next(self._entries)

    def __enter__(self) -> _Listing:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        pass


def reorder_listings(monkeypatch: pytest.MonkeyPatch, reorder: Callable[[list[Any]], list[Any]]) -> None:
    """Make every folder listing (``os.scandir``, ``os.listdir``) come back in another order."""
    real_scandir, real_listdir = os.scandir, os.listdir

    def scandir(path: Any = ".") -> Any:
        with real_scandir(path) as listing:
            return _Listing(reorder(list(listing)))

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "listdir", lambda path=".": reorder(real_listdir(path)))


def test_every_command_and_format_is_byte_identical_in_any_listing_order(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = files()
    write_tree(tmp_path, tree, sorted(tree))
    monkeypatch.chdir(tmp_path)
    expected = run_all(run)
    shuffled = random.Random(7)
    for name, reorder in [("reversed", lambda items: items[::-1]),
                          ("by name length, then reversed", lambda items: sorted(items[::-1], key=lambda e: len(
                              e if isinstance(e, str) else e.name))),
                          ("shuffled", lambda items: shuffled.sample(items, len(items)))]:
        with monkeypatch.context() as patch:
            reorder_listings(patch, reorder)
            assert run_all(run) == expected, name


def test_every_command_and_format_is_byte_identical_whatever_order_the_files_were_created_in(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = files()
    outputs = []
    for name, order in [("sorted", sorted(tree)), ("reversed", sorted(tree, reverse=True)),
                        ("shuffled", random.Random(3).sample(sorted(tree), len(tree)))]:
        folder = tmp_path / "same-project"  # one path, so that nothing but the creation order differs
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        write_tree(folder, tree, order)
        monkeypatch.chdir(folder)
        outputs.append((name, run_all(run)))
    assert outputs[1][1] == outputs[0][1]
    assert outputs[2][1] == outputs[0][1]
