"""LS302 uncapped-loop: some cycle through a generate step passes no step with a mixing cap."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.wording import cycle_route, generating

if TYPE_CHECKING:
    from loopscan.analysis.facts import Loop


@rule("LS302", "uncapped-loop", severity="error", play=3, scope="loop")
def check(project: Project, loop: Loop) -> Iterator[Problem]:
    """Some cycle through a generate step passes no step with a mixing cap.

    ## Why is this bad?
    A gate filters what comes back, but it does not limit how much of the
    next training mix is the model's own output. Play 3 of the playbook asks
    that where a loop is genuinely necessary, re-ingested data be "filtered,
    scored, and capped under the Play 2 ratios". Shumailov et al., "AI models
    collapse when trained on recursively generated data" (Nature, 2024), find
    that keeping part of the original human data in every generation's
    training mix slows the degradation sharply; a loop with no ceiling on the
    synthetic share lets that part shrink towards nothing, one run at a time.

    A step caps a loop when it declares `mixing.max_synthetic` (usually the
    train step). Every cycle counts: a second path into another, uncapped
    train step is enough. The finding shows the shortest uncapped cycle with
    the file and line of every node on it.

    ## Example
    ```yaml
    steps:
      serve:
        kind: generate
        inputs: [support-llm]
        outputs: [raw-replies]
      review:
        kind: gate
        method: human-review
        inputs: [raw-replies]
        outputs: [transcripts]
      finetune:                  # no mixing block: any share may be synthetic
        kind: train
        inputs: [transcripts, anchor-v3]
        outputs: [support-llm]
    ```

    ## Fix
    Cap the synthetic share on the step that mixes the loop's data into
    training, at or below `policy.max_synthetic`:
    ```yaml
      finetune:
        kind: train
        inputs: [transcripts, anchor-v3]
        outputs: [support-llm]
        mixing:
          max_synthetic: 0.2
          anchor: anchor-v3
          log: mlflow://support/finetune/mixing-ratio
    ```
    A train step with `on_policy: true` (PPO, online RL) is a loop of one
    step, and its own cap is the loop's cap:
    ```yaml
      ppo:
        kind: train
        on_policy: true
        inputs: [{ref: support-llm, role: init}, {ref: reward-model, role: scorer}]
        outputs: [support-llm-rl]
        mixing: {max_synthetic: 0.5}
    ```
    """
    facts = project.facts
    for generate in loop.uncapped_generates:
        cycle = facts.uncapped[generate]
        step = facts.step(generate)
        if step is None:
            continue
        yield Problem(
            f"loop through {generating(step)} has a cycle with no mixing cap "
            f"({cycle_route(facts, cycle)}); no step on it sets mixing.max_synthetic",
            step.location,
            pipeline=step.pipeline,
            node=generate,
            loop=loop.id,
            cycle=facts.waypoints(cycle),
        )
