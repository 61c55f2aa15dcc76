"""The ``loopscan`` command line.

Exit codes: 0 nothing at or above ``--fail-on``; 1 findings at or above it;
2 the run itself could not happen (bad usage, a missing path, an invalid
config). Nothing a user can type or write gives a Python traceback:
``--debug`` shows one for an internal error.

Imports of the engine happen inside the commands, so that ``--version``,
``--help``, ``rules`` and ``explain`` start fast.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from datetime import date
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loopscan import __version__
from loopscan.printable import printable

if TYPE_CHECKING:
    from loopscan.config import Config
    from loopscan.discover import Candidate
    from loopscan.rule import Rule

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
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    junit = "junit"


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
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
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
) -> None:
    """Scan manifests and report findings."""
    from loopscan.findings import Severity
    from loopscan.linter import run

    loaded_config, candidates, rules = _prepare(paths, config, select, ignore, rules_dir, trust_config)
    report = run(candidates, loaded_config, rules, _parse_today(today))
    if verbose:
        for file, why in report.passed_over:
            _note(f"passed over {file}: {why}")

    if output_format is OutputFormat.text:
        from loopscan.render.text import render as render_text

        color = output is None and _use_color(no_color)
        text = render_text(report, color=color, quiet=quiet)
    else:
        from importlib import import_module

        text = import_module(f"loopscan.render.{output_format.value}").render(report)
    _emit(text, output)

    threshold = Severity.parse(fail_on.value)
    failing = any(f.suppressed is None and f.severity >= threshold for f in report.findings)
    raise typer.Exit(1 if failing else 0)


@app.command("loops")
def loops_command(
    paths: PathsArg = None,
    output_format: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the table to FILE.")] = None,
    config: ConfigOpt = None,
    today: TodayOpt = None,
) -> None:
    """Table of every loop: its generate step, gates, caps, and whether it is documented."""
    from loopscan.linter import analyse

    loaded_config, candidates, _ = _prepare(paths, config, None, None, None, False, load_rules=False)
    project = analyse(candidates, loaded_config, _parse_today(today))
    if output_format is TableFormat.json:
        from loopscan.render.loops import render_json

        _emit(render_json(project), output)
    else:
        from loopscan.render.loops import render_table

        _emit(render_table(project), output)


class GraphFormat(str, Enum):
    """Formats of the diagram: DOT source, SVG or PNG laid out by Graphviz's dot, Mermaid."""

    dot = "dot"
    svg = "svg"
    png = "png"
    mermaid = "mermaid"


@app.command("graph")
def graph_command(
    paths: PathsArg = None,
    output_format: Annotated[GraphFormat, typer.Option(
        "--format", "-f", help="dot, svg or png (these two need Graphviz's dot program), or mermaid.",
    )] = GraphFormat.dot,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the diagram to FILE.")] = None,
    markdown: Annotated[bool, typer.Option("--md", help="Wrap Mermaid in a ```mermaid block for Markdown.")] = False,
    pipeline: Annotated[str | None, typer.Option(
        "--pipeline", metavar="NAME", help="Draw one pipeline and its direct neighbours in other pipelines.")] = None,
    loops_only: Annotated[bool, typer.Option("--loops-only", help="Draw only the nodes on loops.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Draw the linked pipelines for a design doc: a cluster per pipeline, every loop bold and red."""
    from loopscan.diagram import UnknownPipeline, build_diagram
    from loopscan.linter import analyse

    if markdown and output_format is not GraphFormat.mermaid:
        raise UserError("--md wraps Mermaid for Markdown: use it with -f mermaid")
    if output_format is GraphFormat.png and output is None and sys.stdout.isatty():
        raise UserError("a PNG is binary: write it to a file with -o FILE")
    loaded_config, candidates, _ = _prepare(paths, config, None, None, None, False, load_rules=False)
    project = analyse(candidates, loaded_config, date.today())
    try:
        diagram = build_diagram(project, pipeline=pipeline, loops_only=loops_only)
    except UnknownPipeline as err:
        raise UserError(str(err)) from None
    unread = sorted(set(project.files) - {manifest.file for manifest in project.manifests})
    if unread:
        _note(f"loopscan: not drawn: {', '.join(unread)} could not be used ('loopscan check' says why)")
    if output_format is GraphFormat.mermaid:
        from loopscan.render.mermaid import render as render_mermaid

        _emit(render_mermaid(diagram, markdown=markdown), output)
        return
    if output_format is GraphFormat.dot:
        from loopscan.render.dot import render as render_dot

        _emit(render_dot(diagram), output)
        return
    from loopscan.render.dot import GraphvizMissing, render_image

    try:
        image = render_image(diagram, output_format.value)
    except GraphvizMissing as err:
        raise UserError(str(err)) from None
    if output_format is GraphFormat.svg:
        _emit(image.decode("utf-8"), output)
    else:
        _emit_binary(image, output)


def _emit_binary(data: bytes, output: Path | None) -> None:
    """Write bytes (a PNG) to stdout, or to ``output`` through a temporary file and a rename."""
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    write_atomically(output, data)


@app.command("overrides")
def overrides_command(
    paths: PathsArg = None,
    expiring_within: Annotated[int | None, typer.Option(
        "--expiring-within", min=0, metavar="DAYS",
        help="Only overrides that expire within DAYS days, have expired, or have no expiry date.")] = None,
    output_format: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the review to FILE.")] = None,
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
    unread = sorted(set(project.files) - {manifest.file for manifest in project.manifests})
    if unread:
        _note(f"loopscan: the overrides of {', '.join(unread)} are not listed: the file could not be "
              "used ('loopscan check' says why)")
    reviews = review(project, expiring_within)
    if output_format is TableFormat.json:
        from loopscan.render.overrides import render_json

        _emit(render_json(reviews, project.today), output)
    else:
        from loopscan.render.overrides import render_table

        _emit(render_table(reviews, project.today), output)
    raise typer.Exit(1 if any(is_expired(o, project.today) for o in overrides(project)) else 0)


@app.command("rules")
def rules_command(
    rules_dir: RulesDirOpt = None,
    output_format: Annotated[CatalogFormat, typer.Option(
        "--format", "-f", help="text: the table; markdown: every rule's docs (docs/rules.md).")] = CatalogFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the catalog to FILE.")] = None,
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
    """Config, the files to read, and the rules to run; any problem is a UserError."""
    from loopscan.config import ConfigError, load_config
    from loopscan.discover import MissingPath, discover
    from loopscan.registry import all_rules, selected

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
        return config, candidates, []
    folders = list(rules_dirs or [])
    if config.rules_dirs:
        if trust_config:
            folders.extend(config.root / folder for folder in config.rules_dirs)
        else:
            shown = ", ".join(config.rules_dirs)
            _note(f"loopscan: skipped rules_dirs from {config.source} ({shown}): rule modules are code; "
                  "pass --trust-config to load them")
    rules = _load_rules(all_rules, folders)
    ignored = [*(ignore or []), *config.ignore]
    return config, candidates, list(selected(rules, select or [], ignored))


def _load_rules(loader: object, folders: list[Path]) -> list[Rule]:
    from loopscan.registry import RuleLoadError

    try:
        return loader(folders)  # type: ignore[operator,no-any-return]
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


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    write_atomically(output, text.encode("utf-8"))


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file beside ``path`` and rename it over ``path``.

    A run that fails or is interrupted while writing leaves the old file whole
    and no temporary file behind.
    """
    folder = path.parent if str(path.parent) else Path(".")
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
        temporary = None
    except OSError as err:
        raise UserError(f"cannot write '{path}': {err.strerror or err}") from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _note(text: str) -> None:
    """One line on stderr; names from a scanned repository cannot add lines or drive the terminal."""
    typer.echo(printable(text), err=True)


def main(argv: list[str] | None = None) -> None:
    """Run the command line; exit 0, 1 or 2 and never show a traceback unless --debug."""
    args = sys.argv[1:] if argv is None else argv
    try:
        code = app(args=args, prog_name="loopscan", standalone_mode=False)
    except UserError as err:
        print(f"loopscan: error: {printable(str(err))}", file=sys.stderr)
        sys.exit(2)
    except typer.TyperException as err:  # bad usage: an unknown option, a missing argument, a bad value
        if type(err).__name__ == "NoArgsIsHelpError":  # plain `loopscan`: the help, as usage
            print(err.format_message(), file=sys.stderr)
            sys.exit(2)
        context = getattr(err, "ctx", None)
        command = context.command_path if context is not None else "loopscan"
        print(f"loopscan: error: {err.format_message()} (see '{command} --help')", file=sys.stderr)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        print("loopscan: interrupted", file=sys.stderr)
        sys.exit(2)
    except Exception as err:
        if "--debug" in args:
            raise
        print(f"loopscan: internal error: {type(err).__name__}: {err} (run with --debug for the traceback)",
              file=sys.stderr)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
