"""Every rule's docs follow the ruff pattern, and docs/rules.md is generated from them."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from loopscan.docs import rules_markdown
from loopscan.registry import builtin_rules
from loopscan.rule import Rule
from tests.conftest import REPO, Result

RULES = sorted(builtin_rules(), key=lambda item: item.id)
CATALOG = REPO / "docs" / "rules.md"
PARTS = ("## Why is this bad?", "## Example", "## Fix")


def section(doc: str, heading: str) -> str:
    """The text under ``heading``, up to the next heading of the same level."""
    start = doc.index(heading) + len(heading)
    following = re.search(r"^## ", doc[start:], re.MULTILINE)
    return doc[start:start + following.start()] if following else doc[start:]


def test_every_play_of_the_catalog_has_rules() -> None:
    assert {item.play for item in RULES} >= {0, 1, 2, 4, 5, 6}
    assert {item.id for item in RULES} >= {
        "LS101", "LS102", "LS103", "LS104", "LS201", "LS202", "LS203", "LS204", "LS205", "LS206",
        "LS401", "LS402", "LS403", "LS501", "LS502", "LS601", "LS602", "LS603", "LS604", "LS605"}


@pytest.mark.parametrize("item", RULES, ids=lambda item: item.id)
def test_every_rule_has_the_four_parts_of_its_docs(item: Rule) -> None:
    assert item.summary and not item.summary.startswith("#"), "the first line says what the rule checks"
    positions = [item.doc.find(part) for part in PARTS]
    assert -1 not in positions and positions == sorted(positions), f"{item.id} needs {PARTS} in this order"
    assert "```yaml" in section(item.doc, "## Example"), "the example is failing YAML"
    assert section(item.doc, "## Fix").strip()


@pytest.mark.parametrize("item", [r for r in RULES if r.play >= 1], ids=lambda item: item.id)
def test_why_cites_the_playbook(item: Rule) -> None:
    why = section(item.doc, "## Why is this bad?")
    assert (f"Play {item.play}" in why) if item.play <= 5 else ("playbook" in why)


def test_docs_rules_md_is_up_to_date() -> None:
    expected = rules_markdown(RULES)
    assert CATALOG.is_file() and CATALOG.read_text(encoding="utf-8") == expected, (
        "docs/rules.md is out of date: run `loopscan rules --format markdown -o docs/rules.md`")


def test_the_catalog_command_writes_the_same_markdown(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    target = tmp_path / "rules.md"
    assert run("rules", "--format", "markdown", "-o", str(target)).code == 0
    assert target.read_text(encoding="utf-8") == rules_markdown(RULES)
    for item in RULES:
        assert f"\n## {item.id} {item.name}\n" in target.read_text(encoding="utf-8")


def test_explain_prints_a_rules_docs(run: Callable[..., Result]) -> None:
    result = run("explain", "LS103")
    assert result.code == 0
    assert result.out.startswith("LS103 provenance-laundering (error, Play 1: provenance)\n")
    assert "## Why is this bad?" in result.out and "Shumailov" in result.out


def test_listing_and_explaining_rules_does_not_import_the_graph_libraries() -> None:
    script = (
        "import sys\n"
        "from loopscan.cli import main\n"
        "for args in (['rules'], ['explain', 'LS203'], ['rules', '-f', 'markdown']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('networkx', 'jsonschema', 'graphviz') if m in sys.modules))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert completed.stdout.splitlines()[-1] == "[]"


def _code_without_docstrings(item: Rule) -> str:
    import ast
    import inspect
    import sys

    tree = ast.parse(inspect.getsource(sys.modules[item.check.__module__]))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            first.value.value = ""
    return ast.unparse(tree)


@pytest.mark.parametrize("item", RULES, ids=lambda item: item.id)
def test_every_policy_setting_a_rule_reads_or_names_is_in_its_options(item: Rule) -> None:
    import dataclasses

    from loopscan.config import Policy

    read = set(re.findall(r"policy\.(\w+)", _code_without_docstrings(item)))
    options = section(item.doc, "## Options") if "## Options" in item.doc else ""
    documented = set(re.findall(r"`policy\.(\w+)`", options))
    assert read <= documented, f"{item.id}: document {sorted(read - documented)} under ## Options"
    assert documented <= {field.name for field in dataclasses.fields(Policy)}
