"""``loopscan trace`` as text or JSON, with the drill checklist on request."""

from __future__ import annotations

import json
from dataclasses import asdict
from itertools import pairwise

from loopscan.analysis.trace import Downstream, ObservedEdge, Upstream
from loopscan.findings import EVIDENCE_SHOWN
from loopscan.printable import printable
from loopscan.render.json import evidence_entry


def render_json(result: Upstream | Downstream) -> str:
    direction = "upstream" if isinstance(result, Upstream) else "downstream"
    entry = asdict(result)
    entry["observed"] = [{"tail": edge.tail, "head": edge.head, "evidence": evidence_entry(edge.evidence)}
                         for edge in result.observed]
    return json.dumps({"direction": direction, direction: entry}, indent=2, ensure_ascii=False) + "\n"


def _list(items: tuple[str, ...]) -> str:
    return ", ".join(printable(item) for item in items) or "none"


OBSERVED_ARROW = " -(observed)-> "
"""A hop of a path that only the observed lineage shows; a declared hop is `` -> ``."""


def _path(path: tuple[str, ...], observed: tuple[ObservedEdge, ...]) -> str:
    if not path:
        return "none"
    seen = {(edge.tail, edge.head) for edge in observed}
    words = [printable(path[0])]
    for tail, head in pairwise(path):
        words += [OBSERVED_ARROW if (tail, head) in seen else " -> ", printable(head)]
    return "".join(words)


def _observed_lines(observed: tuple[ObservedEdge, ...]) -> list[str]:
    """The observed edges of the trace, each with the event that showed it (the first few: JSON has them all)."""
    if not observed:
        return []
    lines = ["  observed in the lineage, not declared:",
             *(f"    {printable(edge.tail)} -> {printable(edge.head)}: {printable(str(edge.evidence))}"
               for edge in observed[:EVIDENCE_SHOWN])]
    if len(observed) > EVIDENCE_SHOWN:
        lines.append(f"    ... {len(observed) - EVIDENCE_SHOWN:,} more observed edges (-f json lists them all)")
    return lines


def render_text(result: Upstream | Downstream, checklist: bool = False) -> str:
    if isinstance(result, Downstream):
        lines = [f"downstream of {printable(result.start)}: {result.nodes:,} nodes",
                 f"  models reached: {_list(result.models)}",
                 f"  generate steps reached: {_list(result.generates)}",
                 f"  datasets reached: {_list(result.datasets)}",
                 f"  loops on the way: {_list(result.loops)}",
                 f"  branches: {_list(tuple(f'{n} ({c})' for n, c in result.branches))}",
                 *_observed_lines(result.observed)]
        return "\n".join(lines) + "\n"
    lines = [f"upstream of {printable(result.model)}: {result.nodes:,} nodes",
             f"  trained by: {_list(result.trained_by)}",
             f"  training targets: {_list(result.targets)}",
             f"  suspect data enters at: {_list(tuple(f'{n} ({v})' for n, v in result.sources))}",
             f"  a path of AI data: {_path(result.path, result.observed)}",
             f"  gates on the way: {_list(result.gates)}",
             f"  caps on the way: {_list(result.caps)}",
             f"  declared shares: {_list(tuple(f'{s} <- {i}: {v:g}' for s, i, v in result.shares))}",
             f"  paths join at: {_list(tuple(f'{n} ({c} branches)' for n, c in result.branches))}",
             f"  anchor: {printable(result.anchor or 'none')}",
             f"  rollback checkpoint: {printable(result.checkpoint or 'none')}; "
             f"last drill: {result.last_drill or 'never'}",
             *_observed_lines(result.observed)]
    if checklist:
        lines += ["", "drill checklist:",
                  f"  [ ] freeze {printable(result.model)}",
                  f"  [ ] roll back to {printable(result.checkpoint or '(no checkpoint declared)')}",
                  f"  [ ] audit these sources: {_list(tuple(n for n, _ in result.sources))}",
                  *([f"  [ ] declare or stop these jobs no manifest names: {_list(result.undeclared_jobs)}"]
                    if result.undeclared_jobs else []),
                  f"  [ ] retrain from anchor {printable(result.anchor or '(no anchor declared)')} "
                  f"with caps {_list(result.caps)}"]
    return "\n".join(lines) + "\n"
