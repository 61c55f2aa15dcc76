"""LS0xx manifest integrity: problems found while reading and linking manifests.

A file that is not valid YAML never reaches a rule, so the load and link steps
record these problems and each rule here reports what was recorded. That way
selection, severity, overrides and docs work the same as for every rule.
"""

from __future__ import annotations

from loopscan.findings import Problem
from loopscan.rule import Project, recorded_problems, rule


@rule("LS001", "yaml-syntax", severity="error", play=0)
def yaml_syntax(project: Project) -> list[Problem]:
    """The file is not valid YAML, or cannot be read at all.

    ## Why is this bad?
    A manifest that does not parse declares nothing: its pipeline, and every
    loop through it, silently drop out of the analysis. A bad edit must fail
    the check, not make a pipeline vanish from it.

    ## Example
    ```yaml
    steps:
      review:
        kind: gate
       inputs: [raw-replies]      # one space short: not valid YAML
    ```

    ## Fix
    Correct the YAML at the reported line and column. YAML that is not a
    manifest (a Helm template, say) is kept out of the scan with the config's
    `exclude` globs.
    """
    return recorded_problems(project, "LS001")


@rule("LS002", "schema", severity="error", play=0)
def schema(project: Project) -> list[Problem]:
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
    return recorded_problems(project, "LS002")


@rule("LS003", "duplicate-key", severity="error", play=0)
def duplicate_key(project: Project) -> list[Problem]:
    """A mapping repeats a key.

    ## Why is this bad?
    YAML lets the later key win without a word. A second `review:` step
    replaces the first one, and with it the quality gate on a loop; a second
    `mixing:` block replaces a cap. Nobody sees the gate disappear.

    ## Example
    ```yaml
    steps:
      review:
        kind: gate
        method: human-review
      review:                    # replaces the gate above
        kind: transform
    ```

    ## Fix
    Rename one of the two, or delete the one that is not meant.
    """
    return recorded_problems(project, "LS003")


@rule("LS004", "unknown-reference", severity="error", play=0)
def unknown_reference(project: Project) -> list[Problem]:
    """An input, output, anchor, eval set, loop step or override target names nothing declared.

    ## Why is this bad?
    A reference to nothing is an edge missing from the data-flow graph, and a
    missing edge can hide a loop, a gate or an anchor. A typo must not quietly
    cut a pipeline in two.

    ## Example
    ```yaml
    steps:
      finetune:
        kind: train
        inputs: [transcript]     # the dataset is 'transcripts'
    ```

    ## Fix
    Use the id of a dataset or model declared in the same manifest (the
    message suggests the closest one), or the URI of an artifact declared
    anywhere in the project.
    """
    return recorded_problems(project, "LS004")


@rule("LS005", "conflicting-artifact", severity="error", play=0)
def conflicting_artifact(project: Project) -> list[Problem]:
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
    return recorded_problems(project, "LS005")


@rule("LS006", "unsafe-yaml", severity="error", play=0)
def unsafe_yaml(project: Project) -> list[Problem]:
    """The file passes a safety limit: alias expansion, nesting depth, size, or a language tag.

    ## Why is this bad?
    loopscan runs on pull requests from anyone. A YAML bomb (aliases that
    expand to billions of nodes), 20,000 levels of nesting or a 30 MB file
    must give a finding at once, never a hang; a tag such as
    `!!python/object/apply` asks the reader to run code, which loopscan never
    does.

    ## Example
    ```yaml
    a: &a [x, x, x, x, x, x, x, x, x]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]   # ... and so on
    ```

    ## Fix
    Write the manifest as plain data: no language tags, shallow nesting, and
    aliases only for small shared blocks.
    """
    return recorded_problems(project, "LS006")
