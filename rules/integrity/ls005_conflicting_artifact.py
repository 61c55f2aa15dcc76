"""LS005 conflicting-artifact: two pipelines declare one URI with different provenance, or two manifests share a
pipeline name.
"""

from __future__ import annotations

from loopscan.findings import Problem
from loopscan.integrity import CONFLICTING_ARTIFACT
from loopscan.project import Project
from loopscan.rule import rule


@rule(CONFLICTING_ARTIFACT, "conflicting-artifact", severity="error", play=0)
def check(project: Project) -> list[Problem]:
    """Two pipelines declare one URI with different provenance, or two manifests share a pipeline name.

    ## Why is this bad?
    One URI is one piece of data; when one team calls it `human` and another
    `ai`, at least one of them trains on a false label. Two manifests with the
    same pipeline name make their node ids ambiguous, so the second one is
    left out of the analysis until it is renamed.

    ## Example
    ```yaml
    # team-a/listings.yaml
    datasets:
      drafts: {uri: "s3://lake/listings/", provenance: ai}
    # team-b/catalog.yaml
    datasets:
      listings: {uri: "s3://lake/listings/", provenance: human}
    ```

    ## Fix
    Agree on the provenance of the shared data (the most cautious label is
    the honest one), or give the pipeline a unique name.
    """
    return project.recorded(CONFLICTING_ARTIFACT)
