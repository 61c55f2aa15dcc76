"""``loopscan report`` opened from disk in Debian's real Chromium, driven by Playwright.

Every request the page makes is recorded (none may leave it), console errors
fail the test, the filters are used as a reviewer would, and a manifest of
hostile names must add no element and run no script.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, TODAY, Result
from tests.test_graph import hostile_manifest
from tests.test_graph_browser import CHROMIUM, CHROMIUM_FLAGS

Run = Callable[..., Result]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is needed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        yield launched
        launched.close()


class Opened:
    """A report open in a page, with every request, console error and dialog it caused."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)

    def rows(self) -> list[list[str]]:
        rows: list[list[str]] = self.page.eval_on_selector_all(
            "#findings-body tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
        return rows


def report_of(run: Run, *args: str) -> Path:
    out = Path.cwd() / "review.html"
    result = run("report", *args, "-o", str(out), "--today", TODAY)
    assert result.code == 0, result.err
    return out


def test_the_examples_render_with_no_request_no_error_and_working_filters(
    run: Run, browser: Any, project: Callable[[str, str], Path]
) -> None:
    opened = Opened(browser, report_of(run, str(EXAMPLES)))
    assert opened.requests == [opened.url]  # the file itself, and nothing else
    assert opened.errors == []
    assert opened.page.locator("#diagram svg").count() == 1
    everything = opened.rows()
    assert len(everything) > 5 and {row[0] for row in everything} >= {"error", "warning"}
    opened.page.select_option("#filter-severity", "warning")
    warnings = opened.rows()
    assert warnings and {row[0] for row in warnings} == {"warning"} and len(warnings) < len(everything)
    opened.page.select_option("#filter-severity", "")
    opened.page.select_option("#filter-pipeline", "listing-writer")
    assert {row[2] for row in opened.rows()} == {"listing-writer"}
    opened.page.select_option("#filter-rule", "LS301")
    assert [row[1] for row in opened.rows()] == ["LS301 ungated-loop"]
    assert opened.page.locator("#loops tr.loop").count() >= 1
    assert opened.requests == [opened.url] and opened.errors == []


def test_the_screenshot_of_the_marketplace_review(run: Run, browser: Any, project: Callable[[str, str], Path]) -> None:
    opened = Opened(browser, report_of(run, str(EXAMPLES / "marketplace")))
    shot = opened.page.screenshot(type="png")
    assert shot.startswith(b"\x89PNG") and opened.errors == []


def test_hostile_names_inject_no_element_and_run_no_script(
    run: Run, browser: Any, project: Callable[[str, str], Path]
) -> None:
    project("hostile.yaml", hostile_manifest())
    project("links.yaml", """
        loopscan: 1
        pipeline: "</script><img src=x onerror=alert(2)>"
        datasets:
          d: {uri: "javascript:alert(3)", provenance: ai}
        steps:
          s: {kind: train, inputs: [d, "javascript:alert(4)//"]}
    """)
    out = Path.cwd() / "review.html"
    result = run("report", ".", "-o", str(out), "--today", TODAY, "--link-base", "https://git.example/r/blob/main")
    assert result.code in (0, 1), result.err
    opened = Opened(browser, out)
    assert opened.dialogs == [] and opened.errors == []
    assert opened.requests == [opened.url]
    outside_svg = opened.page.eval_on_selector_all(
        "body *:not(#diagram *)", "els => [...new Set(els.map(e => e.localName))]")
    assert not set(outside_svg) & {"img", "iframe", "object", "embed", "b", "x:y"}
    assert opened.page.locator("script").count() == 2  # the data block and the report's own script
    hrefs = opened.page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs and all(h.startswith("https://git.example/r/blob/main/") for h in hrefs), hrefs
    assert opened.page.locator("#diagram svg script, #diagram svg foreignObject").count() == 0


def test_a_report_of_200_interlinked_pipelines_is_paged_and_within_a_tenth_of_10_mib(
    run: Run, browser: Any, project: Callable[[str, str], Path]
) -> None:
    # A tenth of the 2,000-pipeline benchmark, whose report must stay within 10 MiB (it is 7.1 MiB).
    from tests.test_performance import benchmark_module

    benchmark_module("generate").write_project(Path.cwd() / "org", 200, interlinked=True)
    out = Path.cwd() / "review.html"
    result = run("report", "org", "-o", str(out), "--today", TODAY)
    assert result.code == 0, result.err
    assert out.stat().st_size <= (10 << 20) // 10, out.stat().st_size
    opened = Opened(browser, out)
    assert opened.errors == [] and opened.requests == [opened.url]
    assert len(opened.rows()) == 100
    opened.page.click("#next")
    assert "page 2 of" in (opened.page.text_content("#findings-count") or "")


def test_the_overrides_show_with_their_days_left_soonest_first(
    run: Run, browser: Any, project: Callable[[str, str], Path]
) -> None:
    project("support.yaml", """
        loopscan: 1
        pipeline: support
        owner: maria
        datasets:
          replies: {uri: "s3://support/replies/", provenance: ai}
        models:
          support-llm: {uri: "models:/support-llm"}
        steps:
          answer: {kind: generate, inputs: [support-llm], outputs: [replies]}
          finetune: {kind: train, inputs: [replies], outputs: [support-llm]}
        overrides:
          - rule: LS301
            target: answer
            reason: "A <b>human</b> review lands in OPS-1234."
            approved_by: maria.chen
            approved: 2026-11-01
            expires: 2026-12-31
          - rule: LS206
            target: finetune
            reason: Ratio logging moves to the new tracker.
            approved_by: maria.chen
            approved: 2026-09-01
            expires: 2026-10-31
    """)
    out = Path.cwd() / "review.html"
    result = run("report", ".", "-o", str(out), "--today", TODAY)
    assert result.code == 0, result.err
    opened = Opened(browser, out)
    rows = opened.page.eval_on_selector_all(
        "#overrides tr.override", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
    assert rows == [
        ["2026-10-31", "-24", "expired", "LS206", "finetune", "maria.chen", "support.yaml:18",
         "Ratio logging moves to the new tracker."],
        ["2026-12-31", "37", "in force", "LS301", "answer", "maria.chen", "support.yaml:12",
         "A <b>human</b> review lands in OPS-1234."],
    ]
    assert opened.page.locator("#overrides b").count() == 0  # the reason is text, not markup
    assert opened.errors == [] and opened.requests == [opened.url]


HOSTILE = "</script><img src=x onerror=alert(1)>"


def test_the_baseline_shows_its_entries_with_days_left_and_marks_the_findings_it_knows(
    run: Run, browser: Any, project: Callable[[str, str], Path]
) -> None:
    from tests.conftest import ECHO_LOOP

    project("echo.yaml", ECHO_LOOP)
    hostile = json.dumps(HOSTILE)
    Path("baseline.json").write_text(
        '{\n  "loopscan_baseline": 1,\n  "created": "2026-10-01",\n  "entries": [\n'
        '    {"rule": "LS301", "pipeline": "echo", "node": "echo:speak", "expires": "2027-03-31", '
        '"message": "known"},\n'
        '    {"rule": "LS201", "pipeline": "echo", "node": "echo:learn", "expires": "2026-11-01"},\n'
        f'    {{"rule": "LS999", "pipeline": {hostile}, "node": {hostile}, "expires": "2027-01-31", '
        f'"message": {hostile}}}\n'
        '  ]\n}\n', encoding="utf-8")
    out = report_of(run, ".", "--baseline", "baseline.json")
    assert "<img" not in out.read_text(encoding="utf-8")  # escaped in the table, \u003c in the data block
    opened = Opened(browser, out)
    assert opened.dialogs == [] and opened.errors == [] and opened.requests == [opened.url]
    entries = opened.page.eval_on_selector_all(
        "#baseline tr.baseline-entry", "rows => rows.map(r => [r.className, ...[...r.cells].map(c => c.textContent)])")
    assert entries == [
        ["baseline-entry flagged", "2026-11-01", "-23", "expired", "LS201", "echo", "echo:learn",
         "baseline.json:6", "-"],
        ["baseline-entry flagged", "2027-01-31", "68", "matches nothing", "LS999", HOSTILE, HOSTILE,
         "baseline.json:7", HOSTILE],
        ["baseline-entry", "2027-03-31", "127", "in force", "LS301", "echo", "echo:speak", "baseline.json:5",
         "known"],
    ]
    by_rule = {row[1].split()[0]: row for row in opened.rows()}
    assert by_rule["LS301"][4].endswith("(baseline entry until 2027-03-31)") and by_rule["LS301"][5] == "baselined"
    assert by_rule["LS201"][4].endswith("(baseline entry expired 2026-11-01)")
    assert by_rule["LS201"][5] == "baseline expired"
    assert {row[5] for rule, row in by_rule.items() if rule not in ("LS301", "LS201")} == {"in force"}
    opened.page.select_option("#filter-status", "baselined")
    assert [row[1] for row in opened.rows()] == ["LS301 ungated-loop"]
    summary = opened.page.text_content("body > p") or ""
    assert summary.endswith("0 overridden, 1 baselined."), summary
    # The hostile entry is text: no element, no script, no dialog.
    outside_svg = opened.page.eval_on_selector_all(
        "body *:not(#diagram *)", "els => [...new Set(els.map(e => e.localName))]")
    assert "img" not in outside_svg
    assert opened.page.locator("script").count() == 2
    assert opened.dialogs == [] and opened.errors == []


def test_a_report_without_a_baseline_has_no_baseline_section(
    run: Run, browser: Any, project: Callable[[str, str], Path]
) -> None:
    from tests.conftest import ECHO_LOOP

    project("echo.yaml", ECHO_LOOP)
    opened = Opened(browser, report_of(run, "."))
    assert opened.page.locator("#baseline").count() == 0
    assert {row[5] for row in opened.rows()} == {"in force"}
    assert opened.page.eval_on_selector_all("#filter-status option", "os => os.map(o => o.value)") == ["", "in force"]


def test_with_lineage_a_finding_shows_the_events_that_observed_it(
    run: Run, browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.lineage_events import RUNS, organisation

    monkeypatch.chdir(tmp_path)
    events = str(organisation(tmp_path).relative_to(tmp_path))
    first = next(number for number, line in enumerate((tmp_path / events).read_text().splitlines(), 1)
                 if f'"runId": "{RUNS["chat/serve-answers"]}"' in line)
    opened = Opened(browser, report_of(run, ".", "--lineage", events, "--select", "LS701"))
    assert opened.errors == [] and opened.requests == [opened.url]
    rows = opened.rows()
    assert [(row[1], row[3]) for row in rows] == [("LS701 hidden-loop", "chat.yaml:9")]
    assert rows[0][4].endswith(f" (observed: job chat/serve-answers, run {RUNS['chat/serve-answers']}, "
                               f"2026-03-01T10:00:00Z ({events}:{first}); and 3 more observations)"), rows[0][4]
