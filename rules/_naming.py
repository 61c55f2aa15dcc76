"""How the loop rules name nodes, cycles and loops in their messages.

Shared wording only: no graph work happens here (that is in
:mod:`loopscan.facts`), and nothing here imports networkx, so that listing
the rules stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from loopscan.manifest import Step

if TYPE_CHECKING:
    from loopscan.facts import Facts, Loop


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


def cycle_route(facts: Facts, cycle: Sequence[str]) -> str:
    """The steps a cycle passes after its generate step (``cycle[0]``), named for a message.

    A cycle with no other step is a generate step that reads back its own output.
    """
    start = facts.declaration(cycle[0])
    pipeline = start.pipeline if start is not None else None
    steps = [shown(facts, node, pipeline) for node in cycle[1:] if isinstance(facts.declaration(node), Step)]
    if steps:
        return "via " + quoted(steps)
    artifacts = [shown(facts, node, pipeline) for node in cycle[1:]]
    return "it reads back its own output " + quoted(artifacts)


def loop_of(facts: Facts, generate: str) -> Loop | None:
    """The loop whose generate step is ``generate``, if it lies on one."""
    return next((loop for loop in facts.loops_on(generate) if loop.generate == generate), None)


def loop_name(facts: Facts, generate: str) -> str | None:
    """The name of the ``loops`` entry that documents the loop through ``generate``, if any."""
    loop = loop_of(facts, generate)
    return loop.name if loop is not None else None

