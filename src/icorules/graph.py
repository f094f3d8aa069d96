"""The partnership as a networkx graph, and the measures rules need, computed once per check.

Nodes are organisations, PCT areas and collective arrangements (the board, the dispute
procedure, information sharing, risk sharing, data submission, conflict-of-interest cover).
Edges are typed by `kind`: `agreement` (between two parties of an agreement), `member_of`
(organisation to arrangement), `located_in` (organisation to PCT area) and `commissions`
(commissioner to PCT area).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import networkx as nx

from icorules.model import OrgType, Proposal

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


@dataclass
class PartnerGraph:
    """The graph plus the measures derived from it."""

    proposal: Proposal
    graph: nx.MultiDiGraph
    members: dict[str, frozenset[str]]
    components: list[frozenset[str]]
    component_of: dict[str, int]
    agreement_neighbours: dict[str, frozenset[str]]
    registered_population: dict[str, int]
    practices_in: dict[str, int]
    partner_services: dict[str, frozenset[str]] = field(default_factory=dict)

    def is_member(self, arrangement: str, org_id: str) -> bool:
        return org_id in self.members[arrangement]


def build_graph(proposal: Proposal) -> PartnerGraph:
    g = nx.MultiDiGraph(proposal=proposal.id)
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

    for agreement in proposal.agreements:
        for a, b in combinations(sorted(set(agreement.parties)), 2):
            g.add_edge(
                org_node(a),
                org_node(b),
                key=agreement.id,
                kind="agreement",
                agreement=agreement.id,
                type=agreement.type.value,
            )
    for area in proposal.pct_areas:
        if area.commissioner:
            g.add_edge(org_node(area.commissioner), pct_node(area.code), kind="commissions")

    members = _arrangement_members(proposal)
    for name, orgs in members.items():
        for org_id in orgs:
            g.add_edge(org_node(org_id), arrangement_node(name), kind="member_of")

    org_nodes = [org_node(o.id) for o in proposal.organisations]
    agreements = nx.Graph()
    agreements.add_nodes_from(org_nodes)
    agreements.add_edges_from((u, v) for u, v, kind in g.edges(data="kind") if kind == "agreement")
    components = sorted(
        (frozenset(n.removeprefix("org:") for n in c) for c in nx.connected_components(agreements)),
        key=lambda c: (-len(c), sorted(c)),
    )
    component_of = {org: i for i, comp in enumerate(components) for org in comp}
    neighbours = {
        n.removeprefix("org:"): frozenset(m.removeprefix("org:") for m in agreements[n])
        for n in org_nodes
    }

    population: dict[str, int] = defaultdict(int)
    practices: dict[str, int] = defaultdict(int)
    for org in proposal.organisations:
        if org.type is OrgType.gp_practice and org.pct:
            population[org.pct] += org.list_size or 0
            practices[org.pct] += 1

    return PartnerGraph(
        proposal=proposal,
        graph=g,
        members=members,
        components=components,
        component_of=component_of,
        agreement_neighbours=neighbours,
        registered_population=dict(population),
        practices_in=dict(practices),
        partner_services={
            o.id: frozenset(s.value for s in o.provides) for o in proposal.organisations
        },
    )


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


def export_graph(partners: PartnerGraph, fmt: str) -> str:
    """The graph for other tools: node-link JSON or GraphML (deterministic order)."""
    ordered = nx.MultiDiGraph(**partners.graph.graph)
    ordered.add_nodes_from(sorted(partners.graph.nodes(data=True)))
    ordered.add_edges_from(
        sorted(partners.graph.edges(keys=True, data=True), key=lambda e: (e[0], e[1], str(e[2])))
    )
    if fmt == "json":
        data = nx.node_link_data(ordered, edges="edges")
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    if fmt == "graphml":
        return "\n".join(nx.generate_graphml(ordered)) + "\n"
    raise ValueError(f"unknown graph format {fmt!r}")
