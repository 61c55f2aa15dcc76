"""``loopscan trace`` as text or JSON, with the drill checklist on request."""

from __future__ import annotations

import json
from dataclasses import asdict

from loopscan.analysis.trace import Downstream, Upstream
from loopscan.printable import printable


def render_json(result: Upstream | Downstream) -> str:
    direction = "upstream" if isinstance(result, Upstream) else "downstream"
    return json.dumps({"direction": direction, direction: asdict(result)}, indent=2, ensure_ascii=False) + "\n"


def _list(items: tuple[str, ...]) -> str:
    return ", ".join(printable(item) for item in items) or "none"


def render_text(result: Upstream | Downstream, checklist: bool = False) -> str:
    if isinstance(result, Downstream):
        lines = [f"downstream of {printable(result.start)}: {result.nodes:,} nodes",
                 f"  models reached: {_list(result.models)}",
                 f"  generate steps reached: {_list(result.generates)}",
                 f"  datasets reached: {_list(result.datasets)}",
                 f"  loops on the way: {_list(result.loops)}",
                 f"  branches: {_list(tuple(f'{n} ({c})' for n, c in result.branches))}"]
        return "\n".join(lines) + "\n"
    lines = [f"upstream of {printable(result.model)}: {result.nodes:,} nodes",
             f"  trained by: {_list(result.trained_by)}",
             f"  training targets: {_list(result.targets)}",
             f"  suspect data enters at: {_list(tuple(f'{n} ({v})' for n, v in result.sources))}",
             f"  a path of AI data: {' -> '.join(printable(n) for n in result.path) or 'none'}",
             f"  gates on the way: {_list(result.gates)}",
             f"  caps on the way: {_list(result.caps)}",
             f"  declared shares: {_list(tuple(f'{s} <- {i}: {v:g}' for s, i, v in result.shares))}",
             f"  paths join at: {_list(tuple(f'{n} ({c} branches)' for n, c in result.branches))}",
             f"  anchor: {printable(result.anchor or 'none')}",
             f"  rollback checkpoint: {printable(result.checkpoint or 'none')}; "
             f"last drill: {result.last_drill or 'never'}"]
    if checklist:
        lines += ["", "drill checklist:",
                  f"  [ ] freeze {printable(result.model)}",
                  f"  [ ] roll back to {printable(result.checkpoint or '(no checkpoint declared)')}",
                  f"  [ ] audit these sources: {_list(tuple(n for n, _ in result.sources))}",
                  f"  [ ] retrain from anchor {printable(result.anchor or '(no anchor declared)')} "
                  f"with caps {_list(result.caps)}"]
    return "\n".join(lines) + "\n"
