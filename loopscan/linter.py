"""The pipeline of one run: load -> link -> analyse -> rules -> overrides -> report.

Each step is a plain function of the previous one's result; nothing here
prints or formats (renderers do that).

A run builds one large structure that lives until the report is made: the
documents, manifests, graph and facts. Python's cyclic garbage collector
would walk all of it again and again while it grows and find nothing to free
(a quarter of the time of a scan of 100,000 nodes), so it is paused for the
run; reference counting still frees everything the run lets go of.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from loopscan import __version__
from loopscan.analysis.facts import Facts, Loop
from loopscan.baseline import Entry
from loopscan.config import Config
from loopscan.findings import ABSENT, STATES, Finding, Problem, Severity
from loopscan.graph.link import link
from loopscan.graph.observed import Observed, joiner
from loopscan.overrides import apply_overrides
from loopscan.project import Project
from loopscan.rule import Rule
from loopscan.sources.discover import Candidate
from loopscan.sources.lineage import Lineage
from loopscan.sources.load import load_files


@dataclass
class Report:
    """Everything a renderer needs, already computed and sorted."""

    version: str
    files: list[str]
    pipelines: int
    nodes: int
    findings: list[Finding]
    loops: list[Loop]
    rules: list[Rule]
    passed_over: list[tuple[str, str]] = field(default_factory=list)
    base: str | None = None
    """The base revision the findings are marked against (``loopscan diff``), as the user named it."""
    fixed: list[Finding] = field(default_factory=list)
    """The base revision's findings that the head no longer has (``loopscan diff``)."""
    baseline: str | None = None
    """The baseline file the findings were marked with (``check --baseline``), as shown."""
    unused_baseline: list[Entry] = field(default_factory=list)
    """Its entries that matched no finding."""

    def states(self) -> dict[str, int]:
        """Against the base revision: findings in force that are new, unchanged or updated, and those fixed."""
        counts = dict.fromkeys(STATES, 0)
        for finding in self.findings:
            if finding.in_force and finding.state in counts:
                counts[finding.state] += 1
        counts[ABSENT] = len(self.fixed)
        return counts

    def counts(self) -> dict[str, int]:
        """Findings in force by severity label, and how many overrides suppressed."""
        counts = {severity.label: 0 for severity in sorted(Severity, reverse=True)}
        for finding in self.findings:
            if finding.in_force:
                counts[finding.severity.label] += 1
        counts["suppressed"] = sum(1 for f in self.findings if f.suppressed is not None)
        if self.baseline is not None:
            counts["baselined"] = sum(1 for f in self.findings if f.baselined is not None and not f.baselined.expired)
        return counts


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside the block, and restore its state after it.

    >>> with collector_paused():
    ...     gc.isenabled()
    False
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def analyse(candidates: list[Candidate], config: Config, today: date, lineage: Lineage | None = None,
            include_failed: bool = False) -> Project:
    """Load, link and analyse: the project every rule reads.

    With ``lineage``, the graph is the union of the declared and the observed
    flows (:mod:`loopscan.graph.observed`), and the loops of the declared graph
    alone are kept to tell which loops only the observed flows close.
    """
    observed: Observed | None = None
    with collector_paused():
        loaded = load_files(candidates)
        if lineage is None:
            linked = link(loaded.manifests)
        else:
            observed, join = joiner(lineage, include_failed)
            declared = Facts(link(loaded.manifests), config.policy)
            observed.declared_loops = frozenset(declared.cyclic_generate_steps)
            linked = link(loaded.manifests, join)
    project = Project(
        manifests=linked.manifests,
        dataflow=linked.dataflow,
        nodes=linked.nodes,
        facts=Facts(linked, config.policy),
        policy=config.policy,
        today=today,
        load_problems=[*loaded.problems, *linked.problems],
        files=loaded.files,
        passed_over=loaded.passed_over,
        observed=observed,
    )
    if lineage is not None:
        project.load_problems.extend(lineage.problems)
    return project


def check(project: Project, rules: list[Rule], config: Config) -> list[Finding]:
    """Run every rule, apply overrides, run the rules that read their outcome, and sort the findings.

    Findings are sorted by file, line, column, rule, node and message.
    """

    def stamp(rule: Rule, problem: Problem) -> Finding:
        return Finding(rule.id, rule.name, config.severity.get(rule.id, rule.severity), problem)

    findings = [stamp(rule, problem) for rule in rules if not rule.after_overrides
                for problem in rule.problems(project)]
    findings, unused = apply_overrides(findings, project)
    findings.extend(stamp(rule, problem) for rule in rules if rule.after_overrides
                    for problem in rule.problems(project, unused))
    return sorted(findings, key=Finding.sort_key)


def run(candidates: list[Candidate], config: Config, rules: list[Rule], today: date,
        lineage: Lineage | None = None, include_failed: bool = False) -> Report:
    """One whole run, from the files (and the observed lineage) to the report."""
    with collector_paused():
        return report(analyse(candidates, config, today, lineage, include_failed), rules, config)


def report(project: Project, rules: list[Rule], config: Config) -> Report:
    """Check an analysed project and gather what the renderers need."""
    return Report(
        version=__version__,
        files=project.files,
        pipelines=len(project.manifests),
        nodes=project.dataflow.number_of_nodes(),
        findings=check(project, rules, config),
        loops=project.facts.loops,
        rules=rules,
        passed_over=project.passed_over,
    )
