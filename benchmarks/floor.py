"""The floor: the least any tool must do to analyse the same manifests.

Parse every file with libyaml keeping line marks (``yaml.compose`` with the C
loader: a node tree in which every node knows its line and column), build a
networkx graph of the steps and artifacts with an edge for every input and
output, and run one strongly-connected-components pass. loopscan does all of
this and much more (schema validation, URI-overlap linking, provenance, every
rule, the report); the benchmark states its time as a multiple of this one.

Run as ``python benchmarks/floor.py FOLDER``: it prints the nodes, edges and
components it found, so that a run can be checked for having done the work.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import networkx as nx
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def yaml_files(folder: str) -> Iterator[str]:
    """Every ``.yaml``/``.yml`` file under ``folder``, sorted."""
    for parent, folders, files in os.walk(folder):
        folders.sort()
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")):
                yield os.path.join(parent, name)


def entries(node: Node | None) -> dict[str, Node]:
    """A mapping node's entries by key (an empty dict for anything else)."""
    if not isinstance(node, MappingNode):
        return {}
    return {key.value: value for key, value in node.value if isinstance(key, ScalarNode)}


def references(node: Node | None) -> Iterator[str]:
    """The texts of a list of references (``id``, ``uri`` or ``{ref: ..., share: ...}``)."""
    if not isinstance(node, SequenceNode):
        return
    for item in node.value:
        if isinstance(item, ScalarNode):
            yield item.value
        else:
            ref = entries(item).get("ref")
            if isinstance(ref, ScalarNode):
                yield ref.value


def add_manifest(graph: nx.DiGraph, root: Node, declared_uris: dict[str, str]) -> None:
    """Add one manifest's steps, artifacts and input/output edges to ``graph``."""
    top = entries(root)
    pipeline_node = top.get("pipeline")
    if not isinstance(pipeline_node, ScalarNode):
        return
    pipeline = pipeline_node.value
    local: dict[str, str] = {}
    for section in ("datasets", "models"):
        for artifact_id, spec in entries(top.get(section)).items():
            node = f"{pipeline}:{artifact_id}"
            local[artifact_id] = node
            graph.add_node(node, line=spec.start_mark.line + 1)
            uri = entries(spec).get("uri")
            if isinstance(uri, ScalarNode):
                declared_uris.setdefault(uri.value, node)
    for step_id, spec in entries(top.get("steps")).items():
        step = f"{pipeline}:{step_id}"
        graph.add_node(step, line=spec.start_mark.line + 1)
        fields = entries(spec)
        for text in references(fields.get("inputs")):
            graph.add_edge(local.get(text) or declared_uris.get(text, text), step)
        for text in references(fields.get("outputs")):
            graph.add_edge(step, local.get(text) or declared_uris.get(text, text))


def floor(folder: str) -> tuple[int, int, int]:
    """Parse, build and run one SCC pass; return the nodes, edges and components."""
    graph: nx.DiGraph = nx.DiGraph()
    declared_uris: dict[str, str] = {}
    for path in yaml_files(folder):
        with open(path, encoding="utf-8") as stream:
            root = yaml.compose(stream.read(), Loader=LOADER)
        if root is not None:
            add_manifest(graph, root, declared_uris)
    components = sum(1 for _ in nx.strongly_connected_components(graph))
    return graph.number_of_nodes(), graph.number_of_edges(), components


if __name__ == "__main__":
    nodes, edges, components = floor(sys.argv[1])
    print(f"{nodes} nodes, {edges} edges, {components} components")
