"""LS805 rule-switched-off: a config change ignores rules, lowers severities, widens `exclude` or loosens policy."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from loopscan.findings import Location, Problem
from loopscan.graph.globs import compile_glob
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.wording import and_list

if TYPE_CHECKING:
    from loopscan.analysis.change import Change

LOOSER_WHEN_RAISED = ("drill_every_days", "override_max_days")
"""Policy numbers that allow more when raised (a longer time between drills, longer overrides)."""


@rule("LS805", "rule-switched-off", severity="warning", play=8, scope="change")
def check(project: Project, change: Change) -> Iterator[Problem]:
    """A config change ignores rules, lowers a severity, widens `exclude` or loosens the policy.

    ## Why is this bad?
    The playbook's first failure mode is decay: safeguards switched off
    "temporarily", and "nobody notices because nothing breaks immediately".
    The config can switch loopscan off in the same way: `ignore:
    [LS3]` silences every loop rule, `severity: {LS301: info}` lets an
    ungated loop pass `--fail-on error`, `exclude: ["pipelines/**"]` leaves
    manifests unread, and a longer `policy.drill_every_days` or
    `policy.override_max_days`, or one more entry in `policy.gate_methods`,
    lets more through. Each is a valid setting, so no check fails on it; this
    rule reports the change at its line in `loopscan.yaml` or
    `pyproject.toml`, so that a reviewer sees it as what it is. (A raised
    `policy.max_synthetic` is LS802's.)

    It reports only in `loopscan diff --base REF`.

    ## Example
    ```yaml
    # loopscan.yaml
    ignore: [LS301]      # not ignored at origin/main
    exclude: ["legacy/**"]
    ```

    ## Fix
    Undo the setting. For one known finding, use an override in the manifest
    instead: it names its target, a reason, an approver and an expiry date.
    For a fleet that adopts loopscan, use `loopscan baseline create`, whose
    entries expire too.

    ## Options
    - `policy.gate_methods`: a method added to it at the head is reported.
    - `policy.drill_every_days`, `policy.override_max_days`: a value raised at
      the head is reported.
    """
    before, after = change.base_settings, change.head_settings
    old, new = before.config, after.config
    where = _here(change)
    known = sorted(change.default_severity)
    for index, prefix in enumerate(new.ignore):
        if prefix in old.ignore:
            continue
        switched = [rule_id for rule_id in known if rule_id.startswith(prefix)]
        yield Problem(f"ignore '{prefix}' switches off {and_list(switched) if switched else 'no rule'} "
                      f"(not ignored at {change.label})", where("ignore", index))
    for rule_id, level in new.severity.items():
        default = change.default_severity.get(rule_id)
        had = old.severity.get(rule_id, default)
        if had is None or level >= had:
            continue
        was = (f"{had.label} ({change.was(location)})"
               if rule_id in old.severity and (location := before.location("severity", rule_id)) is not None
               else f"{had.label} (its default)")
        yield Problem(f"severity of {rule_id} lowered from {was} to {level.label}", where("severity", rule_id))
    for index, pattern in enumerate(new.exclude):
        if pattern in old.exclude:
            continue
        glob = compile_glob(pattern)
        root = str(new.root)
        left_out = [file for file in change.base.files
                    if glob.match(os.path.relpath(os.path.abspath(file), root))]
        said = (f"leaves out {and_list(left_out)}, scanned at {change.label}" if left_out
                else f"is new (not at {change.label})")
        yield Problem(f"exclude '{pattern}' {said}", where("exclude", index))
    for index, method in enumerate(new.policy.gate_methods):
        if method not in old.policy.gate_methods:
            yield Problem(f"policy.gate_methods now accepts method '{method}' as a quality gate "
                          f"(not at {change.label})", where("policy", "gate_methods", index))
    for key in LOOSER_WHEN_RAISED:
        had_days, has_days = getattr(old.policy, key), getattr(new.policy, key)
        if has_days > had_days:
            location = before.location("policy", key) if before.written("policy", key) else None
            was = f"{had_days} ({change.was(location)})" if location is not None else f"{had_days} (the default)"
            yield Problem(f"policy.{key} raised from {was} to {has_days}", where("policy", key))


def _here(change: Change) -> Callable[..., Location]:
    """Where a setting is written in the head config (or the nearest key that holds it)."""
    fallback = Location(change.head_settings.file or change.base_settings.file or "loopscan.yaml")

    def where(*path: str | int) -> Location:
        return change.head_settings.location(*path) or fallback

    return where
