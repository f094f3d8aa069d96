"""The markets a pilot touches, measured against a market file: supply, shares and HHI.

A *market* is one service line in one PCT area. With a market file, `measure_markets` works out
who supplies each market the partners are in (partners and everyone else nearby), the partners'
share of supply, and the Herfindahl-Hirschman index before and after the partners combine
(eu-merger-guidelines-2004, as the bundled market rules cite it). It also counts the other
providers patients could turn to, and the GP practices of each area.
`icorules.analysis.graph.build_graph` calls it once per check.

Shares are of *bodies*, the undertakings that compete: a PCT's provider arm (`part_of`) is no
body of its own, so it and its PCT are one supplier, and a partner arm brings its whole body
into the partners' share. The pilot's own share (`pilot_share`) counts only what the partners
themselves supply: an arm's own size in the line, where the bid gives it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal

from icorules.inputs.codes import OrgType
from icorules.inputs.market import Market, MarketPctArea, Provider
from icorules.inputs.market_match import matches
from icorules.inputs.proposal import Organisation, Proposal

# Sizes are bounded where they are read (icorules.inputs.market.MAX_SIZE); above this the sums
# below are worked on sizes scaled by the largest, so that no input can overflow them.
_GP_PRACTICE = OrgType.gp_practice  # read in loops: a read through the class is ~0.15 µs
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

    HHI is the sum of squared percentage shares; after the pilot the partners count as one
    provider. Any finite sizes are safe: very large ones are scaled down by the largest before
    they are added up (an infinite or NaN size counts as unknown).
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
    partners: tuple[str, ...]  # the partner organisations that provide it here
    outside: tuple[str, ...]
    concentration: Concentration
    alternative_nearby: bool  # a non-partner provides it here or in an adjacent area
    bodies: tuple[str, ...] = ()  # the partners' bodies (a unit counts as its body)
    pilot_share: float | None = None  # the partners' own supply; None: the partner share

    @property
    def own_share(self) -> float:
        """The share the partners themselves supply (an arm's own size, not its body's)."""
        if self.pilot_share is None:
            return self.concentration.partner_share
        return min(self.pilot_share, self.concentration.partner_share)


@dataclass
class MarketView:
    """What a market file tells one check: the measured markets and who else is nearby."""

    market: Market
    markets: dict[tuple[str, str], MarketMeasure] = field(default_factory=dict)
    outside_nearby: dict[str, int] = field(default_factory=dict)  # service -> other providers
    # the GP practices of each of the bid's areas (the market file's and the bid's)
    area_practices: dict[str, frozenset[str]] = field(default_factory=dict)
    nearby_areas: list[MarketPctArea] = field(default_factory=list)  # in reach, not the bid's
    outside_providers: list[Provider] = field(default_factory=list)  # non-partners that matter
    warnings: list[str] = field(default_factory=list)


Supply = tuple[float | None, str | None]  # (size, what the size measures)


@dataclass
class _Who:
    """Who the market file's providers are, seen from the proposal."""

    orgs: dict[str, Organisation]  # partners by id
    body_of: dict[str, str]  # partner or stakeholder id -> its body
    provider_org: dict[str, str]  # market provider id -> the organisation it is
    provider_parent: dict[str, str]  # market provider id -> the provider it is a unit of

    @classmethod
    def of(cls, proposal: Proposal, market: Market) -> _Who:
        found = matches(proposal, market)
        return cls(
            orgs={o.id: o for o in proposal.organisations},
            body_of={o.id: o.part_of or o.id for o in proposal.everyone()},
            provider_org={market.providers[j].id: org for j, org in found.items()},
            provider_parent=market.provider_parent,
        )

    def key(self, provider: Provider) -> str:
        """Who supplies through this provider: the body of the organisation it is, else the
        provider it is a unit of (in the file), else itself."""
        top = self.provider_parent.get(provider.id, provider.id)
        for candidate in (provider.id, top):
            if candidate in self.provider_org:
                return self.body_of.get(self.provider_org[candidate], candidate)
        return top

    def partner_bodies(self) -> set[str]:
        return {self.body_of[org] for org in self.orgs}


def measure_markets(
    proposal: Proposal, market: Market, registered_population: Mapping[str, int]
) -> MarketView:
    """Measure the markets the pilot touches, and find the non-partner providers that matter.

    A provider matters if it is in one of the pilot's PCT areas or an adjacent one and offers a
    service line the partners provide: it is then a competitor in a market the pilot touches or
    an alternative for patients. A partner body's services outside the pilot (listed for it in
    the market file but provided by none of its partners in the pilot) stay outside supply. A
    national market file costs one pass over its providers.
    """
    view = MarketView(market)
    who = _Who.of(proposal, market)
    adjacent = market.adjacency()
    areas = pilot_areas(proposal, registered_population)
    supply = partner_supply(proposal, market, areas, who)
    nearby = areas | {b for a in areas for b in adjacent.get(a, ())}
    found = scan_providers(market, who, nearby, supply)
    known = {a.code for a in proposal.pct_areas} | {o.pct for o in who.orgs.values() if o.pct}
    view.nearby_areas = [a for a in market.pct_areas if a.code in nearby and a.code not in known]
    view.outside_providers = found.providers
    listed = listed_practices(market, who, [a.code for a in proposal.pct_areas])
    view.area_practices = area_practices(proposal, listed)
    view.outside_nearby = {s: len(ids) for s, ids in found.outside.items()}
    view.warnings += practice_count_warnings(proposal, market, listed)
    listed_areas = {a.code for a in market.pct_areas}
    bodies = who.partner_bodies()
    for (area, service), entries_ in sorted(supply.bodies.items()):
        if area not in listed_areas:  # nothing is known of the other providers there
            continue
        sizes, warning = comparable_sizes(area, service, entries_)
        if warning:
            view.warnings.append(warning)
        near = {area, *adjacent.get(area, ())}
        measured = concentration(sizes, bodies)
        view.markets[(area, service)] = MarketMeasure(
            area=area,
            service=service,
            partners=tuple(sorted(supply.providers[(area, service)])),
            outside=tuple(sorted(k for k in sizes if k not in bodies)),
            concentration=measured,
            alternative_nearby=any((b, service) in found.offered for b in near),
            bodies=tuple(sorted(k for k in sizes if k in bodies)),
            pilot_share=supply.own_share(area, service, sizes, measured),
        )
    return view


def pilot_areas(proposal: Proposal, registered_population: Mapping[str, int]) -> set[str]:
    """The PCT areas the pilot is in: where it registers patients, and where its partners are."""
    areas = {a for a, n in registered_population.items() if n > 0}
    return areas | {o.pct for o in proposal.organisations if o.pct}


@dataclass
class Competition:
    """What a pass over the providers near the pilot finds (see `scan_providers`)."""

    # (area, service) supplied by someone other than the pilot, in an area near it
    offered: set[tuple[str, str]] = field(default_factory=set)
    # service -> the other providers of it nearby (a partner's supply outside the pilot counts)
    outside: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # the non-partners that offer, near the pilot, a service line the partners provide
    providers: list[Provider] = field(default_factory=list)


def scan_providers(
    market: Market, who: _Who, nearby: Collection[str], supply: PilotSupply
) -> Competition:
    """A pass over the market file's providers near the pilot, in file order: who else
    supplies the pilot's service lines there, added to `supply` in the markets the partners
    are in."""
    found = Competition()
    pilot_services = {service for _, service in supply.bodies}
    bodies = who.partner_bodies()
    in_area, providers = market.in_area, market.providers
    for j in sorted(j for area in nearby for j in in_area.get(area, ())):
        provider = providers[j]
        key = who.key(provider)
        partner = key in bodies
        services = outside_services(provider, supply.lines_of.get(key, set()), pilot_services)
        if not services:
            continue
        # A partner body's supply outside the pilot competes with it like anyone else's.
        name = f"{key} (outside the pilot)" if partner else key
        if not partner and provider.id not in who.provider_org:
            found.providers.append(provider)
        for service in services:
            found.offered.add((provider.pct, service))
            found.outside[service].add(name)
            if (provider.pct, service) in supply.bodies:
                supply.bodies[(provider.pct, service)][name] = provider.line_size(service)
    if supply.with_units:  # the partner bodies' own supply, as the file gives it
        for provider in market.providers:
            key = who.key(provider)
            if key in bodies:
                supply.add_listed(provider, key)
    return found


def outside_services(
    provider: Provider, in_pilot: Collection[str], pilot_services: Collection[str]
) -> list[str]:
    """The pilot's service lines `provider` supplies other than through the pilot (all it
    supplies of them, unless its body provides them in the pilot)."""
    lines = map(str, provider.lines())  # a line's str is its text (cheaper than .value)
    return [line for line in lines if line in pilot_services and line not in in_pilot]


def listed_practices(market: Market, who: _Who, areas: Collection[str]) -> dict[str, set[str]]:
    """The GP practices the market file lists in each of `areas` (the bid's: what the facts
    and warnings read), a partner's by the organisation it is."""
    renamed, listed = who.provider_org, market.practices_in
    return {a: {renamed.get(pid, pid) for pid in listed[a]} for a in areas if a in listed}


def area_practices(proposal: Proposal, listed: Mapping[str, set[str]]) -> dict[str, frozenset[str]]:
    """Every GP practice in each area: the market file's (listed_practices) and the
    proposal's."""
    practices: dict[str, set[str]] = defaultdict(set, {a: set(ids) for a, ids in listed.items()})
    for org in proposal.organisations:
        if org.type is _GP_PRACTICE and org.pct:
            practices[org.pct].add(org.id)
    return {a: frozenset(ids) for a, ids in practices.items()}


def practice_count_warnings(
    proposal: Proposal, market: Market, listed: Mapping[str, set[str]]
) -> list[str]:
    """A stated practice count the market file disagrees with: the file's is used."""
    covered = {a.code for a in market.pct_areas}
    found = area_practices(proposal, listed)
    return [
        f"pct_areas[{i}].practice_count: {area.practice_count} practices in {area.code}, but "
        f"the market file lists {len(found.get(area.code, ()))}; the market file's are used"
        for i, area in enumerate(proposal.pct_areas)
        if area.practice_count is not None
        and area.code in covered
        and listed.get(area.code)
        and area.practice_count != len(found.get(area.code, ()))
    ]


def comparable_sizes(
    area: str, service: str, entries_: Mapping[str, Supply]
) -> tuple[dict[str, float | None], str | None]:
    """The providers' sizes in one market, and a warning when they are in different units (the
    shares are then by number of providers: every size unknown)."""
    measures = sorted({m for size, m in entries_.values() if size is not None and m})
    sizes = {key: size for key, (size, _) in entries_.items()}
    if len(measures) <= 1:
        return sizes, None
    warning = (
        f"{service} in {area}: provider sizes are in different units "
        f"({', '.join(measures)}), so shares there are by number of providers"
    )
    return dict.fromkeys(sizes), warning


@dataclass
class PilotSupply:
    """The partners' supply in each market they are in."""

    # (area, service) -> supplier key (a body, or '<key> (outside the pilot)') -> supply
    bodies: dict[tuple[str, str], dict[str, Supply]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    # (area, service) -> the partner organisations providing it there
    providers: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    # (area, service) -> body -> partner -> its own size there (None: not known)
    own: dict[tuple[str, str], dict[str, dict[str, float | None]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(dict))
    )
    lines_of: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    with_units: set[str] = field(default_factory=set)  # bodies a partner is a unit of

    def add_listed(self, provider: Provider, body: str) -> None:
        """A body whose unit is a partner supplies, in each line the pilot provides, at least
        what the market file lists for it: the whole of its service, not only the unit's."""
        if body not in self.with_units:
            return
        for line in map(str, provider.lines()):
            market = (provider.pct, line)
            if market not in self.bodies or line not in self.lines_of[body]:
                continue
            listed = provider.line_size(line)
            current = self.bodies[market].get(body, (None, None))
            if listed[0] is not None and (current[0] is None or listed[0] > current[0]):
                self.bodies[market][body] = listed

    def own_share(
        self, area: str, service: str, sizes: Mapping[str, float | None], measured: Concentration
    ) -> float | None:
        """The partners' own supply as a share (None where it is their bodies' share)."""
        own = self.own.get((area, service), {})
        if measured.basis != "size" or not (own.keys() & self.with_units):
            return None
        total = math.fsum(s for s in sizes.values() if s is not None)
        parts: list[float] = []
        for body, partners in own.items():
            known = [size for size in partners.values() if size is not None]
            if body not in self.with_units or len(known) < len(partners):
                parts.append(sizes.get(body) or 0.0)  # a partner of unknown size counts whole
            else:
                parts.append(math.fsum(known))
        return math.fsum(parts) / total if total > 0 else None


def partner_supply(
    proposal: Proposal, market: Market, pilot_areas: Collection[str], who: _Who
) -> PilotSupply:
    """The partners' supply in each market: a partner with no PCT area supplies in every area
    of the pilot. A body's supply is its partners' sizes, or the market file's for the body
    where that is larger (a PCT whose arm joins supplies the whole of its service)."""
    by_org = {org: market.provider(pid) for pid, org in who.provider_org.items()}
    supply = PilotSupply()
    supply.with_units = {who.body_of[o.id] for o in proposal.organisations if o.part_of}
    for org in proposal.organisations:
        body = who.body_of[org.id]
        for line, size in line_sizes(org, by_org.get(org.id)).items():
            for area in [org.pct] if org.pct else sorted(pilot_areas):
                market_key = (area, line)
                supply.providers[market_key].add(org.id)
                supply.lines_of[body].add(line)
                supply.own[market_key][body][org.id] = size[0]
                current = supply.bodies[market_key].get(body)
                supply.bodies[market_key][body] = _add(current, size)
    return supply


def line_sizes(org: Organisation, listed: Provider | None) -> dict[str, Supply]:
    """A partner's size in each line it provides: the sizes it gives for the line (its
    specialties added up), else `partner_size`."""
    given: dict[str, list[Supply]] = defaultdict(list)
    for entry in org.provided:
        given[str(entry.service)].append((entry.size, entry.size_measure))
    out: dict[str, Supply] = {}
    for line, sizes in given.items():
        if all(size is None for size, _ in sizes):
            out[line] = partner_size(org, listed, line)
            continue
        total: Supply | None = None
        for size in sizes:
            total = _add(total, size)
        out[line] = total if total is not None else (None, None)
    return out


def _add(current: Supply | None, more: Supply) -> Supply:
    """Two sizes in one market: added (unknown if either is, or if their units differ)."""
    if current is None:
        return more
    if current[0] is None or more[0] is None or current[1] != more[1]:
        return (None, None)
    return (current[0] + more[0], current[1])


def partner_size(org: Organisation, listed: Provider | None, line: str) -> Supply:
    """A partner's size in one line where the bid gives none: its list size for a practice,
    else what the market file says (the line's size, else the provider's)."""
    if org.type is _GP_PRACTICE and org.list_size:
        return float(org.list_size), "list_size"
    return listed.line_size(line) if listed is not None else (None, None)
