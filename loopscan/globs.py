"""Glob patterns for URIs and paths: ``*`` stays within a segment, ``**`` crosses them."""

from __future__ import annotations

import re
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


@cache
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a glob: ``**`` matches anything, ``*`` and ``?`` never match ``/``.

    >>> bool(glob_regex("s3://lake/*/gen/**").match("s3://lake/2026/gen/a/b.json"))
    True
    >>> bool(glob_regex("**/templates/**").match("deploy/templates/x.yaml"))
    True
    >>> bool(glob_regex("s3://lake/*.json").match("s3://lake/a/b.json"))
    False
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) != -1 and (
                char_class := _char_class(pattern[i + 1:end])) is not None:
            out.append(char_class)
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


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

