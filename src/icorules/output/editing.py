"""Editing a user's bid in place, as they wrote it: what `check --fix` writes.

A fix adds a party to a list, or a key to a mapping. Rather than read the whole file and write
it out again in a layout of icorules' choosing, each edit is spliced into the text where it
belongs, found through the positions of YAML's node tree (JSON is YAML, and its positions are
read the same way): everything outside the edit stays byte for byte as it was, comments, key
order, quoting, flow or block layout, and a JSON file's indentation included. A new item takes
the layout of its neighbours (a new line at their indentation, or after a comma on theirs).

Every result is read back and compared with the same edits made to the parsed data; if the two
differ (a layout the splicer does not know), the edit is refused, never written half right.
A list or mapping reached through a YAML alias is refused too: changing it would change every
place the alias is used.

`rewritten_text` makes the edits of a format upgrade the same way: a key renamed (its value
replaced), a key removed, a key set (added first in its mapping when it is new), each spliced
in, and the result read back and compared with the data it must give.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from icorules.inputs.documents import Document, load_document
from icorules.inputs.yaml_reader import yaml_safe
from icorules.rules.patches import Loc, PatchOp, apply_patch, concrete


class EditError(Exception):
    """An edit that cannot be made in place; the message says why, in the file's terms."""


def edited_text(document: Document, ops: Iterable[PatchOp]) -> str:
    """The document's text with the patch steps made; raises EditError if they cannot be."""
    text = document.text
    data = document.data
    for op in ops:
        for kind, loc, value in concrete(data, op):
            text = _splice(text, document.is_yaml, kind, loc, value)
            data = _read(document, text)
    expected = _read(document, document.text)
    for op in ops:
        apply_patch(expected, op)
    if _read(document, text) != expected:
        raise EditError(f"{document.name}: its layout cannot be edited in place; edit it by hand")
    return text


@dataclass(frozen=True)
class Rename:
    """The key at `loc` becomes `key`, with `value`."""

    loc: Loc
    key: str
    value: Any


@dataclass(frozen=True)
class Remove:
    """The key at `loc` goes, with its value."""

    loc: Loc


@dataclass(frozen=True)
class SetFirst:
    """The key at `loc` gets `value`; a new key goes first in its mapping."""

    loc: Loc
    value: Any


Rewrite = Rename | Remove | SetFirst


def rewritten_text(document: Document, edits: Sequence[Rewrite], expected: Any) -> str:
    """The document's text with the edits made in place, every byte outside them kept; raises
    EditError if one cannot be made, or if the result does not read back as `expected`."""
    text = document.text
    for edit in edits:
        root = _root(text, document.is_yaml)
        parent, shared = _find(root, edit.loc[:-1])
        if shared:
            raise EditError(f"{_path(edit.loc[:-1])} is a YAML alias (*name): change it by hand")
        if not isinstance(parent, yaml.MappingNode):
            raise EditError(f"{_path(edit.loc[:-1])} is not a mapping")
        text = _rewrite(text, document.is_yaml, parent, edit)
    if _read(document, text) != expected:
        raise EditError(f"{document.name}: its layout cannot be edited in place; edit it by hand")
    return text


def _rewrite(text: str, is_yaml: bool, parent: yaml.MappingNode, edit: Rewrite) -> str:
    key = edit.loc[-1]
    index = next((i for i, (k, _) in enumerate(parent.value) if k.value == key), None)
    if index is None:
        if isinstance(edit, SetFirst):
            return _insert_first(text, is_yaml, parent, str(key), edit.value)
        raise EditError(f"nothing at {_path(edit.loc)}")
    name, value = parent.value[index]
    if isinstance(edit, SetFirst):
        return _replace(text, is_yaml, value, edit.value)
    if isinstance(edit, Rename):
        text = _replace(text, is_yaml, value, edit.value)
        label = json.dumps(edit.key) if not is_yaml else _render(edit.key, True)
        return text[: name.start_mark.index] + label + text[name.end_mark.index :]
    return _remove(text, is_yaml, parent, index)


def _remove(text: str, is_yaml: bool, parent: yaml.MappingNode, index: int) -> str:
    """Text without the key at `index` of the mapping (and its value, and its separator)."""
    items = parent.value
    name, value = items[index]
    if len(items) == 1:
        raise EditError("the only key of a mapping cannot be removed in place")
    if is_yaml and not parent.flow_style:
        line = text.rfind("\n", 0, name.start_mark.index) + 1
        end = text.find("\n", _end(text, value))
        end = len(text) if end < 0 else end + 1
        if text[line : name.start_mark.index].strip() or index + 1 == len(items):
            if index + 1 == len(items):  # the last key of its mapping: from its own line
                return text[:line] + text[end:]
            return text[: name.start_mark.index] + text[items[index + 1][0].start_mark.index :]
        return text[:line] + text[end:]
    if index + 1 < len(items):  # a flow mapping or JSON: up to the next key
        return text[: name.start_mark.index] + text[items[index + 1][0].start_mark.index :]
    return text[: _end(text, items[index - 1][1])] + text[_end(text, value) :]


def _insert_first(text: str, is_yaml: bool, parent: yaml.MappingNode, key: str, value: Any) -> str:
    """A new key and value before the mapping's first key, laid out as that key is."""
    if not parent.value:
        raise EditError("an empty mapping")
    first: yaml.Node = parent.value[0][0]
    at: int = first.start_mark.index
    indent: str = " " * first.start_mark.column
    label = json.dumps(key) if not is_yaml else _render(key, True)
    entry = f"{label}: {_render(value, is_yaml)}"
    if is_yaml and not parent.flow_style:
        return text[:at] + entry + "\n" + indent + text[at:]
    if _line_of(text, at) == _line_of(text, parent.start_mark.index):
        return text[:at] + entry + ", " + text[at:]
    return text[:at] + entry + ",\n" + indent + text[at:]


def _read(document: Document, text: str) -> Any:
    return load_document(document.name, text=text, limits=document.limits).data


def _root(text: str, is_yaml: bool) -> yaml.Node:
    node = yaml.compose(text if is_yaml else yaml_safe(text), Loader=yaml.SafeLoader)
    if node is None:
        raise EditError("the file is empty")
    return node


def _find(root: yaml.Node, loc: Loc) -> tuple[yaml.Node, bool]:
    """The node at `loc`, and whether it (or a node above it) is used more than once (an alias)."""
    counts: dict[int, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        counts[id(node)] = counts.get(id(node), 0) + 1
        if counts[id(node)] > 1:
            continue
        if isinstance(node, yaml.MappingNode):
            stack.extend(v for _, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    node, shared = root, False
    for part in loc:
        shared = shared or counts.get(id(node), 0) > 1
        if isinstance(part, int) and isinstance(node, yaml.SequenceNode):
            node = node.value[part]
        elif isinstance(node, yaml.MappingNode):
            node = next(v for k, v in node.value if k.value == part)
        else:
            raise EditError(f"nothing at {_path(loc)}")
    return node, shared or counts.get(id(node), 0) > 1


def _splice(text: str, is_yaml: bool, kind: str, loc: Loc, value: Any) -> str:
    root = _root(text, is_yaml)
    if kind == "append":
        target, shared = _find(root, loc)
        if shared:
            raise EditError(f"{_path(loc)} is a YAML alias (*name): add to it by hand")
        if not isinstance(target, yaml.SequenceNode):
            raise EditError(f"{_path(loc)} is not a list")
        return _add(text, is_yaml, target, None, value)
    if kind == "set":
        parent, shared = _find(root, loc[:-1])
        if shared:
            raise EditError(f"{_path(loc[:-1])} is a YAML alias (*name): change it by hand")
        key = loc[-1]
        if isinstance(parent, yaml.MappingNode):
            for k, v in parent.value:
                if k.value == key:
                    return _replace(text, is_yaml, v, value)
            return _add(text, is_yaml, parent, str(key), value)
        if isinstance(parent, yaml.SequenceNode) and isinstance(key, int):
            return _replace(text, is_yaml, parent.value[key], value)
    raise EditError(f"cannot {kind} {_path(loc)} in place; edit it by hand")


def _replace(text: str, is_yaml: bool, node: yaml.Node, value: Any) -> str:
    start, end = node.start_mark.index, _end(text, node)
    return text[:start] + _render(value, is_yaml) + text[end:]


def _add(
    text: str,
    is_yaml: bool,
    collection: yaml.MappingNode | yaml.SequenceNode,
    key: str | None,
    value: Any,
) -> str:
    """A new item (with `key`, in a mapping) after the collection's last one, laid out as its
    neighbours are."""
    entry = _render(value, is_yaml)
    if key is not None:
        entry = f"{json.dumps(key) if not is_yaml else _render(key, True)}: {entry}"
    items = collection.value
    if not items:  # `[]` or `{}`: the first item goes inside the brackets
        start, end = collection.start_mark.index, _end(text, collection)
        empty = text[start:end].strip()
        if empty not in ("[]", "{}"):
            raise EditError("an empty collection that is not [] or {}")
        return text[:start] + empty[0] + entry + empty[1] + text[end:]
    last: yaml.Node = items[-1][1] if isinstance(collection, yaml.MappingNode) else items[-1]
    first: yaml.Node = items[0][0] if isinstance(collection, yaml.MappingNode) else items[0]
    end = _end(text, last)
    if collection.flow_style or not is_yaml:
        one_line = _line_of(text, first.start_mark.index) == _line_of(
            text, collection.start_mark.index
        )
        if one_line:
            return text[:end] + ", " + entry + text[end:]
        indent = " " * first.start_mark.column
        if not is_yaml and _line_of(text, last.start_mark.index) != _line_of(text, end):
            entry = _pretty_json(text, last, key, value, indent)
        return text[:end] + ",\n" + indent + entry + text[end:]
    # A block collection: a new line at the items' indentation, after the last item's line.
    newline = text.find("\n", end)
    at = len(text) if newline < 0 else newline
    if isinstance(collection, yaml.SequenceNode):
        dash = text.rfind("-", 0, first.start_mark.index)
        indent = " " * (dash - text.rfind("\n", 0, dash) - 1)
        line = f"{indent}- {entry}"
    else:
        line = " " * first.start_mark.column + entry
    return text[:at] + "\n" + line + text[at:]


def _end(text: str, node: yaml.Node) -> int:
    """Where a node's own text ends (a block collection's end mark lies past the line break
    and any comment after it)."""
    end = node.end_mark.index
    while end > node.start_mark.index and text[end - 1] in " \t\r\n":
        end -= 1
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style:
        last = node.value[-1][1] if isinstance(node, yaml.MappingNode) else node.value[-1]
        end = _end(text, last) if node.value else end
    return end


def _pretty_json(text: str, neighbour: yaml.Node, key: str | None, value: Any, indent: str) -> str:
    """A JSON item laid out over lines as its neighbour is (the file's indentation step)."""
    inner = neighbour.value[0]
    first = inner[0] if isinstance(neighbour, yaml.MappingNode) else inner
    step = max(1, first.start_mark.column - neighbour.start_mark.column)
    body = json.dumps(value, indent=step, ensure_ascii=False).replace("\n", "\n" + indent)
    return f"{json.dumps(key)}: {body}" if key is not None else body


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index)


def _render(value: Any, is_yaml: bool) -> str:
    """One value on one line: JSON as JSON, YAML in flow style, quoted only where needed."""
    if not is_yaml:
        return json.dumps(value, ensure_ascii=False)
    dumped: str = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, width=10**9, sort_keys=False
    ).strip()
    return re.sub(r"\n\.\.\.$", "", dumped)


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"
