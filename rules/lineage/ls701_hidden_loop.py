"""LS701 hidden-loop: observed flows close a generate-to-train loop that the manifests do not have."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loopscan.findings import Problem
from loopscan.graph.observed import evidence_along
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.wording import and_list

if TYPE_CHECKING:
    from loopscan.analysis.facts import Loop


@rule("LS701", "hidden-loop", severity="error", play=7, scope="loop")
def check(project: Project, loop: Loop) -> Iterator[Problem]:
    """Observed flows close a loop through a generate step that the manifests do not have.

    ## Why is this bad?
    The playbook's recursive loops arise because "teams set up generation and
    ingestion separately and never notice the output of one feeds the input
    of the other". A manifest shows what its team declared; the loop nobody
    declared is the one that collapses a model unseen. OpenLineage run events
    (`check --lineage FILE`) record what really ran: when their flows, joined
    to the declared graph, close a cycle through a generate step that the
    manifests alone do not close, that loop is hidden. The witness is the
    shortest such cycle; the evidence names each observed flow on it: the
    job, the run id, the event time and the event's file and line.

    A job that reads and writes its own table in one run (a merge into its
    own output) is no loop of this kind: only a cycle through a generate step
    is.

    ## Example
    ```yaml
    steps:
      answer: {kind: generate, inputs: [assistant], outputs: [answers], job: chat/serve-answers}
      finetune: {kind: train, inputs: [train-set], outputs: [assistant], job: ml/train-assistant}
    # events.jsonl: job curation/copy-answers read s3://chat/answers/ and wrote s3://lake/train/
    ```

    ## Fix
    Declare the job that closes the loop as a step of its team's manifest
    (`loopscan lineage draft` writes one to start from), then gate and cap the
    loop as LS301 and LS302 ask; or stop the flow the evidence shows.
    """
    observed = project.observed
    if observed is None:
        return
    facts = project.facts
    for generate in loop.generates:
        if generate in observed.declared_loops:
            continue
        step = facts.step(generate)
        witness = facts.witness(generate)
        evidence = evidence_along(project.dataflow, witness)
        if step is None or not evidence:
            continue
        jobs = and_list(sorted({item.job for item in evidence}))
        yield Problem(
            f"observed lineage closes a loop through generate step '{step.id}' that no manifest declares: "
            f"the flows of {jobs} close it",
            step.location, pipeline=step.pipeline, node=generate, loop=loop.id,
            cycle=facts.waypoints(witness), evidence=evidence)
