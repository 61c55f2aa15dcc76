"""Each example manifest reports exactly the findings its header promises.

Headers list them as ``# expect: LS301 line 33``; a file without expect lines
must be clean. The examples are scanned together, as a project: the
marketplace loop only exists across its three manifests.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, REPO, TODAY

EXPECT = re.compile(r"^#\s*expect:\s*(LS\d{3})\s+line\s+(\d+)\s*$")
MANIFESTS = sorted(EXAMPLES.rglob("*.yaml"))


def expected_findings(path: Path) -> Counter[tuple[str, int]]:
    found: Counter[tuple[str, int]] = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        match = EXPECT.match(line.strip())
        if match:
            found[(match.group(1), int(match.group(2)))] += 1
    return found


@pytest.fixture(scope="module")
def example_findings() -> dict[str, Counter[tuple[str, int]]]:
    import json
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "loopscan", "check", "examples/pipelines", "-f", "json", "--today", TODAY],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr
    by_file: dict[str, Counter[tuple[str, int]]] = {}
    for finding in json.loads(completed.stdout)["findings"]:
        by_file.setdefault(finding["file"], Counter())[(finding["rule"], finding["line"])] += 1
    return by_file


def test_there_are_at_least_six_example_stories() -> None:
    assert len(MANIFESTS) >= 6


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_reports_exactly_its_documented_findings(
    path: Path, example_findings: dict[str, Counter[tuple[str, int]]]
) -> None:
    shown = str(path.relative_to(REPO))
    assert example_findings.get(shown, Counter()) == expected_findings(path)


def test_the_done_right_example_is_clean(example_findings: dict[str, Counter[tuple[str, int]]]) -> None:
    assert "examples/pipelines/support-assistant.yaml" not in example_findings
    assert not expected_findings(EXAMPLES / "support-assistant.yaml")
