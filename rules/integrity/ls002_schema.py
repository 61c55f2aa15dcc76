"""LS002 schema: the manifest breaks `schemas/pipeline.schema.json`."""

from __future__ import annotations

from loopscan.findings import Problem
from loopscan.integrity import SCHEMA
from loopscan.project import Project
from loopscan.rule import rule


@rule(SCHEMA, "schema", severity="error", play=0)
def check(project: Project) -> list[Problem]:
    """The manifest breaks `schemas/pipeline.schema.json`.

    ## Why is this bad?
    A misspelt field is a missing field: `provenence: human` leaves the
    dataset untagged, `max_synthetc: 0.2` leaves the training run uncapped,
    and neither would fail anything without the schema. loopscan analyses a
    manifest only once it matches the schema.

    ## Example
    ```yaml
    datasets:
      transcripts:
        uri: s3://acme-support/transcripts/
        provenence: mixed        # unknown field 'provenence'
    ```

    ## Fix
    Change the field named in the message (its path is given, e.g.
    `datasets.transcripts`). Editors check as you type with the comment
    `# yaml-language-server: $schema=<path>/schemas/pipeline.schema.json`.
    """
    return project.recorded(SCHEMA)
