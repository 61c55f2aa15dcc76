"""How the loop rules name nodes, cycles and loops in their messages.

Shared wording only: no graph work happens here (that is in
:mod:`loopscan.analysis.facts`), and nothing here imports networkx, so that listing
the rules stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loopscan.analysis.facts import Facts, Loop

NAMED_AT_MOST = 4
"""How many steps of a witness a message names; the witness itself lists them all."""


def shown(facts: Facts, node: str, pipeline: str | None) -> str:
    """A node as a manifest of ``pipeline`` would write it: its local id there, else its qualified id."""
    decl = facts.declaration(node)
    return decl.id if decl is not None and decl.pipeline == pipeline else node


def quoted(names: Sequence[str]) -> str:
    """``'a', 'b'`` for the names in order.

    >>> quoted(["serve", "p:finetune"])
    "'serve', 'p:finetune'"
    """
    return ", ".join(f"'{name}'" for name in names)


def brief(names: Sequence[str], total: int, noun: str) -> str:
    """The names, quoted, and how many more of the ``total`` there are.

    >>> brief(["a", "b"], 2, "steps"), brief(["a", "b"], 6, "steps")
    ("'a', 'b'", "'a', 'b' and 4 more steps")
    """
    more = total - len(names)
    return quoted(names) + (f" and {more} more {noun}" if more > 0 else "")


def cycle_route(facts: Facts, cycle: Sequence[str]) -> str:
    """The steps a cycle passes after its generate step (``cycle[0]``), briefly, for a message.

    A cycle with no other step is a generate step that reads back its own output.
    The whole cycle is the finding's witness; the message names only its first steps.
    """
    start = facts.declaration(cycle[0])
    pipeline = start.pipeline if start is not None else None
    step_nodes = facts.step_nodes
    steps = [node for node in cycle[1:] if node in step_nodes]
    if steps:
        named = [shown(facts, node, pipeline) for node in steps[:NAMED_AT_MOST]]
        return "via " + brief(named, len(steps), "steps")
    named = [shown(facts, node, pipeline) for node in cycle[1:NAMED_AT_MOST + 1]]
    return "it reads back its own output " + brief(named, len(cycle) - 1, "nodes")


def loop_of(facts: Facts, generate: str) -> Loop | None:
    """The loop whose generate step is ``generate``, if it lies on one."""
    return next((loop for loop in facts.loops_on(generate) if loop.generate == generate), None)


def loop_name(facts: Facts, generate: str) -> str | None:
    """The name of the ``loops`` entry that documents the loop through ``generate``, if any."""
    loop = loop_of(facts, generate)
    return loop.name if loop is not None else None

