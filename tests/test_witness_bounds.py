"""Loops are components, and every output stays bounded: one loop per component, witnesses elided
in the middle past 20 nodes in every format, SARIF within GitHub's limits, and ``loops --loop ID``
for a loop's whole witnesses.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from loopscan.findings import WITNESS_SHOWN
from tests.conftest import Run, Write, line_of, sarif_errors


def ring(steps: int, generates: int = 1) -> str:
    """One pipeline whose datasets d0 -> d1 -> ... flow through ``steps`` transforms back into a model
    that ``generates`` generate steps read: one loop, no gate, no cap, undocumented."""
    lines = ["loopscan: 1", "pipeline: ring", "owner: ana", "datasets:"]
    lines += [f"  d{i}: {{provenance: ai}}" for i in range(steps + 1)]
    lines += ["models:", "  lm: {}", "steps:"]
    lines += [f"  gen{g}: {{kind: generate, inputs: [lm], outputs: [d0]}}" for g in range(generates)]
    lines += [f"  t{i}: {{kind: transform, inputs: [d{i}], outputs: [d{i + 1}]}}" for i in range(steps)]
    lines.append(f"  train: {{kind: train, inputs: [d{steps}], outputs: [lm]}}")
    return "\n".join(lines) + "\n"


def whole_witness(steps: int) -> list[str]:
    """The one cycle of :func:`ring` from gen0, as qualified node ids."""
    middle = [node for i in range(steps) for node in (f"ring:d{i}", f"ring:t{i}")]
    return ["ring:gen0", *middle, f"ring:d{steps}", "ring:train", "ring:lm"]


def test_two_generate_steps_on_one_cycle_are_one_loop_reported_once_and_judged_each(
        run: Run, project: Write) -> None:
    # STaR and rejection sampling: two generate steps on one cycle. One loop, one LS303,
    # and LS301/LS302 at each generate step, each naming the loop.
    path = project("ring.yaml", ring(2, generates=2))
    result = run("check", ".", "--select", "LS30", "-f", "json")
    findings = [(f["rule"], f["line"], f["loop"]) for f in result.json()["findings"]]
    assert findings == [
        ("LS301", line_of(path, "  gen0:"), "ring:gen0"), ("LS302", line_of(path, "  gen0:"), "ring:gen0"),
        ("LS303", line_of(path, "  gen0:"), "ring:gen0"),
        ("LS301", line_of(path, "  gen1:"), "ring:gen0"), ("LS302", line_of(path, "  gen1:"), "ring:gen0"),
    ]
    [loop] = result.json()["loops"]
    assert (loop["id"], loop["generates"], loop["size"]) == ("ring:gen0", ["ring:gen0", "ring:gen1"], 9)
    assert loop["ungated_generates"] == loop["uncapped_generates"] == ["ring:gen0", "ring:gen1"]
    assert result.json()["summary"]["loops"] == 1
    table = run("loops", ".").out.splitlines()
    assert [line.split()[0] for line in table if line and not line[0].isspace()][2:-2] == ["ring:gen0"]
    assert table[2].split()[:2] == ["ring:gen0", "ring:gen0"] and table[3].split()[0] == "ring:gen1"
    assert "(2 more" not in "\n".join(table)


def test_a_long_witness_is_elided_in_the_middle_in_json(run: Run, project: Write) -> None:
    project("ring.yaml", ring(100))
    whole = whole_witness(100)
    [ungated, *_] = run("check", ".", "--select", "LS30", "-f", "json").json()["findings"]
    half = WITNESS_SHOWN // 2
    assert ungated["cycle"] == whole[:half] + whole[-half:]
    assert ungated["cycle_length"] == len(whole) == 204
    assert ungated["cycle_omitted"] == {"after": half, "count": 204 - WITNESS_SHOWN}


def test_a_short_witness_is_whole_and_says_its_length(run: Run, project: Write) -> None:
    project("ring.yaml", ring(3))
    [ungated, *_] = run("check", ".", "--select", "LS30", "-f", "json").json()["findings"]
    assert ungated["cycle"] == whole_witness(3)
    assert ungated["cycle_length"] == 10
    assert "cycle_omitted" not in ungated


def test_a_long_witness_is_elided_in_text_with_a_count_and_the_command_that_shows_it(
        run: Run, project: Write) -> None:
    path = project("ring.yaml", ring(100))
    out = run("check", ".", "--select", "LS30").out
    block = out.split("\n\n")[0].splitlines()
    assert block[0].startswith(f"ring.yaml:{line_of(path, '  gen0:')}:3: LS301 [error]")
    assert block[1] == "    cycle:"
    arrows = [line for line in block if line.startswith("      -> ")]
    assert len(arrows) == WITNESS_SHOWN + 1  # and "back to the start"
    assert block[2 + WITNESS_SHOWN // 2] == (
        "      ... 184 more nodes (loopscan loops --loop ring:gen0 shows the whole witness)")
    # The page a person reads: every finding of a 204-node loop fits in a few dozen lines.
    assert len(out.splitlines()) < 80


def test_a_long_witness_is_elided_in_sarif_which_validates(run: Run, project: Write) -> None:
    project("ring.yaml", ring(5_001))
    document = run("check", ".", "--select", "LS30", "-f", "sarif").json()
    assert sarif_errors(document) == []
    [first, *_] = document["runs"][0]["results"]
    [flow] = first["codeFlows"][0]["threadFlows"]
    texts = [step["location"]["message"]["text"] for step in flow["locations"]]
    whole = whole_witness(5_001)
    half = WITNESS_SHOWN // 2
    assert len(texts) == WITNESS_SHOWN + 1  # far below GitHub's 10,000 thread flow locations per result
    assert texts[:half] == whole[:half] and texts[-half:] == whole[-half:]
    assert texts[half] == f"{len(whole) - WITNESS_SHOWN:,} more nodes (loopscan loops --loop ring:gen0 shows " \
                          "the whole witness)"
    assert "physicalLocation" not in flow["locations"][half]["location"]


def test_a_long_witness_is_elided_in_junit(run: Run, project: Write) -> None:
    project("ring.yaml", ring(100))
    suites = ET.fromstring(run("check", ".", "--select", "LS30", "-f", "junit").out)
    details = [failure.text or "" for failure in suites.iter("failure")]
    lines = details[0].split("\n")
    assert len([line for line in lines if line.startswith("  -> ")]) == WITNESS_SHOWN
    assert "  ... 184 more nodes (loopscan loops --loop ring:gen0 shows the whole witness)" in lines


def test_loops_loop_lists_one_loop_whole_by_id_or_by_any_node_on_it(run: Run, project: Write) -> None:
    path = project("ring.yaml", ring(30, generates=2))
    by_id = run("loops", ".", "--loop", "ring:gen0", "-f", "json")
    by_node = run("loops", ".", "--loop", "ring:d17", "-f", "json")
    assert by_id.code == by_node.code == 0
    assert by_id.json() == by_node.json()
    loop = by_id.json()["loop"]
    assert (loop["id"], loop["size"]) == ("ring:gen0", 65)
    [gen0, gen1] = loop["witnesses"]
    assert gen0 == {"generate": "ring:gen0", "shortest": whole_witness(30), "ungated": whole_witness(30),
                    "uncapped": whole_witness(30)}
    assert gen1["generate"] == "ring:gen1" and len(gen1["shortest"]) == 64

    text = run("loops", ".", "--loop", "ring:gen0").out.splitlines()
    assert text[0].split() == ["loop", "ring:gen0"]
    assert text[1].split() == ["size", "65", "nodes,", "33", "steps"]
    assert "generate step ring:gen0:" in text
    assert f"    -> ring:train  (ring.yaml:{line_of(path, '  train:')})" in text
    assert "  shortest cycle with no gate (LS301): the shortest cycle" in text


def test_loops_loop_that_names_no_loop_is_a_usage_error_with_a_suggestion(run: Run, project: Write) -> None:
    project("ring.yaml", ring(3))
    result = run("loops", ".", "--loop", "ring:gen")
    assert result.code == 2
    assert result.out == ""
    assert result.err == ("loopscan: error: no loop 'ring:gen' in this project (did you mean 'ring:gen0'?); "
                          "its loops are 'ring:gen0' ('loopscan loops' lists them)\n")


def test_loops_loop_in_a_project_without_loops_says_so(run: Run, project: Write, tmp_path: Path) -> None:
    project("ring.yaml", ring(3).replace("outputs: [lm]", "outputs: [d0]").replace("inputs: [lm]", "inputs: []"))
    result = run("loops", ".", "--loop", "x")
    assert result.code == 2
    assert "it has no loops" in result.err


def star(generates: int) -> str:
    """``generates`` loops that share one pool: generate i writes it, train i reads it into model i,
    which generate i reads. Every search for a shortest cycle passes the pool and sees every loop."""
    lines = ["loopscan: 1", "pipeline: star", "owner: ana", "datasets:", "  pool: {provenance: ai}", "models:"]
    lines += [f"  m{i}: {{}}" for i in range(generates)]
    lines.append("steps:")
    for i in range(generates):
        lines.append(f"  g{i}: {{kind: generate, inputs: [m{i}], outputs: [pool]}}")
        lines.append(f"  t{i}: {{kind: train, inputs: [pool], outputs: [m{i}]}}")
    return "\n".join(lines) + "\n"


def test_past_the_search_budget_each_generate_step_still_gets_a_real_offending_cycle(
        run: Run, project: Write) -> None:
    # 300 generate steps whose searches each walk all 300 loops: past the budget of shortest
    # searches, the rest get a cycle through the first generate step, cut down to no repeats,
    # which here is the shortest one too.
    project("star.yaml", star(300))
    findings = [f for f in run("check", ".", "--select", "LS301", "-f", "json").json()["findings"]]
    assert len(findings) == 300
    for finding in findings:
        i = finding["node"].removeprefix("star:g")
        assert finding["cycle"] == [f"star:g{i}", "star:pool", f"star:t{i}", f"star:m{i}"]
