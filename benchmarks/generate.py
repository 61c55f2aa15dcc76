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
    [('p00000', 6), ('p00001', 6)]
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
    lines = _header(pipeline)
    lines += _datasets(pipeline, planned)
    lines += _models(pipeline)
    lines += _steps(pipeline, planned)
    lines += _loops(pipeline, planned)
    lines += _overrides(pipeline)
    return "\n".join(lines) + "\n"


def _header(p: Pipeline) -> list[str]:
    owner = "[ana.silva, li.wei]" if "owner-list" in p.defects else f"owner.{p.team:02d}.{p.index % 7}"
    return [
        "# yaml-language-server: $schema=../../schemas/pipeline.schema.json",
        f"# Generated benchmark pipeline {p.name} (team {p.team:02d}).",
        "",
        "loopscan: 1",
        f"pipeline: {p.name}",
        f"owner: {owner}",
        f"description: Ingests {p.sources} sources, trains the {p.name} model and publishes what it generates.",
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
        lines += [f"  ingest-{j}:", "    kind: ingest", f"    source: https://feeds.example.net/{p.name}/{j}"]
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


def write_project(root: Path, pipelines: int, seed: int = 7, ring: bool = False) -> list[Path]:
    """Write ``pipelines`` manifests under ``root`` (one folder per team); return their paths, sorted."""
    planned = plan(pipelines, seed, ring)
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
    args = parser.parse_args()
    files = write_project(args.folder, pipelines_for(args.nodes), args.seed, args.ring)
    print(f"wrote {len(files)} manifests under {args.folder}")


if __name__ == "__main__":
    main()
