"""The ``loopscan`` command line.

Exit codes: 0 nothing at or above ``--fail-on``; 1 findings at or above it;
2 the run itself could not happen (bad usage, a missing path, an invalid
config); 130 interrupted by Ctrl-C, 143 ended by SIGTERM. Nothing a user can type or write gives a Python traceback:
``--debug`` shows one for an internal error.

Imports of the engine happen inside the commands, so that ``--version``,
``--help``, ``rules`` and ``explain`` start fast.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loopscan import __version__
from loopscan.printable import printable

if TYPE_CHECKING:
    from loopscan.analysis.trace import Downstream, Upstream
    from loopscan.baseline import Baseline
    from loopscan.config import Config
    from loopscan.findings import RecordedProblem
    from loopscan.linter import Report
    from loopscan.project import Project
    from loopscan.rule import Rule
    from loopscan.sources.discover import Candidate
    from loopscan.sources.lineage import Lineage

app = typer.Typer(
    name="loopscan",
    help="Find the loops where AI output feeds AI training, and check their safeguards.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class UserError(Exception):
    """Something the user can fix; printed as one line, exit 2."""


class OutputFormat(str, Enum):
    """The findings formats: the names of ``loopscan.render.FINDINGS_RENDERERS`` (a test keeps them equal)."""

    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    junit = "junit"
    markdown = "markdown"


class TableFormat(str, Enum):
    """Formats of the review tables (`loops`, `overrides`)."""

    text = "text"
    json = "json"


class CatalogFormat(str, Enum):
    """Formats of the rule catalog: a table, or Markdown with every rule's docs (docs/rules.md)."""

    text = "text"
    markdown = "markdown"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


PathsArg = Annotated[list[str] | None, typer.Argument(help="Manifest files or folders (default: config paths, else .)")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Use this loopscan.yaml or pyproject.toml.")]
SelectOpt = Annotated[list[str] | None, typer.Option("--select", help="Only these rules (id prefixes, repeatable).")]
IgnoreOpt = Annotated[list[str] | None, typer.Option("--ignore", help="Skip these rules (id prefixes, repeatable).")]
TodayOpt = Annotated[str | None, typer.Option("--today", help="The date for expiry checks, YYYY-MM-DD.")]
RulesDirOpt = Annotated[list[Path] | None, typer.Option("--rules-dir", help="Load extra rule modules from DIR.")]
TrustOpt = Annotated[bool, typer.Option("--trust-config", help="Load the config's rules_dirs (runs their code).")]
VerboseOpt = Annotated[bool, typer.Option("-v", "--verbose", help="Also say which YAML files were passed over.")]
LineageOpt = Annotated[list[str] | None, typer.Option(
    "--lineage", help="Also read OpenLineage run events from FILE or folder (repeatable; .gz too).")]
IncludeFailedOpt = Annotated[bool, typer.Option(
    "--lineage-include-failed", help="Count failed and aborted runs as flows too, not only completed ones.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"loopscan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on an internal error.")] = False,
) -> None:
    """Find the loops where AI output feeds AI training, and check their safeguards."""


@app.command("check")
def check_command(
    paths: PathsArg = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    fail_on: Annotated[FailOn, typer.Option("--fail-on", help="Lowest severity that fails the run.")] = FailOn.error,
    today: TodayOpt = None,
    config: ConfigOpt = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour, even on a terminal.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print nothing when all is clean.")] = False,
    verbose: VerboseOpt = False,
    rules_dir: RulesDirOpt = None,
    trust_config: TrustOpt = False,
    baseline: Annotated[str | None, typer.Option(
        "--baseline", metavar="FILE",
        help="Report the findings this baseline knows as baselined until their entries expire.")] = None,
    lineage: LineageOpt = None,
    lineage_include_failed: IncludeFailedOpt = False,
) -> None:
    """Scan manifests and report findings."""
    from loopscan.findings import Severity
    from loopscan.linter import run

    loaded_config, candidates, rules = _prepare(paths, config, select, ignore, rules_dir, trust_config)
    day = _parse_today(today)
    known = _read_baseline(baseline) if baseline is not None else None
    events = _observed_lineage(lineage, loaded_config)
    report = run(candidates, loaded_config, rules, day, events, lineage_include_failed)
    if known is not None:
        from loopscan.baseline import apply

        report.findings, report.unused_baseline = apply(report.findings, known, day)
        report.baseline = known.file
    if verbose:
        for file, why in report.passed_over:
            _note(f"passed over {file}: {why}")
    _write_findings(report, output_format, output, no_color, quiet)
    threshold = Severity.parse(fail_on.value)
    failing = any(f.in_force and f.severity >= threshold for f in report.findings)
    # A baseline entry that matches nothing weighs as LS605's unused override does: a warning.
    failing = failing or bool(report.unused_baseline and threshold <= Severity.WARNING)
    raise typer.Exit(1 if failing else 0)


@app.command("diff")
def diff_command(
    paths: PathsArg = None,
    base: Annotated[str, typer.Option(
        "--base", metavar="REF",
        help="The git revision to compare with (REF... for its merge base with HEAD, as a pull request).")] = "",
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    fail_on: Annotated[FailOn, typer.Option(
        "--fail-on", help="Lowest severity of a new finding that fails the run.")] = FailOn.error,
    fail_on_all: Annotated[bool, typer.Option(
        "--fail-on-all", help="Fail on every finding at or above --fail-on, not only the new ones.")] = False,
    today: TodayOpt = None,
    config: ConfigOpt = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour, even on a terminal.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print nothing when all is clean.")] = False,
    rules_dir: RulesDirOpt = None,
    trust_config: TrustOpt = False,
    head_ref: Annotated[str | None, typer.Option(
        "--head", metavar="REF", help="Compare the project at this revision (read from git), not the work tree.",
    )] = None,
    hook: Annotated[bool, typer.Option(
        "--hook", help="As a pre-commit hook: --base $PRE_COMMIT_FROM_REF (else HEAD), --head $PRE_COMMIT_TO_REF.",
    )] = False,
) -> None:
    """What a change did to the safeguards: the project now against git revision REF.

    The base revision is read from git's objects (nothing is checked out or
    run). Each finding is marked new, unchanged or updated; the fixed ones
    are listed; LS801-LS806 report safeguards the change removed or loosened.
    """
    from loopscan.analysis.change import Settings
    from loopscan.config import ConfigError
    from loopscan.diff import analyse_base, diff_report
    from loopscan.findings import NEW, Severity
    from loopscan.linter import analyse
    from loopscan.registry import selected
    from loopscan.sources.gitbase import GitError, resolve

    if hook:  # pre-push and manual stages name the refs; a commit compares the staged tree with HEAD
        base = base or os.environ.get("PRE_COMMIT_FROM_REF") or "HEAD"
        head_ref = head_ref or os.environ.get("PRE_COMMIT_TO_REF") or None
    if not base:
        raise UserError("diff needs --base REF: the git revision to compare with, e.g. --base origin/main...")
    prepared = _prepare_scan(paths, config, select, ignore, rules_dir, trust_config)
    day = _parse_today(today)
    head_settings = None
    try:
        revision = resolve(base, Path.cwd(), unborn_is_empty=hook)
        base_project = analyse_base(revision, prepared.config, prepared.targets, Path.cwd(), day)
        if head_ref is not None:
            head_revision = resolve(head_ref, Path.cwd(), option="--head")
            at_head = analyse_base(head_revision, prepared.config, prepared.targets, Path.cwd(), day)
            head_settings = Settings(at_head.config, at_head.config_text)
    except (GitError, ConfigError) as err:
        raise UserError(str(err)) from None
    # The head config cannot silence the review of its own change: the decay rules it ignores still run.
    decay = [rule for rule in selected(prepared.loaded, select or [], ignore or [])
             if rule.scope == "change" and rule not in prepared.rules]
    rules = [*prepared.rules, *decay]
    head = analyse(prepared.candidates, prepared.config, day) if head_ref is None else at_head.project
    head_config = prepared.config if head_settings is None else head_settings.config
    report = diff_report(base_project, head, head_config, rules, prepared.loaded, head_settings)
    _write_findings(report, output_format, output, no_color, quiet)
    threshold = Severity.parse(fail_on.value)
    failing = any(f.in_force and f.severity >= threshold and (fail_on_all or f.state == NEW)
                  for f in report.findings)
    raise typer.Exit(1 if failing else 0)


def _read_baseline(path: str) -> Baseline:
    from loopscan.baseline import BaselineError, load
    from loopscan.config import display_path

    try:
        return load(path, display_path(path))
    except BaselineError as err:
        raise UserError(str(err)) from None


DEFAULT_BASELINE = ".loopscan-baseline.json"
baseline_app = typer.Typer(help="Record today's findings so that a legacy fleet can adopt loopscan.",
                           no_args_is_help=True)
app.add_typer(baseline_app, name="baseline")


@baseline_app.command("create")
def baseline_create_command(
    paths: PathsArg = None,
    expires: Annotated[str, typer.Option(
        "--expires", metavar="DATE", help="When the entries end (YYYY-MM-DD), required: no exception lasts forever.",
    )] = "",
    output: Annotated[str, typer.Option("--output", "-o", help="Write the baseline to FILE.")] = DEFAULT_BASELINE,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    today: TodayOpt = None,
    config: ConfigOpt = None,
    rules_dir: RulesDirOpt = None,
    trust_config: TrustOpt = False,
) -> None:
    """Record every finding in force today, each entry expiring on --expires, for 'check --baseline FILE'."""
    from loopscan.baseline import create
    from loopscan.linter import run

    if not expires:
        raise UserError("baseline create needs --expires DATE: a baseline entry ends, e.g. --expires 2027-03-31")
    day = _parse_today(today)
    try:
        until = date.fromisoformat(expires)
    except ValueError:
        raise UserError(f"--expires {expires!r} is not a date (YYYY-MM-DD)") from None
    if until <= day:
        raise UserError(f"--expires {expires} is not after today ({day.isoformat()}): a baseline must end later")
    loaded_config, candidates, rules = _prepare(paths, config, select, ignore, rules_dir, trust_config)
    report = run(candidates, loaded_config, rules, day)
    text, recorded = create(report.findings, until, day, os.path.dirname(output) if output else ".")
    _emit(text, output)
    _note(f"loopscan: recorded {recorded} finding{'s' if recorded != 1 else ''} in {output}, until {expires}")


def _write_findings(report: Report, output_format: OutputFormat, output: str | None, no_color: bool,
                    quiet: bool) -> None:
    """Render the report in its format to stdout or ``output``; for ``github``, the job summary as well."""
    from loopscan.render import Style, findings_renderer

    style = Style(color=output is None and _use_color(no_color), quiet=quiet)
    text = findings_renderer(output_format.value, style)(report)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY") if output_format is OutputFormat.github else None
    if summary_file:  # GitHub shows 10 annotations of each severity: the job summary lists every finding
        from loopscan.output import OutputError, append_output, existing_size
        from loopscan.render.github import render as render_github
        from loopscan.render.github import summary_notice
        from loopscan.render.markdown import SUMMARY_LIMIT, summarize

        held = existing_size(summary_file)
        gap = "\n" if held else ""  # ends what the step wrote before, so that the heading starts a block
        summary = summarize(report, SUMMARY_LIMIT - held - len(gap))
        try:
            append_output(summary_file, gap + summary.text)
        except OutputError as err:  # annotations still printed; exit code still the findings' (README: In CI)
            _note(f"loopscan: error: GITHUB_STEP_SUMMARY: {err}; the job summary is not written")
        else:
            text = render_github(report, notice=summary_notice(summary))
    _emit(text, output)


@app.command("loops")
def loops_command(
    paths: PathsArg = None,
    output_format: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.text,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the table to FILE.")] = None,
    config: ConfigOpt = None,
    today: TodayOpt = None,
    loop_id: Annotated[str | None, typer.Option(
        "--loop", metavar="ID",
        help="One loop whole, with the witness of each generate step: its id, or any node on it.")] = None,
) -> None:
    """Table of every loop: its generate steps, gates, caps, and whether it is documented."""
    from loopscan.linter import analyse
    from loopscan.render import loops as render_loops
    from loopscan.wording import and_list, did_you_mean

    loaded_config, candidates, _ = _prepare(paths, config, None, None, None, False, load_rules=False)
    project = analyse(candidates, loaded_config, _parse_today(today))
    facts = project.facts
    if loop_id is not None:
        loop = facts.loop_by_id.get(loop_id) or facts.loop_of(loop_id)
        if loop is None:
            ids = [loop.id for loop in facts.loops]
            known = f"its loops are {and_list(ids)}" if ids else "it has no loops"
            raise UserError(f"no loop {loop_id!r} in this project{did_you_mean(loop_id, ids)}; {known} "
                            "('loopscan loops' lists them)")
        detail = render_loops.render_detail_json if output_format is TableFormat.json else render_loops.render_detail
        _emit(detail(loop, facts.witnesses(loop)), output)
    elif output_format is TableFormat.json:
        _emit(render_loops.render_json(facts.loops), output)
    else:
        _emit(render_loops.render_table(facts.loops), output)
    raise typer.Exit(1 if _say_unusable(project, "its loops are not listed") else 0)


class GraphFormat(str, Enum):
    """Formats of the diagram: DOT source, SVG or PNG laid out by Graphviz's dot, Mermaid."""

    dot = "dot"
    svg = "svg"
    png = "png"
    mermaid = "mermaid"


class Direction(str, Enum):
    """Which way ``graph`` lays the data flow out."""

    LR = "LR"
    TB = "TB"


@app.command("graph")
def graph_command(
    paths: PathsArg = None,
    output_format: Annotated[GraphFormat, typer.Option(
        "--format", "-f", help="dot, svg or png (these two need Graphviz's dot program), or mermaid.",
    )] = GraphFormat.dot,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the diagram to FILE.")] = None,
    markdown: Annotated[bool, typer.Option("--md", help="Wrap Mermaid in a ```mermaid block for Markdown.")] = False,
    pipeline: Annotated[str | None, typer.Option(
        "--pipeline", metavar="NAME", help="Draw one pipeline and its direct neighbours in other pipelines.")] = None,
    loops_only: Annotated[bool, typer.Option("--loops-only", help="Draw only the nodes on loops.")] = False,
    overview: Annotated[bool, typer.Option(
        "--overview", help="Draw one node per pipeline, with the data flows and loops between them.")] = False,
    full: Annotated[bool, typer.Option(
        "--full", help="Draw every node, even past the size where the overview is drawn instead.")] = False,
    direction: Annotated[Direction, typer.Option(
        "--direction", help="LR: the data flows left to right; TB: top to bottom, narrow enough for a page.",
    )] = Direction.LR,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=1, metavar="SECONDS", help="How long Graphviz's dot may take (svg, png).")] = 60.0,
    config: ConfigOpt = None,
) -> None:
    """Draw the linked pipelines for a design doc: a cluster per pipeline, every loop bold and red.

    A diagram of more than 500 nodes or 1,000 edges, or one past Mermaid's
    default limits (-f mermaid), is drawn as the overview by pipeline, and
    stderr says so; --full draws every node anyway.
    """
    from loopscan.analysis.diagram import UnknownPipeline
    from loopscan.linter import analyse

    if markdown and output_format is not GraphFormat.mermaid:
        raise UserError("--md wraps Mermaid for Markdown: use it with -f mermaid")
    if overview and full:
        raise UserError("--overview and --full ask for different diagrams: use one of them")
    if output_format is GraphFormat.png and output is None and sys.stdout.isatty():
        raise UserError("a PNG is binary: write it to a file with -o FILE")
    loaded_config, candidates, _ = _prepare(paths, config, None, None, None, False, load_rules=False)
    project = analyse(candidates, loaded_config, date.today())
    view = GraphView(pipeline, loops_only, "overview" if overview else "full" if full else None, direction.value)
    try:
        drawing, notes = _draw_graph(project, output_format, markdown, view, timeout)
    except UnknownPipeline as err:
        raise UserError(str(err)) from None
    _emit(drawing, output)
    for note in notes:  # only once it is written: a refusal is the one line on stderr
        _note(note)
    raise typer.Exit(1 if _say_unusable(project, "it is not drawn") else 0)


@dataclass(frozen=True)
class GraphView:
    """What ``loopscan graph`` was asked to draw: a selection, and the view if one was named."""

    pipeline: str | None
    loops_only: bool
    chosen: str | None
    """``overview`` or ``full`` as asked for; None to pick by size."""
    direction: str = "LR"
    """Which way the data flows: ``LR`` or ``TB`` (``Diagram.direction``; DOT and Mermaid spell both alike)."""

    def smaller(self) -> str:
        """The options that draw less than this view, for a message."""
        options = [option for option, used in (("--pipeline NAME", self.pipeline is not None),
                                                ("--loops-only", self.loops_only)) if not used]
        return " or ".join(options)


def _draw_graph(project: Project, output_format: GraphFormat, markdown: bool, view: GraphView,
                timeout: float) -> tuple[str | bytes, list[str]]:
    """The diagram in its format, and the lines for stderr that say which view was drawn and why.

    The view is the one asked for, or else the full diagram when it is :func:`readable` (and, for
    Mermaid, within Mermaid's limits), or else the overview. Raises :class:`UserError` when
    Graphviz cannot draw it, or when even the overview is past Mermaid's limits.
    """
    from loopscan.analysis.diagram import (
        FULL_AT_MOST_EDGES,
        FULL_AT_MOST_NODES,
        Diagram,
        build_diagram,
        build_overview,
        diagram_size,
        readable,
    )

    chosen = view.chosen
    notes = []
    if chosen is None:
        nodes, edges = diagram_size(project, view.pipeline, view.loops_only)
        chosen = "full" if readable(nodes, edges) else "overview"
        if chosen == "overview":
            notes.append(f"loopscan: the full diagram would have {nodes:,} nodes and {edges:,} edges, more than "
                         f"{FULL_AT_MOST_NODES:,} or {FULL_AT_MOST_EDGES:,}: drawing the overview by pipeline "
                         "instead (--full draws every node)")
    def build(view_name: str) -> Diagram:
        builder = build_overview if view_name == "overview" else build_diagram
        return replace(builder(project, pipeline=view.pipeline, loops_only=view.loops_only), direction=view.direction)

    diagram = build(chosen)

    if output_format is GraphFormat.mermaid:
        from loopscan.render.mermaid import markdown_block, over_limits
        from loopscan.render.mermaid import render as render_mermaid

        source = render_mermaid(diagram)
        too_large = over_limits(diagram, source)
        if too_large and view.chosen is None:
            if chosen == "full":
                notes.append(f"loopscan: the full diagram is too large for Mermaid ({too_large}): drawing the "
                             "overview by pipeline instead (--full draws every node)")
                diagram = build("overview")
                source = render_mermaid(diagram)
                too_large = over_limits(diagram, source)
            if too_large:
                smaller = view.smaller()
                raise UserError(f"even the overview by pipeline is too large for Mermaid ({too_large}): "
                                "draw it with -f svg" + (f", or draw less with {smaller}" if smaller else ""))
        if too_large:
            notes.append(f"loopscan: this diagram is too large for Mermaid ({too_large}): it renders only where "
                         "mermaid.initialize sets a larger maxTextSize and maxEdges")
        return markdown_block(source) if markdown else source, notes
    if output_format is GraphFormat.dot:
        from loopscan.render.dot import render as render_dot

        return render_dot(diagram), notes
    from loopscan.render.dot import GraphvizFailed, GraphvizMissing, GraphvizTimedOut, render_image

    try:
        return render_image(diagram, output_format.value, timeout), notes
    except GraphvizTimedOut as err:
        smaller = view.smaller()
        fix = ("draw the overview by pipeline with --overview" if chosen == "full"
               else f"draw less with {smaller}" if smaller else "draw it with -f dot or -f mermaid")
        raise UserError(f"{err}; {fix}, or allow more time with --timeout SECONDS") from None
    except (GraphvizMissing, GraphvizFailed) as err:
        raise UserError(str(err)) from None


@app.command("overrides")
def overrides_command(
    paths: PathsArg = None,
    expiring_within: Annotated[int | None, typer.Option(
        "--expiring-within", min=0, metavar="DAYS",
        help="Only overrides that expire within DAYS days, have expired, or have no expiry date.")] = None,
    output_format: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.text,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the review to FILE.")] = None,
    config: ConfigOpt = None,
    today: TodayOpt = None,
) -> None:
    """Every override with its reason, approver, expiry and days left, soonest first (the monthly review).

    Exits 1 when any override has expired.
    """
    from loopscan.linter import analyse
    from loopscan.overrides import is_expired, overrides, review

    loaded_config, candidates, _ = _prepare(paths, config, None, None, None, False, load_rules=False)
    project = analyse(candidates, loaded_config, _parse_today(today))
    reviews = review(project, expiring_within)
    if output_format is TableFormat.json:
        from loopscan.render.overrides import render_json

        _emit(render_json(reviews, project.today), output)
    else:
        from loopscan.render.overrides import render_table

        _emit(render_table(reviews, project.today), output)
    unusable = _say_unusable(project, "its overrides are not listed")
    raise typer.Exit(1 if unusable or any(is_expired(o, project.today) for o in overrides(project)) else 0)


@app.command("report")
def report_command(
    paths: PathsArg = None,
    output: Annotated[str, typer.Option("--output", "-o", help="Write the HTML review to FILE.")] = "review.html",
    link_base: Annotated[str | None, typer.Option(
        "--link-base", metavar="URL", help="Link each finding to FILE#LLINE under this http(s) URL.")] = None,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=1, metavar="SECONDS", help="How long Graphviz's dot may take for the diagram.")] = 60.0,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    today: TodayOpt = None,
    config: ConfigOpt = None,
    baseline: Annotated[str | None, typer.Option(
        "--baseline", metavar="FILE",
        help="Mark the findings this baseline knows as baselined, and list its entries with their days left.")] = None,
    lineage: LineageOpt = None,
    lineage_include_failed: IncludeFailedOpt = False,
) -> None:
    """One self-contained HTML file for an architecture review: plays, diagram, loops, findings, overrides."""
    from loopscan.linter import analyse
    from loopscan.linter import report as make_report
    from loopscan.overrides import review
    from loopscan.render.html import ReviewInput, render

    if link_base is not None and not link_base.startswith(("https://", "http://")):
        raise UserError(f"--link-base {link_base!r} is not an http(s) URL")
    loaded_config, candidates, rules = _prepare(paths, config, select, ignore, None, False)
    day = _parse_today(today)
    known = _read_baseline(baseline) if baseline is not None else None
    events = _observed_lineage(lineage, loaded_config)
    project = analyse(candidates, loaded_config, day, events, lineage_include_failed)
    result = make_report(project, rules, loaded_config)
    if known is not None:
        from loopscan.baseline import apply

        result.findings, result.unused_baseline = apply(result.findings, known, day)
        result.baseline = known.file
    witnesses = {loop.id: project.facts.waypoints(project.facts.witness(loop.generate)) for loop in result.loops}
    try:
        drawing, notes = _draw_graph(project, GraphFormat.svg, False, GraphView(None, False, None), timeout)
        svg: str | None = drawing.decode("utf-8") if isinstance(drawing, bytes) else drawing
        svg = svg[svg.find("<svg"):] if svg and "<svg" in svg else None
        note = " ".join(notes) or "The full diagram; scroll to zoom, drag to pan."
    except UserError as err:
        svg, note = None, f"The diagram could not be drawn: {err}"
    _emit(render(result, ReviewInput(project.today, review(project), witnesses, svg, note, link_base,
                                     known.entries if known is not None else None)), output)
    raise typer.Exit(1 if _say_unusable(project, "it is left out of the review") else 0)


class TraceFormat(str, Enum):
    """Formats of ``trace``."""

    text = "text"
    json = "json"
    mermaid = "mermaid"


@app.command("trace")
def trace_command(
    node: Annotated[str, typer.Argument(metavar="NODE", help="A qualified node id (pipeline:id) or a URI.")],
    paths: PathsArg = None,
    up: Annotated[bool, typer.Option("--upstream", help="What reaches this model's training data.")] = False,
    down: Annotated[bool, typer.Option("--downstream", help="What this node reaches.")] = False,
    output_format: Annotated[TraceFormat, typer.Option("--format", "-f", help="Output format.")] = TraceFormat.text,
    checklist: Annotated[bool, typer.Option("--checklist", help="Print the response drill checklist.")] = False,
    markdown: Annotated[bool, typer.Option("--md", help="Wrap Mermaid in a ```mermaid block for Markdown.")] = False,
    config: ConfigOpt = None,
    today: TodayOpt = None,
    lineage: LineageOpt = None,
    lineage_include_failed: IncludeFailedOpt = False,
) -> None:
    """Play 5's audit: the suspect data upstream of a model, or the blast radius downstream of a node.

    With ``--lineage``, the trace runs on the declared and the observed flows,
    and lists each observed edge on it with the event that showed it.
    """
    from loopscan.analysis.trace import downstream, upstream
    from loopscan.linter import analyse
    from loopscan.render.trace import render_json, render_text
    from loopscan.wording import did_you_mean

    if up and down:
        raise UserError("--upstream and --downstream ask for different traces: use one of them")
    if markdown and output_format is not TraceFormat.mermaid:
        raise UserError("--md wraps Mermaid for Markdown: use it with -f mermaid")
    loaded_config, candidates, _ = _prepare(paths, config, None, None, None, False, load_rules=False)
    events = _observed_lineage(lineage, loaded_config)
    project = analyse(candidates, loaded_config, _parse_today(today), events, lineage_include_failed)
    if node not in project.dataflow.nodes:
        raise UserError(f"no node {node!r} in this project{did_you_mean(node, list(project.dataflow.nodes))}")
    is_model = project.facts.kind(node) == "model"
    if up and not is_model:
        raise UserError(f"{node!r} is not a model: --upstream traces what a model is trained on")
    result = upstream(project.facts, node) if (up or (is_model and not down)) else downstream(project.facts, node)
    notes: list[str] = []
    if output_format is TraceFormat.mermaid:
        from loopscan.render.mermaid import markdown_block

        written, notes = _trace_mermaid(project, result)
        written = markdown_block(written) if markdown else written
    else:
        written = render_json(result) if output_format is TraceFormat.json else render_text(result, checklist)
    _emit(written, output=None)
    for note in notes:  # only once it is written, as `graph` does
        _note(note)
    # An event that could not be read is a flow the trace may lack: say so, and fail as `check` would.
    for item in events.problems if events is not None else []:
        _note(f"{printable(str(item.problem.location))}: {item.rule} {printable(item.problem.message)}; "
              "the trace leaves it out")
    unusable = _say_unusable(project, "it is left out of the trace")
    raise typer.Exit(1 if unusable or (events is not None and events.problems) else 0)


def _trace_mermaid(project: Project, result: Upstream | Downstream) -> tuple[str, list[str]]:
    """The trace as Mermaid: all of it, or its essentials when all of it is past Mermaid's limits (said on stderr).

    Raises :class:`UserError` when even the essentials are past them.
    """
    from loopscan.analysis.trace import Upstream, downstream_diagram, upstream_diagram
    from loopscan.render.mermaid import over_limits, render

    def draw(whole: bool) -> tuple[str, str]:
        diagram = (upstream_diagram(project, result, whole) if isinstance(result, Upstream)
                   else downstream_diagram(project, result, whole))
        source = render(diagram)
        return source, over_limits(diagram, source)

    source, too_large = draw(whole=True)
    if not too_large:
        return source, []
    upward = isinstance(result, Upstream)
    essentials = ("the model, its training targets, the path, the sources, gates and caps" if upward
                  else "the start, the models and the generate steps")
    listed = "source, gate, cap and join" if upward else "model, generate step, dataset and fork"
    cut_source, cut_too_large = draw(whole=False)
    if cut_too_large:
        raise UserError(f"the trace is too large for Mermaid even cut down to {essentials} ({cut_too_large}): "
                        "use -f text or -f json")
    return cut_source, [f"loopscan: the whole trace is too large for Mermaid ({too_large}): drawing only "
                        f"{essentials} (-f json lists every {listed})"]


lineage_app = typer.Typer(help="Work with observed OpenLineage lineage.", no_args_is_help=True)
app.add_typer(lineage_app, name="lineage")


@lineage_app.command("draft")
def lineage_draft_command(
    events: Annotated[list[str], typer.Argument(help="OpenLineage event files or folders (.gz too).")],
    output: Annotated[str, typer.Option("--output", "-o", help="Write the draft manifests into this folder.")],
) -> None:
    """Write draft manifests from observed lineage: one per job group, to fill in and check."""
    from loopscan.output import OutputError, write_output
    from loopscan.render.draft import draft_manifests

    lineage = _read_lineage(events)
    for item in lineage.problems:
        _note(f"{printable(str(item.problem.location))}: {item.rule} {printable(item.problem.message)}")
    if not lineage.jobs:
        raise UserError("no run events could be read, so there is nothing to draft")
    drafts = draft_manifests(lineage)
    folder = Path(output)
    existing = sorted(name for name in drafts if (folder / name).exists())
    if existing:
        raise UserError(f"not overwriting {printable(str(folder / existing[0]))}: write the drafts into a new folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in drafts.items():
            write_output(folder / name, text)
    except (OSError, OutputError) as err:
        raise UserError(f"cannot write the drafts into {printable(output)}: {err}") from None
    _note(f"wrote {len(drafts)} draft manifest{'s' if len(drafts) != 1 else ''} for {len(lineage.jobs)} "
          f"job{'s' if len(lineage.jobs) != 1 else ''} into {printable(output)}")


@app.command("rules")
def rules_command(
    rules_dir: RulesDirOpt = None,
    output_format: Annotated[CatalogFormat, typer.Option(
        "--format", "-f", help="text: the table; markdown: every rule's docs (docs/rules.md).")] = CatalogFormat.text,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the catalog to FILE.")] = None,
) -> None:
    """The rule catalog: id, name, default severity and play (with --format markdown, their docs too)."""
    from loopscan.registry import all_rules

    rules = _load_rules(all_rules, rules_dir or [])
    if output_format is CatalogFormat.markdown:
        from loopscan.docs import rules_markdown

        _emit(rules_markdown(rules), output)
        return
    width = max(len(r.name) for r in rules)
    typer.echo(f"{'id':<7} {'name':<{width}} {'severity':<8} play")
    for item in rules:
        typer.echo(f"{item.id:<7} {item.name:<{width}} {item.severity.label:<8} {item.play_label}")


@app.command("explain")
def explain_command(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="A rule id (LS301) or name (ungated-loop).")],
    rules_dir: RulesDirOpt = None,
) -> None:
    """Print one rule's documentation."""
    from difflib import get_close_matches

    from loopscan.registry import all_rules

    rules = _load_rules(all_rules, rules_dir or [])
    wanted = rule_id.strip()
    for item in rules:
        if wanted.upper() == item.id or wanted == item.name:
            typer.echo(f"{item.id} {item.name} ({item.severity.label}, {item.play_label})\n\n{item.doc}")
            return
    close = get_close_matches(wanted.upper(), [r.id for r in rules], n=1) or get_close_matches(
        wanted, [r.name for r in rules], n=1)
    hint = f"; did you mean {close[0]}?" if close else "; 'loopscan rules' lists them"
    raise UserError(f"no rule {rule_id!r}{hint}")


def _prepare(
    paths: list[str] | None,
    config_path: Path | None,
    select: list[str] | None,
    ignore: list[str] | None,
    rules_dirs: list[Path] | None,
    trust_config: bool,
    load_rules: bool = True,
) -> tuple[Config, list[Candidate], list[Rule]]:
    """Config, the files to read, and the rules to run; any problem is a UserError.

    Rule ids (``--select``, ``--ignore``, the config's ``ignore`` and ``severity``) are checked once
    the rules are loaded: one that names no rule would pass as "No findings". Without
    ``load_rules`` the config's ids are only checked for spelling.
    """
    prepared = _prepare_scan(paths, config_path, select, ignore, rules_dirs, trust_config, load_rules)
    return prepared.config, prepared.candidates, prepared.rules


@dataclass(frozen=True)
class Prepared:
    """What a scan needs: its config, the paths it was asked to scan, the files found, the rules chosen and
    every rule loaded."""

    config: Config
    targets: list[str]
    candidates: list[Candidate]
    rules: list[Rule]
    loaded: list[Rule]


def _prepare_scan(
    paths: list[str] | None,
    config_path: Path | None,
    select: list[str] | None,
    ignore: list[str] | None,
    rules_dirs: list[Path] | None,
    trust_config: bool,
    load_rules: bool = True,
) -> Prepared:
    from loopscan.config import ConfigError, RuleIdUse, load_config
    from loopscan.registry import RuleIdError, all_rules, choose
    from loopscan.sources.discover import MissingPath, discover

    try:
        config = load_config(config_path)
    except ConfigError as err:
        raise UserError(str(err)) from None

    targets = list(paths or []) or [str(config.root / p) for p in config.paths] or ["."]
    try:
        candidates = discover(targets, config.exclude, str(config.root))
    except MissingPath as err:
        raise UserError(str(err)) from None

    if not load_rules:
        return Prepared(config, targets, candidates, [], [])
    folders = list(rules_dirs or [])
    skipped = bool(config.rules_dirs) and not trust_config
    if config.rules_dirs and trust_config:
        folders.extend(config.root / folder for folder in config.rules_dirs)
    rules = _load_rules(all_rules, folders)
    uses = [*(RuleIdUse(value, "--select", "select") for value in select or []),
            *(RuleIdUse(value, "--ignore", "ignore") for value in ignore or []), *config.rule_ids]
    try:
        chosen = choose(rules, uses, config_rules_unloaded=skipped)
    except RuleIdError as err:
        raise UserError(str(err)) from None
    if skipped:  # after the check, so that an error is the only line on stderr
        shown = ", ".join(config.rules_dirs)
        _note(f"loopscan: skipped rules_dirs from {config.source} ({shown}): rule modules are code; "
              "pass --trust-config to load them")
    return Prepared(config, targets, candidates, chosen, rules)


def _load_rules(loader: object, folders: list[Path]) -> list[Rule]:
    from loopscan.registry import RuleLoadError

    try:
        return loader(folders)  # type: ignore[operator]
    except RuleLoadError as err:
        raise UserError(str(err)) from None


def _parse_today(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--today {text!r} is not a date (YYYY-MM-DD)") from None


def _use_color(no_color: bool) -> bool:
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


def _emit(data: str | bytes, output: str | None) -> None:
    """Write a finished report, table or diagram to stdout, or into ``output`` (see :mod:`loopscan.output`).

    ``output`` stays the string the user typed: a ``pathlib.Path`` would drop the
    final ``/`` of ``-o reports/``, and a file named ``reports`` would be written.
    """
    from loopscan.output import OutputError, write_output, write_stdout

    try:
        if output is None:
            write_stdout(data)
        else:
            write_output(output, data)
    except OutputError as err:
        raise UserError(str(err)) from None
    except BrokenPipeError:
        # Not an OSError from here on: Typer turns an EPIPE into exit 1, the code of findings.
        raise ReaderGone from None


def _say_unusable(project: Project, consequence: str) -> bool:
    """One stderr line for each file that may be a manifest but could not be used, or was used only in part.

    A review table or diagram that left out a broken manifest, or part of one,
    must not look like the whole project: the command says so and exits 1, as
    ``check`` does. A manifest with schema errors (LS002) is used but for what
    they leave out; its line names the first of them. True when there is a line.
    """
    from loopscan.integrity import SCHEMA

    used = {manifest.file for manifest in project.manifests}
    first_problem: dict[str, RecordedProblem] = {}
    first_schema_error: dict[str, RecordedProblem] = {}
    for item in project.load_problems:
        first_problem.setdefault(item.problem.location.file, item)
        if item.rule == SCHEMA and item.problem.location.file in used:  # recorded in the order of the file
            first_schema_error.setdefault(item.problem.location.file, item)
    unusable = sorted(set(project.files) - used)
    for file in sorted({*unusable, *first_schema_error}):
        problem = first_schema_error.get(file) or first_problem.get(file)
        said = f"{problem.problem.location}: {problem.rule} {problem.problem.message}" if problem else file
        left = "the rest of the file is used" if file in first_schema_error else consequence
        _note(f"loopscan: {said}; {left} ('loopscan check' lists every problem)")
    return bool(unusable or first_schema_error)


def _observed_lineage(given: list[str] | None, loaded_config: Config) -> Lineage | None:
    """The events of ``--lineage``, else of the config's ``lineage:`` files; None when neither names any."""
    from loopscan.config import display_path

    paths = given or [display_path(str(loaded_config.root / path)) for path in loaded_config.lineage]
    return _read_lineage(paths) if paths else None


def _read_lineage(paths: list[str]) -> Lineage:
    """The OpenLineage events of ``paths``, with a progress line on stderr when it is a terminal."""
    from loopscan.sources.lineage import read_lineage

    if not sys.stderr.isatty():
        return read_lineage(paths)

    def progress(events: int) -> None:
        sys.stderr.write(f"\rreading lineage: {events:,} events")
        sys.stderr.flush()

    lineage = read_lineage(paths, progress)
    if lineage.events >= 10_000:
        sys.stderr.write("\r\x1b[K")
    return lineage


def _note(text: str) -> None:
    """One line on stderr; names from a scanned repository cannot add lines or drive the terminal."""
    typer.echo(printable(text), err=True)


class Interrupted(BaseException):
    """A signal ends the run: Ctrl-C (SIGINT), or the SIGTERM a cancelled CI job sends.

    Raised from the signal handler so that every ``finally`` runs on the way out:
    a half-written output's temporary file is removed and a ``dot`` child is ended.
    A BaseException, so that no ``except Exception`` on the way can swallow it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class ReaderGone(BaseException):
    """Standard output's reader closed the pipe before the output was written (``| head``)."""


SIGNAL_WORDS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def main(argv: list[str] | None = None) -> None:
    """Run the command line; exit 0, 1, 2, or 128 + the signal, and never show a traceback unless --debug."""
    args = sys.argv[1:] if argv is None else argv
    with _signals_raise_interrupted():
        code = _run(args)
    sys.exit(code)


def _run(args: list[str]) -> int:
    try:
        code = app(args=args, prog_name="loopscan", standalone_mode=False)
    except Interrupted as err:
        return _interrupted(err.signum)
    except (typer.Abort, KeyboardInterrupt):  # raised outside a command; Typer makes one inside exit 130
        return _interrupted(signal.SIGINT)
    except UserError as err:
        print(f"loopscan: error: {printable(str(err))}", file=sys.stderr)
        return 2
    except typer.TyperException as err:  # bad usage: an unknown option, a missing argument, a bad value
        if type(err).__name__ == "NoArgsIsHelpError":  # plain `loopscan`: the help, as usage
            print(err.format_message(), file=sys.stderr)
            return 2
        context = getattr(err, "ctx", None)
        command = context.command_path if context is not None else "loopscan"
        print(f"loopscan: error: {err.format_message()} (see '{command} --help')", file=sys.stderr)
        return 2
    except ReaderGone:
        # The reader went away (`loopscan check | head`): stop quietly, as a shell pipeline expects.
        _silence_stdout()
        return 128 + getattr(signal, "SIGPIPE", 13)
    except Exception as err:
        if "--debug" in args:
            raise
        print(f"loopscan: internal error: {type(err).__name__}: {err} (run with --debug for the traceback)",
              file=sys.stderr)
        return 2
    return code if isinstance(code, int) else 0


def _interrupted(signum: int) -> int:
    print(f"loopscan: {SIGNAL_WORDS.get(signal.Signals(signum), 'interrupted')}", file=sys.stderr)
    return 128 + signum


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


@contextlib.contextmanager
def _signals_raise_interrupted() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` inside the block; the old handlers come back after it.

    Only the main thread may set handlers; elsewhere (an embedding program's
    worker thread) the block runs with the handlers it has.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _interrupt) for signum in SIGNAL_WORDS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
