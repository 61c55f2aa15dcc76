"""Which characters each place that shows text from a scanned repository cannot hold, in one module.

A file name, URI, override reason or id written in a pull request must not add
lines to a report, drive a terminal, or reorder what a reviewer reads; a
diagram label or an XML report must stay well-formed. Each place has its own
set, named here once. This module imports nothing, so the command line can use
it before the engine loads.
"""

from __future__ import annotations

import re

UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""What a terminal or log must not be sent: control characters (C0, DEL, C1), Unicode line breaks and
bidirectional controls."""
NOT_IN_A_LABEL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
"""What a line of diagram text cannot hold: control characters and Unicode line breaks (tabs are spaces)."""
NOT_IN_DOT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
"""What a DOT label cannot hold once its line breaks are escaped: the SVG that ``dot`` writes is XML."""
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""What XML 1.0 cannot hold at all."""
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    r"""``text`` with every character that could move the cursor, end a line or reorder text escaped.

    >>> printable("a\nfake.yaml:1:1: LS001 \x1b[31m\u202e")
    'a\\nfake.yaml:1:1: LS001 \\x1b[31m\\u202e'
    """
    return UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
