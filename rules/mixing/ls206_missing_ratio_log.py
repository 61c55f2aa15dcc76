"""LS206 missing-ratio-log: a train step does not say where the actual mixing ratio of each run is logged."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Step


@rule("LS206", "missing-ratio-log", severity="warning", play=2, scope="step", kinds=("train",))
def check(project: Project, step: Step) -> Iterator[Problem]:
    """A train step does not say where the actual mixing ratio of each run is logged.

    ## Why is this bad?
    Play 2 of the playbook ends with "Log the actual mixing ratio of every
    run for later audit". A declared cap is an intention; the logged ratio is
    what the audit in Play 5 ("audit recent training data for synthetic
    contamination") and the playbook's recurring review read. Without a log,
    a cap that stopped holding looks exactly like one that holds: the plays
    decay silently.

    A train step whose every output is a model used only as a `scorer` (a
    reward model, a quality classifier: it outputs scores, not text that
    trains a model) is not checked.

    ## Example
    ```yaml
    steps:
      finetune:
        kind: train
        mixing:
          max_synthetic: 0.2
          anchor: anchor-v3
    ```

    ## Fix
    Name where each run records its actual ratio:
    ```yaml
        mixing:
          max_synthetic: 0.2
          anchor: anchor-v3
          log: mlflow://support/finetune/mixing-ratio
    ```
    """
    if project.facts.trains_only_scorers(step):
        return
    if step.mixing is None or not step.mixing.log:
        yield Problem(f"train step '{step.id}' does not say where the mixing ratio of each run is logged "
                      "(mixing.log)", step.within("mixing"), pipeline=step.pipeline, node=step.qualified)
