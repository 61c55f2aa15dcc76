"""LS202 cap-above-ceiling: a mixing cap is above the policy's ceiling (`policy.max_synthetic`)."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.analysis.mixing import exact
from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Step
from loopscan.wording import number


@rule("LS202", "cap-above-ceiling", severity="error", play=2, scope="step")
def check(project: Project, step: Step) -> Iterator[Problem]:
    """A mixing cap is above the policy's ceiling (`policy.max_synthetic`).

    ## Why is this bad?
    Play 2 of the playbook: define a maximum synthetic-data percentage and
    "block any job that exceeds the ceiling without explicit, documented
    override". The ceiling is the organisation's, set once in the config; a
    pipeline that raises its own cap past it quietly opts out. The default,
    0.3, follows Bertrand et al. ("On the Stability of Iterative Retraining
    of Generative Models on their own Data", ICLR 2024), whose stability
    result needs synthetic data to stay under about a third of the mix.

    ## Example
    ```yaml
    steps:
      finetune:
        kind: train
        mixing:
          max_synthetic: 0.5         # the policy allows 0.3
    ```

    ## Fix
    Lower the cap to the ceiling or below. If this run really needs more, add
    an override with a reason, an approver and an expiry date, so that the
    exception is reviewed:
    ```yaml
    overrides:
      - rule: LS202
        target: finetune
        reason: Bootstrapping the new locale; human data arrives in Q1 (ML-881).
        approved_by: maria.chen
        approved: 2026-11-01
        expires: 2027-01-15
    ```

    ## Options
    - `policy.max_synthetic` (default `0.3`): the organisation's ceiling on the
      synthetic share of any training run; no step's cap may exceed it.
    """
    ceiling = project.policy.max_synthetic
    cap = step.mixing.max_synthetic if step.mixing is not None else None
    if cap is not None and exact(cap) > exact(ceiling):
        yield Problem(f"step '{step.id}' caps synthetic data at {number(cap)}, above the policy ceiling "
                      f"{number(ceiling)} (policy.max_synthetic)",
                      step.at("mixing", "max_synthetic"), pipeline=step.pipeline, node=step.qualified)
