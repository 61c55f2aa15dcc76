"""The rule interface: metadata, what the rule looks at (its scope), and one check function.

A rule module looks like this (``rules/`` holds the real ones)::

    from loopscan.rule import rule

    @rule("LS305", "replace-in-loop", severity="warning", play=3, scope="dataset")
    def check(project: Project, dataset: Artifact) -> Iterator[Problem]:
        '''One line saying what the rule checks.

        ## Why is this bad?
        ...
        ## Example
        ...
        ## Fix
        ...
        '''
        if dataset.retention == "replace" and project.facts.loop_of(dataset.qualified) is not None:
            yield Problem(message, dataset.at("retention"), pipeline=dataset.pipeline, node=dataset.qualified)

The ``scope`` says what the linter hands the check, one at a time, the way
sqlfluff's crawlers do; the rule only says what is wrong with it:

===================  =======================================  ==================================
scope                the check is called as                   once for each
===================  =======================================  ==================================
``project``          ``check(project)``                       run (the default)
``manifest``         ``check(project, manifest)``             manifest
``dataset``          ``check(project, dataset)``              declared dataset
``step``             ``check(project, step)``                 declared step (of ``kinds``, if given)
``model``            ``check(project, exposed)``              model exposed to collapse (:class:`ExposedModel`)
``loop``             ``check(project, loop)``                 loop (:class:`~loopscan.analysis.facts.Loop`)
``override``         ``check(project, override)``             ``overrides`` entry
``unused-override``  ``check(project, override)``             override in force that suppressed nothing
``change``           ``check(project, change)``               ``loopscan diff`` run (its ``Change``)
===================  =======================================  ==================================

A check of ``unused-override`` scope runs after every other rule, once the
overrides are applied: only then is it known which ones were used. A check of
``change`` scope runs only when the project is compared with a base revision
(``loopscan diff``), where :attr:`Project.change` holds the comparison.

The function's docstring is the rule's documentation (``loopscan explain``).
A rule reads the project and its facts; it never loads files, prints, or
calls another rule. The linter stamps each problem with the rule's id, name
and configured severity.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args, overload

from loopscan.findings import Problem, Severity
from loopscan.project import Project

if TYPE_CHECKING:
    from loopscan.analysis.change import Change
    from loopscan.analysis.exposure import Exposure
    from loopscan.analysis.facts import Loop
    from loopscan.sources.manifest import Artifact, Manifest, Override, Step

__all__ = ["PLAYS", "SCOPES", "ExposedModel", "Project", "Rule", "Scope", "crawl", "rule"]
"""``Project`` is here too, so that a rule module needs one import for the interface it implements."""

PLAYS = {
    0: "manifest integrity",
    1: "Play 1: provenance",
    2: "Play 2: mixing ratios",
    3: "Play 3: recursive loops",
    4: "Play 4: diversity monitoring",
    5: "Play 5: response drill",
    6: "governance",
    7: "observed lineage",
    8: "decay in review",
}

Scope = Literal["project", "manifest", "dataset", "step", "model", "loop", "override", "unused-override", "change"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
AFTER_OVERRIDES: frozenset[Scope] = frozenset({"unused-override"})
"""Scopes whose items are known only once the overrides are applied to every other rule's findings."""

CheckFunction = Callable[..., Iterable[Problem]]
"""``check(project)`` or ``check(project, item)``: the item's type is given by the rule's scope."""


@dataclass(frozen=True)
class ExposedModel:
    """A declared model that collapse can reach, with why (what a ``model``-scope check is given).

    A model declared in several manifests (one URI) is one model: ``model`` is
    the declaration its findings are reported at, ``declarations`` all of them.
    """

    model: Artifact
    exposure: Exposure
    declarations: tuple[Artifact, ...] = ()

    def declaring(self, block: str) -> Artifact:
        """The first declaration that writes ``block`` (``monitoring``, ``rollback``), else :attr:`model`."""
        return next((decl for decl in (self.model, *self.declarations) if getattr(decl, block) is not None),
                    self.model)


@dataclass(frozen=True)
class Rule:
    """A rule's identity, its documentation, what it looks at, and its check."""

    id: str
    name: str
    severity: Severity
    play: int
    check: CheckFunction = field(repr=False, compare=False)
    doc: str = field(default="", repr=False, compare=False)
    scope: Scope = "project"
    kinds: tuple[str, ...] = ()
    """For ``step`` scope: only steps of these kinds (all steps when empty)."""

    @property
    def summary(self) -> str:
        """The first line of the docs: what the rule checks, in one sentence."""
        return self.doc.split("\n", 1)[0].strip()

    @property
    def play_label(self) -> str:
        return PLAYS.get(self.play, f"play {self.play}")

    @property
    def after_overrides(self) -> bool:
        """True when the rule looks at the outcome of the overrides, so it runs after every other rule."""
        return self.scope in AFTER_OVERRIDES

    def problems(self, project: Project, unused_overrides: Sequence[Override] = ()) -> Iterator[Problem]:
        """Run the check on each item of its scope in ``project``.

        ``unused_overrides``: the overrides in force that suppressed nothing,
        for a rule of ``unused-override`` scope.
        """
        if self.scope == "project":
            yield from self.check(project)
            return
        items = unused_overrides if self.scope == "unused-override" else crawl(project, self.scope, self.kinds)
        for item in items:
            yield from self.check(project, item)


def crawl(project: Project, scope: Scope, kinds: tuple[str, ...] = ()) -> Iterator[Any]:
    """The items of ``scope`` in ``project``, in declaration order: what a check of that scope is given."""
    if scope == "manifest":
        yield from project.manifests
    elif scope == "dataset":
        for manifest in project.manifests:
            yield from manifest.datasets.values()
    elif scope == "step":
        for manifest in project.manifests:
            yield from (step for step in manifest.steps.values() if not kinds or step.kind in kinds)
    elif scope == "model":
        facts = project.facts
        exposed = facts.exposed_models
        reported: set[str] = set()
        for node, exposure in exposed.items():
            if node in reported:
                continue
            declarations = facts.declarations_of_model(node)
            reported.update(decl.qualified for decl in declarations)
            if declarations:
                yield ExposedModel(facts.reporting_declaration(declarations), exposure, declarations)
    elif scope == "loop":
        yield from project.facts.loops
    elif scope == "override":
        for manifest in project.manifests:
            yield from manifest.overrides
    elif scope == "change":
        if project.change is not None:
            yield project.change
    else:
        raise ValueError(f"scope {scope!r} has no items to crawl")


ProjectCheck = Callable[[Project], Iterable[Problem]]


@overload
def rule(rule_id: str, name: str, *, severity: str, play: int) -> Callable[[ProjectCheck], Rule]: ...
@overload
def rule(rule_id: str, name: str, *, severity: str, play: int,
         scope: Literal["project"]) -> Callable[[ProjectCheck], Rule]: ...
@overload
def rule(rule_id: str, name: str, *, severity: str, play: int,
         scope: Literal["manifest"]) -> Callable[[Callable[[Project, Manifest], Iterable[Problem]]], Rule]: ...
@overload
def rule(rule_id: str, name: str, *, severity: str, play: int,
         scope: Literal["dataset"]) -> Callable[[Callable[[Project, Artifact], Iterable[Problem]]], Rule]: ...
@overload
def rule(rule_id: str, name: str, *, severity: str, play: int, scope: Literal["step"],
         kinds: tuple[str, ...] = ()) -> Callable[[Callable[[Project, Step], Iterable[Problem]]], Rule]: ...
@overload
def rule(rule_id: str, name: str, *, severity: str, play: int,
         scope: Literal["model"]) -> Callable[[Callable[[Project, ExposedModel], Iterable[Problem]]], Rule]: ...
@overload
def rule(rule_id: str, name: str, *, severity: str, play: int,
         scope: Literal["loop"]) -> Callable[[Callable[[Project, Loop], Iterable[Problem]]], Rule]: ...
@overload
def rule(rule_id: str, name: str, *, severity: str, play: int,
         scope: Literal["change"]) -> Callable[[Callable[[Project, Change], Iterable[Problem]]], Rule]: ...
@overload
def rule(rule_id: str, name: str, *, severity: str, play: int,
         scope: Literal["override", "unused-override"]
         ) -> Callable[[Callable[[Project, Override], Iterable[Problem]]], Rule]: ...
def rule(rule_id: str, name: str, *, severity: str, play: int, scope: Scope = "project",
         kinds: tuple[str, ...] = ()) -> Callable[[Any], Rule]:
    """Make a :class:`Rule` of a check function; its docstring becomes the docs.

    >>> @rule("LS999", "example", severity="info", play=3, scope="step", kinds=("train",))
    ... def check(project, step):
    ...     '''Reports nothing.'''
    ...     return []
    >>> check.id, check.severity.label, check.scope, check.summary
    ('LS999', 'info', 'step', 'Reports nothing.')
    """
    if scope not in SCOPES:
        raise ValueError(f"rule {rule_id}: unknown scope {scope!r} (expected one of: {', '.join(SCOPES)})")
    if kinds and scope != "step":
        raise ValueError(f"rule {rule_id}: kinds= applies to scope='step' only")

    def make(function: CheckFunction) -> Rule:
        doc = inspect.getdoc(function) or ""
        return Rule(rule_id, name, Severity.parse(severity), play, function, doc, scope, tuple(kinds))

    return make
