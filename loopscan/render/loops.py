"""``loopscan loops``: every loop for an architecture review, as a table or JSON.

One row per loop (a generate step on a cycle): the generate step, the steps
and pipelines on cycles through it, its gates and caps (and whether some
cycle gets past them), and the ``loops`` entries that document it. Cells with
several values stack them one per line, so that a loop across three
teams' manifests stays readable in a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from loopscan.analysis.facts import Loop
from loopscan.render.json import loop_dict
from loopscan.render.table import table

HEADER = ("GENERATE", "STEPS", "PIPELINES", "GATES", "CAPS", "DOCUMENTED")
NO_LOOPS = "No loops: no generate step's output flows back into what feeds it.\n"


def render_json(loops: Sequence[Loop]) -> str:
    """The ``loops`` array of the JSON contract, each loop with its steps, pipelines and documenting entries."""
    return json.dumps({"loops": [loop_dict(loop) for loop in loops]}, indent=2,
                      ensure_ascii=False) + "\n"


def render_table(loops: Sequence[Loop]) -> str:
    """A table with one row per loop, and a closing line that counts them."""
    if not loops:
        return NO_LOOPS
    rows = [[[cell] for cell in HEADER], *(loop_cells(loop) for loop in loops)]
    return table(rows) + "\n" + summary(loops) + "\n"


def loop_cells(loop: Loop) -> list[list[str]]:
    """The cells of one loop's row; each cell is a list of lines."""
    documented = [f"{doc.id} ({doc.location.file}:{doc.location.line})" for doc in loop.documented_by]
    return [
        [loop.generate],
        list(loop.steps),
        list(loop.pipelines),
        _safeguard_cell(loop.gates, bypassed=loop.ungated, rule="LS301"),
        _safeguard_cell(loop.caps, bypassed=loop.uncapped, rule="LS302"),
        documented or ["no"],
    ]


def _safeguard_cell(steps: Sequence[str], bypassed: bool, rule: str) -> list[str]:
    """The gates (or caps) of a loop; when some cycle gets past them, say so."""
    if not steps:
        return ["none"]
    return [*steps, f"(bypassed: {rule})"] if bypassed else list(steps)


def summary(loops: Sequence[Loop]) -> str:
    """``3 loops: 1 documented, 2 with an ungated cycle, 2 with an uncapped cycle.``

    >>> summary([Loop("p:g", ("p:g",), (), (), (), ungated=True)])
    '1 loop: 0 documented, 1 with an ungated cycle, 0 with an uncapped cycle.'
    """
    documented = sum(1 for loop in loops if loop.documented_by)
    ungated = sum(1 for loop in loops if loop.ungated)
    uncapped = sum(1 for loop in loops if loop.uncapped)
    noun = "loop" if len(loops) == 1 else "loops"
    return (f"{len(loops)} {noun}: {documented} documented, {ungated} with an ungated cycle, "
            f"{uncapped} with an uncapped cycle.")
