"""LS703 unobserved-gate: a declared gate has no completed run in the lineage while the steps around it ran."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Step
from loopscan.wording import and_list


@rule("LS703", "unobserved-gate", severity="warning", play=7, scope="step", kinds=("gate",))
def check(project: Project, gate: Step) -> Iterator[Problem]:
    """A declared gate has no completed run in the lineage while the steps around it ran.

    ## Why is this bad?
    A gate on paper stops nothing. When the job that runs a gate (its `job:`)
    emits no completed run in the lineage while the steps that write its
    inputs or read its outputs ran, the gate was bypassed or switched off:
    generated data went on towards training unreviewed, which is what Play 3
    of the playbook gates loops against.

    ## Example
    ```yaml
    steps:
      review: {kind: gate, method: human-review, job: qa/review-answers,
               inputs: [answers], outputs: [reviewed]}
    # events.jsonl: chat/serve-answers and ml/train-assistant ran; qa/review-answers did not
    ```

    ## Fix
    Find out why the gate's job stopped running and restore it; if the job
    was renamed, update `job:`.
    """
    observed = project.observed
    if observed is None or gate.job is None or observed.runs_of(gate.job):
        return
    ran = []
    for node in _steps_around(project, gate.qualified):
        step = project.facts.step(node)
        runs = observed.runs_of(step.job) if step is not None and step.job is not None else []
        if step is not None and runs:
            ran.append((step, runs[-1]))
    if not ran:
        return
    named = and_list([step.id if step.pipeline == gate.pipeline else step.qualified for step, _ in ran])
    yield Problem(f"gate '{gate.id}' (job {gate.job}) has no completed run in the lineage while {named} ran",
                  gate.at("job"), pipeline=gate.pipeline,
                  node=gate.qualified, evidence=tuple(run.last for _, run in ran))


def _steps_around(project: Project, gate: str) -> list[str]:
    """The declared steps that write what the gate reads or read what it writes, directly or through a link."""
    graph = project.dataflow
    found: dict[str, None] = {}
    for neighbours, onward in ((graph.pred, graph.pred), (graph.succ, graph.succ)):
        for artifact in neighbours[gate]:
            for near in onward[artifact]:
                nodes = [near] if project.facts.step(near) is not None else list(onward[near])
                for node in nodes:
                    if node != gate and project.facts.step(node) is not None:
                        found[node] = None
    return sorted(found)
