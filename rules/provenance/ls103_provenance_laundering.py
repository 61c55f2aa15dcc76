"""LS103 provenance-laundering: a dataset is declared `human` while AI output, or data of unknown provenance, flows
into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Artifact
from loopscan.wording import nodes_named, shown

if TYPE_CHECKING:
    from loopscan.analysis.facts import Facts


@rule("LS103", "provenance-laundering", severity="error", play=1, scope="dataset")
def check(project: Project, dataset: Artifact) -> Iterator[Problem]:
    """A dataset is declared `human` while AI output, or data of unknown provenance, flows into it.

    ## Why is this bad?
    Play 1 of the playbook asks for provenance stored "as immutable metadata
    that travels with the data through every transformation". A cleaning,
    deduplication or formatting step does not turn model output into human
    writing, and neither does a quality gate. Once AI data is relabelled
    `human`, every later safeguard is blind to it: the Play 2 mixing ratio
    reports 0% synthetic, and the run can train on its own outputs unchecked,
    the recursion that Shumailov et al. ("AI models collapse when trained on
    recursively generated data", Nature, 2024) show to collapse models, and
    that Alemohammad et al. ("Self-Consuming Generative Models Go MAD", 2023)
    show degrades quality or diversity without enough fresh human data.

    loopscan follows provenance through any number of transforms, gates and
    manifests, and across overlapping storage URIs, and names the generate
    step the AI data came from. Declaring `mixed` where AI output flows in is
    honest and is not reported.

    ## Example
    ```yaml
    steps:
      distill:
        kind: generate
        inputs: [teacher, prompt-pool]
        outputs: [teacher-responses]
      format:
        kind: transform
        inputs: [prompt-pool, teacher-responses]
        outputs: [sft-corpus]
    datasets:
      sft-corpus:
        provenance: human            # but the teacher's answers flow in
    ```

    ## Fix
    Declare what actually flows in, `mixed` (with a `synthetic_fraction`
    when known) or `ai`, and let the mixing cap and the anchor do their work:
    ```yaml
      sft-corpus:
        provenance: mixed
        synthetic_fraction: 0.5
    ```
    """
    inflow = project.facts.provenance_flow.inflow.get(dataset.qualified)
    if dataset.provenance != "human" or inflow in (None, "human"):
        return
    yield Problem(f"dataset '{dataset.id}' is declared 'human', but {_what_flows_in(project.facts, dataset)}; "
                  f"a transform or gate keeps provenance: declare it '{inflow}'",
                  dataset.at("provenance"), pipeline=dataset.pipeline, node=dataset.qualified)


def _what_flows_in(facts: Facts, dataset: Artifact) -> str:
    """``AI output of generate step 'serve' flows into it through 'review'``."""
    flow = facts.provenance_flow
    pipeline = dataset.pipeline
    trail = flow.ai_source(dataset.qualified)
    what = "AI output"
    if not trail:
        trail = flow.unknown_source(dataset.qualified)
        what = "data of unknown provenance"
    if not trail:  # cannot happen while the traces cover every source; say what is known
        return f"'{flow.inflow[dataset.qualified]}' data flows into it"
    source, *between, _ = trail
    kind = facts.kind(source)
    if kind == "generate":
        origin = f"AI output of generate step '{shown(facts, source, pipeline)}'"
    elif kind == "ingest":
        origin = f"{what} from ingest step '{shown(facts, source, pipeline)}'"
    else:
        artifact = facts.artifact(source)
        label = (artifact.provenance if artifact is not None else None) or "unknown"
        origin = f"data declared '{label}' in '{shown(facts, source, pipeline)}'"
    steps = [node for node in between if facts.kind(node) not in ("dataset", "model", "uri")]
    through = f" through {nodes_named(facts, steps, pipeline)}" if steps else ""
    return f"{origin} flows into it{through}"
