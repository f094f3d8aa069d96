"""The optional market context: the local health economy beyond the partners.

A proposal only describes the partners. Whether they would dominate a market (MKT-*) or leave
patients without a choice (CHOICE-002) depends on who *else* provides each service line in each
PCT area; that is what a market file says. It is a separate document (`icorules/market/1`) so
one file, typically built from ODS extracts (see `icorules.ods`), can serve many proposals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final, Literal

from pydantic import Field, PrivateAttr, ValidationError

from icorules.errors import InputError, Problem
from icorules.inputs.codes import (
    MAX_POPULATION,
    MAX_SIZE,
    Name,
    OrgId,
    OrgType,
    PctCode,
    ServiceLine,
    Size,
    is_org_id,
    is_pct_code,
)
from icorules.inputs.documents import Document, Loc, check_data, json_path, load_document
from icorules.inputs.kinds import refuse_other_kind
from icorules.inputs.proposal import Proposal, Strict
from icorules.inputs.references import (
    NOT_DECLARED,
    LocatedMessage,
    check_references,
    declared,
    items_of,
    list_at,
)
from icorules.inputs.validation import located, pydantic_problems
from icorules.limits import DEFAULT_LIMITS, Limits

FORMAT: Final = "icorules/market/1"

SizeMeasure = Literal["list_size", "capacity", "activity", "beds"]


class MarketPctArea(Strict):
    """A PCT area of the local health economy and the areas next to it."""

    code: PctCode
    name: Name
    population: int = Field(gt=0, le=MAX_POPULATION, strict=True)
    adjacent: list[PctCode] = Field(
        default_factory=list,
        description="Neighbouring PCT areas; adjacency is symmetric, so listing it once is enough.",
    )


class Provider(Strict):
    """An organisation that provides care in one PCT area (partner or not)."""

    id: OrgId
    name: Name
    type: OrgType
    pct: PctCode = Field(description="PCT area the provider sits in.")
    services: list[ServiceLine] = Field(
        default_factory=list, description="Service lines it provides."
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


class Market(Strict):
    """The providers of a local health economy, by PCT area."""

    format: Literal["icorules/market/1"] = FORMAT
    name: Name
    pct_areas: list[MarketPctArea] = Field(min_length=1)
    providers: list[Provider] = Field(default_factory=list)

    # Where the market came from, so that reconcile() can point into the file. Not a field.
    _document: Document | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Equal when the fields are: where a market was read from does not change it."""
        if not isinstance(other, Market):
            return NotImplemented
        return self.__dict__ == other.__dict__

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
    problems += declared(data.get("providers"), ("providers",), "id", "provider id", is_org_id)[1]
    problems += check_references(
        areas,
        ((("providers", i, "pct"), p.get("pct")) for i, p in items_of(data, "providers")),
        is_pct_code,
    )
    return problems


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
        for i, p in enumerate(market.providers)
        if not p.services and p.id not in skip
    ]


def reconcile(proposal: Proposal, market: Market) -> tuple[list[Problem], list[str]]:
    """Errors and warnings where a proposal and a market file describe the same things.

    A market provider whose id is a partner's id *is* that partner (an ODS extract lists every
    practice, partners included). Where the two disagree the proposal wins, except on the PCT
    area a partner sits in: that decides which markets it counts in, so it is an error.
    """
    errors: list[Problem] = []
    warnings: list[str] = []
    partners = {org.id: (i, org) for i, org in enumerate(proposal.organisations)}
    warnings += market_warnings(market, skip=frozenset(partners))

    market_areas = {area.code: (j, area) for j, area in enumerate(market.pct_areas)}
    for i, area in enumerate(proposal.pct_areas):
        if area.code not in market_areas:
            warnings.append(
                f"pct_areas[{i}]: the proposal's PCT area '{area.code}' is not in the market"
                f" file {market.source_name()}; no providers outside the partnership are known"
                " there"
            )
            continue
        j, known = market_areas[area.code]
        if known.population != area.population:
            warnings.append(
                str(
                    market.problem(
                        ("pct_areas", j, "population"),
                        f"PCT area '{area.code}' has population {known.population:,} here but"
                        f" {area.population:,} in the proposal (pct_areas[{i}].population);"
                        " the proposal's is used",
                    )
                )
            )

    for j, provider in enumerate(market.providers):
        if provider.id not in partners:
            continue
        i, org = partners[provider.id]
        where = f"organisations[{i}]"
        if org.pct is not None and org.pct != provider.pct:
            errors.append(
                market.problem(
                    ("providers", j, "pct"),
                    f"'{provider.id}' is in PCT {provider.pct} here but in {org.pct} in the"
                    f" proposal ({where}.pct)",
                )
            )
        if org.type != provider.type:
            warnings.append(
                str(
                    market.problem(
                        ("providers", j, "type"),
                        f"'{provider.id}' has type {provider.type.value} here but"
                        f" {org.type.value} in the proposal ({where}.type); the proposal's is"
                        " used",
                    )
                )
            )
        if (
            org.list_size is not None
            and provider.size is not None
            and provider.size_measure in (None, "list_size")
            and provider.size != org.list_size
        ):
            warnings.append(
                str(
                    market.problem(
                        ("providers", j, "size"),
                        f"'{provider.id}' has list size {provider.size:,.0f} here but"
                        f" {org.list_size:,} in the proposal ({where}.list_size); the proposal's"
                        " is used",
                    )
                )
            )
    return errors, warnings
