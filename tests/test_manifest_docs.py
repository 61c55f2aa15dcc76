"""What docs/manifest.md shows is true: its manifests are valid, and its pasted outputs are what loopscan prints.

Each YAML block of the document that is a manifest (it holds ``loopscan: 1``)
is written to ``<pipeline>.yaml``, the name its console blocks use; a console
block whose files are all written that way is run, and its output compared.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, Run

DOC = (REPO / "docs" / "manifest.md").read_text(encoding="utf-8")
SYNTAX_AND_SCHEMA = {"LS001", "LS002", "LS003", "LS006"}


def _manifests() -> dict[str, str]:
    """Each manifest block of the document, by the file name its pipeline gives it."""
    found: dict[str, str] = {}
    for block in re.findall(r"```yaml\n(.*?)```", DOC, re.DOTALL):
        data = yaml.safe_load(block)
        if isinstance(data, dict) and data.get("loopscan") == 1:
            name = f"{data['pipeline']}.yaml"
            assert name not in found, f"two manifest blocks of docs/manifest.md declare pipeline {data['pipeline']!r}"
            found[name] = block
    return found


MANIFESTS = _manifests()


def _console_blocks() -> list[tuple[str, str]]:
    """Each ```console block whose command names only files that the document's manifests give."""
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", DOC, re.DOTALL):
        first, _, output = body.partition("\n")
        arguments = shlex.split(first.removeprefix("$ "))
        if all(arg in MANIFESTS for arg in arguments if arg.endswith(".yaml")):
            blocks.append((first.removeprefix("$ "), output))
    return blocks


def _write_all(folder: Path) -> None:
    for name, text in MANIFESTS.items():
        (folder / name).write_text(text, encoding="utf-8")


def test_the_document_shows_the_format_1_additions_in_manifests() -> None:
    text = "\n".join(MANIFESTS.values())
    for field in ("role: prompts", "role: scorer", "role: init", "external: true", "retention: transient",
                  "detects: [quality]", "detects: [incorrect]", 'source: "https://', "on_policy: true",
                  "cleaning:filtred"):
        assert field in text, f"no manifest of docs/manifest.md shows {field!r}"


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_each_manifest_of_the_document_is_valid(name: str, run: Run, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _write_all(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run("check", name, "-f", "json", "--today", "2026-11-24")
    assert result.code in (0, 1), result.err
    broken = [f"{f['line']}: {f['rule']} {f['message']}" for f in result.json()["findings"]
              if f["rule"] in SYNTAX_AND_SCHEMA]
    assert broken == []


def test_console_blocks_of_the_new_fields_are_checked() -> None:
    commands = [command for command, _ in _console_blocks()]
    assert any("distill.yaml" in command for command in commands)
    assert sum("tune.yaml" in command for command in commands) == 2


@pytest.mark.parametrize("command, pasted", _console_blocks(), ids=lambda value: value[:60])
def test_pasted_output_is_what_the_command_prints(command: str, pasted: str, run: Run, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _write_all(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run(*shlex.split(command)[1:])
    assert result.out == pasted
