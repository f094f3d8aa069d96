"""Reading JSON and YAML input safely, and pointing back at line:column when it is wrong.

Every input (proposal, market file, ruleset) goes through `load_document`, so size and nesting
limits, duplicate-key detection and error locations behave the same everywhere. Line numbers
are worked out only when an error needs them, so the happy path parses JSON once.

JSON takes a fast path first (`_fast_json`): orjson parses it, one walk over its containers
bounds its depth and size and counts its keys, and the keys are compared with the colons in
the text to prove that no key is repeated. Anything the fast path cannot vouch for (a parse
error, a limit passed, a number orjson would read differently, a colon it cannot account for)
is parsed again by Python's json, as before, which says exactly what is wrong and where.

PyYAML (the YAML reader, and the marks that locate a problem) is imported only when a YAML
document or a problem needs it: a check of a JSON proposal that has none never imports it,
~10 ms of a cold start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from icorules.errors import InputError, Problem
from icorules.inputs.paths import Loc, json_path
from icorules.inputs.reading import decode, read_stream, read_text
from icorules.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from icorules.inputs.marks import Marks

__all__ = [
    "Document",
    "Loc",
    "check_data",
    "decode",
    "json_path",
    "load_document",
    "read_stream",
    "read_text",
]


@dataclass
class Document:
    """Parsed data plus what is needed to say where a part of it came from."""

    name: str
    text: str
    data: Any
    is_yaml: bool
    limits: Limits = field(default=DEFAULT_LIMITS, repr=False)
    _marks: Marks | None = field(default=None, repr=False)

    def position(self, loc: Iterable[str | int]) -> tuple[int | None, int | None]:
        """Line and column (1-based) of `loc`, or of its nearest ancestor that exists."""
        if self._marks is None:
            from icorules.inputs.marks import Marks

            self._marks = Marks(self.text, self.is_yaml)
        key = tuple(loc)
        while key:
            found = self._marks.find(key)
            if found is not None:
                return found
            key = key[:-1]
        return self._marks.find(()) or (None, None)

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
    if is_yaml:
        from icorules.inputs.yaml_reader import parse_yaml

        data = parse_yaml(text, name, limits)
        _check_shape(data, name, limits)
    else:
        data = _fast_json(text, limits)
        if data is _UNSURE:
            data = _parse_json(text, name, limits)
            _check_shape(data, name, limits, text if "\\u" in text else None)
    return Document(name=name, text=text, data=data, is_yaml=is_yaml, limits=limits)


_UNSURE: Any = object()  # the fast path cannot vouch for the document: parse it the slow way
# Bytes with every digit as "0" and anything else as a space: a run of 19 zeros is a number
# orjson might read as a float where Python's json reads an integer (beyond 64 bits).
_DIGITS = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
_LONG_NUMBER = b"0" * 19


def _fast_json(text: str, limits: Limits) -> Any:
    """The document parsed by orjson, if it is within the limits and has no repeated key (and
    orjson reads it exactly as Python's json does); else `_UNSURE`."""
    try:
        raw = text.encode()
        if _LONG_NUMBER in raw.translate(_DIGITS):
            return _UNSURE
        data = orjson.loads(raw)
        # Written out again, indented: what says how deep it is and how many keys it kept.
        written = orjson.dumps(data, option=orjson.OPT_INDENT_2)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError, UnicodeEncodeError):
        return _UNSURE
    if len(raw) > limits.values and not _few_enough(data, limits):
        return _UNSURE
    if _too_deep(written, limits) or not _no_repeated_key(raw, written):
        return _UNSURE
    return data


def _too_deep(written: bytes, limits: Limits) -> bool:
    """Whether a value lies deeper than the depth limit allows, read from the document as
    orjson writes it indented by two spaces: each value at depth d starts a line with 2d
    spaces, and nothing else starts a line (a text's line break is written as \\n)."""
    return b"\n" + b" " * (2 * limits.depth + 2) in written


def _few_enough(data: Any, limits: Limits) -> bool:
    """Whether the document has at most as many values as the limit allows. Only a document
    of more bytes than that needs counting (each value starts at a byte of its own); one pass
    per level, over containers (the exact walk, `_check_shape`, says what is wrong)."""
    values = 1
    level = [data] if data.__class__ is dict or data.__class__ is list else []
    while level:
        below: list[Any] = []
        for item in level:
            values += len(item)
            found = item.values() if item.__class__ is dict else item
            below += [v for v in found if v.__class__ is dict or v.__class__ is list]
        if values > limits.values:
            return False
        level = below
    return True


def _no_repeated_key(raw: bytes, written: bytes) -> bool:
    """Whether the text kept every key it has (a repeated key leaves one fewer in the data).

    Each key is followed by one colon; any other colon is inside a string. The data written
    out again has one colon per key it kept plus those inside its strings, which are at most
    the text's own plus those written as the escape \\u003a: so if the text has no more colons
    than that, no key was dropped.
    """
    colons = raw.count(b":")
    escaped = raw.count(b"\\u003a") + raw.count(b"\\u003A") if b"\\u" in raw else 0
    return colons + escaped == written.count(b":")


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
    from icorules.inputs.yaml_reader import plain, too_deep  # for the problems below

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
        raise InputError.single(name, too_deep(limits), 1) from None
    except ValueError as exc:  # e.g. an integer longer than Python will convert
        found = re.search(r"\d{1000,}", text)
        at = found.start() if found else 0
        line = text.count("\n", 0, at) + 1 if found else None
        column = at - (text.rfind("\n", 0, at) + 1) + 1 if found else None
        raise InputError([Problem(name, line, column, f"invalid number: {plain(exc)}")]) from None


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
            from icorules.inputs.yaml_reader import too_deep

            raise InputError.single(name, too_deep(limits))
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
    from icorules.inputs.yaml_reader import ESCAPE

    pending: re.Match[str] | None = None
    for found in ESCAPE.finditer(text):
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
    import yaml

    from icorules.inputs.yaml_reader import check_yaml_keys, compose, yaml_safe

    try:
        root = compose(yaml_safe(text), name, limits)
    except (yaml.YAMLError, InputError):
        return
    if root is not None:
        check_yaml_keys(root, name, limits)
