"""LS205 anchor-overwritten: a step writes a frozen set, or an anchor or frozen set is declared `retention: replace`."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import crawl, rule
from loopscan.sources.manifest import Artifact, Step
from loopscan.wording import shown


@rule("LS205", "anchor-overwritten", severity="error", play=2)
def check(project: Project) -> Iterator[Problem]:
    """A step writes a frozen set, or an anchor or frozen set is declared `retention: replace`.

    ## Why is this bad?
    Play 2 of the playbook keeps a frozen human anchor "reused across
    generations and never replaced wholesale", and Play 4 compares every
    model generation on a fixed evaluation set. A write into either, even
    through a storage prefix that overlaps it, turns the fixed reference into
    one more moving part: an anchor that takes in the latest run's output
    stops anchoring, and an eval set that changes can no longer show a
    decline in diversity.

    ## Example
    ```yaml
    datasets:
      anchor-v3:
        uri: s3://acme-anchor/support/v3/
        provenance: human
        frozen: true
    steps:
      refresh-anchor:
        kind: transform
        inputs: [transcripts]
        outputs: [anchor-v3]         # writes the frozen anchor
    ```

    ## Fix
    Write new data to a new set (`anchor-v4`) and switch to it on purpose,
    after review; keep anchors and eval sets `retention: accumulate` (or
    leave retention out).
    """
    facts = project.facts
    for node, writes in facts.writes.items():
        frozen = facts.artifact(node)
        if frozen is None or not frozen.frozen:
            continue
        for write in writes:
            step = facts.step(write.step)
            if step is None:
                continue
            via = "" if write.into == node else f" (its output '{shown(facts, write.into, step.pipeline)}' overlaps it)"
            for ref in step.outputs:
                if project.nodes.get(ref) == write.into:
                    yield Problem(f"step '{step.id}' writes frozen set '{shown(facts, node, step.pipeline)}'{via}",
                                  ref.location, pipeline=step.pipeline, node=step.qualified)
    steps: list[Step] = list(crawl(project, "step"))
    anchors = {project.nodes.get(step.mixing.anchor) for step in steps
               if step.mixing is not None and step.mixing.anchor is not None}
    datasets: list[Artifact] = list(crawl(project, "dataset"))
    for dataset in datasets:
        if dataset.retention == "replace" and (dataset.frozen or dataset.qualified in anchors):
            what = "frozen set" if dataset.frozen else "anchor"
            yield Problem(f"{what} '{dataset.id}' is declared retention: replace, so each run would replace "
                          "it wholesale", dataset.at("retention"), pipeline=dataset.pipeline, node=dataset.qualified)
