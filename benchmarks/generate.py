"""A generator of realistic synthetic loopscan projects, for the benchmark and the performance test.

A project is ``pipelines`` manifests of about 50 graph nodes each, in team
folders. Each pipeline ingests a few external sources, cleans and gates them,
builds a corpus, trains a model with a mixing cap on it and a frozen human
anchor, and generates with a model into a published area that the next
pipeline reads through a URI prefix. Pipelines come in blocks of ten:

* inside a block, data flows down a chain of pipelines (pipeline ``b`` reads
  what ``b - 1`` publishes), linked only through overlapping URIs;
* the fourth pipeline of a block generates with the model of the sixth, which
  closes a loop across three manifests; the eighth feeds its own generated
  output back into its corpus through a gate, a loop inside one manifest;
* about a quarter of the pipelines carry one to three defects (no provenance
  tag, an unclassified ingest, an uncapped train step, a gate the policy does
  not accept, an undocumented loop, an expired override, ...), so that every
  part of the analysis finds something, while the rest are clean.

With ``interlinked`` (:func:`plan_interlinked`), the project is the data lake
of a large organisation instead: almost every pipeline reads what pipelines of
other teams publish, so the loops share one giant strongly connected component
that holds a generate step of every linked pipeline; the few others stand alone
with a loop inside their own manifest.

The hostile shapes of one file (:func:`write_fanout`, :func:`write_shared_uri`,
:func:`write_everything`, :func:`write_long_loop`) each stress one way in which
an output or the linking could grow faster than the project.

The same ``pipelines`` and ``seed`` always give byte-identical files.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field
from pathlib import Path

NODES_PER_PIPELINE = 50
"""About how many graph nodes one generated manifest declares."""
BLOCK = 10
"""Pipelines per block: a chain, one loop across three manifests, one loop inside a manifest."""
CROSS_LOOP_AT = 3
"""Position in a block whose generate step uses the model of the pipeline two further down."""
SELF_LOOP_AT = 7
"""Position in a block whose generated output is fed back into its own corpus."""
DEFECTS = (
    "missing-provenance", "unclassified-ingest", "unaccepted-gate", "missing-cap", "cap-above-ceiling",
    "laundering", "owner-list", "missing-monitoring", "stale-drill", "replace-in-loop", "expired-override",
    "undocumented-loop", "missing-log",
)
TODAY = "2026-11-24"
"""The ``--today`` the generated dates are meant for."""


@dataclass
class Pipeline:
    """What one generated manifest declares, before it is written out."""

    index: int
    team: int
    sources: int
    defects: set[str] = field(default_factory=set)
    ring: bool = False
    """Part of one ring through every pipeline (the stress case) instead of blocks of ten."""
    feeds: tuple[int, ...] = ()
    """Interlinked: the pipelines whose published data this one reads, one feed each (empty: it stands alone)."""
    generator: int | None = None
    """Interlinked: the pipeline whose model the generate step uses, when not its own."""
    direct: tuple[int, ...] = ()
    """Interlinked: the pipelines among ``feeds`` whose data goes into the corpus with no gate (a defect)."""
    outside: int = 0
    """Interlinked: how many outside sources it ingests."""
    interlinked: bool = False

    @property
    def name(self) -> str:
        return f"p{self.index:05d}"

    @property
    def area(self) -> str:
        """The storage prefix the pipeline owns."""
        return f"s3://lake/team-{self.team:02d}/{self.name}/"

    @property
    def published(self) -> str:
        """Where it publishes what it generates (the next pipeline reads this prefix)."""
        return f"{self.area}published/"

    @property
    def model_uri(self) -> str:
        return f"models:/{self.name}-model"


def plan(pipelines: int, seed: int = 7, ring: bool = False) -> list[Pipeline]:
    """Decide each pipeline's size and defects; deterministic for a seed.

    With ``ring``, pipeline ``i`` reads what ``i - 1`` publishes and pipeline 0
    reads the last one: a single strongly connected component through every
    manifest, with as many generate steps on it as there are pipelines, and no
    ``loops`` entry (the worst case for the size of the witnesses and loops).

    >>> [(p.name, p.sources) for p in plan(2)]
    [('p00000', 6), ('p00001', 7)]
    """
    rng = random.Random(seed)
    planned = []
    for index in range(pipelines):
        sources = rng.choice((6, 6, 6, 7))
        defects: set[str] = set()
        if rng.random() < 0.25:
            defects = set(rng.sample(DEFECTS, rng.randint(1, 3)))
        planned.append(Pipeline(index, team=index // (BLOCK * 5), sources=sources, defects=defects, ring=ring))
    return planned


def upstream_of(pipeline: Pipeline, planned: list[Pipeline]) -> Pipeline | None:
    """The pipeline whose published data this one reads: the previous one in its block (or ring)."""
    if pipeline.ring:
        return planned[pipeline.index - 1]
    if pipeline.index % BLOCK == 0:
        return None
    return planned[pipeline.index - 1]


def generator_model(pipeline: Pipeline, planned: list[Pipeline]) -> str:
    """The model the generate step uses: its own, or two pipelines down its block (a loop)."""
    position = pipeline.index % BLOCK
    partner = pipeline.index + 2
    if position == CROSS_LOOP_AT and partner < len(planned) and not pipeline.ring:
        return planned[partner].model_uri
    return "model"


def loop_partner(pipeline: Pipeline, planned: list[Pipeline]) -> Pipeline | None:
    """For the pipeline that closes a loop across three manifests, the one whose model it uses."""
    model = generator_model(pipeline, planned)
    return planned[pipeline.index + 2] if model != "model" else None


def has_self_loop(pipeline: Pipeline) -> bool:
    """Whether the pipeline feeds its own generated output back into its corpus."""
    return not pipeline.ring and pipeline.index % BLOCK == SELF_LOOP_AT


def manifest(pipeline: Pipeline, planned: list[Pipeline]) -> str:
    """The YAML text of one pipeline's manifest."""
    if pipeline.interlinked:
        return _interlinked_manifest(pipeline, planned)
    lines = _header(pipeline)
    lines += _datasets(pipeline, planned)
    lines += _models(pipeline)
    lines += _steps(pipeline, planned)
    lines += _loops(pipeline, planned)
    lines += _overrides(pipeline)
    return "\n".join(lines) + "\n"


def _header(p: Pipeline) -> list[str]:
    owner = "[ana.silva, li.wei]" if "owner-list" in p.defects else f"owner.{p.team:02d}.{p.index % 7}"
    if p.feeds:
        what = f"Reads what {len(p.feeds)} other pipelines publish" + (" and one outside source" if p.outside else "")
    else:
        what = f"Ingests {p.sources} sources"
    return [
        "# yaml-language-server: $schema=../../schemas/pipeline.schema.json",
        f"# Generated benchmark pipeline {p.name} (team {p.team:02d}).",
        "",
        "loopscan: 1",
        f"pipeline: {p.name}",
        f"owner: {owner}",
        f"description: {what}, trains the {p.name} model and publishes what it generates.",
        "",
    ]


def _dataset(name: str, uri: str, provenance: str | None, *extra: str, description: str = "") -> list[str]:
    lines = [f"  {name}:", f"    uri: {uri}"]
    if provenance is not None:
        lines.append(f"    provenance: {provenance}")
    lines.extend(f"    {item}" for item in extra)
    if description:
        lines.append(f"    description: {description}")
    return lines


def _datasets(p: Pipeline, planned: list[Pipeline]) -> list[str]:
    lines = ["datasets:"]
    for j in range(p.sources):
        untagged = "missing-provenance" in p.defects and j == 0
        lines += _dataset(f"raw-{j}", f"{p.area}raw/{j}/", None if untagged else "mixed",
                          "retention: accumulate", description=f"Records as they arrive from source {j}.")
        lines += _dataset(f"clean-{j}", f"{p.area}clean/{j}/", "mixed", "synthetic_fraction: 0.1")
        lines += _dataset(f"reviewed-{j}", f"{p.area}reviewed/{j}/", "mixed", "synthetic_fraction: 0.1")
    upstream = upstream_of(p, planned)
    if upstream is not None:
        lines += _dataset("upstream", upstream.published, "mixed",
                          description=f"Everything {upstream.name} publishes (a prefix, read only).")
        lines += _dataset("upstream-reviewed", f"{p.area}upstream-reviewed/", "mixed", "synthetic_fraction: 0.2")
    if has_self_loop(p):
        lines += _dataset("feedback", f"{p.area}feedback/", "ai", "retention: accumulate")
    corpus_label = "human" if "laundering" in p.defects else "mixed"
    retention = "replace" if "replace-in-loop" in p.defects else "accumulate"
    lines += _dataset("corpus", f"{p.area}corpus/", corpus_label, "synthetic_fraction: 0.2",
                      f"retention: {retention}", description="The training corpus of each run.")
    lines += _dataset("anchor", f"s3://anchor/{p.name}/v1/", "human", "frozen: true",
                      description="Curated human-written records, reused by every run.")
    lines += _dataset("evals", f"s3://evals/{p.name}/v1/", "human", "frozen: true")
    lines += _dataset("prompts", f"{p.area}prompts/", "human")
    lines += _dataset("generated", f"{p.published}generated/", "ai", "retention: accumulate")
    return [*lines, ""]


def _models(p: Pipeline) -> list[str]:
    lines = ["models:", "  model:", f"    uri: {p.model_uri}"]
    if "missing-monitoring" not in p.defects:
        lines += [
            "    monitoring:",
            "      metrics: [distinct-2, vocabulary-richness, rare-case-coverage]",
            "      eval_set: evals",
            "      alert: {metric: distinct-2, max_drop: 0.05}",
            "      compare_to: previous",
        ]
    drill = "2026-03-02" if "stale-drill" in p.defects else "2026-10-01"
    lines += ["    rollback:", f"      checkpoint: {p.model_uri}/known-good", f"      last_drill: {drill}", ""]
    return lines


def _steps(p: Pipeline, planned: list[Pipeline]) -> list[str]:
    lines = ["steps:"]
    for j in range(p.sources):
        lines += [f"  ingest-{j}:", "    kind: ingest", f"    source: vendor feed {p.name}/{j}"]  # not a URI
        if not ("unclassified-ingest" in p.defects and j == 0):
            lines.append("    classifier: synthetic-text-detector-v2")
        lines += [f"    outputs: [raw-{j}]"]
        lines += [f"  normalize-{j}:", "    kind: transform", f"    inputs: [raw-{j}]", f"    outputs: [clean-{j}]"]
        method = "other" if "unaccepted-gate" in p.defects and j == 0 else ("human-review", "score-filter")[j % 2]
        lines += [f"  gate-{j}:", "    kind: gate", f"    method: {method}", f"    inputs: [clean-{j}]",
                  f"    outputs: [reviewed-{j}]"]
    corpus_inputs = [f"reviewed-{j}" for j in range(p.sources)]
    if upstream_of(p, planned) is not None:
        method = "other" if "unaccepted-gate" in p.defects else "human-review"
        lines += ["  gate-upstream:", "    kind: gate", f"    method: {method}", "    inputs: [upstream]",
                  "    outputs: [upstream-reviewed]"]
        corpus_inputs.append("upstream-reviewed")
    if has_self_loop(p):
        lines += ["  review-feedback:", "    kind: gate", "    method: human-review", "    inputs: [generated]",
                  "    outputs: [feedback]"]
        corpus_inputs.append("feedback")
    lines += ["  build-corpus:", "    kind: transform", f"    inputs: [{', '.join(corpus_inputs)}]",
              "    outputs: [corpus]"]
    lines += ["  train:", "    kind: train", "    description: Weekly run; most of each run is the human anchor.",
              "    inputs:", "      - {ref: corpus, share: 0.2}", "      - {ref: anchor, share: 0.8}",
              "    outputs: [model]"]
    if "missing-cap" not in p.defects:
        cap = "0.5" if "cap-above-ceiling" in p.defects else "0.2"
        lines += ["    mixing:", f"      max_synthetic: {cap}", "      anchor: anchor"]
        if "missing-log" not in p.defects:
            lines.append(f"      log: mlflow://{p.name}/train/mixing-ratio")
    model = generator_model(p, planned)
    lines += ["  generate:", "    kind: generate", f"    inputs: [{model}, prompts]", "    outputs: [generated]", ""]
    return lines


def _loops(p: Pipeline, planned: list[Pipeline]) -> list[str]:
    if "undocumented-loop" in p.defects or p.ring:
        return []
    partner = loop_partner(p, planned)
    if partner is not None:
        middle = planned[p.index + 1]
        return ["loops:", "  shared-feedback:",
                f"    through: [generate, {middle.name}:build-corpus, {middle.name}:generate, {partner.name}:train]",
                "    why: The downstream model learns from what this pipeline publishes, after review.",
                f"    safeguards: [{middle.name}:gate-upstream, {partner.name}:train]", ""]
    if has_self_loop(p):
        return ["loops:", "  self-feedback:", "    through: [generate, review-feedback, build-corpus, train]",
                "    why: Reviewed outputs teach the next model generation.",
                "    safeguards: [review-feedback, train]", ""]
    return []


def _overrides(p: Pipeline) -> list[str]:
    if "expired-override" not in p.defects:
        return []
    return ["overrides:", "  - rule: LS104", "    target: ingest-0",
            "    reason: Vendor classifier arrives next sprint.", "    approved_by: ana.silva",
            "    approved: 2026-06-01", "    expires: 2026-08-01", ""]


STANDALONE = 0.05
"""Interlinked: about this share of the pipelines read no other pipeline's data (a loop of their own each)."""
SHARED_MODEL = 0.15
"""Interlinked: about this share of the linked pipelines generate with a model that another pipeline trains."""
TEAM_SIZE = 10
"""Interlinked: pipelines per team, so that even a small organisation reads across teams."""
GATE_METHODS = ("human-review", "classifier", "score-filter")


def plan_interlinked(pipelines: int, seed: int = 7) -> list[Pipeline]:
    """Plan the data lake of an organisation whose pipelines read each other's published data.

    Each linked pipeline reads, through a gate, what six or seven other
    pipelines publish: the one before it in a shuffled order of all of them
    (a ring through every team, so that one strongly connected component holds
    them all) and others at random, mostly of other teams, and it publishes
    what it generates and its evaluation reports. Half of them ingest an
    outside source as well. About one in seven generates with another
    pipeline's model, shared by URI. About one in a hundred forms a pair with
    another that reads it back without any gate (an ungated cycle inside the
    giant component). About one in twenty stands alone: it reads no one's data
    and feeds its output back through its own gate. Defects are planted as in
    :func:`plan`. Deterministic for a seed.

    >>> planned = plan_interlinked(20)
    >>> sum(1 for p in planned if p.feeds), len(planned[1].feeds), planned[1].team
    (20, 7, 0)
    """
    rng = random.Random(seed)
    planned = []
    for index in range(pipelines):
        sources = rng.choice((6, 6, 7, 7))
        defects: set[str] = set()
        if rng.random() < 0.25:
            defects = set(rng.sample(DEFECTS, rng.randint(1, 3)))
        planned.append(Pipeline(index, team=index // TEAM_SIZE, sources=sources, defects=defects,
                                interlinked=True))
    linked = [p.index for p in planned if rng.random() >= STANDALONE]
    if len(linked) < 2:  # a ring needs two
        linked = [0, 1] if pipelines >= 2 else []
    order = linked[:]
    rng.shuffle(order)
    feeds: dict[int, list[int]] = {}
    for position, index in enumerate(order):
        chosen = [order[position - 1]]
        others = [other for other in linked if other != index and other != chosen[0]]
        chosen += rng.sample(others, min(planned[index].sources - 1, len(others)))
        feeds[index] = chosen
    direct: dict[int, list[int]] = {}
    pairs = rng.sample(linked, 2 * max(1, len(linked) // 100)) if len(linked) >= 4 else []
    for first, second in zip(pairs[::2], pairs[1::2], strict=True):
        for reader, writer in ((first, second), (second, first)):
            if writer not in feeds[reader]:
                feeds[reader].append(writer)
            direct.setdefault(reader, []).append(writer)
    for index in linked:
        pipeline = planned[index]
        pipeline.feeds = tuple(feeds[index])
        pipeline.direct = tuple(direct.get(index, ()))
        needs_ingest = bool(pipeline.defects & {"missing-provenance", "unclassified-ingest", "expired-override"})
        pipeline.outside = 1 if needs_ingest or rng.random() < 0.5 else 0
        if rng.random() < SHARED_MODEL:
            pipeline.generator = rng.choice([other for other in linked if other != index])
    for pipeline in planned:
        if not pipeline.feeds:
            pipeline.outside = pipeline.sources
    return planned


def _interlinked_manifest(p: Pipeline, planned: list[Pipeline]) -> str:
    lines = _header(p)
    lines += _interlinked_datasets(p, planned)
    lines += _models(p)
    lines += _interlinked_steps(p, planned)
    lines += _interlinked_loops(p)
    lines += _overrides(p)
    return "\n".join(lines) + "\n"


def _outside_sources(p: Pipeline) -> range:
    """The outside sources it ingests."""
    return range(p.outside)


def _interlinked_datasets(p: Pipeline, planned: list[Pipeline]) -> list[str]:
    lines = ["datasets:"]
    for j in _outside_sources(p):
        untagged = "missing-provenance" in p.defects and j == 0
        lines += _dataset(f"raw-{j}", f"{p.area}raw/{j}/", None if untagged else "mixed",
                          "retention: accumulate", description=f"Records as they arrive from source {j}.")
        lines += _dataset(f"clean-{j}", f"{p.area}clean/{j}/", "mixed", "synthetic_fraction: 0.1")
        lines += _dataset(f"reviewed-{j}", f"{p.area}reviewed/{j}/", "mixed", "synthetic_fraction: 0.1")
    for k, index in enumerate(p.feeds, 1):
        other = planned[index]
        lines += _dataset(f"feed-{k}", other.published, "ai",
                          description=f"Everything {other.name} of team {other.team:02d} publishes (read only).")
        lines += _dataset(f"feed-{k}-clean", f"{p.area}feeds/{k}/clean/", "ai")
        if index not in p.direct:
            lines += _dataset(f"feed-{k}-reviewed", f"{p.area}feeds/{k}/reviewed/", "ai")
    if not p.feeds:
        lines += _dataset("feedback", f"{p.area}feedback/", "ai", "retention: accumulate")
    corpus_label = "human" if "laundering" in p.defects else "mixed"
    retention = "replace" if "replace-in-loop" in p.defects else "accumulate"
    lines += _dataset("corpus", f"{p.area}corpus/", corpus_label, "synthetic_fraction: 0.2",
                      f"retention: {retention}", description="The training corpus of each run.")
    lines += _dataset("anchor", f"s3://anchor/{p.name}/v1/", "human", "frozen: true",
                      description="Curated human-written records, reused by every run.")
    lines += _dataset("evals", f"s3://evals/{p.name}/v1/", "human", "frozen: true")
    lines += _dataset("eval-report", f"{p.published}eval-report/", "mixed")
    lines += _dataset("prompts", f"{p.area}prompts/", "human")
    lines += _dataset("generated", f"{p.published}generated/", "ai", "retention: accumulate")
    return [*lines, ""]


def _interlinked_steps(p: Pipeline, planned: list[Pipeline]) -> list[str]:
    lines = ["steps:"]
    corpus_inputs = []
    for j in _outside_sources(p):
        lines += [f"  ingest-{j}:", "    kind: ingest", f"    source: vendor feed {p.name}/{j}"]  # not a URI
        if not ("unclassified-ingest" in p.defects and j == 0):
            lines.append("    classifier: synthetic-text-detector-v2")
        lines += [f"    outputs: [raw-{j}]"]
        lines += [f"  normalize-{j}:", "    kind: transform", f"    inputs: [raw-{j}]", f"    outputs: [clean-{j}]"]
        method = "other" if "unaccepted-gate" in p.defects and j == 0 else GATE_METHODS[j % 2 + 1]
        lines += [f"  gate-{j}:", "    kind: gate", f"    method: {method}", f"    inputs: [clean-{j}]",
                  f"    outputs: [reviewed-{j}]"]
        corpus_inputs.append(f"reviewed-{j}")
    for k, index in enumerate(p.feeds, 1):
        lines += [f"  normalize-feed-{k}:", "    kind: transform", f"    inputs: [feed-{k}]",
                  f"    outputs: [feed-{k}-clean]"]
        if index in p.direct:  # the defect: this feed goes into the corpus unreviewed
            corpus_inputs.append(f"feed-{k}-clean")
            continue
        method = "other" if "unaccepted-gate" in p.defects and k == 1 else GATE_METHODS[(p.index + k) % 3]
        lines += [f"  gate-feed-{k}:", "    kind: gate", f"    method: {method}",
                  f"    inputs: [feed-{k}-clean]", f"    outputs: [feed-{k}-reviewed]"]
        corpus_inputs.append(f"feed-{k}-reviewed")
    if not p.feeds:
        lines += ["  review-feedback:", "    kind: gate", "    method: human-review", "    inputs: [generated]",
                  "    outputs: [feedback]"]
        corpus_inputs.append("feedback")
    lines += ["  build-corpus:", "    kind: transform", f"    inputs: [{', '.join(corpus_inputs)}]",
              "    outputs: [corpus]"]
    lines += ["  train:", "    kind: train", "    description: Weekly run; most of each run is the human anchor.",
              "    inputs:", "      - {ref: corpus, share: 0.2}", "      - {ref: anchor, share: 0.8}",
              "    outputs: [model]"]
    if "missing-cap" not in p.defects:
        cap = "0.5" if "cap-above-ceiling" in p.defects else "0.2"
        lines += ["    mixing:", f"      max_synthetic: {cap}", "      anchor: anchor"]
        if "missing-log" not in p.defects:
            lines.append(f"      log: mlflow://{p.name}/train/mixing-ratio")
    model = "model" if p.generator is None else planned[p.generator].model_uri
    lines += ["  generate:", "    kind: generate", f"    inputs: [{model}, prompts]", "    outputs: [generated]"]
    lines += ["  evaluate:", "    kind: evaluate", "    inputs: [model, evals]", "    outputs: [eval-report]", ""]
    return lines


def _interlinked_loops(p: Pipeline) -> list[str]:
    if "undocumented-loop" in p.defects:
        return []
    if not p.feeds:
        return ["loops:", "  self-feedback:", "    through: [generate, review-feedback, build-corpus, train]",
                "    why: Reviewed outputs teach the next model generation.",
                "    safeguards: [review-feedback, train]", ""]
    gated = next(k for k, index in enumerate(p.feeds, 1) if index not in p.direct)
    return ["loops:", f"  {p.name}-lake:", "    through: [generate, build-corpus, train]",
            "    why: What this pipeline publishes is read back, through the lake, by the teams it reads from.",
            f"    safeguards: [gate-feed-{gated}, train]", ""]


# Hostile shapes: one file each, small, and a worst case for one part of the tool. -----------------

MONITORED_MODEL = [
    "models:",
    "  model:",
    "    uri: models:/{name}",
    "    monitoring:",
    "      metrics: [distinct-2, vocabulary-richness]",
    "      eval_set: evals",
    "      alert: {{metric: distinct-2, max_drop: 0.05}}",
    "      compare_to: previous",
    "    rollback: {{checkpoint: models:/{name}/known-good, last_drill: 2026-10-01}}",
]
"""A model with the monitoring and rollback that Plays 4 and 5 ask for, so that only the loop is at fault."""
ANCHOR_AND_EVALS = [
    '  anchor: {{uri: "s3://{name}/anchor/v1/", provenance: human, frozen: true}}',
    '  evals: {{uri: "s3://{name}/evals/v1/", provenance: human, frozen: true}}',
]
CAPPED_TRAIN = [
    "  train:",
    "    kind: train",
    "    inputs: [{{ref: {corpus}, share: 0.2}}, {{ref: anchor, share: 0.8}}]",
    "    outputs: [model]",
    "    mixing: {{max_synthetic: 0.2, anchor: anchor, log: mlflow://{name}/mixing-ratio}}",
]


def _filled(lines: list[str], **values: str) -> list[str]:
    return [line.format(**values) for line in lines]


def write_fanout(root: Path, generates: int = 2000) -> Path:
    """One manifest of ``generates`` generate steps on one loop (about 121 KB for 2,000); return its path.

    Every generate step writes into one dataset that a gate reviews into the
    corpus of a capped train step, whose model every generate step uses: one
    strongly connected component holding all of them. The model is monitored,
    and the only defect is that no ``loops`` entry documents the loop (LS303).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print(write_fanout(Path(folder), 3).read_text().splitlines()[-1])
      gen-0002: {kind: generate, inputs: [model], outputs: [out]}
    """
    name = "fanout"
    lines = ["loopscan: 1", f"pipeline: {name}", "owner: ana.silva",
             "description: Many prompt templates, each a generate step, all sampling one model.", "datasets:",
             f'  out: {{uri: "s3://{name}/out/", provenance: ai, retention: accumulate}}',
             f'  reviewed: {{uri: "s3://{name}/reviewed/", provenance: ai, retention: accumulate}}',
             *_filled(ANCHOR_AND_EVALS, name=name), *_filled(MONITORED_MODEL, name=name), "steps:",
             "  review: {kind: gate, method: human-review, inputs: [out], outputs: [reviewed]}",
             *_filled(CAPPED_TRAIN, name=name, corpus="reviewed")]
    lines += [f"  gen-{n:04d}: {{kind: generate, inputs: [model], outputs: [out]}}" for n in range(generates)]
    return _write(root / f"{name}.yaml", lines)


def write_shared_uri(root: Path, datasets: int = 2000) -> Path:
    """One clean manifest whose ``datasets`` datasets all share one URI; return its path.

    One step splits a classified export into shards that all land under the
    same prefix: nothing is wrong with it, so there is no finding at all, but a
    linker that joins every pair of artifacts with equal URIs makes
    ``datasets`` squared edges.
    """
    name = "archive"
    lines = ["loopscan: 1", f"pipeline: {name}", "owner: ana.silva",
             "description: Splits the nightly export into shards that all land under one prefix.", "datasets:",
             f'  export: {{uri: "s3://{name}/export/", provenance: mixed}}']
    shards = [f"shard-{n:04d}" for n in range(datasets)]
    lines += [f'  {shard}: {{uri: "s3://{name}/shards/", provenance: mixed}}' for shard in shards]
    lines += ["steps:", "  fetch:", "    kind: ingest", "    source: https://exports.example.net/nightly",
              "    classifier: synthetic-text-detector-v2", "    outputs: [export]",
              "  split:", "    kind: transform", "    inputs: [export]", "    outputs:"]
    lines += [f"      - {shard}" for shard in shards]
    return _write(root / f"{name}.yaml", lines)


EVERYTHING = """\
# Backs the whole lake up to cold storage, and restores it after an incident.
loopscan: 1
pipeline: lake-mirror
owner: data-platform
description: Copies every object of every bucket to cold storage and back.
datasets:
  lake:
    uri: "s3://**"
    provenance: mixed
    retention: accumulate
    description: Every object in every bucket.
  cold:
    uri: "glacier://lake-backup/"
    provenance: mixed
    retention: accumulate
steps:
  backup: {kind: transform, inputs: [lake], outputs: [cold]}
  restore: {kind: transform, inputs: [cold], outputs: [lake]}
"""
"""18 lines that read and write ``s3://**``: a restore writes into every dataset of the lake.

So every generate step's output flows, with no gate, into every corpus: each
loop gains an ungated cycle through ``lake-mirror`` (LS301).
"""


def write_everything(root: Path) -> Path:
    """Add the :data:`EVERYTHING` manifest to the project under ``root``; return its path.

    >>> len(EVERYTHING.splitlines())
    18
    """
    path = root / "platform" / "lake-mirror.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(EVERYTHING, encoding="utf-8")
    return path


def write_long_loop(root: Path, steps: int = 5001) -> Path:
    """One manifest whose one loop passes ``steps`` steps and as many artifacts; return its path.

    A generate step, ``steps - 2`` transforms in a chain and a capped train
    step whose model the generate step uses: for 5,001 steps, the loop's cycle
    has 10,002 nodes. The loop is documented and capped; it has no gate, so
    LS301 reports it at the generate step with the whole cycle as its witness.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     text = write_long_loop(Path(folder), 4).read_text()
    >>> text.count("kind: transform"), text.count("kind: generate"), text.count("kind: train")
    (2, 1, 1)
    """
    name = "long-chain"
    chain = [f"d{n:05d}" for n in range(steps - 1)]
    lines = ["loopscan: 1", f"pipeline: {name}", "owner: ana.silva",
             "description: A long chain of rewriting steps between the model's output and its next training run.",
             "datasets:"]
    lines += [f"  {dataset}: {{provenance: ai}}" for dataset in chain]
    lines += [*_filled(ANCHOR_AND_EVALS, name=name), *_filled(MONITORED_MODEL, name=name), "steps:",
              f"  generate: {{kind: generate, inputs: [model], outputs: [{chain[0]}]}}"]
    lines += [f"  t{n:05d}: {{kind: transform, inputs: [{chain[n - 1]}], outputs: [{chain[n]}]}}"
              for n in range(1, len(chain))]
    lines += _filled(CAPPED_TRAIN, name=name, corpus=chain[-1])
    lines += ["loops:", "  chain:", "    through: [generate, train]",
              "    why: Each model generation is trained on what the one before it wrote, rewritten many times.",
              "    safeguards: [train]"]
    return _write(root / f"{name}.yaml", lines)


def _write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


SHAPES = {"fanout": write_fanout, "shared-uri": write_shared_uri, "everything": write_everything,
          "long-loop": write_long_loop}
"""Each hostile shape by name, as ``--shape`` takes it."""


def write_project(root: Path, pipelines: int, seed: int = 7, ring: bool = False,
                  interlinked: bool = False) -> list[Path]:
    """Write ``pipelines`` manifests under ``root`` (one folder per team); return their paths, sorted."""
    planned = plan_interlinked(pipelines, seed) if interlinked else plan(pipelines, seed, ring)
    written = []
    for pipeline in planned:
        folder = root / f"team-{pipeline.team:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{pipeline.name}.yaml"
        path.write_text(manifest(pipeline, planned), encoding="utf-8")
        written.append(path)
    return sorted(written)


def pipelines_for(nodes: int) -> int:
    """How many manifests make a project of about ``nodes`` graph nodes (at least one)."""
    return max(1, round(nodes / NODES_PER_PIPELINE))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--nodes", type=int, default=10_000, help="about this many graph nodes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ring", action="store_true", help="one loop through every pipeline (the stress case)")
    parser.add_argument("--interlinked", action="store_true",
                        help="an organisation whose pipelines read each other's data: one giant loop")
    parser.add_argument("--shape", choices=sorted(SHAPES),
                        help="write one hostile file instead (everything: added to the project already there)")
    args = parser.parse_args()
    if args.shape:
        print(f"wrote {SHAPES[args.shape](args.folder)}")
        return
    files = write_project(args.folder, pipelines_for(args.nodes), args.seed, args.ring, args.interlinked)
    print(f"wrote {len(files)} manifests under {args.folder}")


if __name__ == "__main__":
    main()
