"""Which artifact URIs may name the same data.

A write to URI W feeds a reader of URI R when W and R overlap: they are equal,
one is a prefix of the other (a prefix is a URI that ends in ``/``), or a glob
matches the other. Overlap is deliberately conservative: a missed loop is
worse than one a reviewer dismisses with a documented override.

Linking is indexed, never a comparison of every pair: a URI looks up each of
its own ``/``-prefixes in a hash set, and a glob looks at the sorted range of
URIs that start with its literal part.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator

from loopscan.graph.globs import compile_glob, is_glob, literal_prefix


def overlapping_pairs(uris: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Yield each unordered pair of distinct URIs that overlap, exactly once.

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
    ordered = sorted(set(uris))
    prefixes = {uri for uri in ordered if uri.endswith("/") and not is_glob(uri)}
    seen_with_glob: set[tuple[str, str]] = set()

    for uri in ordered:
        if is_glob(uri):
            for other in _glob_overlaps(uri, ordered, prefixes):
                pair = (uri, other) if uri < other else (other, uri)
                if pair not in seen_with_glob:
                    seen_with_glob.add(pair)
                    yield pair
            continue
        for prefix in _enclosing_prefixes(uri, prefixes):
            yield (prefix, uri) if prefix < uri else (uri, prefix)


def _enclosing_prefixes(uri: str, prefixes: set[str]) -> Iterator[str]:
    """The declared prefixes that contain ``uri`` (other than ``uri`` itself)."""
    slash = uri.find("/")
    while slash != -1 and slash < len(uri) - 1:
        candidate = uri[: slash + 1]
        if candidate in prefixes:
            yield candidate
        slash = uri.find("/", slash + 1)


def _glob_overlaps(pattern: str, ordered: list[str], prefixes: set[str]) -> Iterator[str]:
    literal = literal_prefix(pattern)
    # A glob that ends in "/" names folders, so it covers what lies below them.
    glob = compile_glob(pattern + "**" if pattern.endswith("/") else pattern)
    yield from _enclosing_prefixes(literal, prefixes)
    for index in range(bisect_left(ordered, literal), len(ordered)):
        other = ordered[index]
        if not other.startswith(literal):
            break
        if other == pattern:
            continue
        # Another glob, or a prefix whose subtree the glob may reach: assume overlap.
        if is_glob(other) or other in prefixes or glob.match(other):
            yield other
