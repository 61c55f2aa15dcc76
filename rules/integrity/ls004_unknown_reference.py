"""LS004 unknown-reference: an input, output, anchor, eval set, loop step or override target names nothing declared."""

from __future__ import annotations

from loopscan.findings import Problem
from loopscan.integrity import UNKNOWN_REFERENCE
from loopscan.project import Project
from loopscan.rule import rule


@rule(UNKNOWN_REFERENCE, "unknown-reference", severity="error", play=0)
def check(project: Project) -> list[Problem]:
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
    anywhere in the project. A reference to an entry that a schema error
    leaves out is not reported here: the name is declared, and LS002 names
    the entry's error and everything left out with it.
    """
    return project.recorded(UNKNOWN_REFERENCE)
