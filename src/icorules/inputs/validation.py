"""pydantic's validation errors as one plain-language line each, located in the file.

Every format (proposal, market, waivers, rulesets, rule tests) is a pydantic model; this is
where its errors become icorules' own words, keyed by pydantic's stable error types.
"""

from __future__ import annotations

import datetime as dt
import re
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from icorules.errors import Problem
from icorules.inputs.documents import Document, Loc, json_path
from icorules.inputs.references import suggest
from icorules.inputs.services import ENTRY, LINE


def located(document: Document | None, name: str, loc: Loc, message: str) -> Problem:
    """A problem at `loc` in `document` (or at a JSON path, for data that came as a dict)."""
    if document is not None:
        return document.problem(loc, message)

    return Problem(name, None, None, f"{json_path(loc)}: {message}")


def pydantic_problems(
    exc: ValidationError,
    root: type[BaseModel],
    document: Document | None,
    name: str,
    prefix: Loc = (),
) -> list[Problem]:
    """Turn pydantic's errors into one plain-language line each, located in the file.

    `prefix` is where `root` sits in the document when it validated only a part of it.
    """
    errors = _one_form(exc.errors(include_url=False))
    # 'organisatons' unknown and 'organisations' missing are one slip: report only the first.
    misspelt = {
        (_path(e)[:-1], m)
        for e in errors
        if e["type"] == "extra_forbidden"
        for m in [_closest_field(root, _path(e))]
        if m
    }
    problems = []
    for error in errors:
        loc = _path(error)
        if error["type"] == "missing" and (loc[:-1], loc[-1]) in misspelt:
            continue
        message = _explain(error, root, loc, document is not None and document.is_yaml)
        problems.append(located(document, name, (*prefix, *loc), message))
    return problems


def _one_form(errors: list[Any]) -> list[Any]:
    """Of a service neither of whose forms passed (services.LineOrEntry), only the errors of
    the form it has: an object's if it is an object, else a line's."""
    is_object = {
        error["loc"][: error["loc"].index(LINE)]: isinstance(error["input"], dict | BaseModel)
        for error in errors
        if LINE in error["loc"]
    }
    return [error for error in errors if not _other_form(error["loc"], is_object)]


def _other_form(loc: tuple[Any, ...], is_object: dict[tuple[Any, ...], bool]) -> bool:
    """An error of the form a service does not have, when both forms were tried."""
    if LINE in loc:
        return is_object[loc[: loc.index(LINE)]]
    if ENTRY in loc:
        return is_object.get(loc[: loc.index(ENTRY)]) is False
    return False


def _path(error: Any) -> Loc:
    """Where an error is, as the file has it: a tag naming which form of a value was validated
    (`~entry`: a service given as an object) is not part of the file's path."""
    return tuple(
        p
        for p in error["loc"]
        if isinstance(p, int) or (isinstance(p, str) and not p.startswith("~"))
    )


def _closest_field(root: type[BaseModel], loc: Loc) -> str | None:
    import difflib

    model = _model_at(root, loc[:-1])
    if model is None or not loc:
        return None
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return close[0] if close else None


def _explain(error: Any, root: type[BaseModel], loc: Loc, is_yaml: bool = False) -> str:
    """One error in icorules' words: a kind's own explanation (`_EXPLAIN`) where it has one,
    else the general wording (`_in_our_words`)."""
    # YAML 1.1 reads yes, no, on and off as true/false: say so where a bare word surprised.
    truth = " (YAML reads yes, no, on and off as true/false)" if is_yaml else ""
    explain = _EXPLAIN.get(error["type"])
    message = explain(error, root, loc, truth) if explain is not None else None
    return message if message is not None else _in_our_words(error, truth)


def _unknown_field(error: Any, root: type[BaseModel], loc: Loc, truth: str) -> str:
    """A field the model does not have: the closest it does, else all it allows."""
    field = loc[-1] if loc else ""
    model = _model_at(root, loc[:-1])
    known = sorted(f.alias or n for n, f in model.model_fields.items()) if model else []
    hint = suggest(str(field), known) or (f" (allowed: {', '.join(known)})" if known else "")
    return f"unknown field '{field}'{hint}"


def _missing(error: Any, root: type[BaseModel], loc: Loc, truth: str) -> str:
    field = loc[-1] if loc else ""
    return f"required field '{field}' is missing"


def _not_a_choice(error: Any, root: type[BaseModel], loc: Loc, truth: str) -> str:
    """A value outside an enum or literal: the choices, and the closest one."""
    got = error.get("input")
    expected = error.get("ctx", {}).get("expected", "")
    choices = re.findall(r"'([^']*)'", expected)
    if isinstance(got, bool):
        return f"true/false is not allowed here{truth}; expected one of: {', '.join(choices)}"
    hint = suggest(str(got), choices)
    return f"'{got}' is not allowed here{hint}; expected one of: {', '.join(choices)}"


def _wrong_form(error: Any, root: type[BaseModel], loc: Loc, truth: str) -> str:
    """Text that does not match an id's or code's pattern: the form in words (`_FORMS`)."""
    pattern = str(error.get("ctx", {}).get("pattern", ""))
    form = _FORMS.get(pattern, f"the pattern {pattern}")
    return f"{error.get('input')!r} is not in the right form: use {form}"


def _not_an_object(error: Any, root: type[BaseModel], loc: Loc, truth: str) -> str:
    got = error.get("input")
    return f"should be an object (a mapping of fields), not {_kind_of(got)}{_if(got, truth)}"


def _not_a_list(error: Any, root: type[BaseModel], loc: Loc, truth: str) -> str:
    got = error.get("input")
    return f"should be a list, not {_kind_of(got)}{_if(got, truth)}"


def _date_and_time(error: Any, root: type[BaseModel], loc: Loc, truth: str) -> str:
    """A date and time where a date is wanted: the date to write instead, where there is one."""
    got = error.get("input")
    shown = got.isoformat() if isinstance(got, dt.datetime) else repr(got)
    day = re.match(
        r"\d{4}-\d{2}-\d{2}", got.isoformat() if isinstance(got, dt.datetime) else str(got)
    )
    return f"{shown} is a date and time; write the date only" + (
        f" ({day.group()})" if day else ", like 2008-12-31"
    )


def _not_a_date(error: Any, root: type[BaseModel], loc: Loc, truth: str) -> str:
    return f"{error.get('input')!r} is not a date: write it like 2008-12-31"


def _not_text(error: Any, root: type[BaseModel], loc: Loc, truth: str) -> str | None:
    """YAML read a date or a number where text is wanted: say to quote it. None otherwise."""
    got = error.get("input")
    if isinstance(got, dt.datetime):
        return f"YAML read {got.isoformat()} as a date and time; put it in quotes to make it text"
    if isinstance(got, dt.date):
        return f"YAML read {got.isoformat()} as a date; put it in quotes to make it text"
    if isinstance(got, int | float) and not isinstance(got, bool):
        return f'{got!r}: should be text; put it in quotes (e.g. "{got}")'
    return None


def _in_our_words(error: Any, truth: str) -> str:
    """The general wording (`_message_for`), with the value as the person wrote it."""
    got = error.get("input")
    message = _message_for(error["type"], error.get("ctx") or {}, error)
    if isinstance(got, bool):  # shown as a person wrote it, never as Python's True
        return f"{message}{'' if 'true/false' in message else ', not true/false'}{truth}"
    if isinstance(got, str | int | float) and len(str(got)) <= 60:
        message = f"{got!r}: {message}"
    return message


# The error types explained in their own way, by pydantic's stable codes; None from one means
# the general wording.
_EXPLAIN: dict[str, Callable[[Any, type[BaseModel], Loc, str], str | None]] = {
    "extra_forbidden": _unknown_field,
    "missing": _missing,
    "enum": _not_a_choice,
    "literal_error": _not_a_choice,
    "string_pattern_mismatch": _wrong_form,
    "model_type": _not_an_object,
    "dict_type": _not_an_object,
    "model_attributes_type": _not_an_object,
    "list_type": _not_a_list,
    "date_from_datetime_inexact": _date_and_time,
    "date_from_datetime_parsing": _not_a_date,
    "date_parsing": _not_a_date,
    "string_type": _not_text,
}


def _if(value: Any, truth: str) -> str:
    """The YAML true/false hint when `value` is a bool."""
    return truth if isinstance(value, bool) else ""


# Our words for pydantic's error types (stable codes with their context values), so that a
# message does not change with pydantic's own wording.
_MESSAGES = {
    "greater_than": "should be greater than {gt}",
    "greater_than_equal": "should be at least {ge:,}",
    "less_than": "should be less than {lt:,}",
    "less_than_equal": "should be at most {le:,}",
    "string_too_long": "should have at most {max_length} characters",
    "string_too_short": "should have at least {min_length} characters",
    "too_short": "should have at least {min_length} {min_length_items}, not {actual_length}",
    "too_long": "should have at most {max_length} {max_length_items}, not {actual_length}",
    "string_type": "should be text",
    "int_type": "should be a whole number",
    "int_parsing": "should be a whole number",
    "int_from_float": "should be a whole number",
    "float_type": "should be a number",
    "float_parsing": "should be a number",
    "finite_number": "should be a finite number",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
    "date_type": "should be a date, written like 2008-12-31",
    "list_type": "should be a list",
    "multiple_of": "should be a multiple of {multiple_of}",
}


def _number(value: Any) -> Any:
    """0.0 -> 0 (a bound written as a float is still shown as the number people wrote)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _message_for(kind: str, ctx: dict[str, Any], error: Any) -> str:
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])  # raised by our own validators, in our words
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "should not be empty"
    template = _MESSAGES.get(kind)
    if template is not None:
        try:
            values = {k: _number(v) for k, v in ctx.items()}
            values |= {f"{k}_items": "item" if v == 1 else "items" for k, v in values.items()}
            return template.format(**values)
        except (KeyError, IndexError):
            pass
    message = str(error["msg"])  # a type icorules has no words for: pydantic's own
    return message[0].lower() + message[1:] if message else kind


_FORMS = {
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$": "letters, digits and _ . : - (starting with a letter or "
    "digit, at most 64 characters), e.g. GP-P81001",
    r"^[A-Z0-9]{3,5}$": "3 to 5 capital letters or digits, e.g. 5NE",
    r"^[^\x00-\x1f]*$": "text on one line (no line breaks or tabs)",
    r"^[A-Z][A-Z0-9]*-[0-9]{3}[a-z]?$": "capital letters, a hyphen and three digits, with an "
    "optional lower-case suffix, e.g. GOV-002 or MKT-003a",
    r"^[a-z0-9][a-z0-9_./-]*$": "lower-case letters, digits and _ . / -, e.g. "
    "prospectus-2008/governance",
    r"^[a-z0-9][a-z0-9_.-]*$": "lower-case letters, digits and _ . -, e.g. crump-2009",
    r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$": "a year, a year and month, or a date: 2009, "
    "2008-11 or 2009-04-01",
    r"^https?://\S+$": "a web address starting http:// or https://",
    r"^[a-z][a-z0-9_]{0,63}$": "lower-case letters, digits and _, starting with a letter, e.g. "
    "diabetes or elderly_care",
    r"^[A-Z0-9]{3,6}$": "3 to 6 capital letters or digits, e.g. RLN or P81001",
}


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty (null)"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class found at a path, following list and optional annotations."""

    model: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        info = model.model_fields.get(str(part))
        if info is None:
            return None
        model = _model_in(info.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _model_in(annotation: Any) -> Any:
    """The model an annotation holds (through lists, optionals and unions: the first model
    among the choices), else the first plain type."""
    if isinstance(annotation, type):
        return annotation
    found = [_model_in(a) for a in typing.get_args(annotation) if a is not type(None)]
    models = [m for m in found if isinstance(m, type) and issubclass(m, BaseModel)]
    return models[0] if models else (found[0] if found else None)
