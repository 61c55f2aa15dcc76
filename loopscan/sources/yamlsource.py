"""Read YAML safely, keeping the line and column of every node.

The loader walks libyaml's event stream once with an explicit stack, so that
it can:

* keep a mark for every mapping value, sequence item and key (findings point
  at the node a reviewer must change, never at the top of the file);
* report duplicate keys (LS003), which plain PyYAML resolves silently;
* stop alias bombs (billion laughs, and one long string aliased many times),
  deep nesting, oversized files and huge numbers with a finding (LS006)
  instead of a hang: every limit is checked as the events arrive;
* never construct anything but plain data: tags such as
  ``!!python/object/apply`` are refused, not executed.

Values come back as plain ``dict``/``list``/``str``/``int``/``float``/``bool``/
``None``. Dates stay strings (exactly as written), so that a document is valid
JSON data for the schema and a date is parsed only where one is expected; so do
``.nan`` and ``.inf``, which JSON cannot hold (as numbers they would pass every
``minimum`` and ``maximum`` and reach arithmetic that cannot take them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import ScalarNode

from loopscan.findings import Location, Problem, RecordedProblem
from loopscan.integrity import DUPLICATE_KEY, UNSAFE_YAML, YAML_SYNTAX

KeyPath = tuple[str | int, ...]
"""Where a value sits in a document: the keys and list indexes from its root (``("steps", "serve", "inputs", 0)``)."""

MAX_BYTES = 8 * 1024 * 1024
"""A manifest larger than this is refused (LS006); real ones are a few KiB."""
MAX_DEPTH = 64
"""Nesting deeper than this is refused (LS006); a manifest needs about six."""
MAX_NODES = 100_000
"""Nodes after alias expansion; a billion-laughs file passes this at once.

A manifest needs a few hundred; reading 100,000 takes well under a second."""
MAX_CHARS = MAX_BYTES
"""Characters of keys and values after alias expansion.

A file within MAX_BYTES never has more, so this only stops one long string
aliased many times: each copy would be quoted in findings, and the report
would grow with the square of the file."""
MAX_INT_BITS = 64
"""An integer needs more bits than this only to attack whatever prints it."""

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_resolver = yaml.resolver.Resolver()
_constructor = SafeConstructor()

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"
_TYPED_SCALARS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    _INT,
    _FLOAT,
}
_PLAIN_TAGS = {
    _STR,
    _MERGE,
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:binary",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}


@dataclass
class YamlDocument:
    """One YAML document as plain data, plus where each node of it was written."""

    file: str
    data: Any
    start: Location
    marks: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def location(self, path: KeyPath) -> Location:
        """Where the value at ``path`` was written, or its nearest written ancestor.

        >>> doc = load_text("a:\\n  b: 1\\n", "f.yaml").documents[0]
        >>> str(doc.location(("a", "b"))), str(doc.location(("a", "missing")))
        ('f.yaml:2:6', 'f.yaml:2:3')
        """
        for end in range(len(path), 0, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return Location(self.file, *mark)
        return self.start

    def key_location(self, path: KeyPath) -> Location:
        """Where the key of the mapping entry at ``path`` was written."""
        mark = self.key_marks.get(path)
        return Location(self.file, *mark) if mark else self.location(path)


@dataclass
class YamlFile:
    """Everything read from one file: its documents and the problems met on the way."""

    file: str
    documents: list[YamlDocument] = field(default_factory=list)
    problems: list[RecordedProblem] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return not any(p.fatal for p in self.problems)


class _Stop(Exception):
    """Raised inside the walk when the rest of the file cannot be read safely."""

    def __init__(self, rule: str, message: str, mark: tuple[int, int]) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.mark = mark


def load_bytes(raw: bytes, file: str) -> YamlFile:
    """Decode and load a file's bytes; size and encoding problems are findings.

    >>> load_bytes(b"a: [1, 2]", "f.yaml").documents[0].data
    {'a': [1, 2]}
    """
    if len(raw) > MAX_BYTES:
        # The caller may read only MAX_BYTES + 1 bytes, so the true size is not known here.
        limit = f"{MAX_BYTES // 1024 // 1024} MiB"
        return _fatal(file, UNSAFE_YAML, f"file is larger than the {limit} limit for a manifest", (1, 1))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        return _fatal(file, YAML_SYNTAX, f"file is not UTF-8 text (byte 0x{raw[err.start]:02x})", (line, column))
    return load_text(text, file)


def load_text(text: str, file: str) -> YamlFile:
    """Load every document of ``text``; ``file`` is only used for locations.

    >>> result = load_text("steps:\\n  a: 1\\n  a: 2\\n", "f.yaml")
    >>> [(p.rule, str(p.problem.location)) for p in result.problems]
    [('LS003', 'f.yaml:3:3')]
    """
    result = _load_with(_Loader, text, file)
    if _Loader is not yaml.SafeLoader and any(p.rule == _PARSER_LIMIT for p in result.problems):
        # libyaml 0.2.5 (PyYAML 6.0.4 wheels) refuses nesting past 1,000 levels while it
        # looks ahead, before loopscan sees the 65th: read such a file again with PyYAML's
        # own parser, which streams, so the finding is LS006 at the first level too deep.
        result = _load_with(yaml.SafeLoader, text, file)
    return result


_PARSER_LIMIT = "parser limit"
"""The rule of a problem that libyaml's own nesting limit raised, until it is read again."""


def _load_with(loader: type, text: str, file: str) -> YamlFile:
    result = YamlFile(file)
    try:
        for document in _documents(yaml.parse(text, Loader=loader), result):
            result.documents.append(document)
    except _Stop as err:
        result.problems.append(_problem(file, err.rule, err.message, err.mark, fatal=True))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML syntax error: {err.problem or err.context}"
        if mark and mark.index < len(text) and text[mark.index] == "\t":
            message = "YAML syntax error: a tab character; YAML indents with spaces only"
        rule = _PARSER_LIMIT if "maximum nesting depth" in str(err.problem) else YAML_SYNTAX
        result.problems.append(_problem(file, rule, message, where, fatal=True))
    except yaml.YAMLError as err:
        message = f"YAML syntax error: {str(err).splitlines()[0]}"
        result.problems.append(_problem(file, YAML_SYNTAX, message, (1, 1), fatal=True))
    return result


def _fatal(file: str, rule: str, message: str, mark: tuple[int, int]) -> YamlFile:
    return YamlFile(file, problems=[_problem(file, rule, message, mark, fatal=True)])


def _problem(file: str, rule: str, message: str, mark: tuple[int, int], fatal: bool = False) -> RecordedProblem:
    return RecordedProblem(rule, Problem(message, Location(file, *mark)), fatal)


@dataclass
class _Frame:
    """An open mapping or sequence on the walk's stack."""

    value: dict[Any, Any] | list[Any]
    path: KeyPath
    anchor: str | None
    nodes: int = 1
    chars: int = 0
    """Characters of its keys and values, aliases expanded."""
    key: str | None = None
    expect_key: bool = True
    key_mark: tuple[int, int] = (0, 0)
    merges: list[dict[Any, Any]] = field(default_factory=list)
    first_lines: dict[Any, int] = field(default_factory=dict)
    """The line of each key's first occurrence, for duplicates (LS003)."""


def _documents(events: Iterator[yaml.Event], result: YamlFile) -> Iterator[YamlDocument]:
    """Turn an event stream into documents; an explicit stack, never recursion."""
    file = result.file
    stack: list[_Frame] = []
    anchors: dict[str, tuple[Any, int, int]] = {}  # value, nodes, characters
    total = 0  # nodes in the document (containers too), counting each alias as the size of what it names
    total_chars = 0  # characters of keys and values, counting each alias as the text of what it names
    document: YamlDocument | None = None

    for event in events:
        start: Any = event.start_mark  # libyaml always gives one
        mark = (start.line + 1, start.column + 1)
        if isinstance(event, DocumentStartEvent):
            document = YamlDocument(file, None, Location(file, *mark))
            anchors.clear()
            total = total_chars = 0
            continue
        if document is None:
            continue

        top = stack[-1] if stack else None
        if (top is not None and isinstance(top.value, dict) and top.expect_key
                and not isinstance(event, MappingEndEvent)):
            if not isinstance(event, ScalarEvent):
                # Not plain data, so not a manifest loopscan can read: a Helm template's
                # `{{ .Values.x }}` is the usual cause, and LS001's docs say how to exclude it.
                raise _Stop(YAML_SYNTAX, "a mapping key must be a plain value, not a mapping, list or alias", mark)
            _check_text(event, mark)
            top.key, top.key_mark, top.expect_key = event.value, mark, False
            top.chars += len(event.value)
            total_chars += len(event.value)
            if total_chars > MAX_CHARS:
                raise _too_much_text(mark)
            if event.tag is None and event.implicit[0] and event.value == "<<":
                top.key = _MERGE
            elif event.tag and event.tag not in _PLAIN_TAGS:
                result.problems.append(_unsafe_tag(file, event.tag, mark))
            continue

        if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            if len(stack) >= MAX_DEPTH:
                raise _Stop(UNSAFE_YAML, f"nesting deeper than {MAX_DEPTH} levels", mark)
            total += 1  # counted as it opens: a file of empty lists is no cheaper to read
            if total > MAX_NODES:
                raise _too_many_nodes(mark)
            if event.tag and event.tag not in _PLAIN_TAGS:
                result.problems.append(_unsafe_tag(file, event.tag, mark))
            path = _child_path(top)
            _record_mark(document, top, path, mark)
            container: dict[Any, Any] | list[Any] = {} if isinstance(event, MappingStartEvent) else []
            stack.append(_Frame(container, path, event.anchor))
            continue

        if isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            frame = stack.pop()
            if isinstance(frame.value, dict):
                _apply_merges(frame)
            if frame.anchor is not None:
                anchors[frame.anchor] = (frame.value, frame.nodes, frame.chars)
            value, nodes, chars = frame.value, frame.nodes, frame.chars
        elif isinstance(event, ScalarEvent):
            _check_text(event, mark)
            value, nodes, chars = _scalar(event, mark, result), 1, len(event.value)
            path = _child_path(top)
            _record_mark(document, top, path, mark)
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1, chars)
        elif isinstance(event, AliasEvent):
            if event.anchor not in anchors:
                raise _Stop(YAML_SYNTAX, f"alias *{event.anchor} refers to no finished anchor", mark)
            value, nodes, chars = anchors[event.anchor]
            _record_mark(document, top, _child_path(top), mark)
        else:
            if isinstance(event, DocumentEndEvent):
                yield document
                document = None
            continue  # StreamStart, StreamEnd

        if not isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            total += nodes
            if total > MAX_NODES:
                raise _too_many_nodes(mark)
            total_chars += chars
            if total_chars > MAX_CHARS:
                raise _too_much_text(mark)
        if not stack:
            document.data = value
            continue
        parent = stack[-1]
        parent.nodes += nodes
        parent.chars += chars
        if isinstance(parent.value, list):
            parent.value.append(value)
            continue
        key: str = parent.key or ""
        parent.expect_key = True
        if key == _MERGE:
            parent.merges.extend(_merge_sources(value, mark))
            continue
        if key in parent.value:
            first = parent.first_lines.setdefault(key, document.key_marks.get((*parent.path, key), parent.key_mark)[0])
            message = f"duplicate key {key!r} (first at line {first}); YAML keeps only the later one"
            result.problems.append(_problem(file, DUPLICATE_KEY, message, parent.key_mark))
        parent.value[key] = value
        entry_path = (*parent.path, key)
        document.key_marks[entry_path] = parent.key_mark


def _too_many_nodes(mark: tuple[int, int]) -> _Stop:
    return _Stop(UNSAFE_YAML, f"more than {MAX_NODES:,} nodes once aliases are expanded (a YAML bomb?)", mark)


def _too_much_text(mark: tuple[int, int]) -> _Stop:
    return _Stop(UNSAFE_YAML, f"more than {MAX_CHARS:,} characters of text once aliases are expanded (a YAML bomb?)",
                 mark)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(event: ScalarEvent, mark: tuple[int, int]) -> None:
    """A double-quoted escape such as ``"\\ud800"`` can name half a UTF-16 pair, which is no character.

    libyaml refuses it; PyYAML's pure-Python parser lets it through, and no output could be written.
    """
    if event.style == '"' and _SURROGATE.search(event.value):
        raise _Stop(YAML_SYNTAX, "YAML syntax error: an escape names a lone UTF-16 surrogate, not a character", mark)


def _child_path(top: _Frame | None) -> KeyPath:
    if top is None:
        return ()
    if isinstance(top.value, list):
        return (*top.path, len(top.value))
    return (*top.path, top.key or "")


def _record_mark(document: YamlDocument, top: _Frame | None, path: KeyPath, mark: tuple[int, int]) -> None:
    if top is not None and top.key == _MERGE:
        return
    document.marks[path] = mark


def _merge_sources(value: Any, mark: tuple[int, int]) -> list[dict[Any, Any]]:
    sources = value if isinstance(value, list) else [value]
    if not all(isinstance(source, dict) for source in sources):
        raise _Stop(YAML_SYNTAX, "a merge key (<<) needs a mapping or a list of mappings", mark)
    return sources


def _apply_merges(frame: _Frame) -> None:
    """YAML merge keys: explicit keys win, earlier merge sources win over later ones."""
    assert isinstance(frame.value, dict)
    for source in frame.merges:
        for key, value in source.items():
            frame.value.setdefault(key, value)


def _unsafe_tag(file: str, tag: str, mark: tuple[int, int]) -> RecordedProblem:
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return _problem(file, UNSAFE_YAML, f"tag {shown} is not allowed: loopscan reads plain data only", mark)


def _scalar(event: ScalarEvent, mark: tuple[int, int], result: YamlFile) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        tag = _resolver.resolve(ScalarNode, event.value, event.implicit)
    if tag not in _TYPED_SCALARS:
        if tag not in _PLAIN_TAGS:
            result.problems.append(_unsafe_tag(result.file, tag, mark))
        return event.value
    too_large = _Stop(UNSAFE_YAML, f"number {event.value[:20]}... is too large", mark)
    if tag == _INT and len(event.value) > 2 * MAX_INT_BITS:
        # Never construct it: a base-60 number (1:2:3:...) of thousands of parts takes seconds.
        raise too_large
    node = ScalarNode(tag, event.value, style=event.style)  # no marks: _Stop carries the place
    try:
        value = _constructor.yaml_constructors[tag](_constructor, node)
    except ValueError:
        # Python refuses to turn a number of thousands of digits into an int.
        raise too_large from None
    if tag == _INT and value.bit_length() > MAX_INT_BITS:
        # 0x and 0b numbers of thousands of digits construct fine, then fail when printed in decimal.
        raise too_large
    if tag == _FLOAT and not math.isfinite(value):
        return event.value
    return value
