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

The events come from libyaml when PyYAML has it, else from PyYAML's own
pure-Python parser; the same walk reads both, so both give the same documents,
marks and findings (``tests/test_loader.py`` runs its cases on each). libyaml
composing a node tree would not be faster: it resolves every scalar's tag in
Python too, and the walk over the tree would still cost what this one does.
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
    marks: dict[KeyPath, int] = field(default_factory=dict)
    """Where each node was written, packed (:func:`_unpack`)."""
    key_marks: dict[KeyPath, int] = field(default_factory=dict)
    """Where the key of each mapping entry was written, packed."""

    def location(self, path: KeyPath) -> Location:
        """Where the value at ``path`` was written, or its nearest written ancestor.

        >>> doc = load_text("a:\\n  b: 1\\n", "f.yaml").documents[0]
        >>> str(doc.location(("a", "b"))), str(doc.location(("a", "missing")))
        ('f.yaml:2:6', 'f.yaml:2:3')
        """
        for end in range(len(path), 0, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return Location(self.file, *_unpack(mark))
        return self.start

    def key_location(self, path: KeyPath) -> Location:
        """Where the key of the mapping entry at ``path`` was written."""
        mark = self.key_marks.get(path)
        return Location(self.file, *_unpack(mark)) if mark is not None else self.location(path)


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


def _load_with(loader_class: type, text: str, file: str) -> YamlFile:
    result = YamlFile(file)
    try:
        for document in _documents(yaml.parse(text, Loader=loader_class), result):
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


class _Frame:
    """An open mapping or sequence on the walk's stack (slots: one is made per container of every file)."""

    __slots__ = ("anchor", "chars_before", "entry", "first_lines", "key", "key_mark", "merges", "nodes_before",
                 "path", "value")

    def __init__(self, value: dict[Any, Any] | list[Any], path: KeyPath, anchor: str | None,
                 nodes_before: int, chars_before: int) -> None:
        self.value = value
        self.path = path
        self.anchor = anchor
        self.nodes_before = nodes_before
        """The document's node count before this container opened: its own size is the count at its end minus this."""
        self.chars_before = chars_before
        """The same for characters."""
        self.key: str | None = None
        """A mapping's key whose value comes next (``_MERGE`` for ``<<``)."""
        self.entry: KeyPath | None = None
        """The path of that value, or None while a mapping waits for its next key."""
        self.key_mark = 0
        self.merges: list[dict[Any, Any]] | None = None
        self.first_lines: dict[Any, int] | None = None
        """The line of each repeated key's first occurrence, for duplicates (LS003)."""


def _documents(events: Iterator[yaml.Event], result: YamlFile) -> Iterator[YamlDocument]:
    """Turn an event stream into documents; an explicit stack, never recursion.

    Every file of a scan passes through this loop, event by event, so it is
    written for speed: events are told apart by their exact class, marks are
    packed ints (:func:`_unpack`), a mapping entry's path is made once, and a
    container's size is the difference of the document's running counts
    rather than a sum kept per container.
    """
    file = result.file
    stack: list[_Frame] = []
    anchors: dict[str, tuple[Any, int, int]] = {}  # value, nodes, characters
    total = 0  # nodes in the document (containers too), counting each alias as the size of what it names
    total_chars = 0  # characters of keys and values, counting each alias as the text of what it names
    document: YamlDocument | None = None
    marks: dict[KeyPath, int] = {}
    problems = result.problems
    implicit_resolvers = _IMPLICIT_RESOLVERS
    event: Any  # told apart by exact class, which mypy does not narrow on

    for event in events:
        kind = type(event)
        if kind is DocumentStartEvent:
            start: Any = event.start_mark  # libyaml always gives one
            document = YamlDocument(file, None, Location(file, start.line + 1, start.column + 1))
            marks = document.marks
            anchors.clear()
            total = total_chars = 0
            continue
        if document is None:
            continue
        if kind is DocumentEndEvent:
            yield document
            document = None
            continue
        top = stack[-1] if stack else None

        if kind is MappingEndEvent or kind is SequenceEndEvent:
            frame = stack.pop()
            value = frame.value
            if frame.merges:
                _apply_merges(frame.value, frame.merges)  # type: ignore[arg-type]
            if frame.anchor is not None:
                anchors[frame.anchor] = (value, total - frame.nodes_before, total_chars - frame.chars_before)
            if not stack:
                document.data = value
                continue
            parent = stack[-1]
            if parent.entry is None:  # a list: its items need no key
                parent.value.append(value)  # type: ignore[union-attr]
                continue
            if parent.key == _MERGE:
                end: Any = event.start_mark
                _add_merge_sources(parent, value, (end.line + 1, end.column + 1))
                continue
            _add_entry(document, parent, value, problems)
            continue

        start = event.start_mark
        mark = start.line << _LINE_SHIFT | start.column
        if top is not None and top.entry is None and type(top.value) is dict:
            # A mapping waits for a key.
            if kind is not ScalarEvent:
                # Not plain data, so not a manifest loopscan can read: a Helm template's
                # `{{ .Values.x }}` is the usual cause, and LS001's docs say how to exclude it.
                raise _Stop(YAML_SYNTAX, "a mapping key must be a plain value, not a mapping, list or alias",
                            _unpack(mark))
            key = event.value
            if event.style == '"' and _SURROGATE.search(key):
                raise _lone_surrogate(mark)
            total_chars += len(key)
            if total_chars > MAX_CHARS:
                raise _too_much_text(mark)
            tag = event.tag
            if tag is None:
                if key == "<<" and event.implicit[0]:
                    key = _MERGE
            elif tag not in _PLAIN_TAGS:
                problems.append(_unsafe_tag(file, tag, mark))
            top.key, top.key_mark, top.entry = key, mark, (*top.path, key)
            continue

        if top is None:
            path: KeyPath = ()
        elif top.entry is None:
            path = (*top.path, len(top.value))
        else:
            path = top.entry
        if top is None or top.key != _MERGE:
            marks[path] = mark

        if kind is ScalarEvent:
            text = event.value
            style = event.style
            if style == '"' and _SURROGATE.search(text):
                raise _lone_surrogate(mark)
            tag = event.tag
            if tag is None or tag == "!":
                if event.implicit[0]:
                    resolvers = implicit_resolvers.get(text[:1])
                    tag = _resolved(text, resolvers) if resolvers else _STR
                else:
                    tag = _STR
            if tag in _TYPED_SCALARS:
                value = _typed_scalar(tag, text, style, mark)
            else:
                if tag not in _PLAIN_TAGS:
                    problems.append(_unsafe_tag(file, tag, mark))
                value = text
            nodes, chars = 1, len(text)
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1, chars)
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if len(stack) >= MAX_DEPTH:
                raise _Stop(UNSAFE_YAML, f"nesting deeper than {MAX_DEPTH} levels", _unpack(mark))
            total += 1  # counted as it opens: a file of empty lists is no cheaper to read
            if total > MAX_NODES:
                raise _too_many_nodes(mark)
            tag = event.tag
            if tag and tag not in _PLAIN_TAGS:
                problems.append(_unsafe_tag(file, tag, mark))
            container: dict[Any, Any] | list[Any] = {} if kind is MappingStartEvent else []
            stack.append(_Frame(container, path, event.anchor, total - 1, total_chars))
            continue
        else:  # an alias: the only other event inside a document
            found = anchors.get(event.anchor)
            if found is None:
                raise _Stop(YAML_SYNTAX, f"alias *{event.anchor} refers to no finished anchor", _unpack(mark))
            value, nodes, chars = found

        total += nodes
        if total > MAX_NODES:
            raise _too_many_nodes(mark)
        total_chars += chars
        if total_chars > MAX_CHARS:
            raise _too_much_text(mark)
        if top is None:
            document.data = value
        elif top.entry is None:
            top.value.append(value)  # type: ignore[union-attr]
        elif top.key == _MERGE:
            _add_merge_sources(top, value, _unpack(mark))
        else:
            _add_entry(document, top, value, problems)


def _add_entry(document: YamlDocument, frame: _Frame, value: Any, problems: list[RecordedProblem]) -> None:
    """Put the finished value of the mapping entry ``frame`` waits on; a repeated key is LS003."""
    mapping: dict[Any, Any] = frame.value  # type: ignore[assignment]
    key, entry = frame.key, frame.entry
    assert entry is not None
    frame.entry = None
    if key in mapping:
        if frame.first_lines is None:
            frame.first_lines = {}
        first = frame.first_lines.setdefault(key, _unpack(document.key_marks.get(entry, frame.key_mark))[0])
        message = f"duplicate key {key!r} (first at line {first}); YAML keeps only the later one"
        problems.append(_problem(document.file, DUPLICATE_KEY, message, _unpack(frame.key_mark)))
    mapping[key] = value
    document.key_marks[entry] = frame.key_mark


def _add_merge_sources(frame: _Frame, value: Any, mark: tuple[int, int]) -> None:
    sources = value if isinstance(value, list) else [value]
    if not all(isinstance(source, dict) for source in sources):
        raise _Stop(YAML_SYNTAX, "a merge key (<<) needs a mapping or a list of mappings", mark)
    frame.entry = None
    if frame.merges is None:
        frame.merges = []
    frame.merges.extend(sources)


def _apply_merges(mapping: dict[Any, Any], sources: list[dict[Any, Any]]) -> None:
    """YAML merge keys: explicit keys win, earlier merge sources win over later ones."""
    for source in sources:
        for key, value in source.items():
            mapping.setdefault(key, value)


_LINE_SHIFT = 32
_COLUMN = (1 << _LINE_SHIFT) - 1


def _unpack(mark: int) -> tuple[int, int]:
    """The 1-based line and column of a mark packed as ``line << 32 | column`` (both 0-based).

    A document keeps a mark for each of its nodes and keys; packed into one
    int, a mark is no object of its own for the cyclic collector to walk.

    >>> _unpack(2 << 32 | 5)
    (3, 6)
    """
    return (mark >> _LINE_SHIFT) + 1, (mark & _COLUMN) + 1


_IMPLICIT_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = yaml.resolver.Resolver.yaml_implicit_resolvers
"""The tags a plain scalar may resolve to, by its first character (what ``Resolver.resolve`` looks up)."""


def _resolved(text: str, resolvers: list[tuple[str, re.Pattern[str]]]) -> str:
    """The tag of a plain scalar, as PyYAML's resolver gives it, from the resolvers of its first character."""
    for tag, pattern in resolvers:
        if pattern.match(text):
            return tag
    return _STR


def _too_many_nodes(mark: int) -> _Stop:
    return _Stop(UNSAFE_YAML, f"more than {MAX_NODES:,} nodes once aliases are expanded (a YAML bomb?)",
                 _unpack(mark))


def _too_much_text(mark: int) -> _Stop:
    return _Stop(UNSAFE_YAML, f"more than {MAX_CHARS:,} characters of text once aliases are expanded (a YAML bomb?)",
                 _unpack(mark))


_SURROGATE = re.compile("[\ud800-\udfff]")
"""A double-quoted escape such as ``"\\ud800"`` can name half a UTF-16 pair, which is no character.

libyaml refuses it; PyYAML's pure-Python parser lets it through, and no output could be written."""


def _lone_surrogate(mark: int) -> _Stop:
    return _Stop(YAML_SYNTAX, "YAML syntax error: an escape names a lone UTF-16 surrogate, not a character",
                 _unpack(mark))


def _unsafe_tag(file: str, tag: str, mark: int) -> RecordedProblem:
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return _problem(file, UNSAFE_YAML, f"tag {shown} is not allowed: loopscan reads plain data only", _unpack(mark))


def _typed_scalar(tag: str, text: str, style: str | None, mark: int) -> Any:
    """A null, bool, int or float scalar as its value; a number too large to be data is LS006."""
    if tag == _INT and len(text) > 2 * MAX_INT_BITS:
        # Never construct it: a base-60 number (1:2:3:...) of thousands of parts takes seconds.
        raise _too_large(text, mark)
    node = ScalarNode(tag, text, style=style)  # no marks: _Stop carries the place
    try:
        value = _constructor.yaml_constructors[tag](_constructor, node)
    except ValueError:
        # Python refuses to turn a number of thousands of digits into an int.
        raise _too_large(text, mark) from None
    if tag == _INT and value.bit_length() > MAX_INT_BITS:
        # 0x and 0b numbers of thousands of digits construct fine, then fail when printed in decimal.
        raise _too_large(text, mark)
    if tag == _FLOAT and not math.isfinite(value):
        return text
    return value


def _too_large(text: str, mark: int) -> _Stop:
    return _Stop(UNSAFE_YAML, f"number {text[:20]}... is too large", _unpack(mark))
