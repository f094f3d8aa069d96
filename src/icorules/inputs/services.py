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

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

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


def _line_or_entry(value: Any) -> str:
    return "~entry" if isinstance(value, (dict, ServiceEntry)) else "~line"  # no X | Y made


# In a list of services, each item is a service line (text) or an object (format 2). The tag
# decides which is validated, so a mistake is reported once; validation.py leaves tags ('~...')
# out of the paths it shows.
Service = Annotated[
    Annotated[ServiceLine, Tag("~line")] | Annotated[ServiceEntry, Tag("~entry")],
    Discriminator(_line_or_entry),
]
Provided = Annotated[
    Annotated[ServiceLine, Tag("~line")] | Annotated[ProvidedService, Tag("~entry")],
    Discriminator(_line_or_entry),
]


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
