"""Glob matching: the same answers as the regular expression, in time that a hostile glob cannot blow up."""

from __future__ import annotations

import re
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from loopscan.graph.globs import _simulate, _tokens, compile_glob, path_segments

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


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([piece for piece in PIECES if piece != "[b-a]"]), max_size=4).map("".join),
       st.text(alphabet="ab/", max_size=6))
def test_a_glob_reaches_a_text_when_some_continuation_of_it_matches(pattern: str, text: str) -> None:
    glob = compile_glob(pattern)
    # Each of these pieces needs at most one more character to match, one of these three.
    continuations = ("".join(chars) for length in range(5) for chars in product("ab/", repeat=length))
    assert glob.reaches(text) == any(glob.match(text + more) for more in continuations)


def test_a_glob_splits_into_path_segments_unless_a_double_star_shares_one() -> None:
    segments = path_segments("s3://b/**/x-*.json")
    assert segments is not None
    assert [segment.kind for segment in segments] == ["name", "name", "name", "anydir", "name"]
    assert segments[4].matches("x-1.json") and not segments[4].matches("y-1.json")
    assert [segment.kind for segment in path_segments("s3://b/**") or ()] == ["name", "name", "name", "any"]
    assert path_segments("s3://b/**.json") is None
    assert path_segments("s3://b/[a/]x") is None  # a bracket that matches a slash
