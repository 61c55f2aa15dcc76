"""LS304 stale-loop-doc: a `loops` entry matches no loop, or a safeguard it lists is gone or off the loop."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import LoopDoc, Manifest, Ref
from loopscan.wording import NAMED_AT_MOST, generate_steps, sequence, shown

if TYPE_CHECKING:
    from loopscan.analysis.facts import Facts, Loop


def _check_entry(project: Project, doc: LoopDoc) -> Iterator[Problem]:
    facts = project.facts
    through = _resolved(project, doc.through)
    safeguards = _resolved(project, doc.safeguards)
    if through:
        loop, problem = _match(facts, doc, through)
        if problem is not None:
            yield problem
        if loop is not None:
            yield from _off_loop_safeguards(facts, doc, safeguards, loop)
    yield from _safeguards_that_protect_nothing(facts, doc, safeguards)


def _resolved(project: Project, refs: Sequence[Ref]) -> list[tuple[Ref, str]]:
    """Each reference that names a node (unknown names are LS004), once per node, in order."""
    found: dict[str, Ref] = {}
    for ref in refs:
        node = project.nodes.get(ref)
        if node is not None:
            found.setdefault(node, ref)
    return [(ref, node) for node, ref in found.items()]


def _match(facts: Facts, doc: LoopDoc, through: list[tuple[Ref, str]]) -> tuple[Loop | None, Problem | None]:
    """The loop the entry describes (None when it matches none), and what is wrong with it."""
    nodes = [node for _, node in through]
    anchor = _anchor(facts, nodes)
    loop = facts.loop_of(anchor) if anchor is not None else None
    if loop is None:
        message = (f"loop entry '{doc.id}' matches no loop: none of its steps ({sequence(_texts(through))}) "
                   "lies on a cycle through a generate step")
        return None, _entry_problem(doc, message)
    listed = [node for node in nodes if facts.loop_through(node) is loop]
    described = generate_steps(facts, listed or loop.generates, doc.pipeline)
    off = [ref.text for ref, node in through if facts.loop_of(node) is not loop]
    if off:
        verb = "is" if len(off) == 1 else "are"
        message = f"loop entry '{doc.id}' matches no loop: {sequence(off)} {verb} not on the loop through {described}"
        return None, _entry_problem(doc, message)
    if not listed:
        named = [f"'{shown(facts, node, doc.pipeline)}'" for node in loop.generates[:NAMED_AT_MOST]]
        more = len(loop.generates) - len(named)
        choice = " or ".join(named) + (f" (or one of {more} more)" if more > 0 else "")
        message = (f"loop entry '{doc.id}' does not list the generate step of its loop: add {choice} to "
                   "`through`")
        return loop, _entry_problem(doc, message)
    return loop, None


def _anchor(facts: Facts, nodes: list[str]) -> str | None:
    """The step whose loop the entry is taken to describe: its first generate step on a loop, else its
    first step on a loop."""
    generates = [node for node in nodes if facts.loop_through(node) is not None]
    on_loops = [node for node in nodes if facts.loop_of(node) is not None]
    return next(iter(generates or on_loops), None)


def _off_loop_safeguards(facts: Facts, doc: LoopDoc, safeguards: list[tuple[Ref, str]],
                         loop: Loop) -> Iterator[Problem]:
    for ref, node in safeguards:
        if loop.on_policy and facts.kind(node) == "gate":
            continue  # a gate declared for an on-policy step's loop of one step, which no gate can lie on
        if facts.loop_of(node) is not loop:
            described = generate_steps(facts, loop.generates, doc.pipeline)
            yield Problem(f"safeguard '{ref.text}' of loop entry '{doc.id}' is not on the loop through "
                          f"{described}", ref.location, pipeline=doc.pipeline, node=node, loop=doc.id)


def _safeguards_that_protect_nothing(facts: Facts, doc: LoopDoc,
                                     safeguards: list[tuple[Ref, str]]) -> Iterator[Problem]:
    for ref, node in safeguards:
        if facts.is_gate(node) or facts.is_cap(node):
            continue
        step = facts.declaration(node)
        method = getattr(step, "method", None) or "other"
        if facts.is_unaccepted_gate(node) and facts.gate_refusal(node) == "detects":
            detects = ", ".join(getattr(step, "detects", ())) or "nothing"
            why = (f"a gate that detects only {detects}, none of policy.loop_gate_detects "
                   f"({', '.join(facts.policy.loop_gate_detects)})")
        elif facts.is_unaccepted_gate(node):
            why = f"a gate with method '{method}', which policy.gate_methods does not accept"
        else:
            kind = getattr(step, "kind", "")
            article = "an" if kind[:1] in ("a", "e", "i", "o", "u") else "a"
            why = f"{article} {kind} step, neither a gate nor a step with mixing.max_synthetic"
        yield Problem(f"safeguard '{ref.text}' of loop entry '{doc.id}' is {why}", ref.location,
                      pipeline=doc.pipeline, node=node, loop=doc.id)


def _entry_problem(doc: LoopDoc, message: str) -> Problem:
    return Problem(message, doc.location, pipeline=doc.pipeline, loop=doc.id)


def _texts(refs: list[tuple[Ref, str]]) -> list[str]:
    return [ref.text for ref, _ in refs]


@rule("LS304", "stale-loop-doc", severity="warning", play=3, scope="manifest")
def check(project: Project, manifest: Manifest) -> Iterator[Problem]:
    """A `loops` entry matches no loop, or a safeguard it lists is gone or off the loop.

    ## Why is this bad?
    Play 3 of the playbook asks to "document the loop and its safeguards so
    the next engineer doesn't accidentally remove them". Documentation that
    no longer matches the pipelines is worse than none: it tells a reviewer
    the loop is gated and capped when the gate was moved off it, or names a
    loop that was redesigned long ago. The playbook's first failure mode is
    exactly this: "the plays decay silently", and nothing breaks until the
    model has trained on its own output for a few generations.

    An entry matches a loop when every step in its `through` lies on one
    loop (a strongly connected part of the graph through a generate step)
    and it lists that loop's generate step. Each safeguard must be on the
    same loop and must be a gate the policy accepts, or a step that sets
    `mixing.max_synthetic`. Names that match no step at all are reported by
    LS004.

    ## Example
    ```yaml
    steps:
      serve: {kind: generate, inputs: [support-llm], outputs: [raw-replies]}
      review: {kind: gate, method: human-review, inputs: [raw-replies], outputs: [transcripts]}
      export: {kind: transform, inputs: [transcripts], outputs: [archive]}
      finetune:
        kind: train
        inputs: [raw-replies]          # no longer reads the reviewed transcripts
        outputs: [support-llm]
        mixing: {max_synthetic: 0.2}
    loops:
      support-feedback:
        through: [serve, finetune]
        why: Approved replies teach the assistant the product's answers.
        safeguards: [review, finetune] # review is off the loop now
    ```

    ## Fix
    Bring the entry up to date with the loop as the finding describes it:
    list the steps it really passes and the safeguards that really protect
    it (and put the gate back on the loop if it was meant to be there, as
    LS301 will also say). Delete an entry whose loop no longer exists.

    ## Options
    - `policy.gate_methods` (default `[human-review, classifier, score-filter,
      dedup]`): a listed safeguard that is a gate protects the loop only when its
      method is one of these.
    - `policy.loop_gate_detects` (default `[synthetic, quality, incorrect]`):
      and only when it detects one of these.
    """
    for doc in manifest.loops.values():
        yield from _check_entry(project, doc)
