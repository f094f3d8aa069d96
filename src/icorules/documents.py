"""Reading JSON and YAML input safely, and pointing back at line:column when it is wrong.

Every input (proposal, market file, ruleset) goes through `load_document`, so size and nesting
limits, duplicate-key detection and error locations behave the same everywhere. Line numbers
are worked out only when an error needs them, so the happy path parses JSON once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from icorules.errors import InputError, Problem

# libyaml's loader when PyYAML was built with it (much faster); both only build plain data.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 5_000_000

Loc = tuple[str | int, ...]


def json_path(loc: Iterable[str | int]) -> str:
    """`('organisations', 2, 'type')` -> `organisations[2].type` (the form users see)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


@dataclass
class Document:
    """Parsed data plus what is needed to say where a part of it came from."""

    name: str
    text: str
    data: Any
    is_yaml: bool
    _marks: dict[Loc, tuple[int, int]] | None = field(default=None, repr=False)

    def position(self, loc: Iterable[str | int]) -> tuple[int | None, int | None]:
        """Line and column (1-based) of `loc`, or of its nearest ancestor that exists."""
        if self._marks is None:
            self._marks = _marks_of(self.text)
        key = tuple(loc)
        while key:
            if key in self._marks:
                return self._marks[key]
            key = key[:-1]
        return self._marks.get((), (None, None))

    def problem(self, loc: Iterable[str | int], message: str) -> Problem:
        loc = tuple(loc)
        line, column = self.position(loc)
        prefix = f"{json_path(loc)}: " if loc else ""
        return Problem(self.name, line, column, prefix + message)


def load_document(source: str | Path, *, text: str | None = None) -> Document:
    """Parse a JSON or YAML file (chosen by extension, else by content)."""
    path = Path(source)
    name = str(source)
    if text is None:
        text = read_text(path, name)
    if not text.strip():
        raise InputError.single(name, "the file is empty")
    suffix = path.suffix.lower()
    is_yaml = suffix in {".yaml", ".yml"} or (suffix != ".json" and text.lstrip()[:1] not in "{[")
    data = _parse_yaml(text, name) if is_yaml else _parse_json(text, name)
    _check_shape(data, name)
    return Document(name=name, text=text, data=data, is_yaml=is_yaml)


def read_text(path: Path, name: str) -> str:
    try:
        if path.is_dir():
            raise InputError.single(name, "is a directory, not a file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError.single(
                name, f"the file is {size:,} bytes; the limit is {MAX_BYTES:,} bytes"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError.single(name, "no such file") from None
    except PermissionError:
        raise InputError.single(name, "permission denied") from None
    except OSError as exc:
        raise InputError.single(name, f"cannot read the file ({exc.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            [Problem(name, line, column, f"is not UTF-8 text (byte 0x{raw[exc.start]:02x})")]
        ) from None


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _parse_json(text: str, name: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates)
    except json.JSONDecodeError as exc:
        raise InputError([_json_problem(text, name, exc)]) from None
    except _DuplicateKey as exc:
        _locate_duplicate_key(text, name)  # raises with the exact position when it can
        raise InputError.single(name, f"duplicate key '{exc.key}'") from None
    except RecursionError:
        raise InputError.single(name, f"nesting is deeper than {MAX_DEPTH} levels", 1) from None
    except ValueError as exc:  # e.g. an integer longer than Python will convert
        found = re.search(r"\d{1000,}", text)
        at = found.start() if found else 0
        line = text.count("\n", 0, at) + 1 if found else None
        column = at - (text.rfind("\n", 0, at) + 1) + 1 if found else None
        raise InputError([Problem(name, line, column, f"invalid number: {_plain(exc)}")]) from None


def _json_problem(text: str, name: str, exc: json.JSONDecodeError) -> Problem:
    """json's messages, made to say what a person would: trailing comma, unclosed bracket."""
    before = text[: exc.pos].rstrip()
    if exc.msg.startswith(("Expecting value", "Expecting property name")) and before.endswith(","):
        at = len(before) - 1
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        return Problem(
            name,
            line,
            column,
            "invalid JSON: a comma before a closing bracket (JSON allows no trailing comma)",
        )
    if not text[exc.pos :].strip():
        return Problem(
            name,
            exc.lineno,
            exc.colno,
            "invalid JSON: the file ends before every { and [ is closed",
        )
    return Problem(name, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")


def _parse_yaml(text: str, name: str) -> Any:
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError.single(name, "the file is empty")
        _check_yaml_keys(node, name, 0)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise InputError([Problem(name, line, column, f"invalid YAML: {what}")]) from None
    except yaml.YAMLError as exc:
        raise InputError.single(name, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise InputError.single(name, f"nesting is deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # an impossible date (2009-02-30), an integer too long, ...
        raise InputError([_bad_scalar(text, name, exc)]) from None
    finally:
        loader.dispose()


def _plain(exc: ValueError) -> str:
    if "digits" in str(exc):
        return "the number has more digits than a count or size could ever need"
    return str(exc)


def _bad_scalar(text: str, name: str, exc: ValueError) -> Problem:
    """Find the scalar YAML could not turn into a value: re-resolve each one on its own."""
    root = yaml.compose(text, Loader=_SafeLoader)
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(node)
            except ValueError:
                mark = node.start_mark
                shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
                message = f"invalid value '{shown}': {_plain(exc)}"
                return Problem(name, mark.line + 1, mark.column + 1, message)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(v for pair in reversed(node.value) for v in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return Problem(name, None, None, f"invalid value: {exc}")


def _check_yaml_keys(root: yaml.Node, name: str, depth: int) -> None:
    """Duplicate and non-text keys, depth, and size: each node once, however often an alias
    repeats it (an alias bomb is refused on its size, not walked)."""
    seen_nodes: set[int] = set()
    problems: list[Problem] = []
    expanded = 0
    stack: list[tuple[yaml.Node, int]] = [(root, depth)]
    while stack:
        node, level = stack.pop()
        expanded += 1
        if expanded > MAX_NODES:
            raise InputError.single(
                name,
                f"the document has more than {MAX_NODES:,} values "
                "(counting what its aliases repeat)",
            )
        mark = node.start_mark
        if level > MAX_DEPTH:
            raise InputError(
                [
                    Problem(
                        name,
                        mark.line + 1,
                        mark.column + 1,
                        f"nesting is deeper than {MAX_DEPTH} levels",
                    )
                ]
            )
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                key_mark = key.start_mark
                if not (isinstance(key, yaml.ScalarNode) and key.tag.endswith((":str", ":merge"))):
                    shown = key.value if isinstance(key, yaml.ScalarNode) else "a collection"
                    problems.append(
                        Problem(
                            name,
                            key_mark.line + 1,
                            key_mark.column + 1,
                            f"the key {shown!r} is not text; put it in quotes",
                        )
                    )
                elif key.value in keys:
                    problems.append(
                        Problem(
                            name,
                            key_mark.line + 1,
                            key_mark.column + 1,
                            f"duplicate key '{key.value}'",
                        )
                    )
                keys.add(key.value)
                children.append(value)
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        for child in children:
            if id(child) in seen_nodes:  # an alias: count its size, do not walk it again
                expanded += _size(child)
                continue
            seen_nodes.add(id(child))
            stack.append((child, level + 1))
    if problems:
        raise InputError(problems)


def _size(node: yaml.Node, memo: dict[int, int] | None = None) -> int:
    memo = {} if memo is None else memo
    if id(node) not in memo:
        if isinstance(node, yaml.MappingNode):
            memo[id(node)] = 1 + sum(_size(v, memo) for _, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            memo[id(node)] = 1 + sum(_size(v, memo) for v in node.value)
        else:
            memo[id(node)] = 1
    return memo[id(node)]


def _check_shape(data: Any, name: str) -> None:
    """Depth and size limits on the parsed data (YAML aliases can multiply it)."""
    budget = MAX_NODES
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise InputError.single(name, f"the document has more than {MAX_NODES:,} values")
        if depth > MAX_DEPTH:
            raise InputError.single(name, f"nesting is deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _locate_duplicate_key(text: str, name: str) -> None:
    """JSON is YAML, and YAML's node tree knows where each key is: find the repeated one."""
    try:
        root = yaml.compose(text, Loader=_SafeLoader)
    except yaml.YAMLError:
        return
    if root is not None:
        _check_yaml_keys(root, name, 0)


def _marks_of(text: str) -> dict[Loc, tuple[int, int]]:
    """Map every path in the document to the line:column of its key (or item)."""
    try:
        root = yaml.compose(text, Loader=_SafeLoader)
    except yaml.YAMLError:
        return {}
    marks: dict[Loc, tuple[int, int]] = {}
    if root is None:
        return marks
    marks[()] = (root.start_mark.line + 1, root.start_mark.column + 1)
    stack: list[tuple[yaml.Node, Loc]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*loc, str(key.value))
                marks[child] = (key.start_mark.line + 1, key.start_mark.column + 1)
                stack.append((value, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*loc, index)
                marks[child] = (item.start_mark.line + 1, item.start_mark.column + 1)
                stack.append((item, child))
    return marks
