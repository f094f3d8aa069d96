"""Reading JSON and YAML input safely, and pointing back at line:column when it is wrong.

Every input (proposal, market file, ruleset) goes through `load_document`, so size and nesting
limits, duplicate-key detection and error locations behave the same everywhere. Line numbers
are worked out only when an error needs them, so the happy path parses JSON once.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from icorules.errors import InputError, Problem
from icorules.limits import DEFAULT_LIMITS, Limits

# libyaml's loader when PyYAML was built with it (much faster); both only build plain data.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# The defaults (icorules.limits has them all, and says how to change them).
MAX_BYTES = DEFAULT_LIMITS.input_bytes
MAX_DEPTH = DEFAULT_LIMITS.depth
MAX_NODES = DEFAULT_LIMITS.values

# The only YAML tags a document may spell out: plain data, as JSON has (and dates).
_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {None, "!", *(_CORE + t for t in ("str", "int", "float", "bool", "null"))}
_ALLOWED_TAGS |= {_CORE + t for t in ("map", "seq", "timestamp", "merge")}

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
    limits: Limits = field(default=DEFAULT_LIMITS, repr=False)
    _marks: dict[Loc, tuple[int, int]] | None = field(default=None, repr=False)

    def position(self, loc: Iterable[str | int]) -> tuple[int | None, int | None]:
        """Line and column (1-based) of `loc`, or of its nearest ancestor that exists."""
        if self._marks is None:
            self._marks = _marks_of(self.text, self.limits, self.is_yaml)
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


def load_document(
    source: str | Path, *, text: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> Document:
    """Parse a JSON or YAML file (chosen by extension, else by content) within `limits`."""
    path = Path(source)
    name = str(source)
    if text is None:
        text = read_text(path, name, limits)
    elif len(text) > limits.input_bytes:
        raise InputError.single(
            name, limits.exceeded("input_bytes", f"the text is {len(text):,} characters")
        )
    if not text.strip():
        raise InputError.single(name, "the file is empty")
    suffix = path.suffix.lower()
    is_yaml = suffix in {".yaml", ".yml"} or (suffix != ".json" and text.lstrip()[:1] not in "{[")
    data = _parse_yaml(text, name, limits) if is_yaml else _parse_json(text, name, limits)
    _check_shape(data, name, limits, text if not is_yaml and "\\u" in text else None)
    return Document(name=name, text=text, data=data, is_yaml=is_yaml, limits=limits)


_BOMS = (  # longest first: UTF-32-LE's mark starts with UTF-16-LE's
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def read_text(path: Path, name: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """The file as text, read only up to the input_bytes limit (a device or pipe has no size
    to check first, so the read itself is bounded)."""
    cap = limits.input_bytes
    try:
        if path.is_dir():
            raise InputError.single(name, "is a directory, not a file")
        size = path.stat().st_size
        if size > cap:
            raise InputError.single(
                name, limits.exceeded("input_bytes", f"the file is {size:,} bytes")
            )
        with path.open("rb") as handle:
            raw = handle.read(cap + 1)
    except FileNotFoundError:
        raise InputError.single(name, "no such file") from None
    except PermissionError:
        raise InputError.single(name, "permission denied") from None
    except OSError as exc:
        raise InputError.single(name, f"cannot read the file ({exc.strerror})") from None
    if len(raw) > cap:
        raise InputError.single(
            name, limits.exceeded("input_bytes", f"the file is more than {cap:,} bytes")
        )
    return decode(raw, name)


def read_stream(stream: BinaryIO, name: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """Text from a stream (standard input), read only up to the input_bytes limit."""
    cap = limits.input_bytes
    raw = stream.read(cap + 1)
    if len(raw) > cap:
        raise InputError.single(
            name, limits.exceeded("input_bytes", f"the input is more than {cap:,} bytes")
        )
    return decode(raw, name)


def decode(raw: bytes, name: str) -> str:
    """UTF-8 (with or without a byte-order mark); anything else is refused, saying what it is."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return _refuse_encoding(name, 1, 1, f"is {encoding} text; save it as UTF-8")
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, column = _byte_position(raw, nul)
        hint = " (UTF-16 without a byte-order mark?)" if nul < 4 else ""
        return _refuse_encoding(
            name, line, column, f"holds a NUL byte, so it is not UTF-8 text{hint}; save it as UTF-8"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _byte_position(raw, exc.start)
        message = f"is not UTF-8 text (byte 0x{raw[exc.start]:02x})"
        return _refuse_encoding(name, line, column, message)


def _refuse_encoding(name: str, line: int, column: int, message: str) -> str:
    raise InputError([Problem(name, line, column, message)])


def _byte_position(raw: bytes, at: int) -> tuple[int, int]:
    return raw.count(b"\n", 0, at) + 1, at - (raw.rfind(b"\n", 0, at) + 1) + 1


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


class _NotJson(ValueError):
    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


def _reject_constant(word: str) -> Any:
    """Python's json reads NaN and Infinity; JSON has neither, and no count or share is one."""
    raise _NotJson(word)


def _parse_json(text: str, name: str, limits: Limits) -> Any:
    try:
        return json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except _NotJson as exc:
        found = re.search(rf"(?<![\w\"]){re.escape(exc.word)}(?![\w\"])", text)
        at = found.start() if found else 0
        line = text.count("\n", 0, at) + 1 if found else None
        column = at - (text.rfind("\n", 0, at) + 1) + 1 if found else None
        message = f"invalid JSON: {exc.word} is not a number JSON allows"
        raise InputError([Problem(name, line, column, message)]) from None
    except json.JSONDecodeError as exc:
        raise InputError([_json_problem(text, name, exc)]) from None
    except _DuplicateKey as exc:
        _locate_duplicate_key(text, name, limits)  # raises with the exact position when it can
        raise InputError.single(name, f"duplicate key '{exc.key}'") from None
    except RecursionError:
        raise InputError.single(name, _too_deep(limits), 1) from None
    except ValueError as exc:  # e.g. an integer longer than Python will convert
        found = re.search(r"\d{1000,}", text)
        at = found.start() if found else 0
        line = text.count("\n", 0, at) + 1 if found else None
        column = at - (text.rfind("\n", 0, at) + 1) + 1 if found else None
        raise InputError([Problem(name, line, column, f"invalid number: {_plain(exc)}")]) from None


def _json_problem(text: str, name: str, exc: json.JSONDecodeError) -> Problem:
    """json's messages, made to say what a person would: trailing comma, unclosed bracket,
    comments, single quotes, leading zeros."""
    before = text[: exc.pos].rstrip()
    after = text[exc.pos :].lstrip()
    if exc.msg.startswith("Unterminated string"):
        message = "invalid JSON: this text has no closing quote (is the file cut short?)"
        return Problem(name, exc.lineno, exc.colno, message)
    if text.startswith(("//", "/*"), exc.pos):
        return Problem(name, exc.lineno, exc.colno, "invalid JSON: JSON has no comments")
    if text.startswith("'", exc.pos):
        message = "invalid JSON: text and names go in double quotes, not single quotes"
        return Problem(name, exc.lineno, exc.colno, message)
    if exc.msg.startswith("Expecting ',' delimiter") and re.search(r"(?<![\d.eE+-])0$", before):
        message = "invalid JSON: a number may not start with 0 (write 8000, not 08000)"
        return Problem(name, exc.lineno, exc.colno - 1, message)
    if (
        exc.msg.startswith(("Expecting value", "Expecting property name"))
        and before.endswith(",")
        and after[:1] in ("]", "}")
    ):
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


def _parse_yaml(text: str, name: str, limits: Limits) -> Any:
    try:
        node = _compose(text, name, limits)
        if node is None:
            raise InputError.single(name, "the file is empty")
        _check_yaml_keys(node, name, limits)
        loader = _SafeLoader("")
        try:
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise InputError([_yaml_problem(text, name, exc)]) from None
    except yaml.YAMLError as exc:
        raise InputError.single(name, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise InputError.single(name, _too_deep(limits)) from None
    except ValueError as exc:  # an impossible date (2009-02-30), an integer too long, ...
        raise InputError([_bad_scalar(text, name, exc)]) from None


def _yaml_problem(text: str, name: str, exc: yaml.MarkedYAMLError) -> Problem:
    """Where YAML stopped, and, for the slips people make most, what to do about it.

    The advice is worked out from the text around the place the parser stopped, not from the
    parser's wording (which changes between versions); anything else keeps the parser's words.
    """
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return Problem(name, None, None, f"invalid YAML: {exc}")
    line_no, column = mark.line + 1, mark.column + 1
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    head = line[: mark.column]
    hint = None
    if "\t" in line[: len(line) - len(line.lstrip(" \t"))] or "\t" in head:
        hint = "a tab character; YAML indents with spaces only"
    elif not text[_offset(lines, mark.line, mark.column) :].strip() and _unclosed(text):
        hint = "the file ends before every { and [ is closed (is it cut short?)"
    elif line[mark.column : mark.column + 1] in ("@", "`"):
        hint = "text may not start with @ or `; put it in quotes"
    elif line.startswith(("---", "...")):
        hint = "a second document starts here; a file holds one document"
    elif re.match(r"\s*(- )?[\w.-]+: *[\[{]", line) and line.strip()[-1:] not in "]}":
        hint = (
            "a value that starts with [ or { is read as a list or mapping; "
            "to write text, put it in quotes"
        )
    elif line[mark.column : mark.column + 1] == ":" and re.match(_KEY_THEN_COLON, head + ":"):
        hint = "the value holds ': ' so YAML reads a second key; put the text in quotes"
    elif mark.line > 0 and _indent(line) > _indent(_previous_line(lines, mark.line)):
        hint = "this line is indented more than the line above; keys of one mapping line up"
    if hint is None:
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        return Problem(name, line_no, column, f"invalid YAML: {what}")
    return Problem(name, line_no, column, f"invalid YAML: {hint}")


_KEY_THEN_COLON = r"\s*(- )?[\w.-]+: .*:"


def _unclosed(text: str) -> bool:
    """More brackets opened than closed, outside comments (quotes are not worth the trouble)."""
    plain = re.sub(r"(^|\s)#.*", "", text)
    return plain.count("[") + plain.count("{") > plain.count("]") + plain.count("}")


def _offset(lines: list[str], line: int, column: int) -> int:
    return sum(len(text) + 1 for text in lines[:line]) + column


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _previous_line(lines: list[str], index: int) -> str:
    for line in reversed(lines[:index]):
        if line.strip() and not line.lstrip().startswith("#"):
            return line
    return ""


def _too_deep(limits: Limits) -> str:
    return limits.exceeded("depth", "the document is nested too deeply")


def _compose(text: str, name: str, limits: Limits) -> yaml.Node | None:
    """libyaml's node tree, built only after a flat pass over the parse events has checked
    what building it would cost.

    libyaml composes recursively in C, so a document nested ~50,000 levels deep (100 KB of
    `[`) overflows the stack and kills the process; and a huge document would be built in
    memory before any count of its values. The event pass needs no recursion and keeps
    nothing, so it refuses those first, with their line and column, along with YAML tags that
    ask for anything but plain data and aliases that refer to a collection containing them.
    """
    try:
        _check_events(_SafeLoader(text), name, limits)
    except yaml.MarkedYAMLError as exc:
        if _SafeLoader is not yaml.SafeLoader:
            _recheck_before(text, exc, name, limits)
        raise
    loader = _SafeLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _recheck_before(text: str, exc: yaml.MarkedYAMLError, name: str, limits: Limits) -> None:
    """Our limits come first, whatever the parser's own are.

    libyaml reads ahead of the events it has handed out (a run of `[` is scanned whole before
    the first one is reported), and some versions stop at a nesting limit of their own, with
    their own words, before our depth check has seen level 65. PyYAML's Python parser reads
    ahead less and has no such limit: run the same event checks with it over the text up to
    the end of the line libyaml stopped on, so a limit passed before that point is reported
    as ours. If none is, libyaml's own error stands.
    """
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return
    end = 0
    for _ in range(mark.line + 1):
        end = text.find("\n", end) + 1
        if end == 0:
            end = len(text)
            break
    with contextlib.suppress(yaml.YAMLError, RecursionError):
        _check_events(yaml.SafeLoader(text[:end]), name, limits)


def _check_events(loader: Any, name: str, limits: Limits) -> None:
    """Depth, size, tags and alias cycles, on the flat event stream (nothing is built)."""
    try:
        depth = 0
        events = 0
        open_anchors: list[str | None] = []
        anchors: set[str] = set()
        while (event := loader.get_event()) is not None:
            events += 1
            if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
                if isinstance(event, yaml.AliasEvent) and event.anchor not in anchors:
                    raise _at(
                        name,
                        event.start_mark,
                        f"the alias *{event.anchor} names no anchor &{event.anchor} above it",
                    )
                anchors.add(event.anchor)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                open_anchors.append(event.anchor)
                if depth > limits.depth:
                    raise _at(name, event.start_mark, _too_deep(limits))
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                open_anchors.pop()
            elif isinstance(event, yaml.AliasEvent) and event.anchor in open_anchors:
                raise _at(
                    name,
                    event.start_mark,
                    f"the alias *{event.anchor} is inside the collection it names (a cycle); "
                    "repeat the values instead",
                )
            # Scalars and collection starts: the node events that carry a tag (not aliases).
            if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                tag = event.tag
                if tag is not None and tag not in _ALLOWED_TAGS:
                    shown = "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
                    raise _at(
                        name,
                        event.start_mark,
                        f"the YAML tag '{shown}' is not allowed: icorules reads plain data "
                        "only (text, numbers, true/false, dates, lists and mappings)",
                    )
            if events > limits.values:
                raise _at(
                    name,
                    event.start_mark,
                    limits.exceeded("values", "the document has too many values"),
                )
    finally:
        loader.dispose()


def _at(name: str, mark: Any, message: str) -> InputError:
    return InputError([Problem(name, mark.line + 1, mark.column + 1, message)])


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
                if node.tag.endswith(":timestamp"):
                    message = f"invalid date '{shown}': there is no such day in the calendar"
                else:
                    message = f"invalid value '{shown}': {_plain(exc)}"
                return Problem(name, mark.line + 1, mark.column + 1, message)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(v for pair in reversed(node.value) for v in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return Problem(name, None, None, f"invalid value: {exc}")


def _check_yaml_keys(root: yaml.Node, name: str, limits: Limits) -> None:
    """Duplicate and non-text keys, depth, and size: each node once, however often an alias
    repeats it (an alias bomb is refused on its size, not walked). `_compose` has refused
    cycles, so every alias names a finished collection."""
    seen_nodes: set[int] = set()
    problems: list[Problem] = []
    expanded = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    while stack:
        node, level = stack.pop()
        expanded += 1
        if expanded > limits.values:
            raise InputError.single(
                name,
                limits.exceeded(
                    "values",
                    "the document has too many values (counting what its aliases repeat)",
                ),
            )
        mark = node.start_mark
        if level > limits.depth:
            raise _at(name, mark, _too_deep(limits))
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
                if expanded > limits.values:  # located at what the alias repeats
                    message = "the document has too many values (counting what its aliases repeat)"
                    raise _at(name, child.start_mark, limits.exceeded("values", message))
                if level + 1 + _height(child) > limits.depth:
                    raise _at(name, child.start_mark, _too_deep(limits))
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


def _height(node: yaml.Node, memo: dict[int, int] | None = None) -> int:
    """Levels below `node` (an alias placed deep adds its own depth to where it is used)."""
    memo = {} if memo is None else memo
    if id(node) not in memo:
        if isinstance(node, yaml.MappingNode):
            memo[id(node)] = 1 + max((_height(v, memo) for _, v in node.value), default=0)
        elif isinstance(node, yaml.SequenceNode):
            memo[id(node)] = 1 + max((_height(v, memo) for v in node.value), default=0)
        else:
            memo[id(node)] = 0
    return memo[id(node)]


# A JSON escape: \uXXXX, or a backslash and one character.
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_data(data: Any, name: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """The depth and size limits, for data a caller built rather than read from a file (a dict
    from a web form may be as hostile as a file, and may even contain itself)."""
    _check_shape(data, name, limits)


def _check_shape(data: Any, name: str, limits: Limits, json_text: str | None = None) -> None:
    """Depth and size limits on the parsed data (YAML aliases can multiply it); and, for JSON
    whose text has \\u escapes, no lone surrogate (half of a pair is not a character, and
    would fail later, when a report is written)."""
    budget = limits.values
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise InputError.single(
                name,
                limits.exceeded("values", "the document has too many values"),
            )
        if depth > limits.depth:
            raise InputError.single(name, _too_deep(limits))
        if isinstance(item, dict):
            if json_text is not None and any(_SURROGATE.search(k) for k in item):
                _lone_surrogate(json_text, name)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif json_text is not None and isinstance(item, str) and _SURROGATE.search(item):
            _lone_surrogate(json_text, name)


def _lone_surrogate(text: str, name: str) -> None:
    """Raise at the first \\uD800-\\uDFFF escape that is not half of a proper pair."""
    pending: re.Match[str] | None = None
    for found in _ESCAPE.finditer(text):
        code = found.group(1)
        value = int(code[1:], 16) if code[0] == "u" else -1
        if pending is not None:
            if 0xDC00 <= value <= 0xDFFF:
                pending = None
                continue
            break
        if 0xD800 <= value <= 0xDBFF:
            pending = found
        elif 0xDC00 <= value <= 0xDFFF:
            pending = found
            break
    at = pending.start() if pending is not None else 0
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    shown = pending.group() if pending is not None else "a \\u escape"
    raise InputError(
        [
            Problem(
                name,
                line if pending is not None else None,
                column if pending is not None else None,
                f"invalid text: {shown} is half of a UTF-16 surrogate pair, not a character",
            )
        ]
    )


def _locate_duplicate_key(text: str, name: str, limits: Limits) -> None:
    """JSON is YAML, and YAML's node tree knows where each key is: find the repeated one."""
    try:
        root = _compose(_yaml_safe(text), name, limits)
    except (yaml.YAMLError, InputError):
        return
    if root is not None:
        _check_yaml_keys(root, name, limits)


# What YAML refuses to read but JSON strings may hold (C1 controls, DEL, U+FFFE/FFFF, ...).
_NOT_YAML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _yaml_safe(json_text: str) -> str:
    """JSON text that libyaml composes with the same line:column for every value: it refuses
    surrogate escapes (even proper pairs), so each becomes an escape of the same length, and
    characters YAML does not allow, so each becomes an X (one character for one)."""
    text = _NOT_YAML.sub("X", json_text)
    if "\\u" not in text:
        return text
    return _ESCAPE.sub(
        lambda m: (
            "\\u0058"
            if m.group(1)[:2].lower() == "ud" and m.group(1)[2] in "89abcdefABCDEF"
            else m.group()
        ),
        text,
    )


def _marks_of(
    text: str, limits: Limits = DEFAULT_LIMITS, is_yaml: bool = True
) -> dict[Loc, tuple[int, int]]:
    """Map every path in the document to the line:column of its key (or item)."""
    try:
        root = _compose(text if is_yaml else _yaml_safe(text), "", limits)
    except (yaml.YAMLError, InputError):
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
