"""How the per-node checks name nodes and numbers in their messages (wording only, no graph work)."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction


def shown(node: str, pipeline: str | None) -> str:
    """A node as a reviewer of ``pipeline`` reads it: its local id there, else ``pipeline:id`` or its URI.

    >>> shown("support:review", "support"), shown("catalog:etl", "support"), shown("s3://b/x/", "support")
    ('review', 'catalog:etl', 's3://b/x/')
    """
    prefix = f"{pipeline}:"
    return node[len(prefix):] if pipeline and node.startswith(prefix) else node


def quoted(nodes: Iterable[str], pipeline: str | None) -> str:
    """``'a', 'b' and 'c'``: nodes as :func:`shown`, for a sentence.

    >>> quoted(["p:a"], "p"), quoted(["p:a", "q:b", "p:c"], "p")
    ("'a'", "'a', 'q:b' and 'c'")
    """
    names = [f"'{shown(node, pipeline)}'" for node in nodes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def number(value: Fraction | float) -> str:
    """A share or ratio as a short decimal.

    >>> number(Fraction(3, 10)), number(Fraction(1, 3)), number(0.25)
    ('0.3', '0.3333', '0.25')
    """
    return f"{float(value):.4g}"
