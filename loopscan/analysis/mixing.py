"""Ratio arithmetic (Play 2): the synthetic share of a training mix, computed exactly.

Each input with a declared ``share`` contributes ``share * weight``, where
the weight is the synthetic part of that input by its inferred provenance:
``ai`` 1, ``human`` 0, ``mixed`` its declared ``synthetic_fraction`` (1 when
that is not known), ``unknown`` 1. Inputs without a share are left out: the
arithmetic uses only what the manifest states.

Numbers are taken as the decimals written in the manifest, so the sum is
exact: shares 0.1 and 0.2 of AI data make exactly 0.3, and a mix exactly at
its cap passes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

WEIGHTS = {"ai": Fraction(1), "human": Fraction(0), "unknown": Fraction(1)}


def exact(value: float) -> Fraction:
    """The decimal as written: ``exact(0.1) == Fraction(1, 10)``, not the nearest binary float."""
    return Fraction(str(value))


def synthetic_weight(provenance: str, synthetic_fraction: float | None) -> Fraction:
    """The synthetic part of data of this provenance.

    >>> [str(synthetic_weight(p, None)) for p in ("ai", "human", "mixed", "unknown")]
    ['1', '0', '1', '1']
    >>> synthetic_weight("mixed", 0.25)
    Fraction(1, 4)
    """
    if provenance == "mixed":
        return Fraction(1) if synthetic_fraction is None else exact(synthetic_fraction)
    return WEIGHTS[provenance]


@dataclass(frozen=True)
class Portion:
    """One input's part of a training mix."""

    node: str
    share: Fraction
    provenance: str
    weight: Fraction

    @property
    def synthetic(self) -> Fraction:
        return self.share * self.weight


def portion(node: str, share: float, provenance: str, synthetic_fraction: float | None) -> Portion:
    return Portion(node, exact(share), provenance, synthetic_weight(provenance, synthetic_fraction))


def synthetic_share(portions: Iterable[Portion]) -> Fraction:
    """The synthetic share of a mix.

    >>> synthetic_share([portion("a", 0.1, "ai", None), portion("b", 0.2, "unknown", None)])
    Fraction(3, 10)
    """
    return sum((p.synthetic for p in portions), Fraction(0))


def over(share: Fraction, cap: float) -> bool:
    """True when ``share`` is above ``cap``; exactly at the cap is not over.

    >>> over(Fraction(3, 10), 0.3), over(Fraction(301, 1000), 0.3)
    (False, True)
    """
    return share > exact(cap)
