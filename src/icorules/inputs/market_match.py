"""Where a proposal and a market file meet: which market providers are the bid's organisations
(`matches`), and where the two describe one organisation differently (`reconcile`)."""

from __future__ import annotations

from collections.abc import Iterator

from icorules.errors import Problem
from icorules.inputs.market import Market, market_warnings
from icorules.inputs.proposal import Organisation, Proposal


def matches(proposal: Proposal, market: Market) -> dict[int, str]:
    """Which market providers are organisations the bid names (partners or stakeholders):
    provider index -> organisation id. A provider is an organisation when its id is the
    organisation's id or ODS code (a file from `icorules market import` uses ODS codes as ids),
    or when both give the same ODS code."""
    return {j: ids[0] for j, ids in _candidates(proposal, market) if ids}


def _candidates(proposal: Proposal, market: Market) -> Iterator[tuple[int, list[str]]]:
    """(provider index, the organisations it could be, best match first), in file order, for
    every provider that could be one."""
    by_id = {org.id for org in proposal.everyone()}
    by_ods: dict[str, str] = {}
    for org in proposal.everyone():
        if org.ods_code:
            by_ods.setdefault(org.ods_code, org.id)
    with_id, with_ods = market.provider_index
    found_at = {j for code in by_id | by_ods.keys() for j in with_id.get(code, ())}
    found_at.update(j for code in by_ods for j in with_ods.get(code, ()))
    for j in sorted(found_at):
        provider = market.providers[j]
        found = [provider.id] if provider.id in by_id else []
        found += [by_ods[code] for code in (provider.id, provider.ods_code) if code in by_ods]
        yield j, list(dict.fromkeys(found))


def reconcile(proposal: Proposal, market: Market) -> tuple[list[Problem], list[str]]:
    """Errors and warnings where a proposal and a market file describe the same things.

    A market provider that is a partner (see `matches`) *is* that partner (an ODS extract
    lists every practice, partners included). Where the two disagree the proposal wins, except
    on the PCT area a partner sits in: that decides which markets it counts in, so it is an
    error; so is a provider that would be two organisations of different bodies.
    """
    errors: list[Problem] = []
    warnings: list[str] = []
    partners = {org.id: (i, org) for i, org in enumerate(proposal.organisations)}
    warnings += market_warnings(market, skip=frozenset(partners))
    warnings += _area_warnings(proposal, market)
    body = {org.id: org.part_of or org.id for org in proposal.everyone()}
    for j, ids in _candidates(proposal, market):
        if len({body[i] for i in ids}) > 1:
            message = f"'{market.providers[j].id}' matches {' and '.join(ids)} of the proposal"
            errors.append(market.problem(("providers", j), message + " (by id or ODS code)"))
        elif ids and ids[0] in partners:
            _reconcile_partner(market, j, *partners[ids[0]], errors, warnings)
    return errors, warnings


def _area_warnings(proposal: Proposal, market: Market) -> list[str]:
    warnings: list[str] = []
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
    return warnings


def _reconcile_partner(
    market: Market,
    j: int,
    i: int,
    org: Organisation,
    errors: list[Problem],
    warnings: list[str],
) -> None:
    """Where a provider and the partner it is disagree."""
    provider = market.providers[j]
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
