"""Which artifact URIs may name the same data.

A write to URI W feeds a reader of URI R when W and R overlap: they are equal,
one is a prefix of the other (a prefix is a URI that ends in ``/``), or a glob
matches the other, or reaches into it when it is a prefix (``s3://b/*/gen/**``
reaches into ``s3://b/2026/``). Two globs overlap when the literal part of one
(what comes before its first wildcard) starts the literal part of the other.
Overlap is deliberately conservative: a missed loop is worse than one a
reviewer dismisses with a documented override.

Overlaps are found through indexes, never by comparing every pair:

* a URI looks up each of its own ``/``-prefixes in a hash set;
* a glob walks the sorted URIs as a tree of path segments, from the folder of
  its literal part down, and only into folders it can still match: a literal
  segment looks one child up, ``*`` tries each child, a last ``**`` takes the
  whole subtree at once;
* globs are grouped by literal part (:class:`Overlaps`), so that a thousand
  globs under one folder are one group, not half a million pairs.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from loopscan.graph.globs import Segment, compile_glob, is_glob, literal_prefix, path_segments


@dataclass(frozen=True)
class Overlaps:
    """Every overlap between a set of URIs, with the overlaps between globs kept by group."""

    pairs: tuple[tuple[str, str], ...]
    """Each unordered pair of distinct URIs that overlap, not both globs, sorted within the pair."""
    globs: dict[str, tuple[str, ...]]
    """The globs by their literal part: any two globs of one group overlap."""
    nested: tuple[tuple[str, str], ...]
    """Distinct literal parts of which the first starts the second: each glob of one overlaps each of the other."""

    def glob_pairs(self) -> Iterator[tuple[str, str]]:
        """Each unordered pair of distinct globs that overlap, sorted within the pair, once."""
        for globs in self.globs.values():
            for index, first in enumerate(globs):
                for second in globs[index + 1:]:
                    yield first, second
        for shorter, longer in self.nested:
            for first in self.globs[shorter]:
                for second in self.globs[longer]:
                    yield (first, second) if first < second else (second, first)


def overlapping_pairs(uris: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Yield each unordered pair of distinct URIs that overlap, exactly once.

    Linking uses :func:`find_overlaps`, which keeps the pairs of globs by group.

    >>> sorted(overlapping_pairs([
    ...     "s3://lake/listings/",
    ...     "s3://lake/listings/generated/2026/",
    ...     "s3://lake/other.json",
    ...     "s3://lake/*/generated/**",
    ... ]))  # doctest: +NORMALIZE_WHITESPACE
    [('s3://lake/*/generated/**', 's3://lake/listings/'),
     ('s3://lake/*/generated/**', 's3://lake/listings/generated/2026/'),
     ('s3://lake/listings/', 's3://lake/listings/generated/2026/')]
    """
    found = find_overlaps(uris)
    yield from found.pairs
    yield from found.glob_pairs()


def find_overlaps(uris: Iterable[str]) -> Overlaps:
    """Every overlap between ``uris``, in time near-linear in their number and length (plus what is found).

    >>> found = find_overlaps(["s3://b/x/", "s3://b/x/y.json", "s3://b/*.json", "s3://b/x/*", "s3://c/**"])
    >>> found.pairs
    (('s3://b/x/', 's3://b/x/*'), ('s3://b/x/*', 's3://b/x/y.json'), ('s3://b/x/', 's3://b/x/y.json'))
    >>> found.globs, found.nested
    ({'s3://b/': ('s3://b/*.json',), 's3://b/x/': ('s3://b/x/*',), 's3://c/': ('s3://c/**',)}, (('s3://b/', 's3://b/x/'),))
    """
    ordered = sorted(set(uris))
    concrete = [uri for uri in ordered if not is_glob(uri)]
    prefixes = {uri for uri in concrete if uri.endswith("/")}
    pairs: list[tuple[str, str]] = []
    globs: dict[str, list[str]] = {}
    for uri in ordered:
        if is_glob(uri):
            globs.setdefault(literal_prefix(uri), []).append(uri)
            pairs.extend((uri, other) if uri < other else (other, uri)
                         for other in _glob_overlaps(uri, concrete, prefixes))
        else:
            pairs.extend((prefix, uri) for prefix in _enclosing_prefixes(uri, prefixes))
    return Overlaps(tuple(pairs), {literal: tuple(group) for literal, group in sorted(globs.items())},
                    tuple(_nested(sorted(globs))))


def _enclosing_prefixes(uri: str, prefixes: set[str]) -> Iterator[str]:
    """The declared prefixes that contain ``uri`` (other than ``uri`` itself)."""
    slash = uri.find("/")
    while slash != -1 and slash < len(uri) - 1:
        candidate = uri[: slash + 1]
        if candidate in prefixes:
            yield candidate
        slash = uri.find("/", slash + 1)


def _nested(literals: list[str]) -> Iterator[tuple[str, str]]:
    """Each pair of sorted strings of which the first starts the second.

    In sorted order the strings that start the current one form a chain (a
    string between ``a`` and a string that ``a`` starts also starts with
    ``a``), kept on a stack.

    >>> list(_nested(["a", "ab", "abc", "b", "bc"]))
    [('a', 'ab'), ('a', 'abc'), ('ab', 'abc'), ('b', 'bc')]
    """
    chain: list[str] = []
    for literal in literals:
        while chain and not literal.startswith(chain[-1]):
            chain.pop()
        yield from ((shorter, literal) for shorter in chain)
        chain.append(literal)


def _glob_overlaps(pattern: str, concrete: list[str], prefixes: set[str]) -> Iterator[str]:
    """The URIs that are not globs and overlap the glob ``pattern``; ``concrete`` is them all, sorted."""
    # A glob that ends in "/" names folders, so it covers what lies below them.
    pattern = pattern + "**" if pattern.endswith("/") else pattern
    literal = literal_prefix(pattern)
    folder = literal[: literal.rfind("/") + 1]
    yield from _enclosing_prefixes(folder, prefixes)  # the folders the glob's own folder lies in
    low = bisect_left(concrete, folder)
    high = bisect_left(concrete, _past(folder), low) if folder else len(concrete)
    segments = path_segments(pattern)
    if segments is None:  # a glob that does not split at its slashes: try each URI under its folder
        glob = compile_glob(pattern)
        for uri in concrete[low:high]:
            if glob.reaches(uri) if uri in prefixes else glob.match(uri):
                yield uri
        return
    yield from _walk(segments, concrete, folder, low, high)


def _past(folder: str) -> str:
    """The least string after every string that starts with ``folder`` (which ends in ``/``)."""
    return folder[:-1] + "0"  # "0" comes right after "/"


def _walk(segments: tuple[Segment, ...], concrete: list[str], folder: str, low: int, high: int) -> Iterator[str]:
    """The URIs in ``concrete[low:high]`` (all under ``folder``) that the glob of ``segments`` overlaps.

    Folder by folder, with the set of glob segments that the path so far can
    stand at: a folder into which no segment is left to match is skipped with
    everything under it; a file matches when the glob can end with it.
    """
    end = len(segments)
    stack = [(folder, low, high, _closure(segments, {folder.count("/")}))]
    while stack:
        folder, low, high, states = stack.pop()
        live = {state for state in states if state < end}
        if not live:
            continue
        if any(segments[state].kind == "any" for state in live):  # a last "**": everything below matches
            yield from concrete[low:high]
            continue
        index = low
        if index < high and concrete[index] == folder:  # the folder itself: the glob reaches into it
            yield folder
            index += 1
        literals = {segments[state].literal for state in live}
        if None not in literals:  # only literal names can follow: look each one up
            for name in sorted(literals):  # type: ignore[type-var]
                assert name is not None
                after = _step(segments, live, name)
                file = folder + name
                at = bisect_left(concrete, file, index, high)
                if at < high and concrete[at] == file and end in after:
                    yield file
                inner = bisect_left(concrete, file + "/", at, high)
                stop = bisect_left(concrete, _past(file + "/"), inner, high)
                if inner < stop:
                    stack.append((file + "/", inner, stop, after))
            continue
        while index < high:
            uri = concrete[index]
            rest = uri[len(folder):]
            cut = rest.find("/")
            if cut == -1:  # a file in this folder
                if end in _step(segments, live, rest):
                    yield uri
                index += 1
                continue
            below = folder + rest[:cut + 1]
            stop = bisect_left(concrete, _past(below), index, high)
            stack.append((below, index, stop, _step(segments, live, rest[:cut])))
            index = stop


def _closure(segments: tuple[Segment, ...], states: set[int]) -> set[int]:
    """``states`` with every segment reached by letting ``**/`` segments match nothing."""
    found = set(states)
    for state in sorted(states):
        while state < len(segments) and segments[state].kind == "anydir":
            state += 1
            found.add(state)
    return found


def _step(segments: tuple[Segment, ...], states: set[int], name: str) -> set[int]:
    """The states after one more path segment ``name``."""
    following: set[int] = set()
    for state in states:
        segment = segments[state]
        if segment.kind == "anydir":
            following.add(state)
        elif segment.kind == "any":
            following.update((state, state + 1))
        elif segment.matches(name):
            following.add(state + 1)
    return _closure(segments, following)
