"""One line of plain text from any string: for values from a scanned repository shown to people.

A file name, URI, override reason or id written in a pull request must not add
lines to a report, drive a terminal, or reorder what a reviewer reads. This
module imports nothing, so the command line can use it before the engine loads.
"""

from __future__ import annotations

import re

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Control characters (C0, DEL, C1), Unicode line breaks and bidirectional controls."""
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    r"""``text`` with every character that could move the cursor, end a line or reorder text escaped.

    >>> printable("a\nfake.yaml:1:1: LS001 \x1b[31m\u202e")
    'a\\nfake.yaml:1:1: LS001 \\x1b[31m\\u202e'
    """
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
