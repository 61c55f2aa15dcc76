"""What the per-node checks look at: steps of a kind, datasets, and the models exposed to collapse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loopscan.checks._wording import quoted
from loopscan.rule import Project
from loopscan.sources.manifest import Artifact, Step

if TYPE_CHECKING:
    from loopscan.analysis.exposure import Exposure


def steps(project: Project, kind: str | None = None) -> Iterator[Step]:
    """Every step of the project, or every step of one kind."""
    for manifest in project.manifests:
        for step in manifest.steps.values():
            if kind is None or step.kind == kind:
                yield step


def datasets(project: Project) -> Iterator[Artifact]:
    for manifest in project.manifests:
        yield from manifest.datasets.values()


def exposed_models(project: Project, on_loop_only: bool = False) -> Iterator[tuple[Artifact, Exposure]]:
    """Each declared model that feeds a generate step or lies on a loop (only the latter with ``on_loop_only``)."""
    for node, exposure in project.facts.exposed_models.items():
        model = project.dataflow.nodes[node]["decl"]
        if isinstance(model, Artifact) and (exposure.on_loop or not on_loop_only):
            yield model, exposure


def why_exposed(exposure: Exposure, pipeline: str) -> str:
    """``it lies on the loop through 'serve'`` or ``it feeds generate step 'answer'``."""
    if exposure.loops:
        return f"it lies on the loop through {quoted(exposure.loops, pipeline)}"
    return f"it feeds generate step {quoted(exposure.feeds, pipeline)}"
