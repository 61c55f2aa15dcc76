"""Glob matching: the same answers as the regular expression, in time that a hostile glob cannot blow up."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from loopscan.graph.globs import _simulate, _tokens, compile_glob

PIECES = ["a", "b", "/", "*", "**", "**/", "?", "[ab]", "[!a]", "[b-a]"]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=8).map("".join), st.text(alphabet="ab/", max_size=10))
def test_the_linear_matcher_agrees_with_the_regular_expression(pattern: str, text: str) -> None:
    tokens = tuple(_tokens(pattern))
    regex = re.compile("".join(token.regex for token in tokens) + r"\Z", re.DOTALL)
    assert _simulate(tokens, text) == (regex.match(text) is not None)


def test_globs_whose_backtracking_is_bounded_use_the_regular_expression() -> None:
    assert compile_glob("s3://lake/*/gen/**").regex is not None
    assert compile_glob("s3://lake/**/a*b*c").regex is None  # two stars in one segment
    assert compile_glob("**/x/**").regex is None  # two double stars
