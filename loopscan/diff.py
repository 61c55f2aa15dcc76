"""The pipeline of ``loopscan diff``: the project at a base revision and now, analysed the same way.

The base revision's files and config come from git's objects
(:mod:`loopscan.sources.gitbase`) and go through the same load, link and
analysis steps as the work tree's (:func:`loopscan.linter.analyse`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from loopscan.analysis.change import Change, Settings
from loopscan.config import Config, ConfigError, config_from_bytes
from loopscan.findings import ABSENT, NEW, UNCHANGED, UPDATED, Finding
from loopscan.linter import Report, analyse, check, collector_paused, report
from loopscan.project import Project
from loopscan.rule import Rule
from loopscan.sources.gitbase import Revision, base_candidates, base_config_files


@dataclass(frozen=True)
class Base:
    """The analysed project at the base revision, with the config it used."""

    revision: Revision
    config: Config
    config_text: bytes | None
    """The base config file's bytes (None without one), for where a changed setting was written."""
    project: Project


def base_config(revision: Revision, head: Config, start: Path) -> tuple[Config, bytes | None]:
    """The config of the base revision, read from its tree, and its bytes; defaults when it had none.

    A config the base revision cannot use is an error of the base: the message says so.
    """
    for found in base_config_files(revision, head.source, start):
        try:
            config = config_from_bytes(found.path, found.content)
        except ConfigError as err:
            raise ConfigError(f"the config at {revision.label}: {err}") from None
        if config is not None:
            return config, found.content
    return Config(root=start), None


def analyse_base(revision: Revision, head: Config, targets: list[str], start: Path, today: date) -> Base:
    """The project at ``revision``: the files a scan of ``targets`` reads, under the config of that revision.

    ``targets`` are the scan's paths as the head run resolved them, so that
    both revisions cover the same folders; the base config's ``exclude`` applies.
    """
    config, text = base_config(revision, head, start)
    candidates = base_candidates(revision, targets, config.exclude, config.root)
    return Base(revision, config, text, analyse(candidates, config, today))


def config_bytes(config: Config) -> bytes | None:
    """The bytes of the config file a run used, None without one (or when it went unreadable since)."""
    if config.source is None:
        return None
    try:
        return config.source.read_bytes()
    except OSError:
        return None


def compare(base: Base, head: Project, head_config: Config, rules: list[Rule],
            head_settings: Settings | None = None) -> Change:
    """Attach to ``head`` its comparison with ``base``: what the decay rules (``change`` scope) read.

    ``head_settings``: the head's config with its bytes, when the head is not the work tree (``--head REF``).
    """
    change = Change(
        base=base.project,
        head=head,
        label=base.revision.label,
        base_settings=Settings(base.config, base.config_text),
        head_settings=head_settings or Settings(head_config, config_bytes(head_config)),
        default_severity={rule.id: rule.severity for rule in rules},
    )
    head.change = change
    return change


def mark(head: list[Finding], base: list[Finding]) -> tuple[list[Finding], list[Finding]]:
    """Each head finding marked against the base's, and the base's findings that are gone (``absent``).

    A head finding is ``unchanged`` when the base has one of the same
    :attr:`~loopscan.findings.Finding.identity` and message, ``updated`` when
    it has one of the same identity with another message, else ``new``. Lines
    never count, so an edit elsewhere in a file or a moved file changes nothing.
    """
    waiting: dict[tuple[str, str, str], list[Finding]] = {}
    for finding in base:
        waiting.setdefault(finding.identity, []).append(finding)
    states: list[str] = []
    for finding in head:  # same message first, so that an updated one cannot take an unchanged one's match
        same = waiting.get(finding.identity, [])
        match = next((index for index, old in enumerate(same) if old.message == finding.message), None)
        states.append(UNCHANGED if match is not None else "")
        if match is not None:
            same.pop(match)
    for index, finding in enumerate(head):
        if not states[index]:
            same = waiting.get(finding.identity, [])
            states[index] = UPDATED if same else NEW
            if same:
                same.pop(0)
    fixed = [replace(old, state=ABSENT) for olds in waiting.values() for old in olds]
    marked = [replace(finding, state=state) for finding, state in zip(head, states, strict=True)]
    return marked, sorted(fixed, key=Finding.sort_key)


def diff_report(base: Base, head: Project, head_config: Config, rules: list[Rule], known: list[Rule],
                head_settings: Settings | None = None) -> Report:
    """The head's report with each finding marked against the base, the fixed ones, and the decay rules' findings.

    ``rules`` are the rules chosen to run (on both revisions); ``known`` every
    loaded rule, whose default severities LS805 compares with the config.
    """
    with collector_paused():
        base_findings = check(base.project, rules, base.config)
        compare(base, head, head_config, known, head_settings)
        result = report(head, rules, head_config)
    result.findings, result.fixed = mark(result.findings, base_findings)
    result.base = base.revision.label
    return result
