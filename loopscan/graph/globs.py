"""Glob patterns for URIs and paths: ``*`` stays within a segment, ``**`` crosses them.

A :class:`Glob` answers two questions of a text: does the glob match it
(:meth:`Glob.match`), and could it match something that starts with it
(:meth:`Glob.reaches`: does a glob reach into the folder ``s3://lake/a/``).
:func:`path_segments` splits a glob into path segments, so that it can be
matched against a tree of URIs one folder at a time
(:mod:`loopscan.graph.uris`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

GLOB_CHARS = "*?["


def is_glob(text: str) -> bool:
    """``is_glob("s3://lake/*/gen/")`` -> True."""
    return any(char in text for char in GLOB_CHARS)


def literal_prefix(pattern: str) -> str:
    """The part of a glob before its first wildcard.

    >>> literal_prefix("s3://lake/*/gen/**")
    's3://lake/'
    """
    cut = min((i for i, char in enumerate(pattern) if char in GLOB_CHARS), default=len(pattern))
    return pattern[:cut]


@dataclass(frozen=True)
class _Token:
    """One piece of a glob: ``kind`` is ``char`` (one character that ``accepts``),
    ``star`` (``*``: any run within a segment), ``any`` (``**``) or ``anydir`` (``**/``)."""

    kind: str
    regex: str
    accepts: Callable[[str], bool] | None = None
    source: str = ""
    """The text of the glob it stands for."""
    literal: bool = False
    """It stands for its own character only."""


@dataclass(frozen=True)
class Glob:
    """A compiled glob. :meth:`match` is a whole-string match that never backtracks badly.

    A glob with at most one ``**`` and at most one ``*`` per path segment is
    matched by Python's ``re`` (its backtracking is bounded there); any other
    is matched by a set-of-states simulation, in time proportional to the
    length of the text times the length of the glob, so that a hostile glob
    such as ``**a**a**a**a!`` cannot stall a scan.
    """

    pattern: str
    tokens: tuple[_Token, ...]
    regex: re.Pattern[str] | None

    def match(self, text: str) -> bool:
        if self.regex is not None:
            return self.regex.match(text) is not None
        return _simulate(self.tokens, text)

    def reaches(self, text: str) -> bool:
        """Whether the glob matches some text that starts with ``text``.

        >>> glob = compile_glob("s3://lake/*.json")
        >>> glob.reaches("s3://lake/"), glob.reaches("s3://lake/a"), glob.reaches("s3://lake/a/")
        (True, True, False)
        """
        return bool(_advance(self.tokens, text, stop_at_star=True))


@cache
def compile_glob(pattern: str) -> Glob:
    """Compile a glob: ``**`` matches anything, ``*`` and ``?`` never match ``/``.

    >>> compile_glob("s3://lake/*/gen/**").match("s3://lake/2026/gen/a/b.json")
    True
    >>> compile_glob("**/templates/**").match("deploy/templates/x.yaml")
    True
    >>> compile_glob("s3://lake/*.json").match("s3://lake/a/b.json")
    False
    >>> compile_glob("s3://" + "**a" * 12 + "!").match("s3://" + "a" * 3000)
    False
    """
    return _compiled(pattern, tuple(_tokens(pattern)))


def _compiled(pattern: str, tokens: tuple[_Token, ...]) -> Glob:
    bounded = sum(t.kind in ("any", "anydir") for t in tokens) <= 1 and all(
        segment.count("star") <= 1 for segment in _segments(tokens))
    regex = re.compile("".join(t.regex for t in tokens) + r"\Z", re.DOTALL) if bounded else None
    return Glob(pattern, tokens, regex)


@dataclass(frozen=True)
class Segment:
    """One path segment of a glob (:func:`path_segments`).

    ``kind`` is ``name`` (it matches one segment of a path: its ``literal``
    text when it has no wildcard, else what its ``glob`` matches), ``any`` (a
    last segment ``**``: one or more segments, whatever they hold) or
    ``anydir`` (``**/``: zero or more whole segments).
    """

    kind: str
    literal: str | None = None
    glob: Glob | None = None

    def matches(self, name: str) -> bool:
        """Whether this ``name`` segment matches ``name``, one segment of a path (it holds no ``/``)."""
        if self.literal is not None:
            return name == self.literal
        return self.glob is not None and self.glob.match(name)


@cache
def path_segments(pattern: str) -> tuple[Segment, ...] | None:
    """The glob split at its slashes: the segments of a path it matches match these in turn.

    None when the glob does not split so: a ``**`` shares its segment with
    other characters (``s3://b/**.json``), or a bracket may match ``/``.

    >>> [(s.kind, s.literal) for s in path_segments("s3://lake/*/**/x.json")]
    [('name', 's3:'), ('name', ''), ('name', 'lake'), ('name', None), ('anydir', None), ('name', 'x.json')]
    >>> [s.kind for s in path_segments("s3://**")], path_segments("s3://lake/**.json")
    (['name', 'name', 'any'], None)
    """
    tokens = tuple(_tokens(pattern))
    found: list[Segment] = []
    current: list[_Token] = []
    for index, token in enumerate(tokens):
        if token.kind == "char" and token.literal and token.source == "/":
            found.append(_name_segment(current))
            current = []
        elif token.kind == "char" and token.accepts is not None and token.accepts("/"):
            return None
        elif token.kind == "anydir":
            if current:
                return None
            found.append(Segment("anydir"))
        elif token.kind == "any":
            if current or index != len(tokens) - 1:
                return None
            return (*found, Segment("any"))
        else:
            current.append(token)
    found.append(_name_segment(current))
    return tuple(found)


def _name_segment(tokens: list[_Token]) -> Segment:
    text = "".join(token.source for token in tokens)
    if all(token.literal for token in tokens):
        return Segment("name", literal=text)
    return Segment("name", glob=_compiled(text, tuple(tokens)))


def _tokens(pattern: str) -> Iterator[_Token]:
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            yield _Token("anydir", "(?:.*/)?", source="**/")
            i += 3
        elif pattern.startswith("**", i):
            yield _Token("any", ".*", source="**")
            i += 2
        elif pattern[i] == "*":
            yield _Token("star", "[^/]*", source="*")
            i += 1
        elif pattern[i] == "?":
            yield _Token("char", "[^/]", lambda char: char != "/", source="?")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) != -1 and (
                char_class := _char_class(pattern[i + 1:end])) is not None:
            yield _Token("char", char_class, re.compile(char_class, re.DOTALL).fullmatch,  # type: ignore[arg-type]
                         source=pattern[i:end + 1])
            i = end + 1
        else:
            literal = pattern[i]
            yield _Token("char", re.escape(literal), literal.__eq__, source=literal, literal=True)
            i += 1


def _segments(tokens: tuple[_Token, ...]) -> list[list[str]]:
    """The kinds of the tokens between literal slashes."""
    segments: list[list[str]] = [[]]
    for token in tokens:
        if token.kind == "char" and token.regex == "/":
            segments.append([])
        else:
            segments[-1].append(token.kind)
    return segments


def _simulate(tokens: tuple[_Token, ...], text: str) -> bool:
    """Whole-string match by advancing a set of states one character at a time (:func:`_advance`)."""
    return 2 * len(tokens) in _advance(tokens, text)


def _advance(tokens: tuple[_Token, ...], text: str, stop_at_star: bool = False) -> set[int]:
    """The states the glob can be in after reading ``text``; empty when no continuation can match.

    State ``2 * i`` means "at token ``i``"; ``2 * i + 1`` means "inside the
    ``**/`` at token ``i``", which consumes anything and is left only through a
    ``/`` (``**/`` matches nothing, or anything that ends in ``/``); ``2 * len(tokens)``
    is the end. With ``stop_at_star``, reading stops as soon as a state is at or
    inside a ``**``: whatever follows, the glob can still match.
    """
    end = len(tokens)

    def closure(states: set[int]) -> set[int]:
        reached, stack = set(states), list(states)
        while stack:
            state = stack.pop()
            index = state // 2
            if state % 2 or index == end or tokens[index].kind == "char":
                continue
            following = [2 * index + 2]  # a star of any kind may match nothing
            if tokens[index].kind == "anydir":
                following.append(2 * index + 1)
            for new in following:
                if new not in reached:
                    reached.add(new)
                    stack.append(new)
        return reached

    def past_star(states: set[int]) -> bool:
        return any(state % 2 or (state // 2 < end and tokens[state // 2].kind in ("any", "anydir"))
                   for state in states)

    states = closure({0})
    for char in text:
        if stop_at_star and past_star(states):
            return states
        following: set[int] = set()
        for state in states:
            index = state // 2
            if state % 2:  # inside a '**/'
                following.add(state)
                if char == "/":
                    following.add(2 * index + 2)
                continue
            if index == end:
                continue
            token = tokens[index]
            if token.kind == "char":
                if token.accepts is not None and token.accepts(char):
                    following.add(state + 2)
            elif token.kind == "any" or (token.kind == "star" and char != "/"):
                following.add(state)
        states = closure(following)
        if not states:
            return states
    return states


def _char_class(body: str) -> str | None:
    """A glob bracket body (``a-z``, ``!abc``) as a regex class built from escaped characters.

    None when it is not a usable class (an empty one, or a range such as ``z-a``);
    the ``[`` is then an ordinary character.

    >>> _char_class("!a-c"), _char_class("z-a"), _char_class("!")
    ('[^a-c]', None, None)
    """
    negate = body[:1] in ("!", "^")
    items = body[1:] if negate else body
    parts: list[str] = []
    k = 0
    while k < len(items):
        if k + 2 < len(items) and items[k + 1] == "-":
            low, high = items[k], items[k + 2]
            if low > high:
                return None
            parts.append(f"{re.escape(low)}-{re.escape(high)}")
            k += 3
        else:
            parts.append(re.escape(items[k]))
            k += 1
    if not parts:
        return None
    return ("[^" if negate else "[") + "".join(parts) + "]"

