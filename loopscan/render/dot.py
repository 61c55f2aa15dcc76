"""A :class:`~loopscan.analysis.diagram.Diagram` as Graphviz DOT, and as SVG or PNG through Graphviz's ``dot``.

The ``graphviz`` package writes the DOT source and quotes every identifier
and attribute. Text is escaped before it gets there: backslashes are doubled
(so ``\\n``, ``\\N`` or a final backslash in a name stay text), ``&`` becomes
``&amp;`` (Graphviz reads entities in labels), and every string is marked as
not HTML, so that a name like ``<b>x</b>`` is a quoted string and never an
HTML-like label. Node ids in the DOT source are generated (``n0``, ``n1``,
...): a graph node's name (``pipeline:id``, or a URI) is only ever a label,
and DOT's ``node:port`` syntax never sees it.

DOT needs nothing but the package; SVG and PNG run the ``dot`` program, and
:class:`GraphvizMissing` says how to install it when it is not there.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from itertools import pairwise

import graphviz

from loopscan.analysis.diagram import Cluster, Diagram, Edge, Node
from loopscan.printable import NOT_IN_DOT

INSTALL_HINT = ("drawing SVG or PNG needs Graphviz's 'dot' program, which was not found: install Graphviz "
                "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz), "
                "or use -f dot or -f mermaid")

DOT_TIMEOUT = 60.0
"""Seconds ``dot`` may take to lay a diagram out by default (``loopscan graph --timeout``)."""
FONT = "Helvetica"
SHAPE = {
    "cylinder": "cylinder",
    "box": "box",
    "diamond": "diamond",
    "hexagon": "hexagon",
    "parallelogram": "parallelogram",
    "ellipse": "ellipse",
    "swatch": "box",
    "point": "point",
}


class GraphvizMissing(Exception):
    """Graphviz's ``dot`` program is not installed; the message says how to install it."""


class GraphvizFailed(Exception):
    """Graphviz's ``dot`` failed or ran out of time; the message says what happened."""


class GraphvizTimedOut(GraphvizFailed):
    """Graphviz's ``dot`` did not finish within ``seconds``; it was ended, and nothing was drawn."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Graphviz's dot did not finish within {seconds:g} s")
        self.seconds = seconds


def render(diagram: Diagram) -> str:
    """The DOT source of a diagram."""
    return to_digraph(diagram).source


def render_image(diagram: Diagram, image_format: str, timeout: float = DOT_TIMEOUT) -> bytes:
    """The diagram laid out by Graphviz's ``dot`` as ``svg`` or ``png`` bytes.

    ``dot`` runs as a child with a time limit, and a run that ends early (an
    error, Ctrl-C, or the SIGTERM a cancelled CI job sends) ends it too: a
    layout of a large project can take minutes and must not outlive loopscan.
    Raises :class:`GraphvizMissing` when ``dot`` is not installed,
    :class:`GraphvizTimedOut` when it takes longer than ``timeout`` seconds,
    and :class:`GraphvizFailed` when it fails.
    """
    executable = shutil.which("dot")
    if executable is None:
        raise GraphvizMissing(INSTALL_HINT)
    source = render(diagram).encode("utf-8")
    child = subprocess.Popen([executable, f"-T{image_format}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        image, errors = child.communicate(source, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise GraphvizTimedOut(timeout) from None
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    if child.returncode != 0:
        said = errors.decode("utf-8", "replace").strip().splitlines()
        raise GraphvizFailed(f"Graphviz's dot failed (exit {child.returncode})" + (f": {said[0]}" if said else ""))
    return image


def to_digraph(diagram: Diagram) -> graphviz.Digraph:
    """The diagram as a ``graphviz.Digraph``: one cluster per pipeline, loose nodes, edges, the legend."""
    heading = [diagram.title, diagram.note] if diagram.note else [diagram.title]
    # The source names its engine, so `dot -Tsvg` of the written file lays it out as loopscan does.
    layout = {"layout": "sfdp", "overlap": "prism"} if diagram.layout == "force" else {}
    digraph = graphviz.Digraph(
        "loopscan",
        graph_attr={**layout, "rankdir": diagram.direction, "label": text(heading), "labelloc": "t", "fontname": FONT,
                    "fontsize": "14", "nodesep": "0.3", "ranksep": "0.5"},
        node_attr={"fontname": FONT, "fontsize": "10", "style": "filled", "fillcolor": "#ffffff",
                   "color": "#333333"},
        edge_attr={"fontname": FONT, "fontsize": "9", "arrowsize": "0.7"},
    )
    ids = {node.key: f"n{index}" for index, node in enumerate(diagram.nodes)}
    nodes = {node.key: node for node in diagram.nodes}
    for index, cluster in enumerate(diagram.clusters):
        with digraph.subgraph(name=f"cluster_{index}") as box:
            _cluster_attributes(box, cluster, dashed=False)
            for key in cluster.nodes:
                _add_node(box, ids[key], nodes[key])
    for key in diagram.loose:
        _add_node(digraph, ids[key], nodes[key])
    for edge in diagram.edges:
        _add_edge(digraph, ids[edge.tail], ids[edge.head], edge)
    if diagram.legend is not None:
        legend_ids = {node.key: f"legend{index}" for index, node in enumerate(diagram.legend.nodes)}
        with digraph.subgraph(name="cluster_legend") as box:
            _cluster_attributes(box, Cluster("legend", (diagram.legend.title,), ()), dashed=True)
            for node in diagram.legend.nodes:
                _add_node(box, legend_ids[node.key], node)
            for edge in diagram.legend.edges:
                _add_edge(box, legend_ids[edge.tail], legend_ids[edge.head], edge)
            for row in diagram.legend.rows():
                for tail, head in pairwise(row):
                    box.edge(legend_ids[tail], legend_ids[head], style="invis")
    return digraph



def text(lines: Iterable[str], left: bool = False) -> str:
    r"""DOT text for a label: the lines escaped and joined by DOT's line break ``\n``.

    ``left``: each line ends with ``\l`` instead, which left-justifies it.

    >>> print(text(['say "hi" \\ <b>&amp;</b>', "second"]))
    say "hi" \\ <b>&amp;amp;</b>\nsecond
    >>> print(graphviz.quoting.quote(text(['<b>"x"</b>'])))
    "<b>\"x\"</b>"
    """
    if left:
        return graphviz.nohtml("".join(f"{escape_line(line)}\\l" for line in lines))
    return graphviz.nohtml("\\n".join(escape_line(line) for line in lines))


def tooltip(lines: Iterable[str]) -> str:
    r"""DOT text for a tooltip, where Graphviz reads backslash escapes twice: a literal backslash is four.

    (Graphviz substitutes ``\N`` and friends in a tooltip, and undoes ``\\``, once for the
    attribute and once more when it writes the SVG, so ``\\N`` would show the node's id.)

    >>> print(tooltip(["a\\N", "b"]))
    a\\\\N\nb
    """
    return graphviz.nohtml("\\n".join(escape_line(line, backslash="\\\\\\\\") for line in lines))


def escape_line(line: str, backslash: str = "\\\\") -> str:
    r"""One line of text for a DOT escString: literal backslashes, ``&`` as an entity, no line breaks.

    Graphviz reads entities in labels, so ``&`` is written ``&amp;``. A raw line
    break becomes ``\n``; other control characters, which SVG (XML) cannot hold,
    become U+FFFD. Quotes are escaped by the ``graphviz`` package's quoting,
    which sees every backslash here doubled.

    >>> print(escape_line("C:\\data\\n & more\n"))
    C:\\data\\n &amp; more\n
    """
    escaped = line.replace("&", "&amp;").replace("\\", backslash)
    escaped = escaped.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")
    return NOT_IN_DOT.sub("\ufffd", escaped)


def _cluster_attributes(box: graphviz.Digraph, cluster: Cluster, dashed: bool) -> None:
    box.attr(label=text(cluster.lines, left=True), style="rounded,dashed" if dashed else "rounded", color="#9e9e9e",
             fontname=FONT, fontsize="12", labeljust="l")
    if cluster.tooltip:
        box.attr(tooltip=tooltip(cluster.tooltip))


def _add_node(graph: graphviz.Digraph, node_id: str, node: Node) -> None:
    styles = ["filled"]
    if node.shape == "swatch":
        styles.append("rounded")
    if node.dashed:
        styles.append("dashed")
    attributes = {"shape": SHAPE[node.shape], "style": ",".join(styles), "fillcolor": node.fill}
    if node.shape == "point":
        attributes.update(width="0.08", color=node.fill)
    if node.tooltip:
        attributes["tooltip"] = tooltip(node.tooltip)
    graph.node(node_id, label=text(node.lines), **attributes)


def _add_edge(graph: graphviz.Digraph, tail: str, head: str, edge: Edge) -> None:
    attributes = {"color": edge.color, "penwidth": f"{edge.width:g}"}
    if edge.dashed:
        attributes["style"] = "dashed"
    if edge.label:
        attributes.update(label=text([edge.label]), fontcolor=edge.color)
    graph.edge(tail, head, **attributes)
