"""A :class:`~loopscan.analysis.diagram.Diagram` as a Mermaid flowchart, for Markdown design docs.

Mermaid gives meaning to many characters inside and around labels: quotes
end a string, ``#name;`` is an entity, ``$$`` starts KaTeX, ``fa:fa-x`` is an
icon, a backtick a Markdown string, ``<`` HTML, and a line that holds
``style``, a colon and ``#...;`` loses its last character. So node ids are
generated (``n0``, ``n1``, ...; ``c0`` for clusters, ``l0`` for the legend), and
every label is a quoted string in which each character outside letters,
digits, space and ``.,/_-`` is written as a numeric entity (``#34;`` for ``"``).
Mermaid turns that back into the same text, as text: no name can end a
string, add a node or an edge, or put an element into the page.

Mermaid draws nothing past two limits of its default configuration, and
loopscan checks a diagram against both (:func:`over_limits`) before it writes
one. ``maxTextSize`` is 50,000 characters: ``mermaidAPI.render`` draws
"Maximum text size in diagram exceeded" instead of a diagram whose text
(``text.length``) is longer. ``maxEdges`` is 500: the flowchart parser's
``addSingleLink`` throws "Edge limit exceeded" at the 501st link, and every
link counts, invisible ``~~~`` ones too. Both are in Mermaid's
``packages/mermaid/src/schemas/config.schema.yaml`` (``maxTextSize: default:
50000``, ``maxEdges: default: 500``); neither can be raised from inside a
diagram, only by the page's ``mermaid.initialize``. The text loopscan writes
is ASCII (every other character is an entity, the title is JSON with
``\\u`` escapes), so its length in Python is its ``length`` in JavaScript.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import pairwise

from loopscan.analysis.diagram import Diagram, Edge, Node

SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,/_-")
"""Characters written as they are; every other one becomes a numeric entity."""

SHAPES = {
    "cylinder": ("[(", ")]"),
    "box": ("[", "]"),
    "diamond": ("{", "}"),
    "hexagon": ("{{", "}}"),
    "parallelogram": ("[/", "/]"),
    "ellipse": ("([", "])"),
    "swatch": ("(", ")"),
    "point": ("((", "))"),
}
MAX_TEXT_SIZE = 50_000
"""Mermaid's default ``maxTextSize``: the longest diagram text it draws."""
MAX_EDGES = 500
"""Mermaid's default ``maxEdges``: the most links a flowchart may have."""
CLUSTER_STYLE = "fill:#ffffff,stroke:#9e9e9e"
LEGEND_STYLE = "fill:#ffffff,stroke:#9e9e9e,stroke-dasharray:5 5"


def render(diagram: Diagram, markdown: bool = False) -> str:
    """The Mermaid source of a diagram; ``markdown`` wraps it in a fenced ``mermaid`` block."""
    source = "\n".join(_lines(diagram)) + "\n"
    return markdown_block(source) if markdown else source


def markdown_block(source: str) -> str:
    r"""Mermaid source in a fenced ``mermaid`` block, to paste into Markdown.

    >>> print(markdown_block("flowchart LR\n"), end="")
    ```mermaid
    flowchart LR
    ```
    """
    return f"```mermaid\n{source}```\n"


def edge_count(diagram: Diagram) -> int:
    """How many links the Mermaid source of a diagram has, as Mermaid counts them against ``maxEdges``."""
    return len(_links(diagram))


def over_limits(diagram: Diagram, source: str) -> str:
    """Why ``source`` (the Mermaid text of ``diagram``, without a Markdown fence) is past Mermaid's defaults; "" if not.

    >>> from loopscan.analysis.diagram import Diagram
    >>> over_limits(Diagram("t", (), (), ()), "x" * 50_001)
    "50,001 characters and 0 edges; Mermaid's defaults draw at most 50,000 and 500"
    >>> over_limits(Diagram("t", (), (), ()), "x" * 50_000)
    ''
    """
    characters, edges = len(source), edge_count(diagram)
    if characters <= MAX_TEXT_SIZE and edges <= MAX_EDGES:
        return ""
    return (f"{characters:,} characters and {edges:,} edges; "
            f"Mermaid's defaults draw at most {MAX_TEXT_SIZE:,} and {MAX_EDGES:,}")


def label(lines: Iterable[str]) -> str:
    """A quoted Mermaid label: each line escaped, lines joined by ``<br>``.

    >>> print(label(['say "hi" --> [x]', "a|b"]))
    "say #34;hi#34; --#62; #91;x#93;<br>a#124;b"
    """
    return '"' + "<br>".join(escape(line) for line in lines) + '"'


def escape(text: str) -> str:
    """Text with every character outside :data:`SAFE` as a Mermaid numeric entity.

    >>> escape("s3://b/#x;<end>")
    's3#58;//b/#35;x#59;#60;end#62;'
    """
    return "".join(char if char in SAFE else f"#{ord(char)};" for char in text)


def _lines(diagram: Diagram) -> Iterator[str]:
    yield "---"
    yield f"title: {json.dumps(diagram.title)}"
    yield "---"
    yield f"flowchart {diagram.direction}"
    ids = {node.key: f"n{index}" for index, node in enumerate(diagram.nodes)}
    nodes = {node.key: node for node in diagram.nodes}
    if diagram.note:
        yield f"  note[{label([diagram.note])}]"
    for index, cluster in enumerate(diagram.clusters):
        yield f"  subgraph c{index}[{label(cluster.lines)}]"
        for key in cluster.nodes:
            yield f"    {_node(ids[key], nodes[key])}"
        yield "  end"
        yield f"  style c{index} {CLUSTER_STYLE}"
    for key in diagram.loose:
        yield f"  {_node(ids[key], nodes[key])}"
    for edge in diagram.edges:
        yield f"  {_edge(ids[edge.tail], ids[edge.head], edge)}"
    styled = list(diagram.nodes)
    legend_ids: dict[str, str] = {}
    if diagram.legend is not None:
        legend_ids = {node.key: f"l{index}" for index, node in enumerate(diagram.legend.nodes)}
        yield f"  subgraph legend[{label([diagram.legend.title])}]"
        for node in diagram.legend.nodes:
            yield f"    {_node(legend_ids[node.key], node)}"
        for edge in diagram.legend.edges:
            yield f"    {_edge(legend_ids[edge.tail], legend_ids[edge.head], edge)}"
        for row in diagram.legend.rows():
            for tail, head in pairwise(row):
                yield f"    {legend_ids[tail]} ~~~ {legend_ids[head]}"
        yield "  end"
        yield f"  style legend {LEGEND_STYLE}"
        styled.extend(diagram.legend.nodes)
    yield from _class_lines(styled, {**ids, **legend_ids})
    yield from _link_styles(_links(diagram))


def _links(diagram: Diagram) -> list[Edge | None]:
    """Every link of the source in the order :func:`_lines` writes them and Mermaid numbers them; None for an
    invisible one."""
    links: list[Edge | None] = [*diagram.edges]
    if diagram.legend is not None:
        links.extend(diagram.legend.edges)
        links.extend(None for row in diagram.legend.rows() for _ in pairwise(row))
    return links


def _node(node_id: str, node: Node) -> str:
    opening, closing = SHAPES[node.shape]
    return f"{node_id}{opening}{label(node.lines or (' ',))}{closing}"


def _edge(tail: str, head: str, edge: Edge) -> str:
    arrow = "-.->" if edge.dashed else "-->"
    text = f"|{label([edge.label])}|" if edge.label else ""
    return f"{tail} {arrow}{text} {head}"



def _class_lines(nodes: Iterable[Node], ids: dict[str, str]) -> Iterator[str]:
    """One ``classDef`` per fill and outline in use, and the nodes of each class."""
    classes: dict[tuple[str, bool], list[str]] = {}
    for node in nodes:
        classes.setdefault((node.fill, node.dashed), []).append(ids[node.key])
    for index, ((fill, dashed), members) in enumerate(classes.items()):
        dash = ",stroke-dasharray:5 5" if dashed else ""
        yield f"  classDef s{index} fill:{fill},stroke:#333333,color:#000000{dash}"
        yield f"  class {','.join(members)} s{index}"


def _link_styles(links: list[Edge | None]) -> Iterator[str]:
    """``linkStyle`` lines: colour and width of each visible link, by its number in the source."""
    styles: dict[tuple[str, float], list[str]] = {}
    for number, edge in enumerate(links):
        if edge is not None:
            styles.setdefault((edge.color, edge.width), []).append(str(number))
    for (color, width), numbers in styles.items():
        yield f"  linkStyle {','.join(numbers)} stroke:{color},stroke-width:{width + 0.5:g}px,color:{color}"
