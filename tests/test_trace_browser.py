"""``loopscan trace -f mermaid`` rendered by the real Mermaid library, in headless Chromium.

The same page and harness as tests/test_graph_browser.py, with every console
error the page logs recorded: a trace that Mermaid draws with an error fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, Result
from tests.test_graph_browser import CHROMIUM, CHROMIUM_FLAGS, FORBIDDEN_TAGS, MERMAID_JS, Renderer, graph_nodes

Run = Callable[..., Result]
MARKETPLACE = str(EXAMPLES / "marketplace")


@pytest.fixture(scope="module")
def logged_page() -> Iterator[Any]:
    """A Chromium page with Mermaid loaded; console errors are recorded on ``page.console_errors``."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is needed at /usr/bin/chromium: apt-get install chromium (.ci/run does)")
    if not MERMAID_JS.is_file():
        pytest.fail(f"{MERMAID_JS} is missing: run 'npm ci' in tests/browser (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.set_content("<!doctype html><html><body><div id='out'></div></body></html>")
        page.add_script_tag(path=str(MERMAID_JS))
        page.evaluate("mermaid.initialize({startOnLoad: false, securityLevel: 'strict'})")
        page.console_errors = errors
        yield page
        browser.close()


def trace_source(run: Run, *args: str) -> str:
    result = run("trace", *args, MARKETPLACE, "-f", "mermaid")
    assert result.code == 0, result.err
    assert result.err == ""  # drawn whole: nothing to say on stderr
    return result.out


def test_upstream_of_the_ranking_model_renders_with_the_generate_step_on_the_marked_path(
        run: Run, logged_page: Any) -> None:
    source = trace_source(run, "ranking-train:catalog-lm", "--upstream")
    drawn = Renderer(logged_page).drawn(source)
    nodes = sorted(graph_nodes(drawn).values())
    assert ("draft-listings", "ai data enters here", "2 branches join here") in nodes
    assert ("listings", "s3://acme-lake/listings/", "mixed data enters here") in nodes
    assert ("finetune-catalog-lm", "2 branches join here") in nodes
    assert len(nodes) == 11  # the trace's 11 nodes; the frozen evaluation set is not upstream of training
    assert ["no gate, no cap"] in drawn["edgeLabels"] and ["a path of AI data"] in drawn["edgeLabels"]
    # the path of AI data: six edges from the generate step to the corpus, all drawn in its colour
    assert source.count("stroke:#e65100,stroke-width:4px") == 1
    path_links = next(line for line in source.splitlines() if "stroke:#e65100" in line).split()[1].split(",")
    assert len(path_links) == 7  # and the legend's sample
    assert not set(drawn["tags"]) & FORBIDDEN_TAGS
    assert logged_page.console_errors == []


def test_downstream_of_the_drafts_renders_and_reaches_the_ranking_model(run: Run, logged_page: Any) -> None:
    drawn = Renderer(logged_page).drawn(trace_source(run, "listing-writer:drafted-listings", "--downstream"))
    nodes = graph_nodes(drawn).values()
    assert ("catalog-lm", "models:/catalog-lm") in nodes
    assert ("drafted-listings", "s3://acme-lake/listings/generated/2026/", "traced from here") in nodes
    assert logged_page.console_errors == []


def test_the_essentials_of_a_trace_past_mermaids_limits_render(
        run: Run, logged_page: Any, tmp_path: Path) -> None:
    from tests.test_performance import benchmark_module

    files = benchmark_module("generate").write_project(tmp_path, 10, interlinked=True)
    result = run("trace", f"{files[0].stem}:model", str(tmp_path), "-f", "mermaid")
    assert result.code == 0 and "drawing only" in result.err, result.err
    drawn = Renderer(logged_page).drawn(result.out)
    assert len(graph_nodes(drawn)) == sum(1 for line in result.out.splitlines() if line.startswith("    n"))
    assert logged_page.console_errors == []
