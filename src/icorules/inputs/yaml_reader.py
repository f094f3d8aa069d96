"""Reading YAML safely: the costs of a document checked on libyaml's flat event stream before
it is built, and every error located, in words a person can act on.

`parse_yaml` builds a document only after `compose` has checked depth, size, tags and alias
cycles without recursion (libyaml composes recursively in C and would overflow the stack), and
`check_yaml_keys` has refused duplicate and non-text keys. Where each part of a document is,
for messages, is icorules.inputs.marks.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import yaml

from icorules.errors import InputError, Problem
from icorules.inputs.paths import Loc, json_path
from icorules.limits import Limits

# libyaml's loader when PyYAML was built with it (much faster); both only build plain data.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# The only YAML tags a document may spell out: plain data, as JSON has (and dates).
_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {None, "!", *(_CORE + t for t in ("str", "int", "float", "bool", "null"))}
_ALLOWED_TAGS |= {_CORE + t for t in ("map", "seq", "timestamp", "merge")}


def parse_yaml(text: str, name: str, limits: Limits) -> Any:
    try:
        node = compose(text, name, limits)
        if node is None:
            raise InputError.single(name, "the file is empty")
        check_yaml_keys(node, name, limits)
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
        raise InputError.single(name, too_deep(limits)) from None
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


def too_deep(limits: Limits) -> str:
    return limits.exceeded("depth", "the document is nested too deeply")


def compose(text: str, name: str, limits: Limits) -> yaml.Node | None:
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
                    raise _at(name, event.start_mark, too_deep(limits))
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


def plain(exc: ValueError) -> str:
    if "digits" in str(exc):
        return "the number has more digits than a count or size could ever need"
    return str(exc)


def _bad_scalar(text: str, name: str, exc: ValueError) -> Problem:
    """Find the scalar YAML could not turn into a value: re-resolve each one on its own."""
    root = yaml.compose(text, Loader=_SafeLoader)
    stack: list[tuple[yaml.Node, Loc]] = [(root, ())] if root is not None else []
    while stack:
        node, loc = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(node)
            except ValueError:
                mark = node.start_mark
                shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
                if node.tag.endswith(":timestamp"):
                    message = f"invalid date '{shown}': there is no such day in the calendar"
                else:
                    message = f"invalid value '{shown}': {plain(exc)}"
                where = f"{json_path(loc)}: " if loc else ""
                return Problem(name, mark.line + 1, mark.column + 1, where + message)
        elif isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                stack.append((value, (*loc, str(key.value))))
                stack.append((key, loc))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*loc, i)) for i, item in reversed(list(enumerate(node.value))))
    return Problem(name, None, None, f"invalid value: {exc}")


_REPEATED = "the document has too many values (counting what its aliases repeat)"


def check_yaml_keys(root: yaml.Node, name: str, limits: Limits) -> None:
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
            raise InputError.single(name, limits.exceeded("values", _REPEATED))
        if level > limits.depth:
            raise _at(name, node.start_mark, too_deep(limits))
        for child in _children(node, name, problems):
            if id(child) in seen_nodes:  # an alias: count its size, do not walk it again
                expanded += _alias_size(child, level + 1, expanded, name, limits)
                continue
            seen_nodes.add(id(child))
            stack.append((child, level + 1))
    if problems:
        raise InputError(problems)


def _children(node: yaml.Node, name: str, problems: list[Problem]) -> list[yaml.Node]:
    """A collection's items, or a mapping's values (its keys checked on the way)."""
    if isinstance(node, yaml.MappingNode):
        return _mapping_values(node, name, problems)
    if isinstance(node, yaml.SequenceNode):
        items: list[yaml.Node] = node.value
        return items
    return []


def _mapping_values(node: yaml.MappingNode, name: str, problems: list[Problem]) -> list[yaml.Node]:
    """A mapping's values; a key that is not text, or that comes twice, is a problem."""
    keys: set[str] = set()
    values: list[yaml.Node] = []
    for key, value in node.value:
        problem = _key_problem(key, keys)
        if problem is not None:
            mark = key.start_mark
            problems.append(Problem(name, mark.line + 1, mark.column + 1, problem))
        keys.add(key.value)
        values.append(value)
    return values


def _key_problem(key: yaml.Node, keys: set[str]) -> str | None:
    """What is wrong with a mapping's key, given the keys before it; None if nothing is."""
    if not (isinstance(key, yaml.ScalarNode) and key.tag.endswith((":str", ":merge"))):
        shown = key.value if isinstance(key, yaml.ScalarNode) else "a collection"
        return f"the key {shown!r} is not text; put it in quotes"
    if key.value in keys:
        return f"duplicate key '{key.value}'"
    return None


def _alias_size(node: yaml.Node, level: int, expanded: int, name: str, limits: Limits) -> int:
    """The values an alias at `level` repeats; refused, at what it repeats, if they take the
    document over the values limit or deeper than the depth limit."""
    size = _size(node)
    if expanded + size > limits.values:
        raise _at(name, node.start_mark, limits.exceeded("values", _REPEATED))
    if level + _height(node) > limits.depth:
        raise _at(name, node.start_mark, too_deep(limits))
    return size


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
ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")


# What YAML refuses to read but JSON strings may hold (C1 controls, DEL, U+FFFE/FFFF, ...).
_NOT_YAML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def yaml_safe(json_text: str) -> str:
    """JSON text that libyaml composes with the same line:column for every value: it refuses
    surrogate escapes (even proper pairs), so each becomes an escape of the same length, and
    characters YAML does not allow, so each becomes an X (one character for one)."""
    text = _NOT_YAML.sub("X", json_text)
    if "\\u" not in text:
        return text
    return ESCAPE.sub(
        lambda m: (
            "\\u0058"
            if m.group(1)[:2].lower() == "ud" and m.group(1)[2] in "89abcdefABCDEF"
            else m.group()
        ),
        text,
    )
