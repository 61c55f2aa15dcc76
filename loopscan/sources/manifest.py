"""The pipeline manifest as typed objects that remember where they were written.

:func:`build_manifest` turns a schema-valid document into a :class:`Manifest`
(or the usable part of one, see :mod:`loopscan.sources.partial`).
Every object keeps its YAML path, so a rule can point at the exact field a
reviewer must change: ``step.at("mixing", "max_synthetic")``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from loopscan.findings import Location
from loopscan.sources.yamlsource import KeyPath, YamlDocument


@dataclass(frozen=True)
class Declared:
    """Something declared in a manifest: it knows its pipeline, id and place."""

    pipeline: str
    id: str
    path: KeyPath
    document: YamlDocument = field(repr=False, compare=False)

    @property
    def qualified(self) -> str:
        """The id used in the graph and in every output: ``pipeline:id``."""
        return f"{self.pipeline}:{self.id}"

    @property
    def location(self) -> Location:
        """The line of its key (``  finetune:``), where a reviewer finds it."""
        return self.document.key_location(self.path)

    def at(self, *fields: str | int) -> Location:
        """Where one of its fields was written (or the nearest enclosing node)."""
        return self.document.location(self.path + fields)

    def key_at(self, *fields: str | int) -> Location:
        """Where the key of one of its fields was written."""
        return self.document.key_location(self.path + fields)

    def within(self, block: str) -> Location:
        """Where a field missing from ``block`` belongs: the block's key when it is written, else the declaration."""
        return self.key_at(block) if getattr(self, block, None) is not None else self.location


@dataclass(frozen=True)
class Ref:
    """A reference as written: an id from the manifest, a URI, or a qualified id."""

    text: str
    location: Location
    share: float | None = None
    role: Role | None = None
    """The role as written (``{ref: x, role: prompts}``); :func:`input_role` gives the one that applies."""

    @property
    def is_uri(self) -> bool:
        """A colon makes it a URI (or ``pipeline:id``); ids never hold one."""
        return ":" in self.text

    @property
    def qualified_id(self) -> tuple[str, str] | None:
        """``(pipeline, id)`` when the reference is written ``pipeline:id`` (no ``/`` after the colon).

        >>> at = Location("p.yaml", 1, 1)
        >>> Ref("catalog:listings", at).qualified_id, Ref("s3://b/x", at).qualified_id, Ref("x", at).qualified_id
        (('catalog', 'listings'), None, None)
        """
        found = _QUALIFIED.fullmatch(self.text)
        return None if found is None else (found[1], found[2])


ArtifactKind = Literal["dataset", "model"]
StepKind = Literal["ingest", "transform", "gate", "train", "generate", "evaluate"]
Provenance = Literal["human", "ai", "mixed", "unknown"]
Retention = Literal["accumulate", "replace", "transient"]
Role = Literal["targets", "prompts", "init", "scorer", "teacher"]
Detectable = Literal["synthetic", "quality", "duplicates", "incorrect", "unsafe"]
"""The closed vocabularies of the format (``schemas/pipeline.schema.json`` admits only these)."""

DETECTS_BY_METHOD: dict[str, tuple[Detectable, ...]] = {
    "human-review": ("synthetic", "quality", "incorrect", "unsafe"),
    "classifier": ("synthetic",),
    "score-filter": ("quality",),
    "dedup": ("duplicates",),
    "other": (),
}
"""What a gate removes when its ``detects`` is not written, by its ``method`` (``other`` when none is)."""

_QUALIFIED = re.compile(r"([A-Za-z0-9_.-]+):([A-Za-z0-9_.-]+)")
_LINKED_SOURCE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/")


def input_role(ref: Ref, step_kind: StepKind, input_kind: ArtifactKind) -> Role | None:
    """What an input is to its step: the role written, else ``targets`` (a dataset) or ``init`` (a model) into train.

    Inputs of other steps have no role unless one is written: a generate step
    conditions on its inputs, a transform passes them on.

    >>> at = Location("p.yaml", 1, 1)
    >>> input_role(Ref("d", at), "train", "dataset"), input_role(Ref("m", at), "train", "model")
    ('targets', 'init')
    >>> input_role(Ref("q", at, role="prompts"), "train", "dataset"), input_role(Ref("d", at), "generate", "dataset")
    ('prompts', None)
    """
    if ref.role is not None:
        return ref.role
    if step_kind != "train":
        return None
    return "targets" if input_kind == "dataset" else "init"


@dataclass(frozen=True)
class Monitoring:
    metrics: tuple[str, ...]
    eval_set: Ref | None
    alert: dict[str, Any] | None
    compare_to: str | None


@dataclass(frozen=True)
class Rollback:
    checkpoint: str | None
    last_drill: date | None


@dataclass(frozen=True)
class Artifact(Declared):
    """A dataset or a model."""

    kind: ArtifactKind = "dataset"
    uri: str | None = None
    provenance: Provenance | None = None
    frozen: bool = False
    external: bool = False
    """A model trained outside the project: no step here may write it, and Plays 4 and 5 do not apply to it."""
    retention: Retention = "accumulate"
    synthetic_fraction: float | None = None
    monitoring: Monitoring | None = None
    rollback: Rollback | None = None


@dataclass(frozen=True)
class Mixing:
    max_synthetic: float | None
    anchor: Ref | None
    log: str | None


@dataclass(frozen=True)
class Step(Declared):
    kind: StepKind = "transform"
    inputs: tuple[Ref, ...] = ()
    outputs: tuple[Ref, ...] = ()
    owner: str | None = None
    method: str | None = None
    source: str | None = None
    classifier: str | None = None
    mixing: Mixing | None = None
    detects_written: tuple[Detectable, ...] | None = None
    """``detects`` as written; :attr:`detects` gives what applies."""
    on_policy: bool = False
    """A train step that samples from the model it trains while it trains: a loop inside one step."""

    @property
    def detects(self) -> tuple[Detectable, ...]:
        """What the step removes: ``detects`` as written, else the default of its method.

        A gate without a method detects nothing it says; an ingest detects
        ``synthetic`` when it names a ``classifier`` (the format-1 meaning).
        Other steps detect nothing.

        >>> Step("p", "g", (), None, kind="gate", method="dedup").detects  # type: ignore[arg-type]
        ('duplicates',)
        """
        if self.detects_written is not None:
            return self.detects_written
        if self.kind == "gate":
            return DETECTS_BY_METHOD[self.method or "other"]
        if self.kind == "ingest" and self.classifier is not None:
            return ("synthetic",)
        return ()

    @property
    def source_ref(self) -> Ref | None:
        """An ingest's ``source`` when it is a URI (``https://...``, ``s3://...``): it links like an input.

        A ``source`` in words (``vendor export``) names no data in the project.
        """
        if self.kind != "ingest" or self.source is None or not _LINKED_SOURCE.match(self.source):
            return None
        return Ref(self.source, self.at("source"))
    job: str | None = None
    """The OpenLineage job (``namespace/name``) that runs the step."""


@dataclass(frozen=True)
class LoopDoc(Declared):
    """An entry of the ``loops`` block: a loop that exists on purpose."""

    through: tuple[Ref, ...] = ()
    why: str | None = None
    safeguards: tuple[Ref, ...] = ()


@dataclass(frozen=True)
class Override(Declared):
    """An entry of the ``overrides`` block; ``id`` is its index, as text."""

    rule: str = ""
    target: Ref | None = None
    reason: str | None = None
    approved_by: str | None = None
    approved: date | None = None
    expires: date | None = None


@dataclass(frozen=True)
class Manifest:
    """One pipeline manifest."""

    file: str
    document: YamlDocument = field(repr=False)
    pipeline: str
    owner: str | list[str] | None
    description: str | None
    datasets: dict[str, Artifact]
    models: dict[str, Artifact]
    steps: dict[str, Step]
    loops: dict[str, LoopDoc]
    overrides: tuple[Override, ...]

    @property
    def artifacts(self) -> dict[str, Artifact]:
        return {**self.datasets, **self.models}

    def at(self, *fields: str | int) -> Location:
        return self.document.location(fields)

    def key_at(self, *fields: str | int) -> Location:
        return self.document.key_location(fields)


def is_manifest(document: YamlDocument) -> bool:
    """A YAML document is a manifest when its top level is a mapping with ``loopscan``."""
    return isinstance(document.data, dict) and "loopscan" in document.data


def build_manifest(document: YamlDocument, left_out: Collection[tuple[str, str | int]] = ()) -> Manifest:
    """Build the typed manifest from a document that passed the schema, but for the entries ``left_out``.

    ``left_out`` names entries by block and key (``("steps", "serve")``,
    ``("overrides", 2)``); keys the schema does not know are never read.

    >>> from loopscan.sources.yamlsource import load_text
    >>> text = "loopscan: 1\\npipeline: p\\nsteps:\\n  s: {kind: train, inputs: [d]}\\n"
    >>> m = build_manifest(load_text(text, "p.yaml").documents[0])
    >>> m.steps["s"].qualified, str(m.steps["s"].location), m.steps["s"].inputs[0].text
    ('p:s', 'p.yaml:4:3', 'd')
    """
    data = document.data
    name = data["pipeline"]

    def entries(block: str) -> list[tuple[str, Any]]:
        return [(k, v) for k, v in (data.get(block) or {}).items() if (block, k) not in left_out]

    def refs(path: KeyPath, items: list[Any] | None) -> tuple[Ref, ...]:
        return tuple(_ref(document, (*path, i), item) for i, item in enumerate(items or ()))

    def artifact(kind: ArtifactKind, art_id: str, spec: dict[str, Any]) -> Artifact:
        path: KeyPath = ("datasets" if kind == "dataset" else "models", art_id)
        monitoring = spec.get("monitoring")
        rollback = spec.get("rollback")
        return Artifact(
            name, art_id, path, document, kind=kind,
            uri=spec.get("uri"),
            provenance=spec.get("provenance"),
            frozen=spec.get("frozen", False),
            external=spec.get("external", False),
            retention=spec.get("retention", "accumulate"),
            synthetic_fraction=spec.get("synthetic_fraction"),
            monitoring=None if monitoring is None else Monitoring(
                metrics=tuple(monitoring.get("metrics", ())),
                eval_set=_optional_ref(document, (*path, "monitoring", "eval_set"), monitoring.get("eval_set")),
                alert=monitoring.get("alert"),
                compare_to=monitoring.get("compare_to"),
            ),
            rollback=None if rollback is None else Rollback(
                checkpoint=rollback.get("checkpoint"),
                last_drill=_date(rollback.get("last_drill")),
            ),
        )

    def step(step_id: str, spec: dict[str, Any]) -> Step:
        path: KeyPath = ("steps", step_id)
        mixing = spec.get("mixing")
        return Step(
            name, step_id, path, document,
            kind=spec["kind"],
            inputs=refs((*path, "inputs"), spec.get("inputs")),
            outputs=refs((*path, "outputs"), spec.get("outputs")),
            owner=spec.get("owner"),
            method=spec.get("method"),
            source=spec.get("source"),
            classifier=spec.get("classifier"),
            detects_written=None if "detects" not in spec else tuple(spec["detects"]),
            on_policy=spec.get("on_policy", False),
            job=spec.get("job"),
            mixing=None if mixing is None else Mixing(
                max_synthetic=mixing.get("max_synthetic"),
                anchor=_optional_ref(document, (*path, "mixing", "anchor"), mixing.get("anchor")),
                log=mixing.get("log"),
            ),
        )

    def loop(loop_id: str, spec: dict[str, Any]) -> LoopDoc:
        path: KeyPath = ("loops", loop_id)
        return LoopDoc(
            name, loop_id, path, document,
            through=refs((*path, "through"), spec.get("through")),
            why=spec.get("why"),
            safeguards=refs((*path, "safeguards"), spec.get("safeguards")),
        )

    def override(index: int, spec: dict[str, Any]) -> Override:
        path: KeyPath = ("overrides", index)
        return Override(
            name, str(index), path, document,
            rule=spec["rule"],
            target=_ref(document, (*path, "target"), spec["target"]),
            reason=spec.get("reason"),
            approved_by=spec.get("approved_by"),
            approved=_date(spec.get("approved")),
            expires=_date(spec.get("expires")),
        )

    return Manifest(
        file=document.file,
        document=document,
        pipeline=name,
        owner=data.get("owner"),
        description=data.get("description"),
        datasets={k: artifact("dataset", k, v or {}) for k, v in entries("datasets")},
        models={k: artifact("model", k, v or {}) for k, v in entries("models")},
        steps={k: step(k, v) for k, v in entries("steps")},
        loops={k: loop(k, v) for k, v in entries("loops")},
        overrides=tuple(override(i, v) for i, v in enumerate(data.get("overrides") or ())
                        if ("overrides", i) not in left_out),
    )


def _ref(document: YamlDocument, path: KeyPath, item: Any) -> Ref:
    if isinstance(item, dict):
        return Ref(item["ref"], document.location((*path, "ref")), item.get("share"), item.get("role"))
    return Ref(item, document.location(path))


def _optional_ref(document: YamlDocument, path: KeyPath, item: str | None) -> Ref | None:
    return None if item is None else _ref(document, path, item)


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)
