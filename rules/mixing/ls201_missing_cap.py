"""LS201 missing-cap: a train step declares no `mixing.max_synthetic`."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Step


@rule("LS201", "missing-cap", severity="error", play=2, scope="step", kinds=("train",))
def check(project: Project, step: Step) -> Iterator[Problem]:
    """A train step declares no `mixing.max_synthetic`.

    ## Why is this bad?
    Play 2 of the playbook (set and enforce mixing ratios) calls a healthy
    proportion of verified human data in every training run "the single most
    effective defense against collapse", and asks for a maximum
    synthetic-data percentage for each run. Bertrand et al. ("On the
    Stability of Iterative Retraining of Generative Models on their own
    Data", ICLR 2024) prove iterative retraining stable only while enough of
    each mix is real data; without a cap nothing stops the synthetic share
    from growing run after run.

    A train step whose every output is a model used only as a `scorer` (a
    reward model, a quality classifier: it outputs scores, not text that
    trains a model) is not checked.

    ## Example
    ```yaml
    steps:
      finetune:
        kind: train
        inputs: [accepted-completions]
        outputs: [code-model]
    ```

    ## Fix
    State the ceiling for this run, at or below the policy's
    (`policy.max_synthetic`, 0.3 by default):
    ```yaml
      finetune:
        kind: train
        inputs: [accepted-completions, human-code-anchor]
        outputs: [code-model]
        mixing:
          max_synthetic: 0.2
    ```
    """
    if project.facts.trains_only_scorers(step):
        return
    if step.mixing is None or step.mixing.max_synthetic is None:
        yield Problem(f"train step '{step.id}' declares no synthetic-data cap (mixing.max_synthetic)",
                      step.within("mixing"), pipeline=step.pipeline, node=step.qualified)
