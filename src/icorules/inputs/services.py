"""How a bid names services, and the views of a list of them the facts read.

An item of a list of services is a service line (text), or an object (format 2): a line with a
specialty under it, and for a provided service its size. `entries` gives every item as an
object and `lines` the lines, each once; both are shared between organisations whose lists are
the same (the models are frozen), as most partners' lists are another's.

Strict, the base of every model of a bid, is here with the first models built on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue

from icorules.inputs.codes import MAX_SIZE, ServiceLine, Size, SizeMeasure, Specialty
from icorules.memo import once


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, ignored_types=(once,))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy, without what was worked out from the fields (an update may change them)."""
        copied = super().model_copy(update=update, deep=deep)
        for name in set(copied.__dict__) - set(type(self).model_fields):
            del copied.__dict__[name]  # a cached_property: worked out again when read
        return copied


class ServiceEntry(Strict):
    """A service line, or one specialty under it: `{service: outpatients, specialty: diabetes}`.
    A specialty does not change the line's care setting, and is not a market of its own."""

    service: ServiceLine
    specialty: Specialty | None = Field(
        None, description="A specialty under the line (lower-case words joined by _)."
    )

    @property
    def key(self) -> str:
        """`outpatients`, or `outpatients/diabetes` for a specialty."""
        return f"{self.service}/{self.specialty}" if self.specialty else str(self.service)


class ProvidedService(ServiceEntry):
    """A service the organisation provides, with its size in that line where the bid knows it
    (its size in that market: it overrides the market file's for this partner)."""

    size: Size | None = Field(None, strict=True, ge=0, le=MAX_SIZE, allow_inf_nan=False)
    size_measure: SizeMeasure | None = Field(None, description="What `size` counts.")


LINE = "~line"  # the tags of a service's two forms, in the paths of pydantic's errors
ENTRY = "~entry"


class LineOrEntry:
    """An item of a list of services, in a bid or a market file: a service line (text) or an
    object (format 2).

    pydantic tries the line, then the object (a union, left to right), all in Rust: choosing
    one form first with a Python function cost a call per item (~50 a check, ~10-25 us).
    When both fail, pydantic reports both forms' errors, each under its tag; validation.py
    keeps only those of the form the item has (an object's, or else a line's), so a mistake
    is reported once, as before.
    """

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        union = handler(source)  # pydantic's union of the two forms, line first
        tagged = list(zip(union["choices"], _TAGS, strict=True))
        return {**union, "choices": tagged, "mode": "left_to_right"}

    def __get_pydantic_json_schema__(
        self, schema: Any, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        forms = handler(schema)
        return {"oneOf": forms["anyOf"]}  # an item is one form or the other, never both


_TAGS = (LINE, ENTRY)
Service = Annotated[ServiceLine | ServiceEntry, LineOrEntry()]
Provided = Annotated[ServiceLine | ProvidedService, LineOrEntry()]


def entries(items: list[Any]) -> tuple[ProvidedService, ...]:
    """A list of services with every item an object (a plain line as `{service: line}`)."""
    return _entries(tuple(items))


# Shared per distinct list (the items are frozen): most partners' lists repeat another's.
@lru_cache(maxsize=4096)
def _entries(items: tuple[Any, ...]) -> tuple[ProvidedService, ...]:
    return tuple(_entry(item) for item in items)


def _entry(item: Any) -> ProvidedService:
    if isinstance(item, str):  # a line (StrEnum): cheaper to ask than a model class is
        return _entry_of_line(item)
    if type(item) is ProvidedService:
        return item
    return _entry_with_specialty(item.service, item.specialty)


# Made once per distinct item and shared (frozen models): making one took ~4 µs.
@lru_cache(maxsize=1024)
def _entry_of_line(line: ServiceLine) -> ProvidedService:
    return ProvidedService(service=line)


@lru_cache(maxsize=1024)
def _entry_with_specialty(line: ServiceLine, specialty: str | None) -> ProvidedService:
    return ProvidedService(service=line, specialty=specialty)


def lines(items: list[Any]) -> tuple[str, ...]:
    """The service lines of a list of services, each once, in order."""
    return _lines(tuple(items))


@lru_cache(maxsize=4096)
def _lines(items: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(i) if isinstance(i, str) else str(i.service) for i in items))
