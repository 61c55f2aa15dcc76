"""LS006 unsafe-yaml: the file passes a safety limit: alias expansion, nesting depth, size, or a language tag."""

from __future__ import annotations

from loopscan.findings import Problem
from loopscan.integrity import UNSAFE_YAML
from loopscan.project import Project
from loopscan.rule import rule


@rule(UNSAFE_YAML, "unsafe-yaml", severity="error", play=0)
def check(project: Project) -> list[Problem]:
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
    return project.recorded(UNSAFE_YAML)
