"""The optional market context: the local health economy beyond the partners.

A proposal only describes the partners. Whether they would dominate a market (MKT-*) or leave
patients without a choice (CHOICE-002) depends on who *else* provides each service line in each
PCT area; that is what a market file says. It is a separate document (`icorules/market/2`) so
one file, typically built from ODS extracts (see `icorules.ods`), can serve many proposals.

Format 2 gives a provider's size per service line (`services: [{service, size,
size_measure}]`), its ODS code, and the provider it is a unit of (`part_of`); a format-1 file
(`icorules/market/1`) still loads, with one size for all its lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import ConfigDict, Field, PrivateAttr, ValidationError

from icorules.errors import InputError, Problem
from icorules.inputs.codes import (
    MAX_POPULATION,
    MAX_SIZE,
    Name,
    OdsCode,
    OrgId,
    OrgType,
    PctCode,
    ServiceLine,
    Size,
    SizeMeasure,
    is_org_id,
    is_pct_code,
    ods_shape_problem,
)
from icorules.inputs.documents import Document, Loc, check_data, json_path, load_document
from icorules.inputs.kinds import refuse_other_kind
from icorules.inputs.references import (
    NOT_DECLARED,
    LocatedMessage,
    check_references,
    declared,
    items_of,
    list_at,
)
from icorules.inputs.services import LineOrEntry, Strict
from icorules.inputs.validation import located, pydantic_problems
from icorules.limits import DEFAULT_LIMITS, Limits
from icorules.memo import once

FORMAT_1: Final = "icorules/market/1"
FORMAT: Final = "icorules/market/2"
__all__ = ["FORMAT", "FORMAT_1", "Market", "SizeMeasure", "load_market"]


class _Deferred(Strict):
    """A market model builds its validator when first used: a check with a compiled market
    (or with none) never validates one, and building them was ~10 ms of each start."""

    model_config = ConfigDict(defer_build=True)


class MarketPctArea(_Deferred):
    """A PCT area of the local health economy and the areas next to it."""

    code: PctCode
    name: Name
    population: int = Field(gt=0, le=MAX_POPULATION, strict=True)
    adjacent: list[PctCode] = Field(
        default_factory=list,
        description="Neighbouring PCT areas; adjacency is symmetric, so listing it once is enough.",
    )


class LineSize(_Deferred):
    """A service line a provider offers, with its size in that line (format 2)."""

    service: ServiceLine
    size: Size | None = Field(None, strict=True, ge=0, le=MAX_SIZE, allow_inf_nan=False)
    size_measure: SizeMeasure | None = None


MarketService = Annotated[ServiceLine | LineSize, LineOrEntry()]  # as a bid's services are


class Provider(_Deferred):
    """An organisation that provides care in one PCT area (partner or not)."""

    id: OrgId
    name: Name
    type: OrgType
    ods_code: OdsCode | None = Field(None, description="Its NHS ODS code (format 2).")
    part_of: OrgId | None = Field(
        None, description="The provider (in this file) it is a unit of (format 2)."
    )
    pct: PctCode = Field(description="PCT area the provider sits in.")
    services: list[MarketService] = Field(
        default_factory=list,
        description="Service lines it provides: a line, or (format 2) {service, size, "
        "size_measure}.",
    )
    size: Size | None = Field(
        None,
        strict=True,
        ge=0,
        le=MAX_SIZE,
        allow_inf_nan=False,
        description="List size for practices, else capacity or activity; weights shares.",
    )
    size_measure: SizeMeasure | None = Field(None, description="What `size` counts.")

    def lines(self) -> list[ServiceLine]:
        """The service lines it offers, in order."""
        return [s.service if isinstance(s, LineSize) else s for s in self.services]

    def line_size(self, line: str) -> tuple[float | None, str | None]:
        """Its size in one service line: that line's own, else the provider's."""
        for entry in self.services:
            sized = isinstance(entry, LineSize) and entry.size is not None
            if sized and isinstance(entry, LineSize) and entry.service.value == line:
                return entry.size, entry.size_measure
        return self.size, self.size_measure


# What a Market works out once (`once`), for every check given it (Market.look_up).
LOOKUPS = ("provider_index", "provider_parent", "in_area", "practices_in", "without_services")


class Market(_Deferred):
    """The providers of a local health economy, by PCT area."""

    format: Literal["icorules/market/1", "icorules/market/2"] = FORMAT_1
    name: Name
    pct_areas: list[MarketPctArea] = Field(min_length=1)
    providers: list[Provider] = Field(default_factory=list)

    # Where the market came from, so that reconcile() can point into the file. Not a field.
    _document: Document | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Equal when the fields are: where a market was read from, and what was worked out
        from it (`once`), do not change it."""
        if not isinstance(other, Market):
            return NotImplemented
        return all(self.__dict__[name] == other.__dict__[name] for name in Market.model_fields)

    # Looked up by every check given the market, worked out once per market (a batch, the
    # command line and the service keep one Market for all their checks): the national market
    # has ~9,600 providers, and each pass over them cost a 500-partner check ~2-4 ms.

    @once
    def provider_index(self) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        """The providers' indexes by id and by ODS code."""
        by_id: dict[str, list[int]] = {}
        by_ods: dict[str, list[int]] = {}
        for j, provider in enumerate(self.providers):
            by_id.setdefault(provider.id, []).append(j)
            if provider.ods_code:
                by_ods.setdefault(provider.ods_code, []).append(j)
        return by_id, by_ods

    @once
    def provider_parent(self) -> dict[str, str]:
        """Provider id -> the provider it is a unit of (`part_of`), for units only."""
        return {p.id: p.part_of for p in self.providers if p.part_of}

    @once
    def in_area(self) -> dict[str, tuple[int, ...]]:
        """PCT code -> the indexes of the providers in it, in file order."""
        out: dict[str, list[int]] = {}
        for j, provider in enumerate(self.providers):
            out.setdefault(provider.pct, []).append(j)
        return {code: tuple(found) for code, found in out.items()}

    @once
    def practices_in(self) -> dict[str, frozenset[str]]:
        """PCT code -> the ids of the GP practices in it."""
        out: dict[str, set[str]] = {}
        for provider in self.providers:
            if provider.type is OrgType.gp_practice:
                out.setdefault(provider.pct, set()).add(provider.id)
        return {code: frozenset(ids) for code, ids in out.items()}

    @once
    def without_services(self) -> tuple[int, ...]:
        """The indexes of the providers that list no service line."""
        return tuple(j for j, provider in enumerate(self.providers) if not provider.services)

    def lookups(self) -> dict[str, Any]:
        """What the lookups above found, as JSON values (a compiled market stores them)."""
        by_id, by_ods = self.provider_index
        return {
            "provider_index": [by_id, by_ods],
            "provider_parent": self.provider_parent,
            "in_area": self.in_area,
            "practices_in": {code: sorted(ids) for code, ids in self.practices_in.items()},
            "without_services": self.without_services,
        }

    def know(self, lookups: dict[str, Any]) -> None:
        """Take the lookups `lookups()` gave for this market (a compiled market's, read back);
        ValueError if one names a provider the market does not have."""
        by_id, by_ods = lookups["provider_index"]
        count = len(self.providers)
        named = [*by_id.values(), *by_ods.values(), *lookups["in_area"].values()]
        if not all(0 <= j < count for js in named for j in js) or not all(
            0 <= j < count for j in lookups["without_services"]
        ):
            raise ValueError("a lookup names a provider the market does not have")
        self.__dict__.update(
            provider_index=(by_id, by_ods),
            provider_parent=lookups["provider_parent"],
            in_area={code: tuple(found) for code, found in lookups["in_area"].items()},
            practices_in={code: frozenset(ids) for code, ids in lookups["practices_in"].items()},
            without_services=tuple(lookups["without_services"]),
        )

    def look_up(self) -> None:
        """Work out every lookup now (a process about to freeze what it holds)."""
        for name in LOOKUPS:
            getattr(self, name)

    def provider(self, provider_id: str) -> Provider | None:
        """The provider with this id (ids are unique in a market file)."""
        found = self.provider_index[0].get(provider_id)
        return self.providers[found[0]] if found else None

    __hash__ = None  # type: ignore[assignment]  # lists inside: not hashable anyway

    def area(self, code: str) -> MarketPctArea | None:
        return next((a for a in self.pct_areas if a.code == code), None)

    def adjacency(self) -> dict[str, frozenset[str]]:
        """Neighbours of every area, both directions merged (a file may list a pair once)."""
        out: dict[str, set[str]] = {a.code: set() for a in self.pct_areas}
        for area in self.pct_areas:
            for other in area.adjacent:
                if other != area.code and other in out:
                    out[area.code].add(other)
                    out[other].add(area.code)
        return {code: frozenset(n) for code, n in out.items()}

    def source_name(self) -> str:
        return self._document.name if self._document is not None else "<market>"

    def problem(self, loc: Loc, message: str) -> Problem:
        """A problem located in the market file when there is one, else by JSON path only."""
        if self._document is not None:
            return self._document.problem(loc, message)
        return Problem("<market>", None, None, f"{json_path(loc)}: {message}")


def market_references(data: Any) -> list[LocatedMessage]:
    """Cross-references a schema cannot express: unique ids and codes, known PCT areas.

    Read from the parsed data, like a proposal's (icorules.inputs.references), so they are
    reported together with the schema's problems.
    """
    if not isinstance(data, dict):
        return []
    areas, problems = declared(
        data.get("pct_areas"),
        ("pct_areas",),
        "code",
        "PCT area",
        is_pct_code,
        required=True,
        unknown_phrase=NOT_DECLARED,
    )
    for i, area in items_of(data, "pct_areas"):
        for loc, other in list_at(area, ("adjacent",), prefix=("pct_areas", i)):
            if other == area.get("code") and is_pct_code(other):
                problems.append((loc, f"PCT area '{other}' is listed as adjacent to itself"))
            else:
                problems += check_references(areas, [(loc, other)], is_pct_code)
    providers, twice = declared(
        data.get("providers"), ("providers",), "id", "provider id", is_org_id
    )
    problems += twice
    problems += check_references(
        areas,
        ((("providers", i, "pct"), p.get("pct")) for i, p in items_of(data, "providers")),
        is_pct_code,
    )
    units = (
        (("providers", i, "part_of"), p.get("part_of")) for i, p in items_of(data, "providers")
    )
    problems += check_references(providers, units, is_org_id)
    for i, provider in items_of(data, "providers"):
        shape = ods_shape_problem(provider.get("type"), provider.get("ods_code"))
        if shape is not None:
            problems.append((("providers", i, "ods_code"), shape))
        if provider.get("part_of") is not None and provider.get("part_of") == provider.get("id"):
            problems.append((("providers", i, "part_of"), "a provider cannot be a unit of itself"))
    return problems + _format_problems(data)


def _format_problems(data: dict[str, Any]) -> list[LocatedMessage]:
    """Format 2's fields in a format-1 market file."""
    if data.get("format") == FORMAT:
        return []
    problems: list[LocatedMessage] = []
    for i, provider in items_of(data, "providers"):
        for name in ("ods_code", "part_of"):
            if provider.get(name) is not None:
                problems.append((("providers", i, name), _NEW.format(f"'{name}' is")))
        services = provider.get("services")
        for j, entry in enumerate(services if isinstance(services, list) else []):
            if isinstance(entry, dict):
                problems.append((("providers", i, "services", j), _NEW.format("a sized line is")))
    return problems


_NEW = (
    "{} new in format 2, but the file is in format 1: run `icorules upgrade` on it, or set "
    f"format: {FORMAT}"
)


def parse_market(data: Any, document: Document | None = None) -> Market:
    """Validate parsed data as a market; every problem is reported, each with its path."""
    name = document.name if document else "<market>"
    if not isinstance(data, dict):
        message = "a market file is a JSON/YAML object (a mapping of fields)"
        raise InputError([located(document, name, (), message)])
    refuse_other_kind(data, "market", document, name)
    problems = [located(document, name, loc, m) for loc, m in market_references(data)]
    try:
        market = Market.model_validate(data)
    except ValidationError as exc:
        problems = pydantic_problems(exc, Market, document, name) + problems
    if problems:
        raise InputError(problems)
    market._document = document
    return market


def market_schema() -> dict[str, Any]:
    schema = Market.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"icorules market context ({FORMAT})"
    schema["properties"]["format"] = {
        "const": FORMAT,
        "description": f"The format version. Files in {FORMAT_1} (or with no format) still "
        "load; `icorules upgrade FILE` brings them to format 2.",
    }
    return schema


def load_market(
    source: str | Path | dict[str, Any] | Market, *, limits: Limits = DEFAULT_LIMITS
) -> Market:
    """A market from a file path (JSON or YAML), a dict, or an existing model."""
    if isinstance(source, Market):
        refs = market_references(source.model_dump(mode="json"))
        if refs:
            raise InputError([source.problem(loc, message) for loc, message in refs])
        return source
    if isinstance(source, dict):
        check_data(source, "<market>", limits)
        return parse_market(source)
    document = load_document(source, limits=limits)
    return parse_market(document.data, document)


def market_warnings(market: Market, *, skip: frozenset[str] = frozenset()) -> list[str]:
    """Things that are legal but probably not meant; `skip` names providers not to warn about."""
    return [
        str(
            market.problem(
                ("providers", i),
                f"provider '{p.id}' has no service lines; it is ignored for market shares",
            )
        )
        for i in market.without_services
        if (p := market.providers[i]).id not in skip
    ]
