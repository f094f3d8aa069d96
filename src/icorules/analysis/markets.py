"""The markets a pilot touches, measured against a market file: supply, shares and HHI.

A *market* is one service line in one PCT area. With a market file, `measure_markets` works out
who supplies each market the partners are in (partners and everyone else nearby), the partners'
share of supply, and the Herfindahl-Hirschman index before and after the partners combine
(reference fact R3). It also counts the other providers patients could turn to, and the GP
practices of each area. `icorules.analysis.graph.build_graph` calls it once per check.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal

from icorules.inputs.codes import OrgType
from icorules.inputs.market import Market, MarketPctArea, Provider
from icorules.inputs.proposal import Organisation, Proposal

# Sizes are bounded where they are read (icorules.inputs.market.MAX_SIZE); above this the sums
# below are worked on sizes scaled by the largest, so that no input can overflow them.
_SCALE_ABOVE = 1e150


@dataclass(frozen=True)
class Concentration:
    """Shares of supply in one market and its HHI before and after the partners combine."""

    shares: dict[str, float]
    basis: Literal["size", "count"]  # "size" when every provider has a size > 0, else "count"
    partner_share: float
    hhi_pre: float
    hhi_post: float

    @property
    def hhi_delta(self) -> float:
        return self.hhi_post - self.hhi_pre


def concentration(sizes: Mapping[str, float | None], partners: Collection[str]) -> Concentration:
    """Shares by size where every provider has one (else by head count), and HHI in 0-10000.

    HHI is the sum of squared percentage shares (reference fact R3); after the pilot the
    partners count as one provider. Any finite sizes are safe: very large ones are scaled
    down by the largest before they are added up (an infinite or NaN size counts as unknown).
    """
    if not sizes:
        raise ValueError("a market needs at least one provider")
    by_size = all(size is not None and 0 < size < math.inf for size in sizes.values())
    weights = {p: float(s) if by_size and s is not None else 1.0 for p, s in sizes.items()}
    largest = max(weights.values())
    if largest > _SCALE_ABOVE:
        weights = {p: w / largest for p, w in weights.items()}
    total = math.fsum(weights.values())
    shares = {p: w / total for p, w in sorted(weights.items())}
    partner_share = math.fsum(s for p, s in shares.items() if p in partners)
    outside = [s for p, s in shares.items() if p not in partners]
    hhi_pre = math.fsum((100 * s) ** 2 for s in shares.values())
    hhi_post = (100 * partner_share) ** 2 + math.fsum((100 * s) ** 2 for s in outside)
    return Concentration(
        shares=shares,
        basis="size" if by_size else "count",
        partner_share=partner_share,
        hhi_pre=hhi_pre,
        hhi_post=max(hhi_post, hhi_pre),  # equal up to rounding when partners hold one share
    )


@dataclass(frozen=True)
class MarketMeasure:
    """One market (a service line in a PCT area) touched by the partnership."""

    area: str
    service: str
    partners: tuple[str, ...]
    outside: tuple[str, ...]
    concentration: Concentration
    alternative_nearby: bool  # a non-partner provides it here or in an adjacent area


@dataclass
class MarketView:
    """What a market file tells one check: the measured markets and who else is nearby."""

    market: Market
    markets: dict[tuple[str, str], MarketMeasure] = field(default_factory=dict)
    outside_nearby: dict[str, int] = field(default_factory=dict)  # service -> other providers
    area_practices: dict[str, frozenset[str]] = field(default_factory=dict)  # all GP practices
    nearby_areas: list[MarketPctArea] = field(default_factory=list)  # in reach, not the bid's
    outside_providers: list[Provider] = field(default_factory=list)  # non-partners that matter
    warnings: list[str] = field(default_factory=list)


Supply = tuple[float | None, str | None]  # (size, what the size measures)


def measure_markets(
    proposal: Proposal, market: Market, registered_population: Mapping[str, int]
) -> MarketView:
    """Measure the markets the pilot touches, and find the non-partner providers that matter.

    A provider matters if it is in one of the pilot's PCT areas or an adjacent one and offers a
    service line the partners provide: it is then a competitor in a market the pilot touches or
    an alternative for patients. A partner's services outside the pilot (listed for it in the
    market file but not in its `provides`) stay outside supply. A national market file costs
    one pass over its providers.
    """
    view = MarketView(market)
    orgs = {o.id: o for o in proposal.organisations}
    adjacent = market.adjacency()
    areas = pilot_areas(proposal, registered_population)
    supply = partner_supply(proposal, market, areas)
    nearby = areas | {b for a in areas for b in adjacent.get(a, ())}
    found = scan_providers(market, orgs, nearby, supply)
    known = {a.code for a in proposal.pct_areas} | {o.pct for o in orgs.values() if o.pct}
    view.nearby_areas = [a for a in market.pct_areas if a.code in nearby and a.code not in known]
    view.outside_providers = found.providers
    view.area_practices = area_practices(proposal, found.practices)
    view.outside_nearby = {s: len(ids) for s, ids in found.outside.items()}
    listed_areas = {a.code for a in market.pct_areas}
    for (area, service), entries in sorted(supply.items()):
        if area not in listed_areas:  # nothing is known of the other providers there
            continue
        sizes, warning = comparable_sizes(area, service, entries)
        if warning:
            view.warnings.append(warning)
        near = {area, *adjacent.get(area, ())}
        view.markets[(area, service)] = MarketMeasure(
            area=area,
            service=service,
            partners=tuple(sorted(k for k in sizes if k in orgs)),
            outside=tuple(sorted(k for k in sizes if k not in orgs)),
            concentration=concentration(sizes, orgs.keys()),
            alternative_nearby=any((b, service) in found.offered for b in near),
        )
    return view


def pilot_areas(proposal: Proposal, registered_population: Mapping[str, int]) -> set[str]:
    """The PCT areas the pilot is in: where it registers patients, and where its partners are."""
    areas = {a for a, n in registered_population.items() if n > 0}
    return areas | {o.pct for o in proposal.organisations if o.pct}


@dataclass
class Competition:
    """What one pass over a market file's providers finds (see `scan_providers`)."""

    # (area, service) supplied by someone other than the pilot, in an area near it
    offered: set[tuple[str, str]] = field(default_factory=set)
    # service -> the other providers of it nearby (a partner's supply outside the pilot counts)
    outside: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # area -> the GP practices the market file lists there (near the pilot or not)
    practices: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # the non-partners that offer, near the pilot, a service line the partners provide
    providers: list[Provider] = field(default_factory=list)


def scan_providers(
    market: Market,
    orgs: Mapping[str, Organisation],
    nearby: Collection[str],
    supply: Mapping[tuple[str, str], dict[str, Supply]],
) -> Competition:
    """One pass over the market file's providers: who else supplies the pilot's service lines
    near it, added to `supply` in the markets the partners are in, and every GP practice."""
    found = Competition()
    pilot_services = {service for _, service in supply}
    for provider in market.providers:
        if provider.type is OrgType.gp_practice:
            found.practices[provider.pct].add(provider.id)
        if provider.pct not in nearby:
            continue
        partner = orgs.get(provider.id)
        services = outside_services(provider, partner, pilot_services)
        if not services:
            continue
        # A partner's supply outside the pilot competes with it like anyone else's.
        key = provider.id if partner is None else f"{provider.id} (outside the pilot)"
        if partner is None:
            found.providers.append(provider)
        for service in services:
            found.offered.add((provider.pct, service))
            found.outside[service].add(key)
            if (provider.pct, service) in supply:
                supply[(provider.pct, service)][key] = (provider.size, provider.size_measure)
    return found


def outside_services(
    provider: Provider, partner: Organisation | None, pilot_services: Collection[str]
) -> list[str]:
    """The pilot's service lines `provider` supplies other than through the pilot (all it
    supplies of them, unless it is a partner that provides them in the pilot)."""
    in_pilot = {s.value for s in partner.provides} if partner else set()
    return [
        s.value for s in provider.services if s.value in pilot_services and s.value not in in_pilot
    ]


def area_practices(proposal: Proposal, listed: Mapping[str, set[str]]) -> dict[str, frozenset[str]]:
    """Every GP practice in each area: the market file's and the proposal's."""
    practices: dict[str, set[str]] = defaultdict(set, {a: set(ids) for a, ids in listed.items()})
    for org in proposal.organisations:
        if org.type is OrgType.gp_practice and org.pct:
            practices[org.pct].add(org.id)
    return {a: frozenset(ids) for a, ids in practices.items()}


def comparable_sizes(
    area: str, service: str, entries: Mapping[str, Supply]
) -> tuple[dict[str, float | None], str | None]:
    """The providers' sizes in one market, and a warning when they are in different units (the
    shares are then by number of providers: every size unknown)."""
    measures = sorted({m for size, m in entries.values() if size is not None and m})
    sizes = {key: size for key, (size, _) in entries.items()}
    if len(measures) <= 1:
        return sizes, None
    warning = (
        f"{service} in {area}: provider sizes are in different units "
        f"({', '.join(measures)}), so shares there are by number of providers"
    )
    return dict.fromkeys(sizes), warning


def partner_supply(
    proposal: Proposal, market: Market, pilot_areas: Collection[str]
) -> dict[tuple[str, str], dict[str, Supply]]:
    """The partners' supply in each market: (area, service) -> partner id -> (size, measure).

    A partner with no PCT area supplies in every area of the pilot."""
    listed = {provider.id: provider for provider in market.providers}
    supply: dict[tuple[str, str], dict[str, Supply]] = defaultdict(dict)
    for org in proposal.organisations:
        size = partner_size(org, listed.get(org.id))
        for area in [org.pct] if org.pct else sorted(pilot_areas):
            for line in org.provides:
                supply[(area, line.value)][org.id] = size
    return supply


def partner_size(org: Organisation, listed: Provider | None) -> Supply:
    """A partner's size: its list size for a practice, else what the market file says."""
    if org.type is OrgType.gp_practice and org.list_size:
        return float(org.list_size), "list_size"
    return (listed.size, listed.size_measure) if listed is not None else (None, None)
