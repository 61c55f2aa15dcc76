"""``loopscan loops``: every loop for an architecture review, as a table or JSON, and one loop in detail.

One row per loop (a strongly connected component that holds a generate step
on a cycle), however many generate steps it holds: its id, its generate
steps, steps and pipelines, its gates and caps (and whether some cycle gets
past them), and the ``loops`` entries that document it. Cells with several
values stack them one per line, at most :data:`CELL_LINES`, then a count,
so that a row stays readable for a loop across three teams and stays a few
lines for a loop across two thousand. ``loopscan loops --loop ID`` lists
everything about one loop, with the whole witness of each generate step.
"""

from __future__ import annotations

from collections.abc import Sequence

from loopscan.analysis.facts import GenerateWitnesses, Loop
from loopscan.findings import Waypoint
from loopscan.printable import printable
from loopscan.render.json import RECORD_DEPTH, dumps, loop_dict
from loopscan.render.table import table

HEADER = ("LOOP", "GENERATE", "STEPS", "PIPELINES", "GATES", "CAPS", "DOCUMENTED")
NO_LOOPS = "No loops: no generate step's output flows back into what feeds it.\n"
CELL_LINES = 6
"""How many values a table cell lists before it counts the rest."""


def render_json(loops: Sequence[Loop]) -> str:
    """The ``loops`` array of the JSON contract, each loop with its steps, pipelines and documenting entries."""
    return dumps({"loops": [loop_dict(loop) for loop in loops]}, one_line_from=RECORD_DEPTH) + "\n"


def render_table(loops: Sequence[Loop]) -> str:
    """A table with one row per loop, and a closing line that counts them."""
    if not loops:
        return NO_LOOPS
    rows = [[[cell] for cell in HEADER], *(loop_cells(loop) for loop in loops)]
    return (table(rows) + "\n" + summary(loops) + "\n"
            "`loopscan loops --loop ID` lists one loop whole, with the witness of each generate step.\n")


def loop_cells(loop: Loop) -> list[list[str]]:
    """The cells of one loop's row; each cell is a list of lines."""
    documented = [f"{doc.id} ({doc.location.file}:{doc.location.line})" for doc in loop.documented_by]
    return [
        [loop.id],
        bounded(loop.generates, "generate steps"),
        bounded(loop.steps, "steps"),
        bounded(loop.pipelines, "pipelines"),
        _safeguard_cell(loop.gates, loop.ungated_generates, len(loop.generates), rule="LS301"),
        _safeguard_cell(loop.caps, loop.uncapped_generates, len(loop.generates), rule="LS302"),
        bounded(documented, "entries") if documented else ["no"],
    ]


def bounded(values: Sequence[str], noun: str, lines: int = CELL_LINES) -> list[str]:
    """A cell of at most ``lines`` lines: the first values, then how many more there are.

    >>> bounded(["a", "b"], "steps"), bounded(["a", "b", "c", "d"], "steps", lines=3)
    (['a', 'b'], ['a', 'b', '(2 more steps)'])
    """
    if len(values) <= lines:
        return list(values)
    return [*values[:lines - 1], f"({len(values) - lines + 1:,} more {noun})"]


def _safeguard_cell(steps: Sequence[str], bypassing: Sequence[str], generates: int, rule: str) -> list[str]:
    """The gates (or caps) of a loop; when some cycle gets past them, say so, and at how many generate steps.

    >>> _safeguard_cell(["review"], ["p:a"], 3, "LS301")
    ['review', '(bypassed: LS301 at 1 of 3)']
    """
    if not steps:
        return ["none"]
    listed = bounded(steps, "steps", CELL_LINES - 1)
    if not bypassing:
        return listed
    where = "" if generates == 1 else f" at {len(bypassing):,} of {generates:,}"
    return [*listed, f"(bypassed: {rule}{where})"]


def summary(loops: Sequence[Loop]) -> str:
    """``3 loops: 1 documented, 2 with an ungated cycle, 2 with an uncapped cycle.``

    >>> summary([Loop("p:g", ("p:g",), ("p:g",), (), (), ungated_generates=("p:g",))])
    '1 loop: 0 documented, 1 with an ungated cycle, 0 with an uncapped cycle.'
    """
    documented = sum(1 for loop in loops if loop.documented_by)
    ungated = sum(1 for loop in loops if loop.ungated)
    uncapped = sum(1 for loop in loops if loop.uncapped)
    noun = "loop" if len(loops) == 1 else "loops"
    return (f"{len(loops)} {noun}: {documented} documented, {ungated} with an ungated cycle, "
            f"{uncapped} with an uncapped cycle.")


def render_detail_json(loop: Loop, witnesses: Sequence[GenerateWitnesses]) -> str:
    """One loop's record, with the whole witnesses of each generate step."""
    record = loop_dict(loop)
    record["witnesses"] = [{
        "generate": found.generate,
        "shortest": _nodes(found.shortest),
        "ungated": _nodes(found.ungated) or None,
        "uncapped": _nodes(found.uncapped) or None,
    } for found in witnesses]
    return dumps({"loop": record}, one_line_from=RECORD_DEPTH) + "\n"


def render_detail(loop: Loop, witnesses: Sequence[GenerateWitnesses]) -> str:
    """Everything about one loop, for a person: its lists whole, and each generate step's witnesses."""
    documented = [f"{doc.id} ({doc.location.file}:{doc.location.line})" for doc in loop.documented_by]
    rows: list[list[list[str]]] = [
        [["loop"], [loop.id]],
        [["size"], [f"{len(loop.nodes):,} nodes, {len(loop.steps):,} steps"]],
        [["pipelines"], list(loop.pipelines)],
        [["generate steps"], list(loop.generates)],
        [["gates"], list(loop.gates) or ["none"]],
        [["caps"], list(loop.caps) or ["none"]],
        [["documented by"], documented or ["no"]],
    ]
    blocks = [table(rows, header_rule=False, spaced=False).rstrip("\n")]
    for found in witnesses:
        lines = [f"generate step {printable(found.generate)}:"]
        lines += _witness_lines("shortest cycle", found.shortest)
        for title, cycle, otherwise in (("shortest cycle with no gate (LS301)", found.ungated, "a gate"),
                                        ("shortest cycle with no cap (LS302)", found.uncapped, "a capping step")):
            if not cycle:
                lines.append(f"  every cycle passes {otherwise}")
            elif cycle == found.shortest:
                lines.append(f"  {title}: the shortest cycle")
            else:
                lines += _witness_lines(title, cycle)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _witness_lines(title: str, cycle: Sequence[Waypoint]) -> list[str]:
    lines = [f"  {title}, {len(cycle):,} nodes:"]
    for waypoint in cycle:
        where = f"  ({waypoint.location.file}:{waypoint.location.line})" if waypoint.location else ""
        lines.append(f"    -> {printable(waypoint.node)}{printable(where)}")
    return lines


def _nodes(cycle: Sequence[Waypoint]) -> list[str]:
    return [waypoint.node for waypoint in cycle]
