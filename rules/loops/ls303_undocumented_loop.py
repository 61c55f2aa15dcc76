"""LS303 undocumented-loop: a loop through a generate step has no entry in any manifest's `loops` block."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.wording import cycle_route, generate_steps

if TYPE_CHECKING:
    from loopscan.analysis.facts import Loop


@rule("LS303", "undocumented-loop", severity="error", play=3, scope="loop")
def check(project: Project, loop: Loop) -> Iterator[Problem]:
    """A loop through a generate step has no entry in any manifest's `loops` block.

    ## Why is this bad?
    Play 3 of the playbook ends with "document the loop and its safeguards
    so the next engineer doesn't accidentally remove them". Loops are the
    play teams skip most, "because they're usually invisible until
    diagrammed": generation and ingestion are set up separately, often by
    different teams, and nobody sees that the output of one feeds the input
    of the other. An undocumented loop has no owner who knows that its gate
    and its cap are load-bearing, so a later change removes them without a
    second thought, and the model starts learning from its own output
    (Shumailov et al., "AI models collapse when trained on recursively
    generated data", Nature, 2024).

    A loop is a strongly connected component of the linked graph, however
    many generate steps it holds, and it is reported once, at its first
    generate step. It counts as documented when a `loops` entry in any
    manifest lists one of its generate steps in `through` (as a local id, or
    as `pipeline:step` from another manifest). The finding shows the shortest
    cycle through that generate step, with the file and line of every node
    on it. A train step with `on_policy: true` samples from the model it
    trains: it is a loop of one step, documented like any other
    (`through: [ppo]`).

    ## Example
    ```yaml
    steps:
      answer:
        kind: generate
        inputs: [answerer, help-index]
        outputs: [answers]
      index-answers:             # the answers go back into the index it reads
        kind: transform
        inputs: [answers]
        outputs: [help-index]
    # no loops block
    ```

    ## Fix
    Document the loop where its owners will see it: why it exists and which
    gate and capping steps protect it.
    ```yaml
    loops:
      answer-cache:
        through: [answer, index-answers]
        why: Past answers make frequent questions fast.
        safeguards: [review-answers, index-answers]   # its gate and capping steps
    ```
    List the gate and the capping step the loop passes (add them first if
    LS301 or LS302 report it). If the loop is not meant to exist, cut the
    edge that closes it instead.
    """
    facts = project.facts
    step = facts.declaration(loop.generate)
    if loop.documented_by or step is None:
        return
    cycle = facts.witness(loop.generate)
    generates = generate_steps(facts, loop.generates, step.pipeline)
    lists = "lists it" if len(loop.generates) == 1 else "lists any of them"
    yield Problem(
        f"loop through {generates} is not documented: no `loops` entry {lists} in "
        f"`through` ({cycle_route(facts, cycle)})",
        step.location,
        pipeline=step.pipeline,
        node=loop.generate,
        loop=loop.id,
        cycle=facts.waypoints(cycle),
    )
