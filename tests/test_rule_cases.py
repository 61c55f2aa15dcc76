"""Each rule's passing and failing cases, as data: one YAML case file per rule id in ``tests/rules/``.

A case file, in the style of sqlfluff's ``std_rule_cases`` and yamllint's
``RuleTestCase``::

    rule: LS305
    cases:
      accumulating-data-on-a-loop-passes:
        files:
          loop.yaml: |
            loopscan: 1
            ...
        findings: []
      replaced-data-on-a-loop-fails:
        today: 2026-11-24            # optional; the default is tests.conftest.TODAY
        config: {policy: {...}}      # optional; written as loopscan.yaml
        files: {loop.yaml: "...", events.jsonl: "..."}
        lineage: [events.jsonl]      # optional; these files are read as OpenLineage events (check --lineage)
        findings:
          - {line: 7, column: 5, node: echo:said, message: "each run replaces it"}

A rule that compares the project with a base revision (``change`` scope, the
decay rules LS8xx) gives the base in ``base``, with its own ``files`` and
optional ``config``: the harness commits it to a git repository on branch
``main``, replaces it in the work tree with the case's ``files`` and
``config``, and compares the two as ``loopscan diff --base main`` does::

    base:
      files: {curation.yaml: "..."}
    files: {curation.yaml: "..."}      # the head: the whole tree after the change

``findings`` is every finding of the rule, exactly: each gives ``line``,
``column`` and a ``message`` fragment, ``file`` when the case has more than
one file, and optionally ``node`` (compared exactly, ``null`` included) and
``suppressed`` (true when an override in force suppresses it). The harness is
driven by the registry: a built-in rule without a case file, a case file
without a passing and a failing case, or a case file for no rule fails.

The harness runs the analysis and the rule itself, not the command line
(``tests/test_cli.py`` covers that).
"""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from loopscan.config import load_config
from loopscan.diff import analyse_base, compare
from loopscan.findings import Finding
from loopscan.linter import analyse, check
from loopscan.registry import builtin_rules
from loopscan.rule import Rule
from loopscan.sources.discover import discover
from loopscan.sources.gitbase import resolve
from loopscan.sources.lineage import read_lineage
from tests.conftest import REPO, TODAY, installed_copy
from tests.gitrepo import GitRepo

CASES = REPO / "tests" / "rules"
FINDING_KEYS = {"file", "line", "column", "message", "node", "suppressed"}
CASE_KEYS = {"files", "findings", "config", "today", "base", "lineage"}
BASE_KEYS = {"files", "config"}


@dataclass(frozen=True)
class Case:
    rule: str
    name: str
    spec: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.name}"


def _case_files() -> dict[str, Path]:
    return {path.stem: path for path in sorted(CASES.glob("*.yaml"))}


def _read(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and set(data) == {"rule", "cases"}, f"{path}: needs exactly 'rule' and 'cases'"
    assert data["rule"] == path.stem, f"{path}: 'rule' must be {path.stem!r}, the file's name"
    assert isinstance(data["cases"], dict) and data["cases"], f"{path}: 'cases' must name at least one case"
    return data


def _all_cases() -> list[Case]:
    cases = []
    for rule_id, path in _case_files().items():
        for name, spec in _read(path)["cases"].items():
            cases.append(Case(rule_id, str(name), spec))
    return cases


BUILTIN = {rule.id: rule for rule in builtin_rules()}


@pytest.mark.parametrize("rule_id", sorted(BUILTIN))
def test_every_rule_has_a_case_file_with_passing_and_failing_cases(rule_id: str) -> None:
    path = CASES / f"{rule_id}.yaml"
    assert path.is_file(), f"rule {rule_id} has no case file: add {path.relative_to(REPO)} (see CONTRIBUTING.md)"
    specs = _read(path)["cases"].values()
    assert any(not spec.get("findings") for spec in specs), f"{path.name}: no passing case (findings: [])"
    assert any(spec.get("findings") for spec in specs), f"{path.name}: no failing case"


def test_every_case_file_names_a_builtin_rule() -> None:
    assert sorted(set(_case_files()) - set(BUILTIN)) == []


def run_case(rule: Rule, spec: dict[str, Any], folder: Path) -> list[Finding]:
    """Write the case's files and config into ``folder``, analyse them, and run ``rule``.

    A rule that reads the outcome of the overrides runs after every built-in
    rule, since whether an override is used depends on their findings.
    """
    repository = None
    if "base" in spec:
        repository = GitRepo(folder)
        _write_tree(folder, spec["base"])
        repository.commit("base")
        for item in folder.iterdir():
            if item.name != ".git":
                shutil.rmtree(item) if item.is_dir() else item.unlink()
    _write_tree(folder, spec)
    config = load_config(start=folder)
    today = spec.get("today", datetime.date.fromisoformat(TODAY))
    lineage = read_lineage(spec["lineage"]) if "lineage" in spec else None  # files of the case read as events
    project = analyse(discover(["."], config.exclude, root=str(folder)), config, today, lineage)
    if repository is not None:
        base = analyse_base(resolve("main", folder), config, ["."], folder, today)
        compare(base, project, config, list(BUILTIN.values()))
    rules = list(BUILTIN.values()) if rule.after_overrides else [rule]
    return [finding for finding in check(project, rules, config) if finding.rule == rule.id]


def _write_tree(folder: Path, spec: dict[str, Any]) -> None:
    """The ``files`` of a case (or of its base), and its ``config`` as loopscan.yaml."""
    for name, text in spec["files"].items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    if "config" in spec:
        (folder / "loopscan.yaml").write_text(yaml.safe_dump(spec["config"]), encoding="utf-8")


def _matches(expected: dict[str, Any], finding: Finding, only_file: str | None) -> bool:
    location = finding.location
    return (
        location.file == expected.get("file", only_file)
        and location.line == expected["line"]
        and location.column == expected["column"]
        and expected["message"] in finding.message
        and ("node" not in expected or expected["node"] == finding.problem.node)
        and bool(expected.get("suppressed", False)) == (finding.suppressed is not None)
    )


@pytest.mark.parametrize("case", _all_cases(), ids=lambda case: case.id)
def test_rule_case(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(case.spec) <= CASE_KEYS, f"{case.id}: unknown keys {sorted(set(case.spec) - CASE_KEYS)}"
    assert set(case.spec.get("base", {"files": {}})) <= BASE_KEYS, f"{case.id}: 'base' holds files and config"
    assert (BUILTIN[case.rule].scope == "change") == ("base" in case.spec), (
        f"{case.id}: a case of a rule that compares revisions gives its 'base', and only such a case does")
    expected = case.spec.get("findings") or []
    for item in expected:
        assert {"line", "column", "message"} <= set(item) <= FINDING_KEYS, f"{case.id}: bad finding {item}"
    monkeypatch.chdir(tmp_path)
    found = run_case(BUILTIN[case.rule], case.spec, tmp_path)
    only_file = next(iter(case.spec["files"])) if len(case.spec["files"]) == 1 else None
    shown = [f"{f.location} {f.problem.node} {f.message}" for f in found]
    assert len(found) == len(expected), f"{case.id}: expected {len(expected)} findings, got {shown}"
    unmatched = list(found)
    for item in expected:
        match = next((f for f in unmatched if _matches(item, f, only_file)), None)
        assert match is not None, f"{case.id}: no finding matches {item}; got {shown}"
        unmatched.remove(match)


def _contributing_example() -> dict[str, str]:
    """The files of CONTRIBUTING.md's worked example: each block under a heading that names its path."""
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^#### `([^`]+)`\n\n```[a-z]+\n(.*?)^```$", text, re.MULTILINE | re.DOTALL))


def test_a_new_rule_is_its_module_plus_its_case_file(tmp_path: Path) -> None:
    added = _contributing_example()
    assert sorted(added) == ["rules/loops/ls399_loop_spans_owners.py", "tests/rules/LS399.yaml"]
    copy, env = installed_copy(tmp_path, added)
    suite = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA",
             "tests/test_rule_cases.py", "tests/test_rule_docs.py", "tests/test_layout.py", "-k", "LS399 or ls399"]

    picked_up = subprocess.run(suite, cwd=copy, env=env, capture_output=True, text=True)
    assert picked_up.returncode == 0, picked_up.stdout + picked_up.stderr
    passed = re.findall(r"^PASSED (\S+)", picked_up.stdout, re.MULTILINE)
    assert "tests/test_rule_cases.py::test_rule_case[LS399:a-loop-across-two-owners-fails]" in passed
    assert "tests/test_rule_cases.py::test_rule_case[LS399:a-loop-inside-one-team-passes]" in passed
    assert any("test_every_rule_has_a_case_file" in name and "LS399" in name for name in passed)
    assert any("test_every_rule_has_the_four_parts_of_its_docs[LS399]" in name for name in passed)

    (copy / "tests" / "rules" / "LS399.yaml").unlink()
    without_cases = subprocess.run(suite, cwd=copy, env=env, capture_output=True, text=True)
    assert without_cases.returncode == 1, without_cases.stdout
    assert "rule LS399 has no case file: add tests/rules/LS399.yaml" in without_cases.stdout
