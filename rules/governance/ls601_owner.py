"""LS601 owner: a pipeline has no owner, or more than one (a list, or a string naming several people)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Manifest

_SEPARATOR = re.compile(r"\s*(?:[,;&]|\band\b|\bor\b)\s*", re.IGNORECASE)


def owner_names(owner: str | list[str] | None) -> list[str]:
    """The people an ``owner`` field names.

    >>> owner_names("maria.chen"), owner_names("maria.chen, jonas.berg"), owner_names("a and b")
    (['maria.chen'], ['maria.chen', 'jonas.berg'], ['a', 'b'])
    >>> owner_names(["a", "b"]), owner_names("  "), owner_names(None)
    (['a', 'b'], [], [])
    """
    if owner is None:
        return []
    items = owner if isinstance(owner, list) else _SEPARATOR.split(owner)
    return [name.strip() for name in items if name.strip()]


@rule("LS601", "owner", severity="error", play=6, scope="manifest")
def check(project: Project, manifest: Manifest) -> Iterator[Problem]:
    """A pipeline has no owner, or more than one (a list, or a string naming several people).

    ## Why is this bad?
    The playbook's failure modes start with this one: "When a play is
    'everyone's responsibility,' it becomes no one's. Each play in this book
    names a single accountable owner for exactly this reason ... one name per
    play, even if several people execute the steps." A pipeline without an
    owner has nobody to act when its loop check or its monitoring fires, and
    one with two owners has two people each waiting for the other. A step's
    optional `owner` must also be one name.

    ## Example
    ```yaml
    loopscan: 1
    pipeline: support-assistant
    owner: [maria.chen, jonas.berg]
    ```

    ## Fix
    Name the one accountable model-quality owner; others who run the steps
    can be step owners or go in the description:
    ```yaml
    owner: maria.chen
    ```
    """
    problem = _owner_problem(manifest)
    if problem is not None:
        yield problem
    for step in manifest.steps.values():
        names = owner_names(step.owner)
        if len(names) > 1:
            yield Problem(f"step '{step.id}' names {len(names)} owners ({', '.join(names)}); name one",
                          step.at("owner"), pipeline=step.pipeline, node=step.qualified)


def _owner_problem(manifest: Manifest) -> Problem | None:
    """What is wrong with the pipeline's ``owner``, if anything."""
    names = owner_names(manifest.owner)
    pipeline = manifest.pipeline
    if not names:
        return Problem(f"pipeline '{pipeline}' has no owner; name one accountable model-quality owner",
                       manifest.at("owner") if manifest.owner is not None else manifest.key_at("pipeline"),
                       pipeline=pipeline)
    if len(names) > 1:
        return Problem(f"pipeline '{pipeline}' names {len(names)} owners ({', '.join(names)}); "
                       "name one accountable owner", manifest.at("owner"), pipeline=pipeline)
    if isinstance(manifest.owner, list):
        return Problem(f"the owner of pipeline '{pipeline}' is a list; write the one name as a string",
                       manifest.at("owner"), pipeline=pipeline)
    return None
