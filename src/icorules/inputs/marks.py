"""Where each part of a parsed document is: the line and column of every path, for messages.

JSON is YAML, so one reader serves both: it walks libyaml's event stream (no recursion, nothing
built), which costs a fraction of building the node tree, and only as far into the text as a
question needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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


def _walk_marks(text: str) -> Iterator[tuple[Path, tuple[int, int]]]:
    """(path, (line, column)) for every key and item, in the order of the text.

    A mapping's child is located at its key, a list's item at the item. An alias is what it
    names: its parts are located where the anchored collection's parts are (as in the node
    tree libyaml would build). Reads events only: no recursion, nothing built.
    """
    loader = _SafeLoader(text)
    # Open collections: [path, is_mapping, the key awaiting its value (mappings) or next index].
    stack: list[list[Any]] = []
    # Anchored collections being read: (name, its frame in `stack`, the length of its path,
    # where it starts, its parts by path relative to it).
    recording: list[tuple[str, int, int, tuple[int, int], list[tuple[Path, tuple[int, int]]]]]
    recording = []
    anchors: dict[str, tuple[tuple[int, int], list[tuple[Path, tuple[int, int]]]]] = {}
    skipping = 0  # depth inside a key that is itself a collection (refused elsewhere)

    def located(path: Path, mark: tuple[int, int]) -> tuple[Path, tuple[int, int]]:
        for _, _, depth, _, parts in recording:
            parts.append((path[depth:], mark))
        return path, mark

    try:
        while (event := loader.get_event()) is not None:
            if isinstance(event, yaml.CollectionEndEvent):
                if skipping:
                    skipping -= 1
                    continue
                stack.pop()
                if recording and recording[-1][1] == len(stack):
                    name, _, _, start, parts = recording.pop()
                    anchors[name] = (start, parts)
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            if skipping:
                skipping += isinstance(event, yaml.CollectionStartEvent)
                continue
            at = event.start_mark
            mark = (at.line + 1, at.column + 1) if at is not None else (0, 0)
            if isinstance(event, yaml.AliasEvent):
                start, parts = anchors.get(event.anchor or "", (mark, []))
            else:
                start, parts = mark, []
            if not stack:
                path: Path = ()
                yield located(path, start)
            elif stack[-1][1] and stack[-1][2] is None:  # a key
                if isinstance(event, yaml.ScalarEvent):
                    stack[-1][2] = event.value
                    yield located((*stack[-1][0], str(event.value)), mark)
                else:
                    stack[-1][2] = ""
                    skipping = isinstance(event, yaml.CollectionStartEvent)
                continue
            elif stack[-1][1]:  # a mapping's value: located at its key
                path = (*stack[-1][0], str(stack[-1][2]))
                stack[-1][2] = None
            else:
                path = (*stack[-1][0], stack[-1][2])
                stack[-1][2] += 1
                yield located(path, start)
            for relative, where in parts:  # what an alias names, again under this path
                yield located((*path, *relative), where)
            if isinstance(event, yaml.CollectionStartEvent):
                is_mapping = isinstance(event, yaml.MappingStartEvent)
                if event.anchor is not None:
                    recording.append((event.anchor, len(stack), len(path), mark, []))
                stack.append([path, is_mapping, None if is_mapping else 0])
            elif isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
                anchors[event.anchor] = (mark, [])
    finally:
        loader.dispose()
