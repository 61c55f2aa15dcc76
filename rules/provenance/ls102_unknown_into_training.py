"""LS102 unknown-into-training: data of unknown provenance reaches a train step with no synthetic-content
classifier on the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loopscan.findings import Problem
from loopscan.graph.link import artifact_kind
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Step
from loopscan.wording import shown

if TYPE_CHECKING:
    from loopscan.analysis.facts import Facts


@rule("LS102", "unknown-into-training", severity="error", play=1, scope="step", kinds=("train",))
def check(project: Project, step: Step) -> Iterator[Problem]:
    """Data of unknown provenance reaches a train step with no synthetic-content classifier on the way.

    ## Why is this bad?
    Play 1 of the playbook says to "treat 'unknown' as a risk category, not a
    neutral one", and to run a synthetic-content classifier at ingestion.
    Data nobody classified may be largely model output: web text in
    particular holds more generated content every year, and Shumailov et al.
    ("AI models collapse when trained on recursively generated data",
    Nature, 2024) show that training on it unseen is how collapse begins. A
    mixing cap (Play 2) cannot hold either: unknown data counts as fully
    synthetic, so the true share of the run cannot be known.

    A classifier on the way counts when it detects synthetic content: an
    `ingest` step with `classifier` (its `detects` holds `synthetic`, as it
    does when not written), or a `gate` whose `detects` holds `synthetic`
    (`method: classifier` or `human-review` by default). It tags the
    records, and what comes out is `mixed` rather than `unknown`. A quality
    classifier (`detects: [quality]`) tags nothing. Model inputs (a base
    model) are not data and are not checked.

    ## Example
    ```yaml
    steps:
      crawl:
        kind: ingest                 # a quality classifier only: the crawl is still 'unknown'
        source: https://crawl.example.net/seeds.txt
        classifier: acme-quality-scorer-v1
        detects: [quality]
        outputs: [crawl-text]
      pretrain:
        kind: train
        inputs: [crawl-text, licensed-news]
        outputs: [news-base]
    ```

    ## Fix
    Run a synthetic-content classifier where the data enters, so that its
    records are tagged:
    ```yaml
      crawl:
        kind: ingest
        source: https://crawl.example.net/seeds.txt
        classifier: acme-synthetic-text-detector-v2
        detects: [synthetic, quality]
        outputs: [crawl-text]
    ```
    or put a `gate` with `method: classifier` between the data and the
    training step, or train without that input. A classifier that scores
    quality is not this one: say so with `detects: [quality]` and add the
    synthetic-content classifier beside it.
    """
    facts = project.facts
    value = facts.provenance_flow.value
    unknown = [node for node in dict.fromkeys(project.nodes.get(ref) for ref in step.inputs)
               if node is not None and _is_data(facts, node) and value[node] == "unknown"]
    if not unknown:
        return
    reasons = ", ".join(_why_unknown(facts, node, step.pipeline) for node in unknown)
    yield Problem(f"train step '{step.id}' reads data of unknown provenance, which no synthetic-content "
                  f"classifier tagged: {reasons}",
                  step.location, pipeline=step.pipeline, node=step.qualified)


def _is_data(facts: Facts, node: str) -> bool:
    """Datasets, and URIs that are not a model registry's (``models:/...``)."""
    return facts.kind(node) in ("dataset", "uri") and artifact_kind(facts.dataflow, node) == "dataset"


def _why_unknown(facts: Facts, node: str, pipeline: str) -> str:
    """``'web' (ingest step 'crawl' has no classifier)``: where the unknown data came from."""
    trail = facts.provenance_flow.unknown_source(node)
    source = trail[0] if trail else node
    step = facts.step(source)
    artifact = facts.artifact(source)
    if step is not None and step.classifier:
        why = (f"the classifier of ingest step '{shown(facts, source, pipeline)}' detects "
               f"{', '.join(step.detects) or 'nothing'}, not synthetic content")
    elif step is not None:
        why = f"ingest step '{shown(facts, source, pipeline)}' has no classifier"
    elif artifact is not None and artifact.provenance == "unknown":
        why = "declared 'unknown'"
    elif artifact is not None:
        why = "no provenance declared"
    else:
        why = "known only by its URI"
    if source != node and step is None:
        why = f"'{shown(facts, source, pipeline)}': {why}"
    return f"'{shown(facts, node, pipeline)}' ({why})"
