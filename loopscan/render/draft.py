"""Draft manifests from observed lineage: ``loopscan lineage draft EVENTS -o DIR``.

One manifest per job group (the root or parent job of the runs, else the
job's namespace: :attr:`loopscan.sources.lineage.ObservedJob.group`). It
declares every dataset the group's jobs read or wrote, by its URI, and a step
per job with its ``job:`` tie and its inputs and outputs. What no event can
tell is written as the most careful value the format has, with a comment for
a person to fill in: each step's kind is ``transform``, each dataset's
provenance ``unknown`` (unless a ``tags`` facet gave it). The text is written
by hand rather than dumped, so that the comments sit where a reviewer reads
them; every value is quoted as a JSON string, which YAML reads as written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from loopscan.sources.lineage import Lineage

ID_LENGTH = 128
"""The longest id the manifest schema admits."""
_NOT_IN_AN_ID = re.compile(r"[^A-Za-z0-9_.-]+")
JOB = re.compile(r"^[^/\s]+/\S[^\n]*(?![\s\S])")
"""What ``job:`` admits (``schemas/pipeline.schema.json``): ``namespace/name``."""


@dataclass
class _Group:
    pipeline: str
    jobs: list[str] = field(default_factory=list)
    datasets: dict[str, str] = field(default_factory=dict)
    """Each URI the group's jobs read or wrote, with its id in the draft."""


def draft_manifests(lineage: Lineage) -> dict[str, str]:
    """Each draft manifest's file name, with its text; one per job group, sorted by name."""
    parents = {job.group for job in lineage.jobs.values()}
    groups: dict[str, _Group] = {}
    taken_pipelines: set[str] = set()
    for job_id, job in lineage.jobs.items():
        key = job_id if job_id in parents else job.group  # a parent job belongs with its children
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(unique_id(key, taken_pipelines))
        group.jobs.append(job_id)
    texts = {}
    for group in groups.values():
        texts[f"{group.pipeline}.yaml"] = _manifest(lineage, group)
    return dict(sorted(texts.items()))


def unique_id(text: str, taken: set[str]) -> str:
    """``text`` as an id of the format (letters, digits, ``-``, ``_``, ``.``), not one of ``taken``; then taken.

    >>> taken: set[str] = set()
    >>> unique_id("ml/nightly", taken), unique_id("ml:nightly", taken), unique_id("answers/2026-03-01/", taken)
    ('ml-nightly', 'ml-nightly-2', 'answers-2026-03-01')
    >>> unique_id("", taken), unique_id("...", taken)
    ('unnamed', '...')
    """
    base = _NOT_IN_AN_ID.sub("-", text).strip("-")[:ID_LENGTH - 8] or "unnamed"
    chosen, count = base, 1
    while chosen in taken:
        count += 1
        chosen = f"{base}-{count}"
    taken.add(chosen)
    return chosen


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _manifest(lineage: Lineage, group: _Group) -> str:
    step_ids: set[str] = set()
    dataset_ids: set[str] = set()
    steps: list[tuple[str, str, list[str], list[str]]] = []
    for job_id in group.jobs:
        job = lineage.jobs[job_id]
        inputs: dict[str, None] = {}
        outputs: dict[str, None] = {}
        for run_id in job.runs:
            run = lineage.runs[run_id]
            inputs.update((lineage.identity(uri), None) for uri in run.inputs)
            outputs.update((lineage.identity(uri), None) for uri in run.outputs)
        for uri in (*inputs, *outputs):
            if uri not in group.datasets:
                name = lineage.datasets[uri].name if uri in lineage.datasets else uri
                group.datasets[uri] = unique_id(name, dataset_ids)
        steps.append((unique_id(job.name, step_ids), job_id, [group.datasets[uri] for uri in inputs],
                      [group.datasets[uri] for uri in outputs]))
    lines = [
        "# A draft manifest, written by `loopscan lineage draft` from observed OpenLineage events.",
        "# No event can tell what a step does to provenance or what data is AI-generated: fill in each",
        "# step's kind and each dataset's provenance, name ONE owner, and move the models under `models:`.",
        "loopscan: 1",
        f"pipeline: {_quoted(group.pipeline)}",
        "# owner: \"...\"   # fill in: the one accountable model-quality owner",
    ]
    if group.datasets:
        lines.append("datasets:")
    for uri, dataset_id in group.datasets.items():
        observed = lineage.datasets.get(uri)
        provenance = observed.provenance if observed is not None and observed.provenance else None
        note = ("  # from its tags facet" if provenance else
                "  # fill in: human | ai | mixed | unknown")
        lines.append(f"  {_quoted(dataset_id)}:")
        lines.append(f"    uri: {_quoted(uri)}")
        lines.append(f"    provenance: {provenance or 'unknown'}{note}")
    if steps:
        lines.append("steps:")
    for step_id, job_id, reads, writes in steps:
        lines.append(f"  {_quoted(step_id)}:")
        lines.append("    kind: transform  # fill in: ingest | transform | gate | train | generate | evaluate")
        if JOB.search(job_id):
            lines.append(f"    job: {_quoted(job_id)}")
        else:  # the format's namespace/name cannot hold it
            lines.append(f"    # job: {_quoted(job_id)}  (a namespace with a space or none cannot be tied)")
        lines.append(f"    inputs: [{', '.join(map(_quoted, reads))}]")
        lines.append(f"    outputs: [{', '.join(map(_quoted, writes))}]")
    return "\n".join(lines) + "\n"
