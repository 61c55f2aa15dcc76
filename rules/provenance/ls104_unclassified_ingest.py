"""LS104 unclassified-ingest: an ingest step brings in external data with no synthetic-content classifier."""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Step


@rule("LS104", "unclassified-ingest", severity="warning", play=1, scope="step", kinds=("ingest",))
def check(project: Project, step: Step) -> Iterator[Problem]:
    """An ingest step brings in external data with no synthetic-content classifier.

    ## Why is this bad?
    Play 1 of the playbook: "Build or buy a synthetic-content classifier to
    flag likely AI-generated records at ingestion." External data (a web
    crawl, a vendor dump, user uploads) carries an unknown and growing share
    of model output; without a classifier everything downstream is of
    `unknown` provenance, which Play 1 treats as a risk category and which
    counts as fully synthetic in every mixing ratio (Play 2).

    ## Example
    ```yaml
    steps:
      crawl:
        kind: ingest
        source: https://crawl.example.net/seeds.txt
        outputs: [crawl-raw]
      forum-import:
        kind: ingest
        source: s3://vendor-drop/forum/
        classifier: acme-quality-scorer-v1
        detects: [quality]           # it scores helpfulness, not who wrote it
        outputs: [forum-raw]
    ```

    ## Fix
    Name the classifier the step runs; its output is then `mixed`, with
    every record tagged:
    ```yaml
      crawl:
        kind: ingest
        source: https://crawl.example.net/seeds.txt
        classifier: acme-synthetic-text-detector-v2
        outputs: [crawl-raw]
    ```
    A classifier counts when it detects synthetic content: `detects`, when
    written, must hold `synthetic`. A quality classifier
    (`detects: [quality]`) leaves the provenance unknown.
    """
    source = f" from {step.source}" if step.source else ""
    if not step.classifier:
        yield Problem(f"ingest step '{step.id}' brings in data{source} with no synthetic-content classifier, "
                      "so its provenance is unknown",
                      step.location, pipeline=step.pipeline, node=step.qualified)
    elif "synthetic" not in step.detects:
        found = ", ".join(step.detects) or "nothing"
        yield Problem(f"ingest step '{step.id}' brings in data{source} with classifier '{step.classifier}', "
                      f"which detects {found}, not synthetic content, so its provenance is unknown",
                      step.at("detects"), pipeline=step.pipeline, node=step.qualified)
