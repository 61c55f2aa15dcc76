"""Plain-text tables for the review commands (``loopscan loops``, ``loopscan overrides``)."""

from __future__ import annotations

from collections.abc import Sequence

from loopscan.printable import printable

Cell = Sequence[str]
"""The lines of one cell; a cell with several values stacks them one per line."""


def table(rows: Sequence[Sequence[Cell]], *, header_rule: bool = True, spaced: bool = True) -> str:
    """The first row as a header, columns padded to their widest line.

    ``header_rule`` draws dashes under the header; ``spaced`` puts a blank line
    between rows (for rows whose cells stack several lines). Each line of a cell
    is made :func:`~loopscan.printable.printable`, so a name from a scanned
    repository stays on its line.

    >>> print(table([[["A"], ["B"]], [["x", "y"], ["long"]], [["z"], ["w"]]]), end="")
    A  B
    -  ----
    x  long
    y
    <BLANKLINE>
    z  w
    >>> print(table([[["A"], ["B"]], [["x"], ["long"]]], header_rule=False, spaced=False), end="")
    A  B
    x  long
    """
    cells = [[[printable(line) for line in cell] for cell in row] for row in rows]
    widths = [max(len(line) for row in cells for line in row[column]) for column in range(len(cells[0]))]

    def lines_of(row: list[list[str]]) -> str:
        lines = []
        for index in range(max(len(cell) for cell in row)):
            texts = [cell[index] if index < len(cell) else "" for cell in row]
            lines.append("  ".join(text.ljust(width) for text, width in zip(texts, widths, strict=True)).rstrip())
        return "\n".join(lines)

    head = [lines_of(cells[0])] + (["  ".join("-" * width for width in widths)] if header_rule else [])
    body = ("\n\n" if spaced else "\n").join(lines_of(row) for row in cells[1:])
    return "\n".join([*head, body]) + "\n"
