"""LS305 replace-in-loop: a dataset on a loop is `retention: replace`."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Artifact
from loopscan.wording import generate_steps


@rule("LS305", "replace-in-loop", severity="warning", play=3, scope="dataset")
def check(project: Project, dataset: Artifact) -> Iterator[Problem]:
    """A dataset on a loop is `retention: replace`.

    ## Why is this bad?
    When every run overwrites the data on a loop, each model generation
    learns only from what the previous generation produced: the real data
    that was there before is gone. That is the setting in which Shumailov et
    al., "AI models collapse when trained on recursively generated data"
    (Nature, 2024), watch models collapse. Gerstgrasser et al., "Is Model
    Collapse Inevitable? Breaking the Curse of Recursion by Accumulating Real
    and Synthetic Data" (2024), show that accumulating each generation's data
    next to the real data, instead of replacing it, keeps the error bounded.
    Play 2 and Play 3 of the playbook ask for the same: real data is
    "reused across generations and never replaced wholesale", and what comes
    back through a loop is capped against it.

    A dataset is on a loop when it lies in the strongly connected part of the
    graph around a generate step, so output of the loop reaches it and it
    reaches the loop's generate step again. Only data that a train step on
    the loop learns from (reads as `targets`) is checked: a sampling pool or
    a per-iteration scratch folder is replaced by design, and is better
    declared `retention: transient`, which is never checked.

    ## Example
    ```yaml
    datasets:
      accepted-completions:
        uri: s3://acme-codeassist/completions/accepted/
        provenance: ai
        retention: replace       # each weekly run overwrites last week's data
    ```

    ## Fix
    Accumulate: keep what earlier runs wrote and add to it (partition by run
    or date), and let the training step's mixing cap decide how much of it
    each run uses.
    ```yaml
      accepted-completions:
        uri: s3://acme-codeassist/completions/accepted/
        provenance: ai
        retention: accumulate
    ```
    A buffer that is replaced by design and that no step learns from (a
    sampling pool, the scratch rationales of one iteration) says so:
    ```yaml
      candidate-pool:
        uri: s3://acme-codeassist/pool/
        provenance: ai
        retention: transient
    ```
    """
    facts = project.facts
    loop = facts.loop_of(dataset.qualified) if dataset.retention == "replace" else None
    if loop is None or not any(facts.loop_of(step) is loop for step in facts.learners(dataset.qualified)):
        return
    generates = generate_steps(facts, loop.generates, dataset.pipeline)
    yield Problem(
        f"dataset '{dataset.id}' is on the loop through {generates} and each run replaces it "
        "(retention: replace); accumulate real and synthetic data instead",
        dataset.at("retention"),
        pipeline=dataset.pipeline,
        node=dataset.qualified,
        loop=loop.id,
    )
