"""What of a manifest with schema errors (LS002) can still be used, and what is left out.

One schema error no longer hides the rest of the file. Every error lies in one
of three places, and that decides what is left out:

* **An unknown key** (a misspelt field, at any depth): reported, then
  ignored. The mapping that holds it is read as if the key were not written,
  so ``provenence: human`` leaves the dataset untagged, never human.
* **An entry** of ``datasets``, ``models``, ``steps``, ``loops`` or
  ``overrides`` with any other error in it (a wrong type, a value outside its
  list or range, a date that does not exist, a missing required field, an id
  that is not one, an entry that is not a mapping): the whole entry is left
  out, never just the field, since a field means something only beside its
  siblings and loopscan never fills in a value the user did not write (a
  dataset whose ``provenance`` is ``reviewed`` is neither human nor untagged;
  it is not analysed). Its name stays declared, so a reference to it is no
  LS004; what refers to it is left out too (a step that reads or writes it,
  a loop through that step, an override of any of them, in any manifest),
  since its facts would be incomplete. The LS002 message names all of it.
* **The head**: ``loopscan``, ``pipeline``, ``owner``, ``description``, and
  the shape of each block (a mapping; ``overrides`` a list). An error there
  leaves the whole file out: the format is not this one, the pipeline has no
  usable name for its nodes, or the names of its entries cannot be read. A
  block left empty (``steps:`` and nothing under it) declares nothing, and
  only its error is reported.

Whatever is used is schema-valid: :func:`read_in_part` checks the part it
keeps, and leaves the whole file out if that part were ever still invalid.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from loopscan.findings import Location, Problem, RecordedProblem
from loopscan.integrity import SCHEMA
from loopscan.sources.manifest import Manifest, Ref
from loopscan.sources.schema import (
    PIPELINE_SCHEMA,
    SchemaError,
    error_location,
    manifest_message,
    schema_errors,
    sorted_errors,
)
from loopscan.sources.yamlsource import YamlDocument
from loopscan.wording import NAMED_AT_MOST, and_list, override_named

BLOCKS = {"datasets": "dataset", "models": "model", "steps": "step", "loops": "loop", "overrides": "override"}
"""Each block of entries, and what one of its entries is called in a message."""

_PLURALS = {"dataset": "datasets", "model": "models", "step": "steps", "loop": "loops", "override": "overrides"}

Entry = tuple[str, str | int]
"""An entry of a manifest: its block and its key (the index, in ``overrides``)."""


IGNORED = "ignored"
HEAD = "head"


@dataclass(frozen=True)
class Reading:
    """What the schema errors of one manifest leave usable."""

    document: YamlDocument
    errors: list[SchemaError]
    """Every schema error, in the order of the file."""
    places: list[Entry | str]
    """Where each error lies: the entry it breaks, :data:`IGNORED` (an unknown key) or :data:`HEAD`."""

    @property
    def usable(self) -> bool:
        """False when the head has an error: nothing of the file is analysed."""
        return HEAD not in self.places

    @property
    def broken(self) -> frozenset[Entry]:
        """The entries with an error other than an unknown key: left out, with what depends on them."""
        return frozenset(place for place in self.places if isinstance(place, tuple))


def read_in_part(document: YamlDocument, errors: list[SchemaError]) -> Reading:
    """Sort out a manifest's schema errors: which entries they break, and whether the head is usable.

    >>> from loopscan.sources.yamlsource import load_text
    >>> text = "loopscan: 1\\npipeline: p\\ndatasets:\\n  d: {provenance: reviewed}\\n  e: {provenence: ai}\\n"
    >>> document = load_text(text, "p.yaml").documents[0]
    >>> reading = read_in_part(document, schema_errors(PIPELINE_SCHEMA, document.data))
    >>> reading.places, reading.usable
    ([('datasets', 'd'), 'ignored'], True)
    """
    errors = sorted_errors(document, errors)
    data = document.data
    places: list[Entry | str] = []
    for error in errors:
        path = error.path
        if error.unknown_key:
            places.append(IGNORED)
        elif len(path) >= 2 and path[0] in BLOCKS and isinstance(data.get(path[0]), (dict, list)):
            places.append((str(path[0]), path[1]))
        elif len(path) == 1 and path[0] in BLOCKS and data.get(path[0]) is None:
            places.append(IGNORED)  # an empty block: nothing in it to use or to leave out
        else:
            places.append(HEAD)
    reading = Reading(document, errors, places)
    if reading.usable and schema_errors(PIPELINE_SCHEMA, _used_part(data, reading)):
        # Never so for the shipped schema, whose entries are independent of each other; this keeps
        # a schema with a rule across entries from ever having invalid data analysed.
        return Reading(document, errors, [HEAD] * len(errors))
    return reading


def _used_part(data: dict[str, Any], reading: Reading) -> dict[str, Any]:
    """A copy of the data without its unknown keys, broken entries and empty blocks: what the analysis reads."""
    used = _copy(data)
    for error, place in zip(reading.errors, reading.places, strict=True):
        if place == IGNORED and error.unknown_key:
            holder = used
            for part in error.path[:-1]:
                holder = holder[part]
            holder.pop(error.path[-1], None)
    for block in BLOCKS:
        if block in used and used[block] is None:
            del used[block]
    for block, key in reading.broken:
        if isinstance(used[block], dict):
            del used[block][key]
    if isinstance(used.get("overrides"), list):
        used["overrides"] = [item for index, item in enumerate(used["overrides"])
                             if ("overrides", index) not in reading.broken]
    return used


def _copy(value: Any) -> Any:
    """A copy in which no two places share a mapping or a list (a YAML alias shares them)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


# What depends on a broken entry --------------------------------------------------------------------

_GROUPS = {"dataset": "artifact", "model": "artifact", "step": "step", "loop": "loop", "override": "override"}
"""The names an entry is referred to by: artifacts share one namespace; overrides have none."""

Key = tuple[int, Entry]
"""An entry of the project: the index of its manifest, and the entry."""


@dataclass(frozen=True)
class Dependent:
    """An entry left out because it refers, directly or through others, to a broken entry."""

    kind: str
    name: str
    pipeline: str
    location: Location
    roots: frozenset[Key]
    """The broken entries it depends on."""


@dataclass
class LeftOut:
    """The manifests without what depends on a broken entry, and what each broken entry took with it."""

    manifests: list[Manifest]
    dependents: dict[Key, list[Dependent]] = field(default_factory=dict)


def leave_out_dependents(manifests: list[Manifest], broken: dict[int, frozenset[Entry]],
                         documents: dict[int, YamlDocument]) -> LeftOut:
    """Leave out every entry that refers, directly or not, to a broken one, in any manifest.

    ``broken`` maps the index of a manifest in ``manifests`` to its broken
    entries (which :func:`~loopscan.sources.manifest.build_manifest` already
    left out of it), and ``documents`` gives those manifests' documents, where
    a broken dataset's or model's URI is read. A step that reads a broken
    dataset, a loop through that step and an override of the loop all go.
    """
    gone: dict[Key, str | None] = {}  # the URI of each broken or left-out artifact, None for the rest
    roots: dict[Key, frozenset[Key]] = {}
    for index, entries in broken.items():
        for entry in entries:
            gone[(index, entry)] = _written_uri(documents[index].data, entry)
            roots[(index, entry)] = frozenset({(index, entry)})
    found: dict[Key, Dependent] = {}
    while True:
        lookup = _Lookup(manifests, gone)
        grown = False
        for index, manifest in enumerate(manifests):
            for entry, kind, name, location, uri, refs in _referring_entries(manifest):
                causes = {cause for text, group in refs for cause in lookup.causes(index, text, group)}
                if not causes:
                    continue
                key = (index, entry)
                reached = frozenset().union(*(roots[cause] for cause in causes), roots.get(key, frozenset()))
                if reached != roots.get(key):
                    roots[key], gone[key], grown = reached, uri, True
                    found[key] = Dependent(kind, name, manifest.pipeline, location, reached)
        if not grown:
            break
    result = LeftOut(list(manifests))
    for dependent in sorted(found.values(), key=lambda d: (d.location.file, d.location.line, d.location.column)):
        for root in dependent.roots:
            result.dependents.setdefault(root, []).append(dependent)
    dropped: dict[int, set[Entry]] = {}
    for index, entry in found:
        dropped.setdefault(index, set()).add(entry)
    for index, left_out in dropped.items():
        result.manifests[index] = _without(manifests[index], left_out)
    return result


def _written_uri(data: dict[str, Any], entry: Entry) -> str | None:
    """The URI a broken dataset or model was given, when one was written as a string."""
    block, key = entry
    items = data.get(block) if block in ("datasets", "models") else None
    spec = items.get(key) if isinstance(items, dict) else None
    uri = spec.get("uri") if isinstance(spec, dict) else None
    return uri if isinstance(uri, str) and uri else None


Refs = list[tuple[str, str]]
"""What an entry refers to: each text as written, and the group of names it is looked up in."""


def _referring_entries(manifest: Manifest) -> Iterator[tuple[Entry, str, str, Location, str | None, Refs]]:
    """Each entry that refers to another, with what it refers to (a dataset refers to nothing)."""

    def texts(refs: Iterable[Ref | None], group: str) -> Refs:
        return [(ref.text, group) for ref in refs if ref is not None]

    for model in manifest.models.values():
        if model.monitoring is not None and model.monitoring.eval_set is not None:
            yield (("models", model.id), "model", model.id, model.location, model.uri,
                   texts([model.monitoring.eval_set], "artifact"))
    for step in manifest.steps.values():
        refs = texts([*step.inputs, *step.outputs, step.mixing.anchor if step.mixing else None], "artifact")
        if step.source and ":" in step.source:
            refs.append((step.source, "uri"))
        yield ("steps", step.id), "step", step.id, step.location, None, refs
    for loop in manifest.loops.values():
        yield ("loops", loop.id), "loop", loop.id, loop.location, None, texts([*loop.through, *loop.safeguards], "step")
    for override in manifest.overrides:
        yield (("overrides", int(override.id)), "override", override_named(override), override.location, None,
               texts([override.target], "target"))


class _Lookup:
    """Which left-out entry a reference names, if any: one snapshot of what is gone so far."""

    def __init__(self, manifests: list[Manifest], gone: dict[Key, str | None]) -> None:
        self.manifests = manifests
        self.local: dict[tuple[int, str, str], Key] = {}
        self.uris: dict[str, Key] = {}
        self.loops: dict[str, Key] = {}
        qualified: dict[tuple[str, str], Key] = {}
        for key, uri in gone.items():
            index, (block, name) = key
            group = _GROUPS[BLOCKS[block]]
            if group == "loop":
                self.loops.setdefault(str(name), key)
            elif group != "override":
                self.local.setdefault((index, group, str(name)), key)
                qualified.setdefault((group, f"{manifests[index].pipeline}:{name}"), key)
                if uri is not None:
                    self.uris.setdefault(uri, key)
        used: set[tuple[str, str]] = set()  # (group, name) of every entry still used, qualified but for loops
        used_uris: set[str] = set()
        self.pipelines = {manifest.pipeline for manifest in manifests}
        for index, manifest in enumerate(manifests):
            for block, items in (("datasets", manifest.datasets), ("models", manifest.models),
                                 ("steps", manifest.steps), ("loops", manifest.loops)):
                group = _GROUPS[BLOCKS[block]]
                for name, item in items.items():
                    if (index, (block, name)) in gone:
                        continue
                    used.add((group, name if group == "loop" else f"{manifest.pipeline}:{name}"))
                    uri = getattr(item, "uri", None)
                    if uri is not None:
                        used_uris.add(uri)
        self.qualified = {name: key for name, key in qualified.items() if name not in used}
        self.uris = {uri: key for uri, key in self.uris.items() if uri not in used_uris}
        self.loops = {name: key for name, key in self.loops.items() if ("loop", name) not in used}
        self.used = used

    def causes(self, index: int, text: str, group: str) -> list[Key]:
        """The left-out entry that ``text``, written in manifest ``index``, names (none or one).

        Looked up as :mod:`loopscan.graph.link` resolves it: an override's target is first a
        pipeline or a loop, then a node; a text with a colon is a qualified id or a URI.
        """
        if group == "uri":
            return [self.uris[text]] if text in self.uris else []
        target = group == "target"
        if target and (text in self.pipelines or ("loop", text) in self.used):
            return []
        groups = ("artifact", "step") if target else (group,)
        if ":" in text:
            found = [self.qualified[(each, text)] for each in groups if (each, text) in self.qualified]
            if not found and group != "step" and text in self.uris:
                found = [self.uris[text]]
            return found[:1]
        pipeline = self.manifests[index].pipeline
        if any((each, f"{pipeline}:{text}") in self.used for each in groups):
            return []
        found = [self.local[(index, each, text)] for each in groups if (index, each, text) in self.local]
        if not found and target and text in self.loops:
            found = [self.loops[text]]
        return found[:1]


def _without(manifest: Manifest, entries: set[Entry]) -> Manifest:
    """The manifest without some of its entries."""

    def kept(block: str, items: dict[str, Any]) -> dict[str, Any]:
        return {name: item for name, item in items.items() if (block, name) not in entries}

    return replace(manifest, datasets=kept("datasets", manifest.datasets), models=kept("models", manifest.models),
                   steps=kept("steps", manifest.steps), loops=kept("loops", manifest.loops),
                   overrides=tuple(o for o in manifest.overrides if ("overrides", int(o.id)) not in entries))


# The findings ---------------------------------------------------------------------------------------


def schema_problems(reading: Reading, dependents: dict[Entry, list[Dependent]], pipeline: str) -> list[RecordedProblem]:
    """One LS002 problem per schema error, each saying what it leaves out of the analysis.

    ``dependents`` gives, for each broken entry, what was left out with it;
    ``pipeline`` is the manifest's, so that entries of other pipelines are
    named with theirs.
    """
    problems = []
    for error, place in zip(reading.errors, reading.places, strict=True):
        message = manifest_message(error)
        if place == HEAD:
            message += "; the file is left out of the analysis until this is fixed"
        elif isinstance(place, tuple) and reading.usable:
            message += "; " + _left_out_words(place, dependents.get(place, []), pipeline)
        problems.append(RecordedProblem(SCHEMA, Problem(message, error_location(reading.document, error))))
    return problems


def _left_out_words(entry: Entry, dependents: list[Dependent], pipeline: str) -> str:
    """``dataset 'd' is left out of the analysis, and with it step 's', which depends on it``."""
    block, key = entry
    noun = BLOCKS[block]
    said = "this override" if block == "overrides" else f"{noun} '{key}'"
    words = f"{said} is left out of the analysis"
    if not dependents:
        return words
    groups: list[str] = []
    for kind in BLOCKS.values():
        of_kind = [d for d in dependents if d.kind == kind]
        if not of_kind:
            continue
        if kind == "override" and len(of_kind) > NAMED_AT_MOST:
            groups.append(f"{len(of_kind)} overrides")
        elif kind == "override":
            groups.extend(f"the {d.name}" + ("" if d.pipeline == pipeline else f" in pipeline '{d.pipeline}'")
                          for d in of_kind)
        else:
            names = [d.name if d.pipeline == pipeline else f"{d.pipeline}:{d.name}" for d in of_kind]
            groups.append(f"{kind if len(names) == 1 else _PLURALS[kind]} {and_list(names)}")
    listed = groups[0] if len(groups) == 1 else ", ".join(groups[:-1]) + " and " + groups[-1]
    verb = "depends" if len(dependents) == 1 else "depend"
    return f"{words}, and with it {listed}, which {verb} on it"
