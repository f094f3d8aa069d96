"""Where each part of a parsed document is: the line and column of every path, for messages.

JSON is YAML, so one reader serves both: it walks libyaml's event stream (no recursion, nothing
built), which costs a fraction of building the node tree, and only as far into the text as a
question needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import yaml

from icorules.inputs.yaml_reader import yaml_safe

# libyaml's loader when PyYAML was built with it (much faster).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path = tuple[str | int, ...]


def marks_of(text: str, is_yaml: bool = True) -> dict[Path, tuple[int, int]]:
    """Map every path in the document to the line:column of its key (or item)."""
    marks = Marks(text, is_yaml)
    marks.find(None)
    return marks.found


class Marks:
    """Where each path of a document is, worked out as far into the text as a question needs.

    Reading a document's events costs a fraction of building its node tree, and a problem is
    often near the top of the file (a list over its limit, an unknown lead): `find` reads only
    up to the path it is asked for, and carries on from there for the next question, so the
    whole text is read at most once, however many problems are located.
    """

    def __init__(self, text: str, is_yaml: bool = True) -> None:
        self.found: dict[Path, tuple[int, int]] = {}
        self._walk: Iterator[tuple[Path, tuple[int, int]]] | None = _walk_marks(
            text if is_yaml else yaml_safe(text)
        )

    def find(self, loc: Path | None) -> tuple[int, int] | None:
        """The line and column of `loc` (None reads the whole text), or None if it has none."""
        if loc is not None and loc in self.found:
            return self.found[loc]
        while self._walk is not None:
            try:
                path, mark = next(self._walk)
            except (StopIteration, yaml.YAMLError):
                self._walk = None
                break
            self.found[path] = mark
            if path == loc:
                return mark
        return self.found.get(loc) if loc is not None else None


Mark = tuple[int, int]  # (line, column), from 1
Parts = list[tuple[Path, Mark]]  # the parts of a collection, by path relative to it


def _walk_marks(text: str) -> Iterator[tuple[Path, Mark]]:
    """(path, (line, column)) for every key and item, in the order of the text.

    A mapping's child is located at its key, a list's item at the item. An alias is what it
    names: its parts are located where the anchored collection's parts are (as in the node
    tree libyaml would build). Reads events only: no recursion, nothing built.
    """
    loader = _SafeLoader(text)
    walk = _Walk()
    try:
        while (event := loader.get_event()) is not None:
            if isinstance(event, yaml.CollectionEndEvent):
                walk.close()
            elif isinstance(event, yaml.NodeEvent):
                yield from walk.node(event)
    finally:
        loader.dispose()


@dataclass(slots=True)
class _Frame:
    """An open collection: its path, and the key awaiting its value or the next item's index."""

    path: Path
    is_mapping: bool
    key: str | None = None  # a mapping's key awaiting its value ("" for a collection key)
    index: int = 0  # a list's next item


@dataclass(slots=True)
class _Recording:
    """An anchored collection being read: its parts are kept for the aliases that name it."""

    name: str
    frame: int  # its frame's place in the stack
    depth: int  # the length of its path
    start: Mark
    parts: Parts


@dataclass
class _Walk:
    """The state of `_walk_marks` between events: the open collections, the anchored ones
    being recorded, and what each anchor names."""

    stack: list[_Frame] = field(default_factory=list)
    recording: list[_Recording] = field(default_factory=list)
    anchors: dict[str, tuple[Mark, Parts]] = field(default_factory=dict)
    skipping: int = 0  # depth inside a key that is itself a collection (refused elsewhere)

    def located(self, path: Path, mark: Mark) -> tuple[Path, Mark]:
        """`path` at `mark`, recorded under every anchored collection it is inside."""
        for record in self.recording:
            record.parts.append((path[record.depth :], mark))
        return path, mark

    def close(self) -> None:
        """A collection ends: an anchored one is kept for its aliases."""
        if self.skipping:
            self.skipping -= 1
            return
        self.stack.pop()
        if self.recording and self.recording[-1].frame == len(self.stack):
            record = self.recording.pop()
            self.anchors[record.name] = (record.start, record.parts)

    def node(self, event: yaml.NodeEvent) -> Iterator[tuple[Path, Mark]]:
        """A scalar, an alias or a collection's start: the paths it locates."""
        if self.skipping:
            self.skipping += isinstance(event, yaml.CollectionStartEvent)
            return
        at = event.start_mark
        mark = (at.line + 1, at.column + 1) if at is not None else (0, 0)
        if self.stack and self.stack[-1].is_mapping and self.stack[-1].key is None:
            yield from self.key(event, mark)
            return
        if isinstance(event, yaml.AliasEvent):
            start, parts = self.anchors.get(event.anchor or "", (mark, []))
        else:
            start, parts = mark, []
        path, at_item = self.place()
        if at_item:
            yield self.located(path, start)
        for relative, where in parts:  # what an alias names, again under this path
            yield self.located((*path, *relative), where)
        self.open(event, path, mark)

    def key(self, event: yaml.NodeEvent, mark: Mark) -> Iterator[tuple[Path, Mark]]:
        """A mapping's key: its value is located here. A key that is a collection is skipped."""
        frame = self.stack[-1]
        if isinstance(event, yaml.ScalarEvent):
            frame.key = event.value
            yield self.located((*frame.path, str(event.value)), mark)
        else:
            frame.key = ""
            self.skipping = isinstance(event, yaml.CollectionStartEvent)

    def place(self) -> tuple[Path, bool]:
        """The path of the next value, and whether it is located at itself (the document and a
        list's items) rather than at its key (a mapping's values, already located)."""
        if not self.stack:
            return (), True
        frame = self.stack[-1]
        if frame.is_mapping:
            path = (*frame.path, str(frame.key))
            frame.key = None
            return path, False
        frame.index += 1
        return (*frame.path, frame.index - 1), True

    def open(self, event: yaml.NodeEvent, path: Path, mark: Mark) -> None:
        """A collection starts at `path` (recorded if anchored); an anchored scalar has no parts."""
        if isinstance(event, yaml.CollectionStartEvent):
            is_mapping = isinstance(event, yaml.MappingStartEvent)
            if event.anchor is not None:
                self.recording.append(
                    _Recording(event.anchor, len(self.stack), len(path), mark, [])
                )
            self.stack.append(_Frame(path, is_mapping))
        elif isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
            self.anchors[event.anchor] = (mark, [])
