"""The partnership as a networkx graph, and the measures rules need, computed once per check.

Nodes are organisations, PCT areas, agreements and collective arrangements (the board, the
dispute procedure, information sharing, risk sharing, data submission, conflict-of-interest
cover). Edges are typed by `kind`: `party_to` (organisation to agreement), `member_of`
(organisation to arrangement), `located_in` (organisation to PCT area) and `commissions`
(commissioner to PCT area). Agreements are nodes, not edges between every pair of parties, so
an alliance of 500 partners costs 500 edges, not 125,000.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
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


def agreement_node(agreement_id: str) -> str:
    return f"agreement:{agreement_id}"


@dataclass
class PartnerGraph:
    """The graph plus the measures derived from it."""

    proposal: Proposal
    graph: nx.MultiDiGraph
    members: dict[str, frozenset[str]]
    components: list[frozenset[str]]
    component_of: dict[str, int]
    agreements_of: dict[str, tuple[str, ...]]
    tied_to_board: frozenset[str]
    registered_population: dict[str, int]
    practices_in: dict[str, int]

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
    members = _arrangement_members(proposal)
    for name, orgs in members.items():
        g.add_edges_from(
            (org_node(org_id), arrangement_node(name), {"kind": "member_of"})
            for org_id in sorted(orgs)
        )

    # Who is linked to whom through agreements: components over organisations + agreements.
    bound = nx.Graph()
    bound.add_nodes_from(org_node(o.id) for o in proposal.organisations)
    bound.add_edges_from((u, v) for u, v, kind in g.edges(data="kind") if kind == "party_to")
    components = sorted(
        (
            frozenset(n.removeprefix("org:") for n in c if n.startswith("org:"))
            for c in nx.connected_components(bound)
        ),
        key=lambda c: (-len(c), sorted(c)),
    )
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

    return PartnerGraph(
        proposal=proposal,
        graph=g,
        members=members,
        components=components,
        component_of=component_of,
        agreements_of={org: tuple(ids) for org, ids in agreements_of.items()},
        tied_to_board=frozenset(tied_to_board),
        registered_population=dict(population),
        practices_in=dict(practices),
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
