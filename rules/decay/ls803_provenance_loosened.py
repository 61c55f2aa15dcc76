"""LS803 provenance-loosened: a provenance tag became cleaner, or an ingest lost its classifier."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule

if TYPE_CHECKING:
    from loopscan.analysis.change import Change

SYNTHETIC_LIKELIHOOD = {"ai": 3, "mixed": 2, "unknown": 1, None: 1, "human": 0}
"""How much AI-generated data a tag admits to: a change to a lower one makes the data look cleaner.
No tag says no more than ``unknown``."""


@rule("LS803", "provenance-loosened", severity="error", play=8, scope="change")
def check(project: Project, change: Change) -> Iterator[Problem]:
    """A provenance tag became cleaner, or an ingest lost its classifier.

    ## Why is this bad?
    Play 1 of the playbook tags every dataset with where it came from, and its
    failure modes begin with "Provenance tagging gets disabled 'temporarily'".
    Retagging generated data as `human` (or `mixed`, or dropping the tag)
    makes every mixing ratio downstream look cleaner than the data is, and
    silences the rules that follow AI data into training. Removing the
    synthetic-content classifier of an ingest step lets web and vendor data
    in unchecked. Both changes break nothing the day they land.

    Tags are ordered by how much AI-generated data they admit to: `ai`, then
    `mixed`, then `unknown` (or no tag), then `human`. It reports only in
    `loopscan diff --base REF`.

    ## Example
    ```yaml
    datasets:
      replies:
        uri: s3://support/replies/
        provenance: human          # ai at origin/main; the data did not change
    ```

    ## Fix
    Keep the tag that says what the data is: a tag describes where the records
    came from, not how they are used. If the data really changed (a new
    source), say so in the commit, and keep the classifier on every ingest.
    """
    for old, now in change.matched_artifacts():
        if old.kind != "dataset" or SYNTHETIC_LIKELIHOOD[now.provenance] >= SYNTHETIC_LIKELIHOOD[old.provenance]:
            continue
        was = f"'{old.provenance}' ({change.was(old.at('provenance'))})" if old.provenance else "none"
        became = f"'{now.provenance}'" if now.provenance else "no tag"
        yield Problem(f"dataset '{now.id}' looks cleaner than before: provenance {was} became {became}",
                      now.at("provenance") if now.provenance else now.location,
                      pipeline=now.pipeline, node=now.qualified)
    for old_step, step in change.matched_steps():
        if old_step.kind == "ingest" and old_step.classifier and not (step.kind == "ingest" and step.classifier):
            yield Problem(f"ingest step '{step.id}' lost its classifier '{old_step.classifier}' "
                          f"({change.was(old_step.at('classifier'))})",
                          step.location, pipeline=step.pipeline, node=step.qualified)
