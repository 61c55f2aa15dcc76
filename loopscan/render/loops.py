"""``loopscan loops``: every loop for an architecture review, as a table or JSON."""

from __future__ import annotations

import json

from loopscan.render.json import loop_dict
from loopscan.rule import Project


def render_json(project: Project) -> str:
    return json.dumps({"loops": [loop_dict(loop) for loop in project.facts.loops]}, indent=2) + "\n"


def render_table(project: Project) -> str:
    loops = project.facts.loops
    if not loops:
        return "No loops: no generate step's output flows back into what feeds it.\n"
    graph = project.graph
    rows = [("LOOP", "GENERATE", "PIPELINES", "GATES", "CAPS", "DOCUMENTED")]
    for loop in loops:
        pipelines = sorted({graph.nodes[n]["pipeline"] for n in loop.nodes if graph.nodes[n]["pipeline"]})
        documented = ", ".join(f"{d.id} ({d.location.file}:{d.location.line})" for d in loop.documented_by)
        rows.append((
            loop.name or "-",
            loop.generate,
            ", ".join(pipelines),
            ", ".join(loop.gates) or "none",
            ", ".join(loop.caps) or "none",
            documented or "no",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"
