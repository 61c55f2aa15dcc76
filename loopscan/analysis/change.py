"""What a change did: the project at a base revision and now, compared as analysed projects, not as texts.

Loops are matched by their generate steps, else by the name of the ``loops``
entry that documents them; steps and artifacts by qualified id, where a
``loops`` entry of the same name in both revisions lists a renamed step at the
same place of its ``through``, the rename is followed. Reformatting a file,
reordering its keys or moving it to another folder changes none of this.

The decay rules (LS8xx) read a :class:`Change`; each reports at the line of
the head revision that a reviewer sees, and names what was there before with
its place at the base (``curation.yaml:12 at origin/main``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from loopscan.config import Config, display_path
from loopscan.findings import Location, Severity
from loopscan.sources.manifest import Artifact, Declared, Manifest, Step
from loopscan.sources.yamlsource import load_bytes

if TYPE_CHECKING:
    from loopscan.analysis.facts import Loop
    from loopscan.project import Project


@dataclass(frozen=True)
class Settings:
    """A revision's config and the bytes of its file (None when it had none), to say where a setting was written."""

    config: Config
    text: bytes | None = None

    @property
    def file(self) -> str | None:
        return None if self.config.source is None else display_path(str(self.config.source))

    def written(self, *path: str | int) -> bool:
        """Whether the config file writes ``path`` (not a default)."""
        if self.text is None or self.config.source is None:
            return False
        data: object
        if self.config.source.name == "pyproject.toml":
            data = _toml_table(self.text)
        else:
            loaded = load_bytes(self.text, self.file or "")
            data = loaded.documents[0].data if loaded.documents else None
        for part in path:
            found = ((isinstance(data, dict) and isinstance(part, str) and part in data)
                     or (isinstance(data, list) and isinstance(part, int) and part < len(data)))
            if not found:
                return False
            data = data[part]  # type: ignore[index]
        return True

    def location(self, *path: str | int) -> Location | None:
        """Where ``path`` (``("policy", "max_synthetic")``, ``("ignore", 0)``) was written, or the nearest
        enclosing key; None without a config file."""
        file = self.file
        if file is None or self.text is None:
            return None
        if self.config.source is not None and self.config.source.name == "pyproject.toml":
            return Location(file, _toml_line(self.text.decode("utf-8", "replace"), path))
        loaded = load_bytes(self.text, file)
        if not loaded.documents:
            return Location(file)
        document = loaded.documents[0]
        for end in range(len(path), 0, -1):
            key = tuple(path[:end])
            if key in document.key_marks or key in document.marks:
                return document.location(key) if isinstance(key[-1], int) else document.key_location(key)
        return document.start


def _toml_table(raw: bytes) -> object:
    """``[tool.loopscan]`` of a pyproject.toml's bytes (the config step already read it once, so it parses)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        tool = tomllib.loads(raw.decode("utf-8")).get("tool")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return tool.get("loopscan") if isinstance(tool, dict) else None


def _toml_line(text: str, path: tuple[str | int, ...]) -> int:
    """The line of ``path`` under ``[tool.loopscan]`` in a pyproject.toml, or of the nearest key that holds it.

    TOML's reader keeps no lines, so the line is found by its key: a table
    header ``[tool.loopscan.policy]``, a key ``max_synthetic =`` inside it, a
    dotted key ``policy.max_synthetic =``, and a list item by its quoted value.
    """
    names = [part for part in path if isinstance(part, str)]
    table = ""
    best = 1
    best_depth = -1
    item = next((part for part in path if isinstance(part, int)), None)
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.fullmatch(r"\[\s*([^\]]+?)\s*\]", stripped)
        if header:
            table = header.group(1).replace(" ", "")
            if table == "tool.loopscan" and best_depth < 0:
                best, best_depth = number, 0
            for depth in range(1, len(names) + 1):
                if table == "tool.loopscan." + ".".join(names[:depth]) and depth > best_depth:
                    best, best_depth = number, depth
            continue
        if not table.startswith("tool.loopscan"):
            continue
        inside = table[len("tool.loopscan"):].lstrip(".").split(".") if table != "tool.loopscan" else []
        key = re.match(r"([A-Za-z0-9_.\"' -]+?)\s*=", stripped)
        if not key:
            continue
        written = [*inside, *key.group(1).replace('"', "").replace("'", "").replace(" ", "").split(".")]
        depth = len(written) if names[:len(written)] == written else 0
        if depth > best_depth:
            best, best_depth = number, depth
    if item is not None and best_depth == len(names):
        value = _item_value(text, best, item)
        if value is not None:
            return value
    return best


def _item_value(text: str, line: int, index: int) -> int | None:
    """The line of the ``index``th quoted item of the list that starts on ``line``."""
    lines = text.splitlines()
    seen = 0
    for number in range(line, len(lines) + 1):
        for _ in re.finditer(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'", lines[number - 1].split("=", 1)[-1]
                             if number == line else lines[number - 1]):
            if seen == index:
                return number
            seen += 1
        if "]" in lines[number - 1]:
            return None
    return None


@dataclass
class Change:
    """The project at the base revision and now, matched node by node."""

    base: Project
    head: Project
    label: str
    """What the base revision is called in messages (``origin/main``)."""
    base_settings: Settings = field(default_factory=lambda: Settings(Config()))
    head_settings: Settings = field(default_factory=lambda: Settings(Config()))
    default_severity: dict[str, Severity] = field(default_factory=dict)
    """Each loaded rule's default severity, for a severity the config lowered."""

    def was(self, location: Location) -> str:
        """``curation.yaml:12 at origin/main``: a place in the base revision."""
        return f"{location.file}:{location.line} at {self.label}"

    @cached_property
    def renamed(self) -> dict[str, str]:
        """Base node -> head node, for a step or artifact renamed in place of a ``loops`` entry's ``through``.

        Both ``loops`` entries must have the same pipeline and name; the old
        node must be gone from the head and the new one absent from the base.
        """
        renames: dict[str, str] = {}
        head_entries = {(m.pipeline, name): doc for m in self.head.manifests for name, doc in m.loops.items()}
        for manifest in self.base.manifests:
            for name, doc in manifest.loops.items():
                now = head_entries.get((manifest.pipeline, name))
                if now is None or len(now.through) != len(doc.through):
                    continue
                for old_ref, new_ref in zip(doc.through, now.through, strict=True):
                    old, new = self.base.nodes.get(old_ref), self.head.nodes.get(new_ref)
                    if (old and new and old != new and old not in self.head.dataflow.nodes
                            and new not in self.base.dataflow.nodes):
                        renames[old] = new
        return renames

    def counterpart(self, base_node: str) -> str | None:
        """The head node that a base node became: itself, or its rename; None when it is gone."""
        node = self.renamed.get(base_node, base_node)
        return node if node in self.head.dataflow.nodes else None

    def head_declaration(self, base_node: str) -> Step | Artifact | None:
        node = self.counterpart(base_node)
        return None if node is None else self.head.facts.declaration(node)

    @cached_property
    def loop_pairs(self) -> list[tuple[Loop, Loop]]:
        """Each base loop with the head loop it became: one that holds one of its generate steps (renames
        followed), else one documented by a ``loops`` entry of the same name."""
        head_facts = self.head.facts
        by_name = {loop.name: loop for loop in head_facts.loops if loop.name}
        pairs = []
        for loop in self.base.facts.loops:
            found = None
            for generate in loop.generates:
                node = self.counterpart(generate)
                found = head_facts.loop_through(node) if node else None
                if found is not None:
                    break
            if found is None and loop.name:
                found = by_name.get(loop.name)
            if found is not None:
                pairs.append((loop, found))
        return pairs

    def manifest_now(self, pipeline: str) -> Manifest | None:
        """The head manifest of ``pipeline``, wherever it moved."""
        return self.head.facts.linked.pipelines.get(pipeline)

    def nearest(self, gone: Declared, fallback: Location) -> Location:
        """Where a reviewer sees that ``gone`` was deleted: its manifest's block key (``steps:``) in the head,
        else the head manifest itself, else ``fallback``."""
        manifest = self.manifest_now(gone.pipeline)
        if manifest is None:
            return fallback
        block = str(gone.path[0])
        if block in (manifest.document.data or {}):
            return manifest.key_at(block)
        return manifest.document.start

    def matched_steps(self) -> Iterator[tuple[Step, Step]]:
        """Each base step with the head step it became (by qualified id, renames followed)."""
        for manifest in self.base.manifests:
            for step in manifest.steps.values():
                now = self.head_declaration(step.qualified)
                if isinstance(now, Step):
                    yield step, now

    def matched_artifacts(self) -> Iterator[tuple[Artifact, Artifact]]:
        """Each base dataset and model with the head artifact it became (by qualified id, renames followed)."""
        for manifest in self.base.manifests:
            for artifact in manifest.artifacts.values():
                now = self.head_declaration(artifact.qualified)
                if isinstance(now, Artifact):
                    yield artifact, now

