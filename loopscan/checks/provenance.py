"""LS1xx provenance (Play 1): every dataset tagged, tags that tell the truth, unknown data kept out of training.

The inferred provenance, what flows into each dataset and where AI or
unknown data entered the graph all come from :mod:`loopscan.analysis.provenance`,
through ``project.facts.provenance_flow``; these checks only read them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loopscan.checks._select import datasets, steps
from loopscan.checks._wording import quoted, shown
from loopscan.findings import Problem
from loopscan.rule import Project, rule
from loopscan.sources.manifest import Artifact, Step

if TYPE_CHECKING:
    from loopscan.analysis.provenance import ProvenanceFlow


@rule("LS101", "missing-provenance", severity="error", play=1)
def missing_provenance(project: Project) -> Iterator[Problem]:
    """A dataset has no provenance tag.

    ## Why is this bad?
    Play 1 of the playbook (establish data provenance) comes before every
    other play: "Tag every dataset and record with its origin: human-authored,
    AI-generated, mixed, or unknown". An untagged dataset cannot be counted in
    a mixing ratio (Play 2), cannot anchor a training run, and hides where
    generated data re-enters training, which is how model collapse starts
    (Shumailov et al., "AI models collapse when trained on recursively
    generated data", Nature, 2024). The message says what loopscan infers
    from the data that flows in, as a starting point.

    ## Example
    ```yaml
    datasets:
      transcripts:
        uri: s3://acme-support/transcripts/
        retention: accumulate        # no provenance
    ```

    ## Fix
    Declare where the data comes from: `human`, `ai`, `mixed` (with
    `synthetic_fraction` when it is known) or `unknown`. When in doubt,
    `unknown` is the honest tag:
    ```yaml
      transcripts:
        uri: s3://acme-support/transcripts/
        provenance: mixed
    ```
    """
    flow = project.facts.provenance_flow
    for dataset in datasets(project):
        if dataset.provenance is not None:
            continue
        inferred = flow.inflow.get(dataset.qualified)
        hint = f"; what flows into it is '{inferred}'" if inferred else ""
        yield Problem(f"dataset '{dataset.id}' has no provenance tag (human, ai, mixed or unknown){hint}",
                      dataset.location, pipeline=dataset.pipeline, node=dataset.qualified)


@rule("LS102", "unknown-into-training", severity="error", play=1)
def unknown_into_training(project: Project) -> Iterator[Problem]:
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

    A classifier on the way counts: an `ingest` step with `classifier`, or a
    `gate` with `method: classifier`, tags the records, and what comes out is
    `mixed` rather than `unknown`. Model inputs (a base model) are not data
    and are not checked.

    ## Example
    ```yaml
    steps:
      crawl:
        kind: ingest                 # no classifier: the crawl is 'unknown'
        source: https://crawl.example.net/seeds.txt
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
        outputs: [crawl-text]
    ```
    or put a `gate` with `method: classifier` between the data and the
    training step, or train without that input.
    """
    flow = project.facts.provenance_flow
    graph = project.dataflow
    for step in steps(project, "train"):
        unknown = [node for node in dict.fromkeys(project.nodes.get(ref) for ref in step.inputs)
                   if node is not None and _is_data(graph.nodes[node]["kind"], node)
                   and flow.value[node] == "unknown"]
        if not unknown:
            continue
        reasons = ", ".join(_why_unknown(project, flow, node, step.pipeline) for node in unknown)
        yield Problem(f"train step '{step.id}' reads data of unknown provenance, which no synthetic-content "
                      f"classifier tagged: {reasons}",
                      step.location, pipeline=step.pipeline, node=step.qualified)


def _is_data(kind: str, node: str) -> bool:
    """A dataset, or data known only by its URI (not a model registry URI)."""
    return kind == "dataset" or (kind == "uri" and not node.startswith("models:"))


def _why_unknown(project: Project, flow: ProvenanceFlow, node: str, pipeline: str) -> str:
    """An unknown input and where its unknown data entered: an ingest step, a tag, or the lack of one."""
    trail = flow.unknown_source(node)
    source = trail[0] if trail else node
    decl = project.dataflow.nodes[source]["decl"]
    if isinstance(decl, Step):
        why = f"ingest step '{shown(source, pipeline)}' has no classifier"
    elif isinstance(decl, Artifact) and decl.provenance == "unknown":
        why = "declared 'unknown'"
    elif isinstance(decl, Artifact):
        why = "no provenance declared"
    else:
        why = "known only by its URI"
    if source != node and not isinstance(decl, Step):
        why = f"'{shown(source, pipeline)}': {why}"
    return f"'{shown(node, pipeline)}' ({why})"


@rule("LS103", "provenance-laundering", severity="error", play=1)
def provenance_laundering(project: Project) -> Iterator[Problem]:
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
    flow = project.facts.provenance_flow
    for dataset in datasets(project):
        inflow = flow.inflow.get(dataset.qualified)
        if dataset.provenance != "human" or inflow in (None, "human"):
            continue
        yield Problem(f"dataset '{dataset.id}' is declared 'human', but {_what_flows_in(project, flow, dataset)}; "
                      f"a transform or gate keeps provenance: declare it '{inflow}'",
                      dataset.at("provenance"), pipeline=dataset.pipeline, node=dataset.qualified)


def _what_flows_in(project: Project, flow: ProvenanceFlow, dataset: Artifact) -> str:
    """The source of the non-human data that reaches ``dataset``, and the steps it passes on the way."""
    pipeline = dataset.pipeline
    trail = flow.ai_source(dataset.qualified)
    what = "AI output"
    if not trail:
        trail = flow.unknown_source(dataset.qualified)
        what = "data of unknown provenance"
    if not trail:  # cannot happen while the traces cover every source; say what is known
        return f"'{flow.inflow[dataset.qualified]}' data flows into it"
    source, *between, _ = trail
    attributes = project.dataflow.nodes[source]
    kind = attributes["kind"]
    if kind == "generate":
        origin = f"AI output of generate step '{shown(source, pipeline)}'"
    elif kind == "ingest":
        origin = f"{what} from ingest step '{shown(source, pipeline)}'"
    else:
        label = getattr(attributes["decl"], "provenance", None) or "unknown"
        origin = f"data declared '{label}' in '{shown(source, pipeline)}'"
    steps = [node for node in between if project.dataflow.nodes[node]["kind"] not in ("dataset", "model", "uri")]
    through = f" through {quoted(steps, pipeline)}" if steps else ""
    return f"{origin} flows into it{through}"


@rule("LS104", "unclassified-ingest", severity="warning", play=1)
def unclassified_ingest(project: Project) -> Iterator[Problem]:
    """An ingest step brings in external data with no synthetic-content classifier.

    ## Why is this bad?
    Play 1 of the playbook: "Build or buy a synthetic-content classifier to
    flag likely AI-generated records at ingestion." External data (a web
    crawl, a vendor dump, user uploads) carries an unknown and growing share
    of model output; without a classifier everything downstream is of
    `unknown` provenance, which Play 1 treats as a risk category and which
    counts as fully synthetic in every mixing ratio (Play 2).

    ## Example
    ```yaml
    steps:
      crawl:
        kind: ingest
        source: https://crawl.example.net/seeds.txt
        outputs: [crawl-raw]
    ```

    ## Fix
    Name the classifier the step runs; its output is then `mixed`, with
    every record tagged:
    ```yaml
      crawl:
        kind: ingest
        source: https://crawl.example.net/seeds.txt
        classifier: acme-synthetic-text-detector-v2
        outputs: [crawl-raw]
    ```
    """
    for step in steps(project, "ingest"):
        if not step.classifier:
            source = f" from {step.source}" if step.source else ""
            yield Problem(f"ingest step '{step.id}' brings in data{source} with no synthetic-content classifier, "
                          "so its provenance is unknown",
                          step.location, pipeline=step.pipeline, node=step.qualified)
