"""LS101 missing-provenance: a dataset has no provenance tag."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Artifact


@rule("LS101", "missing-provenance", severity="error", play=1, scope="dataset")
def check(project: Project, dataset: Artifact) -> Iterator[Problem]:
    """A dataset has no provenance tag.

    ## Why is this bad?
    Play 1 of the playbook (establish data provenance) comes before every
    other play: "Tag every dataset and record with its origin: human-authored,
    AI-generated, mixed, or unknown". An untagged dataset cannot be counted in
    a mixing ratio (Play 2), cannot anchor a training run, and hides where
    generated data re-enters training, which is how model collapse starts
    (Shumailov et al., "AI models collapse when trained on recursively
    generated data", Nature, 2024). The message says what loopscan infers
    from the data that flows in, as a starting point.

    ## Example
    ```yaml
    datasets:
      transcripts:
        uri: s3://acme-support/transcripts/
        retention: accumulate        # no provenance
    ```

    ## Fix
    Declare where the data comes from: `human`, `ai`, `mixed` (with
    `synthetic_fraction` when it is known) or `unknown`. When in doubt,
    `unknown` is the honest tag:
    ```yaml
      transcripts:
        uri: s3://acme-support/transcripts/
        provenance: mixed
    ```
    """
    if dataset.provenance is not None:
        return
    inferred = project.facts.provenance_flow.inflow.get(dataset.qualified)
    hint = f"; what flows into it is '{inferred}'" if inferred else ""
    yield Problem(f"dataset '{dataset.id}' has no provenance tag (human, ai, mixed or unknown){hint}",
                  dataset.location, pipeline=dataset.pipeline, node=dataset.qualified)
