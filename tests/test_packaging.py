"""A real, non-editable wheel carries every rule and the schema.

``rules/`` and ``schemas/`` live at the top of the repository and ship as
``loopscan.rules`` and ``loopscan.schemas``; an editable install would hide a
packaging mistake, so this test builds the wheel and runs it from elsewhere.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from loopscan.registry import builtin_rules
from tests.conftest import EXAMPLES, REPO, TODAY, installed_copy


def test_wheel_lists_every_rule_and_checks_the_examples(tmp_path: Path) -> None:
    _, env = installed_copy(tmp_path)
    site = env["PYTHONPATH"]
    # Run from an empty folder with only the wheel's files importable as loopscan.
    env["PYTHONSAFEPATH"] = "1"
    listed = subprocess.run(
        [sys.executable, "-m", "loopscan", "rules"], cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    )
    listed_ids = {line.split()[0] for line in listed.stdout.splitlines()[1:]}
    assert listed_ids == {rule.id for rule in builtin_rules()}
    assert {"LS301", "LS302", "LS303", "LS304", "LS305"} <= listed_ids

    checked = subprocess.run(
        [sys.executable, "-m", "loopscan", "check", str(EXAMPLES / "support-assistant.yaml"), "--today", TODAY],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert str(site) in subprocess.run(
        [sys.executable, "-c", "import loopscan; print(loopscan.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    ).stdout


def test_the_ci_floor_is_the_lowest_version_pyproject_allows_for_every_dependency() -> None:
    """.ci/run tests against .ci/lowest.txt: a floor in pyproject that no test ran is a floor users trip over."""
    import re

    from packaging.requirements import Requirement
    from packaging.version import Version

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    floors = {}
    for text in declared:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate():
            (minimum,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
            floors[requirement.name.lower()] = Version(minimum)
    lowest = (REPO / ".ci" / "lowest.txt").read_text(encoding="utf-8")
    pinned = {name: Version(version) for name, version in re.findall(r"^([a-z0-9_.-]+)==(\S+)$", lowest, re.MULTILINE)}
    assert pinned == floors
