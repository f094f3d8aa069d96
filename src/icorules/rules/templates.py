"""A rule's `message` and `fix` templates: checked when the ruleset loads, filled in per finding.

A template is text from a ruleset, so it gets no more of Python's format language than a message
needs: `{field}` and `{params.NAME}`, each with a format spec, and nothing that reaches into an
object (`{name.__class__}`, `{params.__dict__}`, `{x[0]}`), no conversions, no placeholders
inside a format spec, and no widths that would make a message gigabytes long
(`{name:>999999999}`). The same rules are applied when a template is checked and when it is
filled in, so a rule built by other means than the loader cannot get past them either.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
import string
from collections.abc import Iterator, Mapping
from typing import Any

from icorules.analysis.facts import FieldType
from icorules.errors import did_you_mean

MAX_FORMAT_WIDTH = 100  # widths and precisions in a placeholder's format spec
_SAMPLES: dict[type, Any] = {bool: True, int: 1, float: 0.5, str: "x", dt.date: dt.date(2008, 1, 1)}
_PARSER = string.Formatter()

Scalar = bool | int | float | str | None


def display(value: Any) -> Scalar:
    """A fact value as shown to people and in JSON reports."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value  # type: ignore[no-any-return]


def for_message(value: Any) -> Any:
    """Values as a message template gets them: dates and numbers keep their type so format
    specs like {share:.0%} or {date:%B %Y} work; true/false read as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, enum.Enum):
        return str(value.value)
    return value


def _shape_problem(name: str, spec: str, conversion: str | None) -> str | None:
    """What is wrong with a placeholder's form, whatever it names (None if nothing)."""
    if conversion:
        return f"'!{conversion}' is not allowed in '{{{name}}}'"
    key = name.removeprefix("params.")
    if "[" in name or "." in key or key.startswith("_") or (key != name and not key):
        return (
            f"'{{{name}}}': a placeholder names a field or params.NAME; attribute access "
            "(.) and indexing ([...]) are not allowed"
        )
    if "{" in spec:
        return f"'{{{name}:{spec}}}': a placeholder inside a format spec is not allowed"
    widths = [int(n) for n in re.findall(r"\d+", spec)]
    if widths and max(widths) > MAX_FORMAT_WIDTH:
        return (
            f"the format '{spec}' of '{{{name}}}' asks for {max(widths):,} characters; "
            f"at most {MAX_FORMAT_WIDTH} are allowed"
        )
    return None


def template_problems(
    template: str, fields: Mapping[str, FieldType], params: Mapping[str, Any]
) -> list[str]:
    """Why `template` cannot be filled in from a fact with `fields` and these parameters:
    each placeholder must name a field (or params.NAME) and its format spec must work on a
    value of that field's type."""
    try:
        parsed = list(_PARSER.parse(template))
    except ValueError as exc:
        return [f"the text has a stray brace: {exc} (write {{{{ or }}}} for a literal brace)"]
    problems: list[str] = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        shape = _shape_problem(name, spec or "", conversion)
        if shape is not None:
            problems.append(shape)
            continue
        if name.startswith("params."):
            key = name.removeprefix("params.")
            if key not in params:
                problems.append(
                    f"'{{{name}}}' names an undefined parameter{did_you_mean(key, params)}"
                )
                continue
            sample = params[key]
        elif name in fields or name == "id":
            sample = _SAMPLES[fields[name].base] if name in fields else "x"
        else:
            problems.append(f"'{{{name}}}' is not a field of this fact{did_you_mean(name, fields)}")
            continue
        try:
            format(sample, spec or "")
        except (ValueError, TypeError):
            problems.append(f"the format '{spec}' does not suit '{{{name}}}'")
    return problems


MAX_MESSAGE_CHARS = 2_000  # a message or fix longer than this is cut, while it is filled in
CUT = " … (cut at {limit:,} characters)"


class Budget:
    """Characters a check's findings may still use, counted as they are filled in: a template
    of thousands of placeholders over a thousand partners would otherwise grow a report
    without bound. Each message has its own cap too (MAX_MESSAGE_CHARS)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def spend(self, used: int) -> None:
        self.left -= used
        if self.left < 0:
            raise ReportTooLarge(self.limit)


class ReportTooLarge(Exception):
    """The findings' text passed the whole report's budget."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


# One piece of a parsed template: the literal text before a placeholder, then the placeholder
# (None after the last), its key without `params.`, its format spec, and what is wrong with it.
_Piece = tuple[str, str | None, str, str, str | None]


def _pieces(template: str) -> Iterator[_Piece]:
    """A template's pieces, each checked as it is parsed. A stray brace is the last piece's
    problem, so it is raised where the parser raised it."""
    try:
        for literal, name, spec, conversion in _PARSER.parse(template):
            if name is None:
                yield literal, None, "", "", None
            else:
                problem = _shape_problem(name, spec or "", conversion)
                yield literal, name, name.removeprefix("params."), spec or "", problem
    except ValueError as exc:
        yield "", None, "", "", str(exc)


@functools.lru_cache(maxsize=1024)
def _parsed(template: str) -> tuple[_Piece, ...]:
    """A rule's template parsed once: filling it in then only formats values (a bundled
    rule's message: 3.1 -> 1.0-1.5 us)."""
    return tuple(_pieces(template))


# Longer templates are parsed as they are filled in, and not kept: one of 150,000
# placeholders is cut after a few hundred of them (see render).
PARSED_CHARS = 4 * MAX_MESSAGE_CHARS


def render(
    template: str,
    values: Mapping[str, Any],
    params: Mapping[str, Any],
    budget: Budget | None = None,
) -> str:
    """Fill a rule's message or fix template from a fact's values (as `for_message` gives
    them) and the rule's parameters, stopping at MAX_MESSAGE_CHARS. Raises ValueError for a
    placeholder the loader refuses, and ReportTooLarge when `budget` runs out."""
    out: list[str] = []
    size = 0
    pieces = _parsed(template) if len(template) <= PARSED_CHARS else _pieces(template)
    for literal, name, key, spec, problem in pieces:
        if problem is not None:
            raise ValueError(problem)
        out.append(literal)
        size += len(literal)
        if name is not None:
            value = _lookup(name, key, values, params)
            try:
                piece = format(value, spec)
            except (TypeError, ValueError):
                # The loader tried the spec on a value of the field's type, but an optional
                # field may be absent ({implementation_date:%B %Y} with no date): show it plainly.
                piece = str(value)
            out.append(piece)
            size += len(piece)
        if size > MAX_MESSAGE_CHARS:
            text = "".join(out)[:MAX_MESSAGE_CHARS] + CUT.format(limit=MAX_MESSAGE_CHARS)
            break
    else:
        text = "".join(out)
    if budget is not None:
        budget.spend(len(text))
    return text


def _lookup(name: str, key: str, values: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
    if key != name and key in params:
        value = params[key]
        if isinstance(value, list):
            return ", ".join(str(display(v)) for v in value)
        return for_message(value)
    if name in values:
        return values[name]
    raise ValueError(f"'{{{name}}}' is not a field or params.NAME")
