"""The folder tree is the architecture: one rule per module, in its play's folder, and data flowing one way.

These tests keep the layout CONTRIBUTING.md describes true as rules are added.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from loopscan.registry import builtin_rule_modules, rules_in
from tests.conftest import REPO

PLAY_FOLDERS = {0: "integrity", 1: "provenance", 2: "mixing", 3: "loops", 4: "monitoring", 5: "response",
                6: "governance", 7: "lineage", 8: "decay"}
MODULES = builtin_rule_modules()


def test_every_rule_module_under_rules_is_found() -> None:
    files = sorted(path for path in (REPO / "rules").rglob("ls*.py"))
    assert [Path(module.__file__ or "").resolve() for module in MODULES] == [path.resolve() for path in files]


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__)
def test_a_rule_module_holds_one_rule_named_like_it_in_its_plays_folder(module: object) -> None:
    rules = rules_in(module)  # type: ignore[arg-type]
    assert len(rules) == 1
    rule = rules[0]
    path = Path(getattr(module, "__file__", ""))
    assert path.stem == f"{rule.id.lower()}_{rule.name.replace('-', '_')}"
    assert path.parent.name == PLAY_FOLDERS[rule.play]
    assert rule.summary and "## Why is this bad?" in rule.doc and "## Fix" in rule.doc


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(("." * node.level) + node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_engine_never_imports_a_rule() -> None:
    offenders = {str(path.relative_to(REPO)): sorted(name for name in _imports(path)
                                                     if name.startswith("loopscan.rules"))
                 for path in (REPO / "loopscan").rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_a_rule_never_imports_another_rule() -> None:
    offenders = {str(path.relative_to(REPO)): sorted(name for name in _imports(path)
                                                     if name.startswith(("loopscan.rules", ".")))
                 for path in (REPO / "rules").rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_rule_modules_do_not_import_networkx() -> None:
    """``loopscan rules`` and a pre-commit run import every rule; networkx costs start-up time."""
    names = [module.__name__ for module in MODULES]
    code = f"import sys\nfor name in {names!r}: __import__(name)\nprint('networkx' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "False"


def test_the_cli_offers_exactly_the_registered_findings_formats() -> None:
    from loopscan.cli import OutputFormat
    from loopscan.render import FINDINGS_RENDERERS, findings_renderer

    assert [item.value for item in OutputFormat] == list(FINDINGS_RENDERERS)
    assert all(callable(findings_renderer(name)) for name in FINDINGS_RENDERERS)


def test_no_renderer_reads_the_project() -> None:
    """Renderers format values they are given; the project (and its lazily computed facts) stays with the CLI."""
    offenders = [str(path.relative_to(REPO)) for path in (REPO / "loopscan" / "render").rglob("*.py")
                 if "loopscan.project" in _imports(path)]
    assert offenders == []
