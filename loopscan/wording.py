"""How loopscan words its messages: node names, lists, shares, routes, suggestions. No graph work.

Every built-in rule, and the load and link steps for their suggestions, word
their messages with these, so that a node, a list or a share reads the same in
every finding. What a message says is computed in :mod:`loopscan.analysis`;
this module only writes it, and imports nothing heavy, so that listing the
rules stays fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from difflib import get_close_matches
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loopscan.analysis.exposure import Exposure
    from loopscan.analysis.facts import Facts
    from loopscan.sources.manifest import Override, Step

NAMED_AT_MOST = 4
"""How many steps of a witness a message names; the witness itself lists them all."""


def shown(facts: Facts, node: str, pipeline: str | None) -> str:
    """A node as a manifest of ``pipeline`` writes it: its local id there, else its qualified id or URI."""
    decl = facts.declaration(node)
    return decl.id if decl is not None and decl.pipeline == pipeline else node


def and_list(names: Sequence[str], total: int | None = None) -> str:
    """``'a', 'b' and 'c'``: names quoted, for a sentence that lists them; past
    :data:`NAMED_AT_MOST` (or short of ``total``, when only the first are given), the
    first ones and how many more, so that a message stays one line.

    >>> and_list(["a"]), and_list(["a", "q:b", "c"])
    ("'a'", "'a', 'q:b' and 'c'")
    >>> and_list([str(n) for n in range(9)]), and_list(["a"], total=3)
    ("'0', '1', '2', '3' and 5 more", "'a' and 2 more")
    """
    quoted = [f"'{name}'" for name in names[:NAMED_AT_MOST]]
    more = (len(names) if total is None else total) - len(quoted)
    if more > 0:
        return ", ".join(quoted) + f" and {more} more"
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def nodes_named(facts: Facts, nodes: Iterable[str], pipeline: str | None) -> str:
    """``'review', 'catalog:etl' and 's3://b/x/'``: nodes as :func:`shown` to ``pipeline``, for a sentence."""
    nodes = list(nodes)
    return and_list([shown(facts, node, pipeline) for node in nodes[:NAMED_AT_MOST]], total=len(nodes))


def sequence(names: Sequence[str]) -> str:
    """``'a', 'b'``: names quoted in order, for steps a route passes one after another.

    >>> sequence(["serve", "p:finetune"])
    "'serve', 'p:finetune'"
    """
    return ", ".join(f"'{name}'" for name in names)


def brief(names: Sequence[str], total: int, noun: str) -> str:
    """The names, as a :func:`sequence`, and how many more of the ``total`` there are.

    >>> brief(["a", "b"], 2, "steps"), brief(["a", "b"], 6, "steps")
    ("'a', 'b'", "'a', 'b' and 4 more steps")
    """
    more = total - len(names)
    return sequence(names) + (f" and {more} more {noun}" if more > 0 else "")


def generate_steps(facts: Facts, nodes: Sequence[str], pipeline: str | None) -> str:
    """``generate step 'serve'`` or ``generate steps 'a', 'b', 'c', 'd' and 3 more``: a loop's generate
    steps as :func:`shown` to ``pipeline``, briefly (only the first :data:`NAMED_AT_MOST` are looked up)."""
    if len(nodes) == 1 and (step := facts.step(nodes[0])) is not None and step.pipeline == pipeline:
        return generating(step)
    noun = "generate step" if len(nodes) == 1 else "generate steps"
    named = [shown(facts, node, pipeline) for node in nodes[:NAMED_AT_MOST]]
    more = len(nodes) - len(named)
    return f"{noun} {sequence(named)}" + (f" and {more} more" if more > 0 else "")


def number(value: Fraction | float) -> str:
    """A share or ratio as a short decimal.

    >>> number(Fraction(3, 10)), number(Fraction(1, 3)), number(0.25)
    ('0.3', '0.3333', '0.25')
    """
    return f"{float(value):.4g}"


def percent(value: Fraction | float) -> str:
    """A share as a percentage, for a person to read.

    >>> percent(Fraction(57, 100)), percent(Fraction(1, 3)), percent(0.125), percent(1)
    ('57%', '33.33%', '12.5%', '100%')
    """
    return f"{float(value) * 100:.4g}%"


def cycle_route(facts: Facts, cycle: Sequence[str]) -> str:
    """The steps a cycle passes after its generate step (``cycle[0]``), briefly, for a message.

    A cycle with no other step is a generate step that reads back its own output.
    The whole cycle is the finding's witness; the message names only its first steps.
    """
    start = facts.declaration(cycle[0])
    pipeline = start.pipeline if start is not None else None
    step_nodes = facts.step_nodes
    steps = [node for node in cycle[1:] if node in step_nodes]
    if len(cycle) == 1 and start is not None and getattr(start, "on_policy", False):
        return "it samples from the model it trains, on_policy"
    if steps:
        named = [shown(facts, node, pipeline) for node in steps[:NAMED_AT_MOST]]
        return "via " + brief(named, len(steps), "steps")
    named = [shown(facts, node, pipeline) for node in cycle[1:NAMED_AT_MOST + 1]]
    return "it reads back its own output " + brief(named, len(cycle) - 1, "nodes")


def generating(step: Step) -> str:
    """``generate step 'serve'``, or ``on-policy train step 'ppo'``: the step a loop finding is about."""
    kind = "on-policy train step" if step.kind == "train" and step.on_policy else "generate step"
    return f"{kind} '{step.id}'"


def unaccepted_gate(step: Step | None, name: str, refusal: str | None, detects_wanted: Sequence[str]) -> str:
    """Why gate ``name`` stops no loop, for a message: its method, or what it detects (:meth:`Facts.gate_refusal`).

    >>> unaccepted_gate(None, "review", "method", ())
    "gate 'review' declares no method (counted as 'other'), which policy.gate_methods does not accept"
    """
    method = step.method if step is not None else None
    if refusal == "detects" and step is not None:
        found = ", ".join(step.detects) or "nothing"
        return (f"gate '{name}' detects only {found}, none of policy.loop_gate_detects "
                f"({', '.join(detects_wanted)})")
    if method is None:
        return f"gate '{name}' declares no method (counted as 'other'), which policy.gate_methods does not accept"
    return f"gate '{name}' has method '{method}', which policy.gate_methods does not accept"


def why_exposed(facts: Facts, exposure: Exposure, pipeline: str) -> str:
    """``it lies on the loop through 'serve'``, ``it feeds generate step 'answer'`` or ``it teaches 'distill'``."""
    if exposure.loops:
        return f"it lies on the loop through {nodes_named(facts, exposure.loops, pipeline)}"
    if exposure.feeds:
        return f"it feeds generate step {nodes_named(facts, exposure.feeds, pipeline)}"
    return f"it is the teacher of {nodes_named(facts, exposure.teaches, pipeline)}"


def override_named(override: Override) -> str:
    """``override of LS301 for 'serve'``: an ``overrides`` entry, as a message names it."""
    target = override.target.text if override.target is not None else "?"
    return f"override of {override.rule} for '{target}'"


def did_you_mean(word: str, choices: Iterable[str], pipeline: str | None = None) -> str:
    """`` (did you mean 'review'?)`` for the closest of ``choices``, or nothing when none is close.

    With ``pipeline``, ``word`` and ``choices`` are ids of that pipeline, compared
    without it and suggested as ``pipeline:id``.

    >>> did_you_mean("reviw", ["review", "serve"]), did_you_mean("zzz", ["review"])
    (" (did you mean 'review'?)", '')
    >>> did_you_mean("filtr", ["filter", "finetune"], "cleaning"), did_you_mean("nothing", ["finetune"], "support")
    (" (did you mean 'cleaning:filter'?)", '')
    """
    close = get_close_matches(word, list(choices), n=1)
    if not close:
        return ""
    return f" (did you mean {close[0] if pipeline is None else pipeline + ':' + close[0]!r}?)"
