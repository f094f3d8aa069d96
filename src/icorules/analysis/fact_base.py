"""The base of every fact kind, and a check's facts kept as rows until needed.

A fact is built without validation from values icorules worked out itself (`Fact.trusted`),
or kept as a row (its kind and values) until something needs the object (`FactsByKey`). A
row's values are also the record a check sends the engine (engines.normalized); the kinds
themselves are in icorules.analysis.facts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
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
    def row(cls, values: dict[str, Any]) -> tuple[type[Self], dict[str, Any]]:
        """The fact as derive worked it out, not yet an object: the engine needs only its
        values, and a check shows few facts (`made`, FactsByKey). The values come as one dict
        (a literal costs half what keyword arguments do); its kind is put in, so that the dict
        is also the record a check sends the engine (engines.normalized)."""
        values["kind"] = cls.kind
        return cls, values


F = TypeVar("F", bound=Fact)
FactRow = tuple[type[F], dict[str, Any]]  # a kind and the values of one fact of it


def made(row: FactRow[F]) -> F:
    """The fact object of a row (Fact.row): what derive_facts gives."""
    cls, values = row
    return cls.trusted(**{name: value for name, value in values.items() if name != "kind"})


class FactsByKey(Mapping[tuple[str, str], Fact]):
    """A check's facts by (kind, id), each object made when first asked for: findings read
    the few facts rules fired on, and making all ~50 was a tenth of deriving them."""

    def __init__(self, rows: Iterable[FactRow[Any]]) -> None:
        # The kind from the values (Fact.row put it there): reading it on a pydantic class is
        # three times as slow as on a plain one.
        self._rows = {(row[1]["kind"], row[1]["id"]): row for row in rows}
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
