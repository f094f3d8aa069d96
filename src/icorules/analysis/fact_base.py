"""The base of every fact kind, and how the engine sees a fact's values.

A fact is built without validation from values icorules worked out itself (`Fact.trusted`),
and handed to the engine as a flat record (`Fact.engine_dict`): enums as their text, floats
rounded, dates as numbers. The kinds themselves are in icorules.analysis.facts.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

META_FIELDS = frozenset({"path"})


class Fact(BaseModel):
    """Base of every fact kind. `id` names the subject; `path` points into the proposal."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    kind: ClassVar[str]
    derived: ClassVar[bool] = False

    id: str = Field(description="The subject's id (organisation, agreement, PCT code, ...).")
    path: str = Field("", description="Where the subject is in the proposal (not for rules).")

    def engine_key(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """A fact from values derive_facts worked out itself, built without validation:
        validating ~50 facts was a sixth of a typical check. Every field must be given, and
        tests/test_differential.py checks that derived facts validate, so types still hold."""
        names = _field_names(cls)
        if len(values) != len(names):
            wrong = set(values) ^ set(names)
            raise TypeError(f"{cls.__name__}: missing or unknown fields {sorted(wrong)}")
        fact = cls.__new__(cls)
        object.__setattr__(fact, "__dict__", {name: values[name] for name in names})
        object.__setattr__(fact, "__pydantic_fields_set__", set(names))
        object.__setattr__(fact, "__pydantic_extra__", None)
        object.__setattr__(fact, "__pydantic_private__", None)
        return fact

    @classmethod
    def row(cls, **values: Any) -> tuple[type[Self], dict[str, Any]]:
        """The fact as derive worked it out, not yet an object: the engine needs only its
        record (engines.record_of), and a check shows few facts (`made`, FactsByKey)."""
        return cls, values

    def engine_dict(self) -> dict[str, Any]:
        """The fact as the engine sees it: unique `id`, own id as `ref`, no absent values."""
        values = self.__dict__
        kind = self.kind
        out: dict[str, Any] = {"kind": kind, "id": f"{kind}:{values['id']}", "ref": values["id"]}
        # A hot path (every fact of every check): a conversion per field, worked out once per
        # kind, costs a fifth of pydantic's iteration with an isinstance chain per value.
        for name, convert in _engine_fields(self.__class__):
            value = values[name]
            if value is not None:
                out[name] = value if convert is None else convert(value)
        return out


F = TypeVar("F", bound=Fact)
FactRow = tuple[type[F], dict[str, Any]]  # a kind and the values of one fact of it


def made(row: FactRow[F]) -> F:
    """The fact object of a row (Fact.row): what derive_facts gives."""
    cls, values = row
    return cls.trusted(**values)


class FactsByKey(Mapping[tuple[str, str], Fact]):
    """A check's facts by (kind, id), each object made when first asked for: findings read
    the few facts rules fired on, and making all ~50 was a tenth of deriving them."""

    def __init__(self, rows: Iterable[FactRow[Any]]) -> None:
        self._rows = {(row[0].kind, row[1]["id"]): row for row in rows}
        self._made: dict[tuple[str, str], Fact] = {}

    def __getitem__(self, key: tuple[str, str]) -> Fact:
        fact = self._made.get(key)
        if fact is None:
            fact = self._made[key] = made(self._rows[key])
        return fact

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


@functools.cache
def _field_names(cls: type[Fact]) -> tuple[str, ...]:
    """A kind's fields in order (pydantic's `model_fields` is slow to read on a class)."""
    return tuple(cls.model_fields)


@functools.cache
def _engine_fields(cls: type[Fact]) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    """The fields the engine gets (not `path`; `id` travels as `ref`), each with engine_value's
    conversion for its declared type, or None where the value goes as it is."""
    hints = typing.get_type_hints(cls)
    out: list[tuple[str, Callable[[Any], Any] | None]] = []
    for name in cls.model_fields:
        if name in META_FIELDS or name == "id":
            continue
        args = [a for a in typing.get_args(hints[name]) if a is not type(None)]
        base = args[0] if len(args) == 1 and type(None) in typing.get_args(hints[name]) else None
        annotation = base or hints[name]
        convert: Callable[[Any], Any] | None = None
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            convert = _enum_value
        elif annotation in (float, dt.date):
            convert = engine_value
        out.append((name, convert))
    return tuple(out)


def _enum_value(value: enum.Enum) -> Any:
    return value.value


def engine_value(value: Any) -> Any:
    """A fact value as the engine must see it (see DURABLE_RULES_NOTES: floats, dates)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dt.date):
        return value.year * 10_000 + value.month * 100 + value.day
    return value
