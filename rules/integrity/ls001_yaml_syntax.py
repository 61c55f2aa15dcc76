"""LS001 yaml-syntax: the file is not valid YAML, or cannot be read at all."""

from __future__ import annotations

from loopscan.findings import Problem
from loopscan.integrity import YAML_SYNTAX
from loopscan.project import Project
from loopscan.rule import rule


@rule(YAML_SYNTAX, "yaml-syntax", severity="error", play=0)
def check(project: Project) -> list[Problem]:
    """The file is not valid YAML, or cannot be read at all.

    ## Why is this bad?
    A manifest that does not parse declares nothing: its pipeline, and every
    loop through it, silently drop out of the analysis. A bad edit must fail
    the check, not make a pipeline vanish from it.

    With `check --lineage`, an OpenLineage event that is not valid JSON, or
    an event file that cannot be read, is reported here too, at its file and
    line; the rest of the file is still read.

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
    return project.recorded(YAML_SYNTAX)
