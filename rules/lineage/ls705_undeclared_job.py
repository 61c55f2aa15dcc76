"""LS705 undeclared-job: a job that matches no declared step reads or writes project data."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.graph.observed import job_node, overlapping
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.wording import and_list


@rule("LS705", "undeclared-job", severity="info", play=7)
def check(project: Project) -> Iterator[Problem]:
    """A job that matches no declared step reads or writes project data.

    ## Why is this bad?
    The playbook says loops arise because teams "set up generation and
    ingestion separately and never notice the output of one feeds the input
    of the other": a job no manifest declares (no step names it with `job:`)
    that touches the datasets the manifests declare is where such a flow
    hides. It is reported at the job's first event, with the data it read and
    wrote.

    ## Example
    ```yaml
    datasets:
      answers: {uri: "s3://chat/answers/", provenance: ai}
    # events.jsonl: job curation/copy-answers read s3://chat/answers/2026-03-01/; no step has its job
    ```

    ## Fix
    Declare the job as a step of the manifest of the team that runs it
    (`loopscan lineage draft EVENTS -o DIR` writes a draft), with `job:`
    naming it.
    """
    observed = project.observed
    if observed is None:
        return
    declared = {artifact.uri for manifest in project.manifests for artifact in manifest.artifacts.values()
                if artifact.uri is not None}
    lineage = observed.lineage
    for job, observed_job in lineage.jobs.items():
        if job in observed.steps_by_job:
            continue
        runs = observed.runs_of(job)
        read = {lineage.identity(uri): None for run in runs for uri in run.inputs}
        written = {lineage.identity(uri): None for run in runs for uri in run.outputs}
        names = {name: uri for uri in (*read, *written)
                 for name in (uri, *lineage.datasets[uri].aliases)} if runs else {}
        touched = {names[name] for name in overlapping(names, declared)}
        if not touched:
            continue
        parts = [f"{verb} {and_list(sorted(uri for uri in uris if uri in touched))}"
                 for verb, uris in (("reads", read), ("writes", written)) if touched.intersection(uris)]
        first = runs[0].first
        yield Problem(f"job {job} matches no declared step and {' and '.join(parts)}",
                      observed_job.location, node=job_node(job), evidence=(first,))
