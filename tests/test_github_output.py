"""GitHub Actions output a reviewer can use: the most severe annotations first.

GitHub keeps 10 annotations of each severity per step and drops the rest
without a word, so ``--format github`` writes errors first.
"""

from __future__ import annotations

import re

from tests.conftest import TODAY, Result, Run, Write, line_of

ECHO = """
    loopscan: 1
    pipeline: echo{n}
    owner: ana
    datasets:
      said:
        uri: s3://echo{n}/said/
        provenance: ai
    models:
      parrot:
        uri: models:/parrot{n}
    steps:
      speak:
        kind: generate
        inputs: [parrot]
        outputs: [said]
      learn:
        kind: train
        inputs: [said]
        outputs: [parrot]
    """
"""A model trained on what it generated: LS301 (error), LS502 (warning) and LS206 (made info) each once."""

SELECTED = ("--select", "LS301", "--select", "LS502", "--select", "LS206")
COMMAND = re.compile(r"::(?P<kind>error|warning|notice) (?P<properties>[^:]*)::(?P<message>.*)")


def echo_project(project: Write, count: int = 12) -> list[str]:
    """``count`` echo loops in p01.yaml, p02.yaml...: as many errors, warnings and info findings. Their files."""
    project("loopscan.yaml", "severity: {LS206: info}\n")
    files = [f"p{n:02}.yaml" for n in range(1, count + 1)]
    for n, file in enumerate(files, start=1):
        project(file, ECHO.format(n=n))
    return files


def check(run: Run, *args: str) -> Result:
    result = run("check", ".", "--today", TODAY, *args)
    assert result.code in (0, 1), result.err
    return result


def annotations(out: str) -> list[tuple[str, str, str, str]]:
    """(kind, file, line, title) of each workflow command on stdout."""
    commands = []
    for line in out.splitlines():
        command = COMMAND.fullmatch(line)
        assert command is not None, line
        properties = dict(pair.split("=", 1) for pair in command["properties"].split(","))
        commands.append((command["kind"], properties["file"], properties["line"], properties["title"]))
    return commands


def test_annotations_come_errors_first_then_warnings_then_notices_each_in_file_order(
    project: Write, run: Run
) -> None:
    files = echo_project(project)
    result = check(run, "-f", "github", *SELECTED)
    assert result.code == 1
    speak, drill, log = (line_of(files[0], text) for text in ("speak:", "parrot:", "learn:"))
    assert annotations(result.out) == [
        *(("error", file, str(speak), "LS301 ungated-loop") for file in files),
        *(("warning", file, str(drill), "LS502 stale-drill") for file in files),
        *(("notice", file, str(log), "LS206 missing-ratio-log") for file in files),
    ]
    assert result.err == ""
