"""A picture of the partnership for the HTML report, drawn as SVG by hand.

Each PCT area is a band across the page, its title inside the band. The partners sit in a
grid within it, each a circle coloured by organisation type with its name beside it (the id
is in the tooltip); organisations with findings get a ring in the colour of their worst
finding and a badge with the count, and link to their first finding on the page. Other
providers in the same markets (with a market file) are small pale dots below the partners,
named in their tooltips. Agreements run in lanes down the left side: each lane turns into the
gap above a row of partners and drops into each party from above, so no line ever crosses an
organisation or a name.

The layout is a grid, not a force layout, and everything is sorted, so the same proposal gives
the same bytes on every run and under every hash seed. Past a size the picture stops helping;
then a summary by area is drawn instead, and the page says so.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from icorules.analysis.graph import PartnerGraph, agreement_node, org_node
from icorules.inputs.codes import OrgType
from icorules.output.drawing_layout import Contents, full_picture, summary_picture
from icorules.output.drawing_style import (
    LANE_COLOURS,
    TYPES,
    WIDTH,
    AgreementKey,
    Marker,
    type_colours,
    type_words,
)
from icorules.output.drawing_svg import Canvas

# The drawing's modules: what to draw (here), where (drawing_layout), as SVG (drawing_svg),
# in which colours and words (drawing_style). Callers import from here.
__all__ = [
    "MAX_AGREEMENT_LINKS",
    "MAX_MARKET_NODES",
    "MAX_ORGANISATIONS",
    "WIDTH",
    "AgreementKey",
    "Drawing",
    "Marker",
    "partnership_drawing",
    "partnership_svg",
    "type_colours",
    "type_words",
]

MAX_MARKET_NODES = 240  # other providers drawn; beyond this the rest are counted
MAX_ORGANISATIONS = 120  # partners drawn in full; beyond this, a summary
MAX_AGREEMENT_LINKS = 400  # party-to-agreement links drawn in full; beyond this, a summary


@dataclass(frozen=True)
class Drawing:
    """The SVG and what the page says beside it."""

    svg: str
    summary: bool  # a summary by area, the partnership being too large to draw
    organisations: int  # partners
    agreement_links: int
    hidden: int  # other providers not drawn
    types: list[tuple[str, str, str]] = field(default_factory=list)  # (type, words, colour)
    agreements: list[AgreementKey] = field(default_factory=list)
    others: bool = False  # other providers are drawn
    marked: bool = False  # some organisation has findings


def partnership_svg(partners: PartnerGraph) -> tuple[str, int]:
    """The picture as SVG text, and how many market providers were left out of it."""
    drawing = partnership_drawing(partners)
    return drawing.svg, drawing.hidden


def partnership_drawing(
    partners: PartnerGraph, markers: Mapping[tuple[str, str], Marker] | None = None
) -> Drawing:
    """The partnership as SVG. `markers` are findings by (subject kind, id): `partner`,
    `agreement` and `pct_area` subjects are marked on the drawing."""
    markers = markers or {}
    g = partners.graph
    orgs = {n: d for n, d in g.nodes(data=True) if d.get("kind") == "organisation"}
    # partners and agreements in the order the bid lists them, where its authors look for them
    listed = {org_node(o.id): i for i, o in enumerate(partners.proposal.organisations)}
    listed.update({agreement_node(a.id): i for i, a in enumerate(partners.proposal.agreements)})
    partner_nodes = sorted(
        (n for n, d in orgs.items() if d.get("partner", True)), key=lambda n: (listed.get(n, 0), n)
    )
    market = sorted(
        (n for n, d in orgs.items() if d.get("partner") is False),
        key=lambda n: (orgs[n].get("pct", ""), n),
    )
    shown_market = market[:MAX_MARKET_NODES]
    agreements = sorted(
        (n for n, d in g.nodes(data=True) if d.get("kind") == "agreement"),
        key=lambda n: (listed.get(n, 0), n),
    )
    parties = {a: sorted(u for u, _ in g.in_edges(a) if u in orgs) for a in agreements}
    links = sum(len(p) for p in parties.values())
    contents = _by_area(partners, orgs, partner_nodes, market, agreements, parties)
    colours = type_colours()
    present = sorted(
        {orgs[n]["type"] for n in [*partner_nodes, *shown_market]},
        key=lambda t: TYPES.index(OrgType(t)),
    )
    keys = _agreement_keys(g, agreements, parties, markers)
    drawing = Drawing(
        svg="",
        summary=len(partner_nodes) > MAX_ORGANISATIONS or links > MAX_AGREEMENT_LINKS,
        organisations=len(partner_nodes),
        agreement_links=links,
        hidden=len(market) - len(shown_market),
        types=[(t, type_words(t), colours[t]) for t in present],
        agreements=keys,
        others=bool(shown_market),
        marked=any(("partner", orgs[n]["id"]) in markers for n in partner_nodes),
    )
    canvas = Canvas(g, orgs, colours, markers)
    if drawing.summary:
        svg = summary_picture(canvas, contents)
        return dataclasses.replace(drawing, svg=svg, agreements=[])
    svg = full_picture(canvas, contents, keys)
    return dataclasses.replace(drawing, svg=svg)


def _by_area(
    partners: PartnerGraph,
    orgs: Mapping[str, Mapping[str, Any]],
    partner_nodes: list[str],
    market: list[str],
    agreements: list[str],
    parties: Mapping[str, list[str]],
) -> Contents:
    """The partners and other providers by PCT area, the areas in the bid's order, then any
    others (sorted), then partners with no area; other providers past the cap only counted."""
    groups: dict[str, list[str]] = defaultdict(list)
    for node in partner_nodes:
        groups[orgs[node].get("pct", "")].append(node)
    others: dict[str, list[str]] = defaultdict(list)
    for node in market[:MAX_MARKET_NODES]:
        others[orgs[node].get("pct", "")].append(node)
    beyond: dict[str, int] = defaultdict(int)
    for node in market[MAX_MARKET_NODES:]:
        beyond[orgs[node].get("pct", "")] += 1
    order = [a.code for a in partners.proposal.pct_areas if a.code in groups or a.code in others]
    order += sorted(k for k in {*groups, *others, *beyond} if k not in order and k)
    order += [""] if "" in groups or "" in others else []
    return Contents(order, groups, others, beyond, agreements, parties)


def _agreement_keys(
    g: Any,
    agreements: list[str],
    parties: Mapping[str, list[str]],
    markers: Mapping[tuple[str, str], Marker],
) -> list[AgreementKey]:
    """Each agreement's number, colour and findings, for its lane and the page's key."""
    return [
        AgreementKey(
            number=i + 1,
            id=g.nodes[a].get("id", a),
            type=g.nodes[a].get("type", ""),
            parties=len(parties[a]),
            colour=LANE_COLOURS[i % len(LANE_COLOURS)],
            marker=markers.get(("agreement", g.nodes[a].get("id", a))),
        )
        for i, a in enumerate(agreements)
    ]
