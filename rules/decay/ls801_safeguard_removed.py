"""LS801 safeguard-removed: a loop lost a gate or a cap, or a gate on a loop was deleted or bypassed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loopscan.findings import Location, Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Step
from loopscan.wording import and_list, cycle_route

if TYPE_CHECKING:
    from loopscan.analysis.change import Change
    from loopscan.analysis.facts import Loop


@rule("LS801", "safeguard-removed", severity="error", play=8, scope="change")
def check(project: Project, change: Change) -> Iterator[Problem]:
    """A loop lost a gate or a cap, or a gate step on a loop was deleted or bypassed.

    ## Why is this bad?
    The playbook's first failure mode is decay: "The mixing-ratio gate gets an
    override that becomes permanent. Nobody notices because nothing breaks
    immediately." A loop crosses files: deleting the gate in one team's
    manifest makes LS301 fire at a generate step in another team's file,
    which the pull request did not touch and whose reviewers never see it.
    This rule reports the removal where it happened, at the line of the head
    revision nearest to what was deleted (the enclosing step, or the
    manifest's `steps:` key), and names what was there and where it was at
    the base revision.

    It reports only in `loopscan diff --base REF`, which compares the
    analysed projects, not the texts: a loop is matched by its generate steps
    (or by the name of the `loops` entry that documents it), a step by its
    qualified id, so moving or reformatting a manifest removes nothing.

    ## Example
    ```yaml
    # curation.yaml at origin/main
    steps:
      review:                 # deleted by the change
        kind: gate
        method: human-review
        inputs: [raw-replies]
        outputs: [reviewed-replies]
    ```

    ## Fix
    Put the gate (or the cap) back on the loop, or read its output again where
    the loop re-enters training. If the loop is meant to end, cut the edge that
    closes it instead; a loop that no longer exists loses nothing.
    """
    for before, after in change.loop_pairs:
        lost_gates = list(_lost(change, before, after, before.gates, after.gates, "gate"))
        yield from lost_gates
        yield from _lost(change, before, after, before.caps, after.caps, "cap")
        if not lost_gates:
            yield from _bypassed(change, before, after)


def _lost(change: Change, before: Loop, after: Loop, had: tuple[str, ...], has: tuple[str, ...],
          what: str) -> Iterator[Problem]:
    """A gate (or capping step) of the base loop that the head loop lacks: deleted, or off the loop.

    A capping step still on the loop that lost its ``max_synthetic`` is LS802's.
    """
    head = change.head.facts
    for node in had:
        old = change.base.facts.step(node)
        if old is None:
            continue
        now = change.counterpart(node)
        if now is not None and now in has:
            continue
        generate = head.step(after.generate)
        fallback = generate.location if generate is not None else Location(old.location.file)
        named = f"{what} '{old.id}' ({change.was(old.location)})"
        step = head.step(now) if now is not None else None
        if step is None:
            message = f"{named} was deleted; loop {after.id} no longer passes it"
            location = change.nearest(old, fallback)
        elif now in after.nodes:
            if what == "cap":
                continue
            message = f"{named} is no longer a gate the policy accepts, on loop {after.id}"
            location = step.key_at("kind") if step.kind != "gate" else step.at("method")
        else:
            message = f"{named} no longer lies on loop {after.id}"
            location = step.location
        yield Problem(message, location, pipeline=old.pipeline, node=now or node, loop=after.id)


def _bypassed(change: Change, before: Loop, after: Loop) -> Iterator[Problem]:
    """A generate step whose every cycle passed a gate at the base, and that now has one around the gates."""
    head = change.head.facts
    was_gated = {change.counterpart(node) for node in before.generates if node not in before.ungated_generates}
    for generate in after.ungated_generates:
        if generate not in was_gated:
            continue
        cycle = head.ungated[generate]
        step = head.step(generate)
        if step is None:
            continue
        gates = [gate.id for node in before.gates if (gate := change.base.facts.step(node)) is not None]
        location = _new_edge(change, cycle) or step.location
        yield Problem(f"loop {after.id} now has a cycle that bypasses its gate{'s' if len(gates) > 1 else ''} "
                      f"{and_list(gates)} ({cycle_route(head, cycle)})",
                      location, pipeline=step.pipeline, node=generate, loop=after.id,
                      cycle=head.waypoints(cycle))


def _new_edge(change: Change, cycle: list[str]) -> Location | None:
    """Where the change wrote the first link of ``cycle`` that the base did not have: a new input or output."""
    head = change.head
    renamed_back = {new: old for old, new in change.renamed.items()}
    for node in cycle:
        step = head.facts.step(node)
        if step is None:
            continue
        old = change.base.facts.declaration(renamed_back.get(node, node))
        if not isinstance(old, Step):
            return step.location
        for refs, old_refs in ((step.inputs, old.inputs), (step.outputs, old.outputs)):
            known = {ref.text for ref in old_refs}
            for ref in refs:
                if ref.text not in known and head.nodes.get(ref) in cycle:
                    return ref.location
    return None
