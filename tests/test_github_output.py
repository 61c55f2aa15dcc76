"""GitHub Actions output a reviewer can use: the most severe annotations first, every finding in the job summary.

GitHub keeps 10 annotations of each severity per step and drops the rest
without a word, so ``--format github`` writes errors first, and, when
``GITHUB_STEP_SUMMARY`` names a file, appends the whole report there as
Markdown (at most 1 MiB, GitHub's limit per step) and names it in a notice.
Each Markdown table is parsed back, by hand and with a CommonMark parser.
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from loopscan.findings import Finding, Location, Problem, Severity
from loopscan.linter import Report
from loopscan.printable import printable
from loopscan.render.markdown import SUMMARY_LIMIT, by_severity, cell, summarize
from tests.conftest import REPO, TODAY, Result, Run, Write, line_of

ECHO = """
    loopscan: 1
    pipeline: echo{n}
    owner: ana
    datasets:
      said:
        uri: s3://echo{n}/said/
        provenance: ai
    models:
      parrot:
        uri: models:/parrot{n}
    steps:
      speak:
        kind: generate
        inputs: [parrot]
        outputs: [said]
      learn:
        kind: train
        inputs: [said]
        outputs: [parrot]
    """
"""A model trained on what it generated: LS301 (error), LS502 (warning) and LS206 (made info) each once."""

SELECTED = ("--select", "LS301", "--select", "LS502", "--select", "LS206")
COMMAND = re.compile(r"::(?P<kind>error|warning|notice) (?P<properties>[^:]*)::(?P<message>.*)")
NOTICE = re.compile(r"::notice title=loopscan::(?P<message>.*)")
HEADER = "| severity | rule | file:line | message |"
CELL_SEPARATOR = re.compile(r"(?<!\\)\|")
BACKSLASHED = re.compile(r"\\([\\`*_~\[\]|$])")
RANK = {"error": 0, "warning": 1, "info": 2}
README = (REPO / "README.md").read_text(encoding="utf-8")


def echo_project(project: Write, count: int = 12) -> list[str]:
    """``count`` echo loops in p01.yaml, p02.yaml...: as many errors, warnings and info findings. Their files."""
    project("loopscan.yaml", "severity: {LS206: info}\n")
    files = [f"p{n:02}.yaml" for n in range(1, count + 1)]
    for n, file in enumerate(files, start=1):
        project(file, ECHO.format(n=n))
    return files


def check(run: Run, *args: str) -> Result:
    result = run("check", ".", "--today", TODAY, *args)
    assert result.code in (0, 1), result.err
    return result


def findings_in_force(run: Run, *args: str) -> list[dict[str, Any]]:
    """The findings in force of a JSON run, most severe first, each severity in the report's order."""
    found = check(run, "-f", "json", *args).json()["findings"]
    return sorted((f for f in found if "suppressed" not in f), key=lambda f: RANK[f["severity"]])


def annotations(out: str) -> list[tuple[str, str, str, str]]:
    """(kind, file, line, title) of each workflow command on stdout; the summary notice as (notice, '', '', '')."""
    commands = []
    for line in out.splitlines():
        if NOTICE.fullmatch(line):
            commands.append(("notice", "", "", ""))
            continue
        command = COMMAND.fullmatch(line)
        assert command is not None, line
        properties = dict(pair.split("=", 1) for pair in command["properties"].split(","))
        commands.append((command["kind"], properties["file"], properties["line"], properties["title"]))
    return commands


def unescape(text: str) -> str:
    """A cell's text as a reader sees it: backslash escapes and entities undone."""
    return html.unescape(BACKSLASHED.sub(r"\1", text))


def table(markdown: str) -> list[list[str]]:
    """The rows of the findings table, each cell unescaped, split on the pipes that are not escaped."""
    lines = markdown.splitlines()
    start = lines.index(HEADER)
    assert lines[start + 1] == "|---|---|---|---|"
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = CELL_SEPARATOR.split(line)
        assert cells[0] == "" and cells[-1] == "", line
        rows.append([unescape(text.strip()) for text in cells[1:-1]])
    return rows


def expected_rows(findings: list[dict[str, Any]]) -> list[list[str]]:
    return [[f["severity"], printable(f"{f['rule']} {f['name']}"), printable(f"{f['file']}:{f['line']}"),
             printable(f["message"]).strip()] for f in findings]


class _Cells(HTMLParser):
    """The tags of an HTML page, and the text of each ``<td>`` by row."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.rows: list[list[str]] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._in_cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.rows[-1][-1] += data


def rendered(markdown: str) -> _Cells:
    """The Markdown as a CommonMark parser with GFM tables and raw HTML on renders it (markdown-it-py, from rich)."""
    from markdown_it import MarkdownIt

    cells = _Cells()
    cells.feed(MarkdownIt("commonmark").enable("table").render(markdown))
    return cells


# annotations -------------------------------------------------------------------------------------


def test_annotations_come_errors_first_then_warnings_then_notices_each_in_file_order(
    project: Write, run: Run
) -> None:
    files = echo_project(project)
    result = check(run, "-f", "github", *SELECTED)
    assert result.code == 1
    speak, drill, log = (line_of(files[0], text) for text in ("speak:", "parrot:", "learn:"))
    assert annotations(result.out) == [
        *(("error", file, str(speak), "LS301 ungated-loop") for file in files),
        *(("warning", file, str(drill), "LS502 stale-drill") for file in files),
        *(("notice", file, str(log), "LS206 missing-ratio-log") for file in files),
    ]
    assert result.err == ""


# the job summary ---------------------------------------------------------------------------------


def test_the_report_is_appended_to_the_step_summary_and_a_notice_names_it(
    project: Write, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = echo_project(project)
    summary = tmp_path / "step_summary.md"
    earlier = "### Tests\n\n42 passed\n"
    summary.write_text(earlier, encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    result = check(run, "-f", "github", *SELECTED)
    assert result.code == 1 and result.err == ""

    # Every annotation is still there, in the same order; the notice comes before the notices of info
    # findings, as GitHub keeps only the first 10 notices of a step too.
    lines = result.out.splitlines()
    assert [kind for kind, *_ in annotations(result.out)] == ["error"] * 12 + ["warning"] * 12 + ["notice"] * 13
    notice = NOTICE.fullmatch(lines[24])
    assert notice is not None, lines[24]
    assert notice["message"] == ("all 36 findings are in the job summary (GitHub shows at most 10 error, 10 warning"
                                 " and 10 notice annotations per step)")

    written = summary.read_text(encoding="utf-8")
    assert written.startswith(earlier + "\n## loopscan\n")  # appended after what the step wrote, not over it
    assert "Found **12 errors, 12 warnings, 12 info** in 12 manifest files." in written
    assert table(written) == expected_rows(findings_in_force(run, *SELECTED))
    assert [row[0] for row in table(written)] == ["error"] * 12 + ["warning"] * 12 + ["info"] * 12
    assert [row[2] for row in table(written)][:2] == [f"{files[0]}:{line_of(files[0], 'speak:')}",
                                                      f"{files[1]}:{line_of(files[1], 'speak:')}"]
    assert "left out" not in written
    assert "echo1:said" not in written  # witnesses (this dataset is on one) stay in text, JSON and SARIF

    # A second run in the same step appends a second report; both stay whole.
    check(run, "-f", "github", *SELECTED)
    again = summary.read_text(encoding="utf-8")
    assert again == written + "\n" + written[len(earlier) + 1:]


def test_without_info_findings_the_notice_is_the_last_line(
    project: Write, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    echo_project(project, count=2)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    result = check(run, "-f", "github", "--select", "LS301", "--select", "LS502")
    assert [kind for kind, *_ in annotations(result.out)] == ["error", "error", "warning", "warning", "notice"]
    notice = NOTICE.fullmatch(result.out.splitlines()[-1])
    assert notice is not None and notice["message"].startswith("all 4 findings are in the job summary")
    assert (tmp_path / "summary.md").read_text(encoding="utf-8").startswith("## loopscan\n")  # created


def test_a_clean_run_still_writes_its_summary_and_says_so(
    project: Write, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    echo_project(project, count=1)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = check(run, "-f", "github", "--select", "LS104")
    assert (result.code, result.out) == (0, "::notice title=loopscan::no findings; the report is in the job summary\n")
    assert summary.read_text(encoding="utf-8") == "## loopscan\n\nNo findings in 1 manifest file.\n\n"


def test_format_markdown_prints_what_the_summary_gets(
    project: Write, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    echo_project(project, count=3)
    printed = check(run, "-f", "markdown", *SELECTED).out
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    check(run, "-f", "github", *SELECTED)
    assert summary.read_text(encoding="utf-8") == printed
    check(run, "-f", "markdown", *SELECTED)  # only --format github writes the step summary
    assert summary.read_text(encoding="utf-8") == printed


# hostile values ----------------------------------------------------------------------------------

HOSTILE = ("a | b <script>alert(1)</script> `code` *em* _u_ ~~s~~ [x](javascript:alert(1)) $x$ &amp; "
           "<img src=x onerror=alert(1)> end\\|\n| injected | row | here | now |\r\n## heading")
HOSTILE_FILE = "evil|`x`<script>\n| y |.yaml"


def test_hostile_names_and_messages_stay_inside_their_cells(
    project: Write, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path(HOSTILE_FILE).write_text(f"""\
loopscan: 1
pipeline: feeds
owner: {json.dumps(HOSTILE)}
datasets:
  raw: {{uri: "s3://feeds/raw/", provenance: unknown}}
steps:
  fetch: {{kind: ingest, source: {json.dumps(HOSTILE)}, outputs: [raw]}}
""", encoding="utf-8")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    check(run, "-f", "github")
    written = summary.read_text(encoding="utf-8")

    findings = findings_in_force(run)
    assert any(HOSTILE in f["message"] for f in findings)  # the premise: the hostile text reaches a message
    assert any(f["file"] == HOSTILE_FILE for f in findings)
    lines = written.splitlines()
    rows = lines[lines.index(HEADER) + 2:]
    assert len(rows) == len(findings)  # one line per finding: no line break got through
    assert table(written) == expected_rows(findings)
    assert "<script" not in written and "<img" not in written

    page = rendered(written)
    assert page.tags <= {"h2", "p", "strong", "table", "thead", "tbody", "tr", "th", "td"}, page.tags
    assert [row for row in page.rows if row] == expected_rows(findings)


def test_cell_text_survives_every_markdown_special_character() -> None:
    for text in (HOSTILE, "\\", "trailing \\", "\\|", "|", "`", "``", "&lt;", "a\\\\|b", "x_y_z", "[a]: b"):
        markdown = f"{HEADER}\n|---|---|---|---|\n| {cell(text)} | b | c | d |\n"
        assert table(markdown) == [[printable(text).strip(), "b", "c", "d"]], text
        assert rendered(markdown).rows[1:] == [[printable(text).strip(), "b", "c", "d"]], text


# the 1 MiB bound ---------------------------------------------------------------------------------


def feeds_project(project: Write, count: int = 200) -> None:
    """``count`` ingest steps into human datasets, with long sources: as many errors (short) and warnings (6 KB)."""
    datasets = "".join(f"  d{n:03}: {{uri: 's3://feeds/d{n:03}/', provenance: human}}\n" for n in range(count))
    steps = "".join(f"  i{n:03}: {{kind: ingest, source: 'https://feeds.example/{'x' * 6000}/{n:03}',"
                    f" outputs: [d{n:03}]}}\n" for n in range(count))
    Path("feeds.yaml").write_text(f"loopscan: 1\npipeline: feeds\nowner: ana\ndatasets:\n{datasets}steps:\n{steps}",
                                  encoding="utf-8")


def test_the_summary_stays_within_1_mib_counting_what_the_step_wrote_before(
    project: Write, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds_project(project)
    findings = findings_in_force(run)
    assert [f["severity"] for f in findings] == ["error"] * 200 + ["warning"] * 200
    assert len(check(run, "-f", "text").out.encode()) > SUMMARY_LIMIT + 200_000  # the whole report would not fit

    listed = {}
    for earlier in ("", "x" * 100_000 + "\n"):
        summary = tmp_path / f"summary-{len(earlier)}.md"
        summary.write_text(earlier, encoding="utf-8")
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
        result = check(run, "-f", "github")

        written = summary.read_bytes()
        assert len(written) <= SUMMARY_LIMIT == 1024 * 1024
        assert len(written) > SUMMARY_LIMIT - 7_000  # filled up to within one row
        text = written.decode("utf-8")
        assert text.startswith(earlier)
        rows = table(text)
        assert rows == expected_rows(findings)[:len(rows)]  # the most severe, in order: every error is listed
        left_out = len(findings) - len(rows)
        assert 0 < left_out < 200
        assert text.endswith(
            f"\n**{left_out} findings are left out** ({left_out} warnings) to keep this summary within GitHub's"
            " 1 MiB per step; `loopscan check` with the same paths and `--format text` or `--format json` lists"
            " every finding.\n")
        notice = NOTICE.fullmatch(result.out.splitlines()[-1])
        assert notice is not None
        assert notice["message"] == (f"the job summary lists the {len(rows)} most severe of 400 findings (GitHub takes"
                                     " at most 1 MiB of summary per step); this step's log has every finding")
        assert len(annotations(result.out)) == 401  # the log keeps every annotation
        listed[len(earlier)] = len(rows)
    assert listed[100_001] < listed[0]  # what the step wrote before counts towards its 1 MiB

    bounded = check(run, "-f", "markdown").out.encode()  # --format markdown is bounded the same way
    assert len(bounded) <= SUMMARY_LIMIT and len(table(bounded.decode())) == listed[0]


def _finding(severity: Severity, n: int, message: str) -> Finding:
    return Finding(f"LS{n % 7}", "rule", severity, Problem(message, Location(f"f{n % 5}.yaml", n)))


def test_every_limit_gives_at_most_that_many_bytes_and_a_true_count() -> None:
    findings = [_finding(list(Severity)[n % 3], n, "é" * (n % 40) + "|" * (n % 3)) for n in range(90)]
    report = Report("0", ["a.yaml"], 1, 1, sorted(findings, key=Finding.sort_key), [], [])
    whole = summarize(report, 10**9)
    assert whole.listed == 90 and "left out" not in whole.text
    smallest = len(summarize(report, 0).text.encode())
    for limit in range(0, len(whole.text.encode()) + 40, 37):
        summary = summarize(report, limit)
        assert len(summary.text.encode()) <= max(limit, smallest), limit
        rows = table(summary.text)
        assert len(rows) == summary.listed
        assert [row[3] for row in rows] == [f.message for f in by_severity(report.findings)][:summary.listed]
        if summary.listed < 90:
            assert f"**{90 - summary.listed} findings are left out**" in summary.text
        else:
            assert summary.text == whole.text


# an unwritable summary ---------------------------------------------------------------------------


@pytest.mark.parametrize("where, reason", [("missing/summary.md", "No such file or directory"),
                                           (".", "Is a directory")])
def test_an_unwritable_summary_is_one_line_on_stderr_and_the_annotations_and_exit_code_stay(
    where: str, reason: str, project: Write, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    echo_project(project, count=1)
    plain = check(run, "-f", "github", *SELECTED)
    clean = check(run, "-f", "github", "--select", "LS104")
    path = tmp_path / where
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))

    result = check(run, "-f", "github", *SELECTED)
    assert (result.code, result.out) == (1, plain.out)  # no notice: there is no summary to name
    assert result.err == (f"loopscan: error: GITHUB_STEP_SUMMARY: cannot append to '{path}': {reason};"
                          " the job summary is not written\n")
    assert (check(run, "-f", "github", "--select", "LS104").code, clean.code) == (0, 0)


# the README --------------------------------------------------------------------------------------


def test_the_readme_notice_is_what_a_run_prints(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    result = run("check", "examples/pipelines/marketplace", "--today", TODAY, "-f", "github")
    notice = result.out.splitlines()[-1]
    assert notice.startswith("::notice title=loopscan::")
    assert f"\n{notice}\n" in README
