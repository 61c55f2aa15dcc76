"""OpenLineage run events as typed values: what really ran, read beside the manifests.

:func:`read_lineage` reads event files in the forms that real systems write:

* one event per line (the Python client's file transport in append mode, and
  most log shippers), read as a stream so that a file of a million events
  stays in bounded memory;
* a JSON array of events, or one event written over many lines (the file
  transport's debug mode);
* a Marquez events export (``{"events": [...]}``);

each of them gzip-compressed too (a name ending in ``.gz``), and a folder of
such files (the file transport writes one file per event unless told to
append).

Every event is checked against the OpenLineage schema (``schemas/openlineage/``:
the core schema, and the facets that loopscan reads). An event that is not
JSON, breaks the schema, is too large or names something with control
characters is a :class:`RecordedProblem` at its file and line (LS001 for what
does not parse, LS002 for what breaks the schema), and the rest of the file
is still read.

Identity follows the OpenLineage naming conventions: a dataset is its
namespace and name joined into one URI (:func:`dataset_uri`), and each
identifier of its ``symlinks`` facet is an alias of the same node; a job is
``namespace/name``. The ``parent`` run facet (and its ``root``) puts a job in
a group, the pipeline a draft manifest is written for. The events of one run
(START, RUNNING, COMPLETE, FAIL, ABORT, OTHER) are merged by ``runId``.
"""

from __future__ import annotations

import gc
import gzip
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import IO, Any, NamedTuple

from loopscan.findings import Evidence, Location, Problem, RecordedProblem
from loopscan.integrity import SCHEMA, YAML_SYNTAX
from loopscan.printable import UNPRINTABLE, printable
from loopscan.sources.validity import Unsupported, compile_schema

MAX_EVENT_BYTES = 16 * 1024 * 1024
"""The largest event read: a bigger one (a runaway schema facet, a hostile file) is a finding, never a stall."""
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
"""The largest JSON array or export read whole; events at scale come one per line, which streams."""
TERMINAL_STATES = ("COMPLETE", "FAIL", "ABORT")
_EVENT_TYPES = {name: name for name in ("START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER")}
"""The event types that end a run (the spec: one START and one of these per run)."""
PROVENANCE_TAG = "provenance"
PROVENANCES = ("human", "ai", "mixed", "unknown")
EVENT_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
"""The files of a folder that are read as events."""

_FACET_SCHEMAS = {
    "run": ("ParentRunFacet",),
    "dataset": ("SymlinksDatasetFacet", "TagsDatasetFacet"),
    "input": ("InputStatisticsInputDatasetFacet", "DataQualityMetricsInputDatasetFacet"),
    "output": ("OutputStatisticsOutputDatasetFacet",),
}
"""The facets loopscan reads, by where they sit, each checked against its own schema."""


class DatasetUse(NamedTuple):
    """A dataset a run read or wrote, with the sizes its facets report (None when they report none).

    A named tuple: a million events make millions of them, and a tuple is made in a fraction of the time a
    frozen dataclass takes.
    """

    uri: str
    rows: int | None
    size: int | None
    event: Evidence


@dataclass(slots=True)
class ObservedDataset:
    """A dataset seen in the events: its URI, its aliases (symlinks) and a provenance tag if one was given."""

    uri: str
    namespace: str
    name: str
    location: Location
    aliases: list[str] = field(default_factory=list)
    provenance: str | None = None


@dataclass(slots=True)
class Run:
    """The events of one run merged: its job, its end state, what it read and wrote."""

    run_id: str
    job: str
    state: str
    """The event type that ended it (``COMPLETE``, ``FAIL``, ``ABORT``), else the last one seen."""
    first: Evidence
    last: Evidence
    inputs: dict[str, DatasetUse] = field(default_factory=dict)
    outputs: dict[str, DatasetUse] = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        return self.state == "COMPLETE"

    def counts(self, include_failed: bool = False) -> bool:
        """A flow: it completed, or it ended some other way and ``include_failed`` counts those too."""
        return self.completed or (include_failed and self.state in TERMINAL_STATES)


@dataclass(slots=True)
class ObservedJob:
    """A job (``namespace/name``), the group it belongs to, and where it was first seen."""

    id: str
    namespace: str
    name: str
    group: str
    """The root job of its runs, else the parent job, else its own namespace: what a draft manifest is for."""
    location: Location
    runs: list[str] = field(default_factory=list)
    """Its run ids in the order first seen."""


@dataclass
class Lineage:
    """Everything read from the event files."""

    files: list[str] = field(default_factory=list)
    events: int = 0
    jobs: dict[str, ObservedJob] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    datasets: dict[str, ObservedDataset] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    """Each symlink URI, with the URI of the dataset it names (first seen wins)."""
    problems: list[RecordedProblem] = field(default_factory=list)

    def identity(self, uri: str) -> str:
        """The URI that stands for ``uri``: its dataset's, when it is an alias (of an alias, ...)."""
        if uri not in self.aliases:
            return uri
        seen = {uri}
        while uri in self.aliases and self.aliases[uri] not in seen:
            uri = self.aliases[uri]
            seen.add(uri)
        return uri

    def flows(self, include_failed: bool = False) -> Iterator[Run]:
        """The runs that count as flows: completed ones, or every run that ended when ``include_failed``."""
        for run in self.runs.values():
            if run.counts(include_failed):
                yield run


def dataset_uri(namespace: str, name: str) -> str:
    """A dataset's identity as one URI, by the OpenLineage naming conventions.

    A namespace with a scheme and authority (``s3://bucket``, ``postgres://host:5432``,
    ``hdfs://namenode:8020``) is joined to the name with one ``/``; the local
    file system (``file``) gives a ``file://`` URI; a namespace without an
    authority (``bigquery``, ``pubsub``, a legacy plain name) is its scheme.

    >>> dataset_uri("s3://bucket", "chat/answers/")
    's3://bucket/chat/answers/'
    >>> dataset_uri("postgres://db.example:5432", "shop.public.orders")
    'postgres://db.example:5432/shop.public.orders'
    >>> dataset_uri("hdfs://namenode:8020", "/user/hive/warehouse/t1")
    'hdfs://namenode:8020/user/hive/warehouse/t1'
    >>> dataset_uri("file", "/data/train.parquet"), dataset_uri("bigquery", "proj.ds.table")
    ('file:///data/train.parquet', 'bigquery:proj.ds.table')
    """
    if "://" in namespace:
        return f"{namespace.rstrip('/')}/{name.lstrip('/')}"
    if namespace == "file":
        return f"file://{name}" if name.startswith("/") else f"file:///{name}"
    return f"{namespace}:{name}"


def job_id(namespace: str, name: str) -> str:
    """A job's identity: ``namespace/name``."""
    return f"{namespace}/{name}"


def read_lineage(paths: Iterable[str], progress: Callable[[int], None] | None = None) -> Lineage:
    """Read every event of ``paths`` (files or folders of them) into one :class:`Lineage`.

    ``progress`` is called with the number of events read so far, every 10,000.
    """
    lineage = Lineage()
    reader = _Reader(lineage, progress)
    # What is kept grows by millions of objects that are never garbage: the cyclic collector would walk
    # them again and again and find nothing (reference counting frees each event once read).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for path in paths:
            for file in _event_files(path, lineage):
                lineage.files.append(file)
                for line, item, plain in _records(file):
                    reader.add(file, line, item, plain)
    finally:
        if collecting:
            gc.enable()
    return lineage


def _event_files(path: str, lineage: Lineage) -> list[str]:
    if os.path.isdir(path):
        return sorted(os.path.join(path, name) for name in os.listdir(path) if name.endswith(EVENT_SUFFIXES))
    if not os.path.isfile(path):
        lineage.problems.append(_problem(YAML_SYNTAX, f"cannot read the lineage file: {path} does not exist",
                                         Location(path), fatal=True))
        return []
    return [path]


_Record = tuple[int, Any, bool]
"""The line an event starts at; the event (a dict), or a :class:`_Broken` when it could not be read; and whether
its text was plain: ASCII without escapes or DEL, so that no string in it can hold a control character."""


@dataclass(frozen=True)
class _Broken:
    rule: str
    message: str
    column: int = 1


def _open(file: str) -> IO[bytes]:
    if file.endswith(".gz"):
        return gzip.open(file, "rb")  # type: ignore[return-value]  # a GzipFile reads as a binary stream
    return open(file, "rb")


def _records(file: str) -> Iterator[_Record]:
    """Each event of ``file`` with its line, in whichever of the forms it was written."""
    try:
        with _open(file) as stream:
            first = _first_byte(stream)
            if first == b"[":
                yield from _unplain(_document_records(stream.read(MAX_DOCUMENT_BYTES + 1)))
                return
            line = stream.readline(MAX_EVENT_BYTES + 1)
            if first == b"{" and not _parses(line):
                rest = line + stream.read(MAX_DOCUMENT_BYTES + 1 - len(line))
                if _parses(rest):
                    yield from _unplain(_document_records(rest))
                    return
                stream.seek(0)
                line = stream.readline(MAX_EVENT_BYTES + 1)
            yield from _line_records(stream, line)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        yield 1, _Broken(YAML_SYNTAX, f"cannot read the lineage file: {error}"), False


def _unplain(records: Iterator[tuple[int, Any]]) -> Iterator[_Record]:
    for line, item in records:
        yield line, item, False


def _first_byte(stream: IO[bytes]) -> bytes:
    """The first byte that is not white space or a byte-order mark; the stream is left at its start."""
    head = stream.read(4096)
    stream.seek(0)
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]


def _parses(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return False
    return True


def _line_records(stream: IO[bytes], line: bytes) -> Iterator[_Record]:
    number = 0
    while line:
        number += 1
        if len(line) > MAX_EVENT_BYTES and not line.endswith(b"\n"):
            size = len(line)
            while line and not line.endswith(b"\n"):
                line = stream.readline(1024 * 1024)
                size += len(line)
            size -= line.endswith(b"\n")
            yield number, _Broken(SCHEMA, f"the event is {size:,} bytes, over the limit of {MAX_EVENT_BYTES:,}"), False
        elif not line.isspace():
            # JSON allows white space around a value, the line end too; a plain line is three scans in C
            yield number, _decode_line(line), line.isascii() and b"\\" not in line and b"\x7f" not in line
        line = stream.readline(MAX_EVENT_BYTES + 1)


_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""The scanner ``json.loads`` runs (in C), with the decoder's defaults."""


def _decode_line(line: bytes) -> Any:
    """The event of one line, as :func:`_decode` reads it.

    A line that holds an object in UTF-8 goes to the scanner at once, without the encoding detection and
    the white-space matches of ``json.loads`` around it: on a million events that is a quarter of the time
    the parse takes. Any line the scanner refuses goes to :func:`_decode`, which says what is wrong.
    """
    if line.startswith(b"{"):
        try:
            text = line.decode()
            item, end = _scan(text, 0)
        except (ValueError, StopIteration, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            return _decode(line)
        if end == len(text) or not text[end:].strip(" \t\r\n"):  # JSON's white space only, as json.loads allows
            return item
    return _decode(line)


def _decode(data: bytes | str) -> Any:
    try:
        return json.loads(data)
    except RecursionError:
        return _Broken(SCHEMA, "the event is nested too deeply to read")
    except json.JSONDecodeError as error:
        if error.lineno > 1 and isinstance(data, bytes) and data.endswith(b"\n"):  # past the line's end
            return _decode(data.rstrip(b"\r\n"))
        return _Broken(YAML_SYNTAX, f"not valid JSON: {error.msg}", error.colno)
    except ValueError as error:  # bytes that are not UTF-8
        return _Broken(YAML_SYNTAX, f"not valid JSON: {error}")


def _document_records(data: bytes) -> Iterator[tuple[int, Any]]:
    """The events of a whole JSON document: an array, an export (``{"events": [...]}``) or one event."""
    if len(data) > MAX_DOCUMENT_BYTES:
        yield 1, _Broken(SCHEMA, f"a JSON document over {MAX_DOCUMENT_BYTES:,} bytes cannot be read whole: "
                                 "write one event per line")
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        yield 1, _Broken(YAML_SYNTAX, f"not valid JSON: {error}")
        return
    decoder = json.JSONDecoder()
    start = _skip_space(text, 0)
    if text.startswith("[", start):
        yield from _array_records(text, start, decoder)
        return
    if not text.startswith("{", start):
        yield 1, _decode(text)
        return
    events = _export_events_at(text, start, decoder)
    if events is None:
        yield _line_of(text, start), _decode(text)
    else:
        yield from _array_records(text, events, decoder)


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _line_of(text: str, at: int) -> int:
    return text.count("\n", 0, at) + 1


def _export_events_at(text: str, start: int, decoder: json.JSONDecoder) -> int | None:
    """Where the ``events`` array of a Marquez export starts, or None when the object is not one."""
    try:
        document = decoder.decode(text[start:])
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or not isinstance(document.get("events"), list) or "eventType" in document:
        return None
    at = start + 1
    while True:  # walk the members to the one named "events", so each event keeps its line
        at = _skip_space(text, at)
        key, at = decoder.raw_decode(text, at)
        at = _skip_space(text, at) + 1  # past the colon
        at = _skip_space(text, at)
        if key == "events":
            return at
        _, at = decoder.raw_decode(text, at)
        at = _skip_space(text, at) + 1  # past the comma


def _array_records(text: str, start: int, decoder: json.JSONDecoder) -> Iterator[tuple[int, Any]]:
    at = _skip_space(text, start + 1)
    line, counted = 1, 0
    while at < len(text) and text[at] != "]":
        line += text.count("\n", counted, at)
        counted = at
        try:
            item, at = decoder.raw_decode(text, at)
        except RecursionError:
            yield line, _Broken(SCHEMA, "the event is nested too deeply to read; the rest of the array is not read")
            return
        except json.JSONDecodeError as error:
            yield error.lineno, _Broken(YAML_SYNTAX, f"not valid JSON: {error.msg}; the rest of the array is not read",
                                        error.colno)
            return
        yield line, item
        at = _skip_space(text, at)
        if text.startswith(",", at):
            at = _skip_space(text, at + 1)
        elif not text.startswith("]", at):
            yield _line_of(text, at), _Broken(YAML_SYNTAX, "not valid JSON: expected ',' or ']' after an event")
            return


def _problem(rule: str, message: str, location: Location, fatal: bool = False) -> RecordedProblem:
    return RecordedProblem(rule, Problem(message, location), fatal=fatal)


@cache
def _schema(name: str) -> dict[str, Any]:
    text = resources.files("loopscan.schemas").joinpath("openlineage").joinpath(f"{name}.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validators() -> dict[str, Any]:
    """The core schema's validator and each facet's, all resolving the core schema offline by its ``$id``."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    core = _schema("OpenLineage")
    registry: Registry[Any] = Registry().with_resource(core["$id"], Resource.from_contents(core))
    names = ["OpenLineage", *(name for names in _FACET_SCHEMAS.values() for name in names)]
    return {name: Draft202012Validator(_schema(name), registry=registry) for name in names}


@cache
def _predicates() -> dict[str, Callable[[Any], bool] | None]:
    """The same schemas compiled to predicates (:mod:`loopscan.sources.validity`): the fast path for valid events.

    The validators are given no format checker, so neither are these: ``format`` is an annotation.
    """
    core = _schema("OpenLineage")
    predicates: dict[str, Callable[[Any], bool] | None] = {}
    for name in ["OpenLineage", *(name for names in _FACET_SCHEMAS.values() for name in names)]:
        try:
            predicates[name] = compile_schema(_schema(name), (core,), formats=False)
        except Unsupported:
            predicates[name] = None
    return predicates


@cache
def _event_predicate() -> Callable[[Any], bool] | None:
    """One predicate for an event and every facet loopscan reads, each facet schema where its facet sits.

    True means the event is valid and no facet is to be dropped: the slow path of :meth:`_Reader.add`,
    which words the error or names the facet, runs only for an event it rejects.
    """
    core = _schema("OpenLineage")
    facets = {kind: {"allOf": [{"$ref": _schema(name)["$id"]} for name in names]}
              for kind, names in _FACET_SCHEMAS.items()}

    def datasets(kind: str) -> dict[str, Any]:
        return {"items": {"properties": {"facets": facets["dataset"], f"{kind}Facets": facets[kind]}}}

    located = {"allOf": [{"$ref": core["$id"]}, {"properties": {
        "run": {"properties": {"facets": facets["run"]}}, "inputs": datasets("input"), "outputs": datasets("output"),
    }}]}
    names = [name for names in _FACET_SCHEMAS.values() for name in names]
    try:
        return compile_schema(located, (core, *(_schema(name) for name in names)), formats=False)
    except Unsupported:
        return None


def _schema_error(name: str, data: Any, where: str) -> str | None:
    """The first error of ``data`` against schema ``name`` in words (the deepest path first), or None."""
    valid = _predicates()[name]
    if valid is not None and valid(data):
        return None
    errors = list(_validators()[name].iter_errors(data))
    if not errors:
        return None
    error = max(errors, key=lambda item: len(item.absolute_path))
    while error.context:  # oneOf/anyOf: say what the closest alternative lacks
        error = max(error.context, key=lambda item: len(item.absolute_path))
    path = ".".join([*([where] if where else []), *(str(part) for part in error.absolute_path)])
    return f"{path or 'the event'}: {printable(error.message[:300])}"


def _event_time(text: str) -> str | None:
    """``text`` when it is an RFC 3339 time (the schema's ``date-time``), else None."""
    try:
        datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        return None
    return text if "T" in text.upper() else None


class _Reader:
    """Adds each event to the lineage once it passes the checks."""

    def __init__(self, lineage: Lineage, progress: Callable[[int], None] | None) -> None:
        self.lineage = lineage
        self.progress = progress
        self.identities: dict[tuple[str, str], str] = {}
        """Each dataset's URI by its namespace and name, as far as the aliases seen so far say."""

    def add(self, file: str, line: int, item: Any, plain: bool = False) -> None:
        lineage = self.lineage
        if isinstance(item, _Broken):
            lineage.problems.append(_problem(item.rule, f"{item.message}", Location(file, line, item.column)))
            return
        lineage.events += 1
        if self.progress is not None and lineage.events % 10_000 == 0:
            self.progress(lineage.events)
        try:
            valid = _event_predicate()
            if valid is not None and valid(item):
                message = self._unreadable(item, plain)
            else:
                message = self._invalid(item)
                if message is None:
                    self._drop_broken_facets(item, Location(file, line))
        except RecursionError:
            message = "the event is nested too deeply to check"
        if message is not None:
            lineage.problems.append(_problem(SCHEMA, f"the event breaks the OpenLineage schema: {message}",
                                             Location(file, line)))
            return
        if "run" not in item:  # a JobEvent or DatasetEvent: metadata, no run and so no flow
            return
        self._add_run_event(item, file, line)

    def _invalid(self, item: Any) -> str | None:
        """What is wrong with an event, or None."""
        message = _schema_error("OpenLineage", item, "")
        if message is not None:
            return message
        return self._unreadable(item)

    def _unreadable(self, item: dict[str, Any], plain: bool = False) -> str | None:
        """What the schema lets pass but loopscan cannot read in a valid event (its time, control characters).

        ``plain``: the event's text was ASCII without escapes or DEL, so it holds no control character.
        """
        if _event_time(item["eventTime"]) is None:
            return f"eventTime: {printable(item['eventTime'][:100])!r} is not an RFC 3339 date-time"
        if plain:
            return None
        names = [item[key] for key in ("job", "dataset") if key in item]
        for dataset in (*(item.get("inputs") or ()), *(item.get("outputs") or ())):
            names.append(dataset)
            symlinks = ((dataset.get("facets") or {}).get("symlinks") or {}).get("identifiers")
            if symlinks:
                names.extend(symlink for symlink in symlinks if isinstance(symlink, dict))
        run_id = (item.get("run") or {}).get("runId")
        texts = [text for named in names for text in (named.get("namespace"), named.get("name"))
                 if isinstance(text, str)]
        if isinstance(run_id, str):
            texts.append(run_id)
        if UNPRINTABLE.search(" ".join(texts)) is None:  # one search: nearly every event is clean
            return None
        if isinstance(run_id, str) and UNPRINTABLE.search(run_id):
            return f"run.runId {printable(run_id[:200])!r} holds control characters"
        for named in names:
            for key in ("namespace", "name"):
                if isinstance(named.get(key), str) and UNPRINTABLE.search(named[key]):
                    return f"{key} {printable(named[key][:200])!r} holds control characters"
        return None

    def _drop_broken_facets(self, item: dict[str, Any], location: Location) -> None:
        """Check the facets loopscan reads against their schemas; one that breaks it is a finding, and unread."""
        self._check_facets((item.get("run") or {}).get("facets"), "run", "run.facets", location)
        for block, facets_key, kind in (("inputs", "inputFacets", "input"), ("outputs", "outputFacets", "output")):
            for index, dataset in enumerate(item.get(block) or ()):
                self._check_facets(dataset.get("facets"), "dataset", f"{block}.{index}.facets", location)
                self._check_facets(dataset.get(facets_key), kind, f"{block}.{index}.{facets_key}", location)

    def _check_facets(self, facets: dict[str, Any] | None, kind: str, where: str, location: Location) -> None:
        if not facets:
            return
        for key, name in _facet_keys()[kind]:
            if key in facets:
                message = _schema_error(name, facets, where)
                if message is not None:
                    self.lineage.problems.append(_problem(
                        SCHEMA, f"a facet breaks its OpenLineage schema, and is not read: {message}", location))
                    del facets[key]

    def _add_run_event(self, item: dict[str, Any], file: str, line: int) -> None:
        lineage = self.lineage
        job, run_fields = item["job"], item["run"]
        jid = job_id(job["namespace"], job["name"])
        run_id = run_fields["runId"]
        event_type = item.get("eventType") or "OTHER"
        event_type = _EVENT_TYPES.get(event_type, event_type)  # one string each: a million events keep them
        observed = lineage.jobs.get(jid)
        if observed is None:
            observed = lineage.jobs[jid] = ObservedJob(jid, job["namespace"], job["name"], job["namespace"],
                                                       Location(file, line))
        event = Evidence(observed.id, run_id, event_type, item["eventTime"], file, line)
        run_facets = run_fields.get("facets")
        if run_facets and "parent" in run_facets:
            group = _group(run_facets)
            if group is not None and group != jid:
                observed.group = group
        run = lineage.runs.get(run_id)
        if run is None:
            run = lineage.runs[run_id] = Run(run_id, observed.id, event_type, event, event)
            observed.runs.append(run_id)
        elif run.job != jid:
            lineage.problems.append(_problem(SCHEMA, f"run {printable(run_id)} was reported for job "
                                             f"{printable(run.job)} and now for {printable(jid)}", event.location))
            return
        if run.state not in TERMINAL_STATES or event_type in TERMINAL_STATES:
            run.state = event_type
        run.last = event
        identities = self.identities
        for role, block, facets_key, uses in (("input", "inputs", "inputFacets", run.inputs),
                                              ("output", "outputs", "outputFacets", run.outputs)):
            for dataset in item.get(block) or ():
                uri = identities.get((dataset["namespace"], dataset["name"]))
                described = dataset.get("facets")
                if uri is None or (described and ("symlinks" in described or "tags" in described)):
                    uri = self._dataset(dataset, event.location)
                known = uses.get(uri)
                facets = dataset.get(facets_key)
                # the first event that names it is the evidence, unless a later one reports its size
                if known is None:
                    rows, size = _sizes(facets, role) if facets else (None, None)
                    uses[uri] = DatasetUse(uri, rows, size, event)
                elif facets and known.rows is None and known.size is None:
                    rows, size = _sizes(facets, role)
                    if rows is not None or size is not None:
                        uses[uri] = DatasetUse(uri, rows, size, event)

    def _dataset(self, dataset: dict[str, Any], location: Location) -> str:
        """The identity of a dataset of an event, recording it and its aliases when new."""
        lineage = self.lineage
        key = (dataset["namespace"], dataset["name"])
        uri = self.identities.get(key)
        if uri is None:
            uri = lineage.identity(dataset_uri(*key))
            if uri not in lineage.datasets:
                lineage.datasets[uri] = ObservedDataset(uri, *key, location)
            uri = self.identities[key] = lineage.datasets[uri].uri  # one string for every use, not one per event
        facets = dataset.get("facets")
        if facets and ("symlinks" in facets or "tags" in facets):
            self._read_facets(lineage.datasets[uri], facets)
        return uri

    def _read_facets(self, observed: ObservedDataset, facets: dict[str, Any]) -> None:
        """Record the aliases (``symlinks``) and the provenance tag a dataset's facets give."""
        lineage = self.lineage
        for symlink in (facets.get("symlinks") or {}).get("identifiers") or ():
            alias = lineage.identity(dataset_uri(symlink["namespace"], symlink["name"]))
            if alias != observed.uri:  # the symlink names the same data: one node, under the first name seen
                lineage.aliases[alias] = observed.uri
                observed.aliases.append(alias)
                self.identities.clear()  # a name known as the alias now stands for this dataset
                merged = lineage.datasets.pop(alias, None)
                if merged is not None:
                    observed.aliases.extend(merged.aliases)
                    observed.provenance = observed.provenance or merged.provenance
        for tag in (facets.get("tags") or {}).get("tags") or ():
            if tag.get("key") == PROVENANCE_TAG and tag.get("value") in PROVENANCES and "field" not in tag:
                observed.provenance = tag["value"]


def _sizes(facets: dict[str, Any], role: str) -> tuple[int | None, int | None]:
    """The rows and bytes a dataset's input or output facets report, None for each they do not."""
    statistics = facets.get("inputStatistics" if role == "input" else "outputStatistics") or {}
    rows, size = statistics.get("rowCount"), statistics.get("size")
    if rows is None and role == "input":
        rows = (facets.get("dataQualityMetrics") or {}).get("rowCount")
    return rows, size


@cache
def _facet_keys() -> dict[str, list[tuple[str, str]]]:
    """The facets loopscan reads, by where they sit: each one's key, with its schema's name."""
    return {kind: [(_facet_key(name), name) for name in names] for kind, names in _FACET_SCHEMAS.items()}


def _facet_key(schema_name: str) -> str:
    """The key a facet is written under, from its schema's name.

    >>> _facet_key("InputStatisticsInputDatasetFacet"), _facet_key("ParentRunFacet")
    ('inputStatistics', 'parent')
    """
    return next(iter(_schema(schema_name)["properties"]))


def _group(facets: dict[str, Any]) -> str | None:
    """The job a run's ``parent`` facet names as its root, else as its parent."""
    parent = facets.get("parent")
    if not parent:
        return None
    for key in ("root", None):
        holder = parent.get(key) if key else parent
        job = (holder or {}).get("job")
        if isinstance(job, dict) and "namespace" in job and "name" in job:
            return job_id(job["namespace"], job["name"])
    return None
