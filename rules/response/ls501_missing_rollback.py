"""LS501 missing-rollback: a model on a loop has no known-good rollback checkpoint."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import ExposedModel, rule
from loopscan.wording import nodes_named


@rule("LS501", "missing-rollback", severity="error", play=5, scope="model")
def check(project: Project, exposed: ExposedModel) -> Iterator[Problem]:
    """A model on a loop has no known-good rollback checkpoint.

    ## Why is this bad?
    Play 5 of the playbook (run a collapse response drill): when monitoring
    fires, "freeze deployment of the suspect model generation" and "roll back
    to the last known-good checkpoint while you investigate". A model that is
    retrained on its own output has no clean generation to return to unless
    one is kept on purpose, and collapse compounds with every generation
    (Shumailov et al., "AI models collapse when trained on recursively
    generated data", Nature, 2024).

    ## Example
    ```yaml
    models:
      support-llm:
        uri: models:/support-llm     # no rollback
    ```

    ## Fix
    ```yaml
        rollback:
          checkpoint: models:/support-llm/known-good
          last_drill: 2026-10-01
    ```
    The rollback may be declared in any manifest that declares the model
    (the same URI). A model trained outside the project is `external: true`
    and has no rollback of yours to keep.
    """
    model = exposed.declaring("rollback")
    if not exposed.exposure.on_loop or (model.rollback is not None and model.rollback.checkpoint):
        return
    place = model.within("rollback")
    loops = nodes_named(project.facts, exposed.exposure.loops, model.pipeline)
    yield Problem(f"model '{model.id}' lies on the loop through {loops} but has no known-good rollback "
                  "checkpoint (rollback.checkpoint)", place, pipeline=model.pipeline, node=model.qualified)
