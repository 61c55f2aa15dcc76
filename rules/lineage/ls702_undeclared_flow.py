"""LS702 undeclared-flow: a declared step was observed reading or writing data its manifest does not list."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from loopscan.findings import Problem
from loopscan.graph.observed import overlapping
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.lineage import Lineage
from loopscan.sources.manifest import Ref, Step


@rule("LS702", "undeclared-flow", severity="warning", play=7, scope="step")
def check(project: Project, step: Step) -> Iterator[Problem]:
    """A declared step was observed reading or writing data its manifest does not list.

    ## Why is this bad?
    A manifest drifts from the running system the day after it is written:
    that is the playbook's decay failure mode. A step whose job (`job:
    namespace/name`) was seen, in a completed run, reading or writing a
    dataset that none of its declared inputs or outputs names (by URI, prefix
    or glob) moves data the analysis of the manifests cannot see: an
    undeclared input of a train step may be AI output, an undeclared output
    of a generate step may land in a training set.

    ## Example
    ```yaml
    steps:
      finetune:
        kind: train
        job: ml/train-assistant
        inputs: [curated]          # its runs also read s3://chat/answers/
    ```

    ## Fix
    List the dataset among the step's inputs or outputs (with its provenance),
    or stop the job from touching it.
    """
    observed = project.observed
    if observed is None or step.job is None:
        return
    for role, refs in (("reading", step.inputs), ("writing", step.outputs)):
        declared = [uri for uri in map(_declared_uri(project), refs) if uri is not None]
        reported: set[str] = set()
        for run in observed.runs_of(step.job):
            uses = run.inputs if role == "reading" else run.outputs
            names = {name: uri for uri in uses for name in _names(observed.lineage, uri)}
            listed = {names[name] for name in overlapping(names, declared)}
            for uri, use in uses.items():
                if uri in listed or uri in reported:
                    continue
                reported.add(uri)
                field = "inputs" if role == "reading" else "outputs"
                yield Problem(f"step '{step.id}' was observed {role} {uri}, which its {field} do not list",
                              step.within(field), pipeline=step.pipeline, node=step.qualified,
                              evidence=(use.event,))


def _declared_uri(project: Project) -> Callable[[Ref], str | None]:
    """The URI an input or output reference stands for: its artifact's, or the URI it is."""
    def uri(ref: Ref) -> str | None:
        node = project.nodes.get(ref)
        if node is None:
            return None
        artifact = project.facts.artifact(node)
        return artifact.uri if artifact is not None else (node if project.facts.kind(node) == "uri" else None)
    return uri


def _names(lineage: Lineage, uri: str) -> tuple[str, ...]:
    """Every URI the dataset read or written as ``uri`` is known by: its identity and its symlinks."""
    identity = lineage.identity(uri)
    dataset = lineage.datasets.get(identity)
    return (uri, identity, *(dataset.aliases if dataset is not None else ()))
