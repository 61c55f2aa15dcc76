"""LS301 ungated-loop: some cycle through a generate step passes no quality gate."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.wording import cycle_route, generating, shown, unaccepted_gate

if TYPE_CHECKING:
    from loopscan.analysis.facts import Facts, Loop


@rule("LS301", "ungated-loop", severity="error", play=3, scope="loop")
def check(project: Project, loop: Loop) -> Iterator[Problem]:
    """Some cycle through a generate step passes no quality gate.

    ## Why is this bad?
    Play 3 of the playbook (break recursive loops) calls letting a system
    train on its own output "the fastest way to manufacture collapse", and
    asks for a human-review or quality-gate checkpoint at every point where
    generated output can re-enter as input. Without one, every generation
    learns from the previous generation's unfiltered output: Shumailov et al.,
    "AI models collapse when trained on recursively generated data" (Nature,
    2024), show the tails of the distribution vanishing first and the errors
    compounding from one generation to the next.

    Every cycle counts, not only the documented one: a side path around the
    gate is enough to bring unreviewed output back. A gate counts only when
    the policy accepts its method (`policy.gate_methods`: by default
    `human-review`, `classifier`, `score-filter` and `dedup`; a gate with
    `method: other`, or none, does not), and when what it `detects` holds
    one of `policy.loop_gate_detects` (by default `synthetic`, `quality` and
    `incorrect`). Without `detects`, a gate detects its method's default:
    `human-review` synthetic, quality, incorrect and unsafe content;
    `classifier` synthetic; `score-filter` quality; `dedup` duplicates;
    `other` nothing. So a dedup-only gate does not stop a loop: it removes
    copies, not generated content. The finding shows the shortest such
    cycle with the file and line of every node on it, also when it crosses
    the manifests of several teams.

    A train step with `on_policy: true` samples from the model it trains
    while it trains (PPO, online RL): it is a loop of one step. No gate step
    can lie on it, and its scorer (a reward model) is no gate; it is gated
    when a `loops` entry that lists it in `through` names a gate step in
    `safeguards` (one that checks the samples, declared as its own step).

    ## Example
    ```yaml
    steps:
      serve:
        kind: generate
        inputs: [support-llm]
        outputs: [raw-replies]
      finetune:                  # trains on the replies exactly as generated
        kind: train
        inputs: [raw-replies]
        outputs: [support-llm]
        mixing: {max_synthetic: 0.2}
    ```

    ## Fix
    Put a gate on the cycle the finding shows, where the generated output
    goes back towards training, and read its output instead:
    ```yaml
      review:
        kind: gate
        method: human-review
        inputs: [raw-replies]
        outputs: [reviewed-replies]
      finetune:
        kind: train
        inputs: [reviewed-replies]
    ```
    Or cut the edge that closes the loop. If the cycle already passes a gate
    whose method the policy does not accept, or that detects nothing the
    policy asks for, the message names it; say what it really removes:
    ```yaml
      near-dup-filter:
        kind: gate
        method: dedup
        detects: [duplicates, quality]   # it also drops boilerplate pages
    ```

    ## Options
    - `policy.gate_methods` (default `[human-review, classifier, score-filter,
      dedup]`): the gate methods that count as a quality gate; a gate step with
      another method, or none, is no gate.
    - `policy.loop_gate_detects` (default `[synthetic, quality, incorrect]`):
      a gate stops a loop only when it detects one of these.
    """
    facts = project.facts
    for generate in loop.ungated_generates:
        cycle = facts.ungated[generate]
        step = facts.step(generate)
        if step is None:
            continue
        message = (f"loop through {generating(step)} has a cycle with no quality gate "
                   f"({cycle_route(facts, cycle)})")
        refused = _unaccepted_gate_notes(facts, cycle, step.pipeline)
        yield Problem(
            "; ".join([message, *refused]),
            step.location,
            pipeline=step.pipeline,
            node=generate,
            loop=loop.id,
            cycle=facts.waypoints(cycle),
        )


def _unaccepted_gate_notes(facts: Facts, cycle: list[str], pipeline: str) -> list[str]:
    """A note for each gate on the cycle that the policy does not accept: its method, or what it detects."""
    return [unaccepted_gate(facts.step(node), shown(facts, node, pipeline), facts.gate_refusal(node),
                            facts.policy.loop_gate_detects)
            for node in cycle if facts.is_unaccepted_gate(node)]
