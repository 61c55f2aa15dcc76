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
    and neither would fail anything without the schema. A value the format
    does not know (`provenance: reviewed`, `kind: deploy`) says nothing
    loopscan can check.

    One error does not hide the rest of the file. What the error is about
    decides what is left out of the analysis, and the message says it:

    - an unknown key is ignored: the rest of its mapping is read as if it
      were not written (so the dataset above counts as untagged, LS101);
    - any other error in an entry of `datasets`, `models`, `steps`, `loops`
      or `overrides` leaves that whole entry out, and with it every entry
      that refers to it (a step that reads the dataset, a loop through the
      step, an override of either, in any manifest). Its name stays
      declared, so a reference to it is no LS004, and none of its values is
      guessed: an invalid provenance is neither human nor untagged;
    - an error in the head (`loopscan`, `pipeline`, `owner`, `description`,
      or a block that is not a mapping, or for `overrides` a list) leaves the
      whole file out. A block left empty declares nothing.

    With `check --lineage`, an OpenLineage event that breaks the OpenLineage
    schema (or one of the facets loopscan reads: `parent`, `symlinks`,
    `tags`, `inputStatistics`, `dataQualityMetrics`, `outputStatistics`),
    that is larger than 16 MiB, nested too deeply, or names a job, dataset
    or run with control characters, is reported here at its file and line.
    That event is left out (a broken facet alone: that facet), and the rest
    of the file is still read.

    ## Example
    ```yaml
    datasets:
      transcripts:
        uri: s3://acme-support/transcripts/
        provenence: mixed        # unknown field 'provenence': ignored
      anchor-v3:
        uri: s3://acme-anchor/support/v3/
        provenance: reviewed     # not one of human, ai, mixed, unknown: anchor-v3 is left out
    ```

    ## Fix
    Change the field named in the message (its path is given, e.g.
    `datasets.transcripts`). Editors check as you type with the comment
    `# yaml-language-server: $schema=<path>/schemas/pipeline.schema.json`.
    """
    return project.recorded(SCHEMA)
