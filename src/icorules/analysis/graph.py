"""The partnership as a networkx graph, and the measures rules need, computed once per check.

Nodes are organisations, PCT areas, agreements and collective arrangements (the board, the
dispute procedure, information sharing, risk sharing, data submission, conflict-of-interest
cover). Edges are typed by `kind`: `party_to` (organisation to agreement), `member_of`
(organisation to arrangement), `located_in` (organisation to PCT area) and `commissions`
(commissioner to PCT area). Agreements are nodes, not edges between every pair of parties, so
an alliance of 500 partners costs 500 edges, not 125,000.

A check needs only the measures, which are worked out straight from the proposal; the networkx
graph itself is built on first use of `PartnerGraph.graph` (export, drawing), so a check never
pays for it, nor for importing networkx.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from icorules.inputs.codes import OrgType
from icorules.inputs.market import Market, Provider
from icorules.inputs.proposal import Organisation, Proposal

if TYPE_CHECKING:
    import networkx as nx

ARRANGEMENTS = (
    "board",
    "dispute_resolution",
    "information_sharing",
    "risk_sharing",
    "data_submission",
    "conflict_of_interest",
)


def org_node(org_id: str) -> str:
    return f"org:{org_id}"


def pct_node(code: str) -> str:
    return f"pct:{code}"


def arrangement_node(name: str) -> str:
    return f"arrangement:{name}"


def agreement_node(agreement_id: str) -> str:
    return f"agreement:{agreement_id}"


@dataclass
class PartnerGraph:
    """The graph plus the measures derived from it."""

    proposal: Proposal
    members: dict[str, frozenset[str]]
    components: list[frozenset[str]]
    component_of: dict[str, int]
    agreements_of: dict[str, tuple[str, ...]]
    tied_to_board: frozenset[str]
    registered_population: dict[str, int]
    practices_in: dict[str, int]
    market: Market | None = None
    markets: dict[tuple[str, str], MarketMeasure] = field(default_factory=dict)
    outside_nearby: dict[str, int] = field(default_factory=dict)
    area_practices: dict[str, frozenset[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # What a market adds to the graph: PCT area nodes, then provider nodes (located_in edges).
    market_areas: list[tuple[str, dict[str, Any]]] = field(default_factory=list, repr=False)
    market_nodes: list[tuple[str, dict[str, Any]]] = field(default_factory=list, repr=False)
    _graph: nx.MultiDiGraph[str] | None = field(default=None, repr=False, compare=False)

    def is_member(self, arrangement: str, org_id: str) -> bool:
        return org_id in self.members[arrangement]

    @property
    def graph(self) -> nx.MultiDiGraph[str]:
        """The networkx graph, built on first use (a check does not need it)."""
        if self._graph is None:
            self._graph = _networkx(self)
        return self._graph


def _networkx(partners: PartnerGraph) -> nx.MultiDiGraph[str]:
    import networkx as nx

    proposal = partners.proposal
    g: nx.MultiDiGraph[str] = nx.MultiDiGraph(proposal=proposal.id)
    for area in proposal.pct_areas:
        g.add_node(
            pct_node(area.code),
            kind="pct_area",
            code=area.code,
            name=area.name,
            population=area.population,
        )
    for name in ARRANGEMENTS:
        g.add_node(arrangement_node(name), kind="arrangement", name=name)
    for org in proposal.organisations:
        g.add_node(
            org_node(org.id),
            kind="organisation",
            id=org.id,
            name=org.name,
            type=org.type.value,
            pct=org.pct or "",
            list_size=org.list_size or 0,
        )
        if org.pct:
            g.add_edge(org_node(org.id), pct_node(org.pct), kind="located_in")
    for area in proposal.pct_areas:
        if area.commissioner:
            g.add_edge(org_node(area.commissioner), pct_node(area.code), kind="commissions")
    for agreement in proposal.agreements:
        node = agreement_node(agreement.id)
        g.add_node(node, kind="agreement", id=agreement.id, type=agreement.type.value)
        g.add_edges_from(
            (org_node(party), node, {"kind": "party_to"})
            for party in sorted(set(agreement.parties))
        )
    for name, orgs in partners.members.items():
        g.add_edges_from(
            (org_node(org_id), arrangement_node(name), {"kind": "member_of"})
            for org_id in sorted(orgs)
        )
    g.add_nodes_from(partners.market_areas)
    g.add_nodes_from(partners.market_nodes)
    g.add_edges_from(
        (node, pct_node(attrs["pct"]), {"kind": "located_in"})
        for node, attrs in partners.market_nodes
    )
    return g


def _components(proposal: Proposal) -> list[frozenset[str]]:
    """Organisations linked through agreements (union-find: no graph library needed)."""
    parent = {o.id: o.id for o in proposal.organisations}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for agreement in proposal.agreements:
        parties = sorted(set(agreement.parties))
        for party in parties:
            parent.setdefault(party, party)
        for party in parties[1:]:
            parent[root(party)] = root(parties[0])
    groups: dict[str, set[str]] = defaultdict(set)
    for org in parent:
        groups[root(org)].add(org)
    return sorted((frozenset(c) for c in groups.values()), key=lambda c: (-len(c), sorted(c)))


def build_graph(proposal: Proposal, market: Market | None = None) -> PartnerGraph:
    members = _arrangement_members(proposal)
    components = _components(proposal)
    component_of = {org: i for i, comp in enumerate(components) for org in comp}

    agreements_of: dict[str, list[str]] = {o.id: [] for o in proposal.organisations}
    tied_to_board: set[str] = set()
    for agreement in proposal.agreements:
        parties = set(agreement.parties)
        for party in parties:
            agreements_of[party].append(agreement.id)
        if parties & members["board"]:
            tied_to_board |= parties

    population: dict[str, int] = defaultdict(int)
    practices: dict[str, int] = defaultdict(int)
    for org in proposal.organisations:
        if org.type is OrgType.gp_practice and org.pct:
            population[org.pct] += org.list_size or 0
            practices[org.pct] += 1

    partners = PartnerGraph(
        proposal=proposal,
        members=members,
        components=components,
        component_of=component_of,
        agreements_of={org: tuple(ids) for org, ids in agreements_of.items()},
        tied_to_board=frozenset(tied_to_board),
        registered_population=dict(population),
        practices_in=dict(practices),
    )
    if market is not None:
        _add_market(partners, market)
    return partners


def _arrangement_members(p: Proposal) -> dict[str, frozenset[str]]:
    g = p.governance
    budget_risk = g.budget.risk_sharing if g.budget else None
    return {
        "board": frozenset(m.organisation for m in g.board.members) if g.board else frozenset(),
        "dispute_resolution": _parties(g.dispute_resolution),
        "information_sharing": _parties(g.information_sharing),
        "conflict_of_interest": _parties(g.conflict_of_interest),
        "risk_sharing": frozenset(budget_risk.parties) if budget_risk else frozenset(),
        "data_submission": frozenset(g.evaluation.data_submission_parties)
        if g.evaluation
        else frozenset(),
    }


def _parties(arrangement: Any) -> frozenset[str]:
    return frozenset(arrangement.parties) if arrangement is not None else frozenset()


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
    partners count as one provider.
    """
    if not sizes:
        raise ValueError("a market needs at least one provider")
    by_size = all(size is not None and size > 0 for size in sizes.values())
    weights = {p: float(s) if by_size else 1.0 for p, s in sizes.items()}  # type: ignore[arg-type]
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


def _add_market(partners: PartnerGraph, market: Market) -> None:
    """Add the non-partner providers that matter to the pilot, and measure its markets.

    A provider matters if it is in one of the pilot's PCT areas or an adjacent one and offers a
    service line the partners provide: it is then a competitor in a market the pilot touches or
    an alternative for patients. A partner's services outside the pilot (listed for it in the
    market file but not in its `provides`) stay outside supply. A national market file costs
    one pass over its providers.
    """
    p = partners.proposal
    orgs = {o.id: o for o in p.organisations}
    listed = {provider.id: provider for provider in market.providers}
    adjacent = market.adjacency()
    pilot_areas = {a for a, n in partners.registered_population.items() if n > 0}
    pilot_areas |= {o.pct for o in p.organisations if o.pct}

    supply: dict[tuple[str, str], dict[str, _Supply]] = defaultdict(dict)
    for org in p.organisations:
        size = _partner_size(org, listed.get(org.id))
        for area in [org.pct] if org.pct else sorted(pilot_areas):
            for line in org.provides:
                supply[(area, line.value)][org.id] = size
    pilot_services = {service for _, service in supply}

    nearby = pilot_areas | {b for a in pilot_areas for b in adjacent.get(a, ())}
    offered: set[tuple[str, str]] = set()
    outside_nearby: dict[str, set[str]] = defaultdict(set)
    practices: dict[str, set[str]] = defaultdict(set)
    nodes: list[tuple[str, dict[str, Any]]] = []
    for provider in market.providers:
        if provider.type is OrgType.gp_practice:
            practices[provider.pct].add(provider.id)
        if provider.pct not in nearby:
            continue
        partner = orgs.get(provider.id)
        in_pilot = {s.value for s in partner.provides} if partner else set()
        services = [
            s.value
            for s in provider.services
            if s.value in pilot_services and s.value not in in_pilot
        ]
        if not services:
            continue
        # A partner's supply outside the pilot competes with it like anyone else's.
        key = provider.id if partner is None else f"{provider.id} (outside the pilot)"
        if partner is None:
            nodes.append(
                (
                    org_node(provider.id),
                    {
                        "kind": "organisation",
                        "id": provider.id,
                        "name": provider.name,
                        "type": provider.type.value,
                        "pct": provider.pct,
                        "partner": False,
                    },
                )
            )
        for service in services:
            offered.add((provider.pct, service))
            outside_nearby[service].add(key)
            if (provider.pct, service) in supply:
                supply[(provider.pct, service)][key] = (provider.size, provider.size_measure)
    known = {pct_node(a.code) for a in p.pct_areas} | {
        pct_node(o.pct) for o in orgs.values() if o.pct
    }
    partners.market_areas = [
        (
            pct_node(a.code),
            {"kind": "pct_area", "code": a.code, "name": a.name, "population": a.population},
        )
        for a in market.pct_areas
        if a.code in nearby and pct_node(a.code) not in known
    ]
    partners.market_nodes = nodes

    for org in p.organisations:
        if org.type is OrgType.gp_practice and org.pct:
            practices[org.pct].add(org.id)
    partners.market = market
    partners.area_practices = {a: frozenset(ids) for a, ids in practices.items()}
    partners.outside_nearby = {s: len(ids) for s, ids in outside_nearby.items()}
    listed_areas = {a.code for a in market.pct_areas}
    for (area, service), entries in sorted(supply.items()):
        if area not in listed_areas:  # nothing is known of the other providers there
            continue
        measures = sorted({m for size, m in entries.values() if size is not None and m})
        sizes = {key: size for key, (size, _) in entries.items()}
        if len(measures) > 1:
            partners.warnings.append(
                f"{service} in {area}: provider sizes are in different units "
                f"({', '.join(measures)}), so shares there are by number of providers"
            )
            sizes = dict.fromkeys(sizes)
        near = {area, *adjacent.get(area, ())}
        partners.markets[(area, service)] = MarketMeasure(
            area=area,
            service=service,
            partners=tuple(sorted(k for k in sizes if k in orgs)),
            outside=tuple(sorted(k for k in sizes if k not in orgs)),
            concentration=concentration(sizes, orgs.keys()),
            alternative_nearby=any((b, service) in offered for b in near),
        )


_Supply = tuple[float | None, str | None]  # (size, what the size measures)


def _partner_size(org: Organisation, listed: Provider | None) -> _Supply:
    """A partner's size: its list size for a practice, else what the market file says."""
    if org.type is OrgType.gp_practice and org.list_size:
        return float(org.list_size), "list_size"
    return (listed.size, listed.size_measure) if listed is not None else (None, None)
