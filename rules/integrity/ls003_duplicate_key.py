"""LS003 duplicate-key: a mapping repeats a key."""

from __future__ import annotations

from loopscan.findings import Problem
from loopscan.integrity import DUPLICATE_KEY
from loopscan.project import Project
from loopscan.rule import rule


@rule(DUPLICATE_KEY, "duplicate-key", severity="error", play=0)
def check(project: Project) -> list[Problem]:
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
    return project.recorded(DUPLICATE_KEY)
