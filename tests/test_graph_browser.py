"""``loopscan graph -f mermaid`` rendered by the real Mermaid library, in headless Chromium.

The npm package ``mermaid`` (pinned in tests/browser/package.json; ``npm ci``
there installs it) runs in Debian's ``chromium``, driven by Playwright. No
browser is downloaded: Playwright launches /usr/bin/chromium. A test fails on
any Mermaid parse or render error, and checks what was drawn: the nodes,
clusters and edges, and the text of every label, read back from the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from loopscan.analysis.diagram import build_diagram, build_overview
from loopscan.config import Config
from loopscan.linter import analyse
from loopscan.render.mermaid import render as render_mermaid
from loopscan.sources.discover import discover
from tests.conftest import EXAMPLES, REPO, Result
from tests.test_graph import (
    HOSTILE_EDGES,
    HOSTILE_NODES,
    HOSTILE_OWNER,
    hostile_label_lines,
    hostile_manifest,
    nasty_diagram,
)

Run = Callable[..., Result]

CHROMIUM = Path("/usr/bin/chromium")
MERMAID_JS = REPO / "tests" / "browser" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--headless=new",
]
FORBIDDEN_TAGS = {"script", "img", "iframe", "object", "embed", "a", "b", "i", "input", "form", "image", "use",
                  "video", "audio", "math", "svg:script"}
"""Elements that no label may bring into the page (Mermaid itself draws none of them here)."""

RENDER = """async ([source, number]) => {
  const out = document.getElementById('out');
  out.innerHTML = '';
  try {
    await mermaid.parse(source);
  } catch (error) {
    return {error: 'parse: ' + (error.message || String(error))};
  }
  let svg;
  try {
    ({svg} = await mermaid.render('diagram' + number, source));
  } catch (error) {
    return {error: 'render: ' + (error.message || String(error))};
  }
  out.innerHTML = svg;
  const root = out.querySelector('svg');
  const linesOf = (element) => {
    const lines = [''];
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeType === Node.TEXT_NODE) lines[lines.length - 1] += node.data;
      else if (node.localName === 'br') lines.push('');
    }
    return lines;
  };
  const idOf = (element) => (element.id.match(/flowchart-([nl][0-9]+|note)-[0-9]+$/) || [])[1] || null;
  return {
    error: null,
    nodes: [...root.querySelectorAll('g.node')].map(g => [idOf(g), linesOf(g.querySelector('.nodeLabel') || g)]),
    clusters: [...root.querySelectorAll('g.cluster')].map(g => linesOf(g.querySelector('.nodeLabel') || g)),
    edges: [...root.querySelectorAll('path.flowchart-link')].map(path => path.id),
    edgeLabels: [...root.querySelectorAll('g.edgeLabel')].map(linesOf).filter(lines => lines.join('')),
    tags: [...new Set([...root.querySelectorAll('*')].map(element => element.localName.toLowerCase()))],
    theme: mermaid.mermaidAPI.getConfig().theme,
  };
}"""


@pytest.fixture(scope="module")
def browser_page() -> Iterator[Any]:
    """A Chromium page with Mermaid loaded; dialogs (an injected ``alert``) are recorded on ``page.dialogs``."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is needed at /usr/bin/chromium: apt-get install chromium (.ci/run does)")
    if not MERMAID_JS.is_file():
        pytest.fail(f"{MERMAID_JS} is missing: run 'npm ci' in tests/browser (.ci/run does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is needed: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.set_content("<!doctype html><html><body><div id='out'></div></body></html>")
        page.add_script_tag(path=str(MERMAID_JS))
        page.evaluate("mermaid.initialize({startOnLoad: false, securityLevel: 'strict'})")
        page.dialogs = dialogs
        yield page
        browser.close()


class Renderer:
    """Render Mermaid source in the page and return what was drawn; fails the test on any error."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.count = 0

    def drawn(self, source: str) -> dict[str, Any]:
        result = self.attempt(source)
        if result["error"]:
            pytest.fail(f"Mermaid could not draw loopscan's output: {result['error']}\n{source}")
        return result

    def attempt(self, source: str) -> dict[str, Any]:
        self.count += 1
        result: dict[str, Any] = self.page.evaluate(RENDER, [source, self.count])
        return result


@pytest.fixture
def mermaid(browser_page: Any) -> Renderer:
    return Renderer(browser_page)


def mermaid_source(run: Run, *args: str) -> str:
    result = run("graph", *args, "-f", "mermaid")
    assert result.code == 0, result.err
    return result.out


def expected_nodes(*args: str, pipeline: str | None = None, loops_only: bool = False) -> dict[str, tuple[str, ...]]:
    """The text of each graph node (``n0``...) as the diagram model has it."""
    config = Config(root=REPO)
    project = analyse(discover(list(args), root=str(REPO)), config, date(2026, 11, 24))
    diagram = build_diagram(project, pipeline=pipeline, loops_only=loops_only)
    return {f"n{index}": node.lines for index, node in enumerate(diagram.nodes)}


def graph_nodes(result: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    return {node_id: tuple(lines) for node_id, lines in result["nodes"] if node_id and node_id.startswith("n")}


@pytest.mark.parametrize(("args", "pipeline", "loops_only"), [
    ((str(EXAMPLES / "marketplace"),), None, False),
    ((str(EXAMPLES),), None, False),
    ((str(EXAMPLES),), None, True),
    ((str(EXAMPLES),), "code-assistant", False),
    ((str(EXAMPLES / "support-assistant.yaml"),), None, False),
])
def test_the_examples_render_in_mermaid_with_every_node_edge_and_label(
    run: Run, mermaid: Renderer, args: tuple[str, ...], pipeline: str | None, loops_only: bool
) -> None:
    options = [*(["--pipeline", pipeline] if pipeline else []), *(["--loops-only"] if loops_only else [])]
    source = mermaid_source(run, *args, *options)
    drawn = mermaid.drawn(source)
    assert graph_nodes(drawn) == expected_nodes(*args, pipeline=pipeline, loops_only=loops_only)
    assert len(drawn["edges"]) == source.count(" --> ") + source.count(" -.-> ") + source.count("-->|") \
        + source.count("-.->|")
    assert len(drawn["clusters"]) == source.count("  subgraph ")
    assert not set(drawn["tags"]) & FORBIDDEN_TAGS


def test_the_marketplace_loop_is_labelled_in_mermaid(run: Run, mermaid: Renderer) -> None:
    drawn = mermaid.drawn(mermaid_source(run, str(EXAMPLES / "marketplace")))
    assert ["no gate, no cap"] in drawn["edgeLabels"]
    assert sorted(lines[0] for lines in drawn["clusters"]) == [
        "Legend", "catalog-etl", "listing-writer", "ranking-train"]


def test_the_markdown_block_holds_a_diagram_that_renders(run: Run, mermaid: Renderer) -> None:
    block = mermaid_source(run, str(EXAMPLES / "marketplace"), "--md")
    assert block.startswith("```mermaid\n") and block.endswith("\n```\n")
    drawn = mermaid.drawn(block.removeprefix("```mermaid\n").removesuffix("```\n"))
    assert len(graph_nodes(drawn)) == 12


def test_loops_only_without_loops_renders_a_note(run: Run, mermaid: Renderer) -> None:
    drawn = mermaid.drawn(mermaid_source(run, str(EXAMPLES / "distillation-relabel.yaml"), "--loops-only"))
    assert [lines for node_id, lines in drawn["nodes"]] == [
        ["No loops: no generate step's output flows back into what feeds it."]]


def test_hostile_names_render_as_their_own_text_and_nothing_else(
    run: Run, mermaid: Renderer, browser_page: Any, project: Callable[[str, str], Path]
) -> None:
    (Path.cwd() / "hostile.yaml").write_text(hostile_manifest(), encoding="utf-8")
    drawn = mermaid.drawn(mermaid_source(run, "hostile.yaml"))
    nodes = graph_nodes(drawn)
    assert len(nodes) == HOSTILE_NODES
    assert len([edge for edge in drawn["edges"] if "_l" not in edge]) == HOSTILE_EDGES
    for lines in hostile_label_lines():
        assert lines in nodes.values(), (lines, sorted(nodes.values()))
    assert ["hostile", f"owner: {HOSTILE_OWNER}"] in drawn["clusters"]
    assert not set(drawn["tags"]) & FORBIDDEN_TAGS, set(drawn["tags"]) & FORBIDDEN_TAGS
    assert drawn["theme"] == "default"  # the %%{init}%% in a name configured nothing
    assert browser_page.dialogs == []  # and no handler in a name ran


def test_the_renderer_escapes_even_text_the_model_would_have_cleaned(mermaid: Renderer) -> None:
    drawn = mermaid.drawn(render_mermaid(nasty_diagram()))
    assert len(graph_nodes(drawn)) == 2 and len(drawn["edges"]) == 1
    assert not set(drawn["tags"]) & FORBIDDEN_TAGS


def test_a_broken_source_fails_the_check(mermaid: Renderer) -> None:
    """The harness sees Mermaid's parse errors (an unescaped quote ends a label early)."""
    assert "parse" in mermaid.attempt('flowchart LR\n  n0["a"b"] --> n1["x"]\n')["error"]
    assert mermaid.attempt('flowchart LR\n  n0["say #34;hi#34;"] --> n1["x"]\n')["error"] is None


def expected_overview_nodes(*args: str) -> dict[str, tuple[str, ...]]:
    """The text of each overview node (``n0``...) as the diagram model has it."""
    project = analyse(discover(list(args), root=str(REPO)), Config(root=REPO), date(2026, 11, 24))
    return {f"n{index}": node.lines for index, node in enumerate(build_overview(project).nodes)}


@pytest.mark.parametrize("pipelines", [0, 100])
def test_the_overview_renders_in_mermaid_with_a_node_per_pipeline(
    run: Run, mermaid: Renderer, tmp_path: Path, pipelines: int
) -> None:
    # 0: the examples; 100: a generated ring of interlinked pipelines, past the full diagram's size.
    from tests.test_performance import benchmark_module

    if pipelines:
        benchmark_module("generate").write_project(tmp_path, pipelines, ring=True)
    folder = str(tmp_path if pipelines else EXAMPLES)
    source = mermaid_source(run, folder, "--overview")
    drawn = mermaid.drawn(source)
    assert graph_nodes(drawn) == expected_overview_nodes(folder)
    assert len(drawn["edges"]) == source.count(" --> ") + source.count(" -.-> ") + source.count("-->|") \
        + source.count("-.->|")
    assert not set(drawn["tags"]) & FORBIDDEN_TAGS
