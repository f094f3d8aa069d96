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
import html
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from icorules.analysis.graph import PartnerGraph, agreement_node, org_node, pct_node
from icorules.inputs.codes import OrgType
from icorules.output.escape import xml_text

MAX_MARKET_NODES = 240  # other providers drawn; beyond this the rest are counted
MAX_ORGANISATIONS = 120  # partners drawn in full; beyond this, a summary
MAX_AGREEMENT_LINKS = 400  # party-to-agreement links drawn in full; beyond this, a summary

# matplotlib's tab20 palette, one colour per organisation type (as the reports always had)
_TAB20 = [
    "#1f77b4",
    "#aec7e8",
    "#ff7f0e",
    "#ffbb78",
    "#2ca02c",
    "#98df8a",
    "#d62728",
    "#ff9896",
    "#9467bd",
    "#c5b0d5",
    "#8c564b",
    "#c49c94",
    "#e377c2",
    "#f7b6d2",
    "#7f7f7f",
    "#c7c7c7",
    "#bcbd22",
    "#dbdb8d",
    "#17becf",
    "#9edae5",
]
_TYPES: list[OrgType] = list(OrgType)
SEVERITY_COLOURS = {"error": "#b42318", "warning": "#b54708", "info": "#1d5fa8"}
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
# agreements: colours that read on white and differ from one another
_LANE_COLOURS = [
    "#334e68",
    "#9c4221",
    "#2f855a",
    "#6b46c1",
    "#b7791f",
    "#2c7a7b",
    "#c53030",
    "#4a5568",
    "#805ad5",
    "#276749",
]
_TYPE_WORDS = {
    "gp_practice": "GP practice",
    "pct": "PCT",
    "nhs_trust": "NHS trust",
    "pbc_consortium": "PBC consortium",
}

WIDTH = 780
_PAD = 8
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
_CHAR = 6.9  # a generous average width of a 12px character, to fit names without metrics
_CELL_W = 220
_CELL_H = 40
_R = 9  # a partner's circle
_DOT = 5  # an other provider's circle
_DOT_STEP = 18


def type_colours() -> dict[str, str]:
    """A fixed colour per organisation type."""
    return {t.value: _TAB20[i % len(_TAB20)] for i, t in enumerate(_TYPES)}


def type_words(value: str) -> str:
    """`gp_practice` -> `GP practice`."""
    return _TYPE_WORDS.get(value, value.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Marker:
    """Findings about one organisation, agreement or area: shown on the drawing."""

    count: int
    severity: str  # the worst
    anchor: str  # the page id of the first of them
    summary: str  # "2 errors, 1 warning"


@dataclass(frozen=True)
class AgreementKey:
    number: int
    id: str
    type: str
    parties: int
    colour: str
    marker: Marker | None = None


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


def _text(value: object) -> str:
    """Text for SVG: characters XML 1.0 forbids shown as escapes, then markup escaped."""
    return html.escape(xml_text(str(value)), quote=True)


def _counted(words: str, n: int) -> str:
    """`Local authority`, 3 -> `local authorities`; acronyms keep their capitals."""
    if not words[:2].isupper():
        words = words[0].lower() + words[1:]
    if n == 1:
        return words
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _cut(text: str, per_line: int) -> str:
    return text if len(text) <= per_line else text[: per_line - 1].rstrip() + "…"


def _fit(text: str, width: float, size: float = 12) -> list[str]:
    """`text` in at most two lines of `width` pixels, the second cut short with … if need be."""
    per_line = max(4, int(width / (_CHAR * size / 12)))
    words = text.split() or [""]
    first, used = "", 0
    while used < len(words) and len(f"{first} {words[used]}".strip()) <= per_line:
        first = f"{first} {words[used]}".strip()
        used += 1
    if not first:  # one word longer than a line
        first, used = _cut(words[0], per_line), 1
    rest = " ".join(words[used:])
    return [first, _cut(rest, per_line)] if rest else [first]


def _one_line(text: str, width: float, size: float) -> str:
    return _cut(text, max(4, int(width / (_CHAR * size / 12))))


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
    hidden = len(market) - len(shown_market)
    agreements = sorted(
        (n for n, d in g.nodes(data=True) if d.get("kind") == "agreement"),
        key=lambda n: (listed.get(n, 0), n),
    )
    parties = {a: sorted(u for u, _ in g.in_edges(a) if u in orgs) for a in agreements}
    links = sum(len(p) for p in parties.values())

    groups: dict[str, list[str]] = defaultdict(list)
    for node in partner_nodes:
        groups[orgs[node].get("pct", "")].append(node)
    others: dict[str, list[str]] = defaultdict(list)
    for node in shown_market:
        others[orgs[node].get("pct", "")].append(node)
    beyond: dict[str, int] = defaultdict(int)
    for node in market[MAX_MARKET_NODES:]:
        beyond[orgs[node].get("pct", "")] += 1
    order = [a.code for a in partners.proposal.pct_areas if a.code in groups or a.code in others]
    order += sorted(k for k in {*groups, *others, *beyond} if k not in order and k)
    order += [""] if "" in groups or "" in others else []

    colours = type_colours()
    present = sorted(
        {orgs[n]["type"] for n in [*partner_nodes, *shown_market]},
        key=lambda t: _TYPES.index(OrgType(t)),
    )
    keys = [
        AgreementKey(
            number=i + 1,
            id=g.nodes[a].get("id", a),
            type=g.nodes[a].get("type", ""),
            parties=len(parties[a]),
            colour=_LANE_COLOURS[i % len(_LANE_COLOURS)],
            marker=markers.get(("agreement", g.nodes[a].get("id", a))),
        )
        for i, a in enumerate(agreements)
    ]
    drawing = Drawing(
        svg="",
        summary=len(partner_nodes) > MAX_ORGANISATIONS or links > MAX_AGREEMENT_LINKS,
        organisations=len(partner_nodes),
        agreement_links=links,
        hidden=hidden,
        types=[(t, type_words(t), colours[t]) for t in present],
        agreements=keys,
        others=bool(shown_market),
        marked=any(("partner", orgs[n]["id"]) in markers for n in partner_nodes),
    )
    canvas = _Canvas(g, orgs, colours, markers)
    if drawing.summary:
        svg = canvas.summary(order, groups, others, beyond)
        return dataclasses.replace(drawing, svg=svg, agreements=[])
    svg = canvas.full(order, groups, others, beyond, agreements, parties, keys)
    return dataclasses.replace(drawing, svg=svg)


class _Canvas:
    def __init__(
        self,
        g: Any,
        orgs: Mapping[str, Mapping[str, Any]],
        colours: Mapping[str, str],
        markers: Mapping[tuple[str, str], Marker],
    ) -> None:
        self.g = g
        self.orgs = orgs
        self.colours = colours
        self.markers = markers
        self.back: list[str] = []  # area boxes, titles, captions
        self.front: list[str] = []  # organisations and markers, over the agreement lines

    # -- the pieces ------------------------------------------------------------------------

    def area_title(self, code: str) -> str:
        if not code:
            return "No PCT area given"
        data = self.g.nodes.get(pct_node(code), {})
        return f"{code} {data.get('name', '')}".strip()

    def box(self, x0: float, y0: float, x1: float, y1: float, title: str, note: str) -> str:
        """An area's box with its title inside, on one line (all of it in the tooltip)."""
        shown = _one_line(title, (x1 - x0 - 20) * 0.62, 14)
        return (
            f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" rx="6" '
            'fill="#f7f9fb" stroke="#bcccdc"/>'
            f'<text x="{x0 + 10}" y="{y0 + 19}" font-size="14" font-weight="bold" '
            f'fill="#1f2933"><title>{_text(title)}</title>{_text(shown)}'
            f'<tspan font-weight="normal" fill="#52606d" font-size="12">  {_text(note)}</tspan>'
            "</text>"
        )

    def area_marker(self, code: str, x: float, y: float) -> None:
        marker = self.markers.get(("pct_area", code))
        if marker is None:
            return
        colour = SEVERITY_COLOURS.get(marker.severity, "#52606d")
        label = f"{marker.count} finding{'s' if marker.count != 1 else ''}"
        self.front.append(
            f'<a href="#{_text(marker.anchor)}"><title>{_text(code)}: {_text(marker.summary)}'
            f"</title>"
            f'<rect x="{x - 78}" y="{y + 6}" width="72" height="18" rx="9" fill="{colour}"/>'
            f'<text x="{x - 42}" y="{y + 19}" font-size="11" font-weight="bold" fill="#fff" '
            f'text-anchor="middle">{label}</text></a>'
        )

    def partner(self, node: str, cx: float, cy: float, width: float) -> None:
        data = self.orgs[node]
        name, org_id = str(data.get("name") or data["id"]), str(data["id"])
        colour = self.colours[data["type"]]
        marker = self.markers.get(("partner", org_id))
        tip = f"{name} ({org_id}), {type_words(data['type'])}"
        if data.get("pct"):
            tip += f", in {data['pct']}"
        if marker is not None:
            tip += f". {marker.summary}: select to read them"
        parts = [f"<title>{_text(tip)}</title>"]
        if marker is not None:
            ring = SEVERITY_COLOURS.get(marker.severity, "#52606d")
            parts.append(
                f'<circle cx="{cx}" cy="{cy}" r="{_R + 4}" fill="none" stroke="{ring}" '
                'stroke-width="3"/>'
            )
        parts.append(
            f'<circle cx="{cx}" cy="{cy}" r="{_R}" fill="{colour}" stroke="#1f2933" '
            'stroke-width="1.5"/>'
        )
        lines = _fit(name, width - 2 * _R - 14)
        top = cy + 4 if len(lines) == 1 else cy - 3
        for i, line in enumerate(lines):
            parts.append(
                f'<text x="{cx + _R + 8}" y="{top + i * 14}" font-size="12" '
                f'fill="#1f2933">{_text(line)}</text>'
            )
        if marker is not None:
            badge = SEVERITY_COLOURS.get(marker.severity, "#52606d")
            parts.append(
                f'<circle cx="{cx - _R - 1}" cy="{cy - _R - 1}" r="7.5" fill="{badge}" '
                'stroke="#fff" stroke-width="1"/>'
                f'<text x="{cx - _R - 1}" y="{cy - _R + 2.5}" font-size="10" font-weight="bold" '
                f'fill="#fff" text-anchor="middle">{min(marker.count, 99)}</text>'
            )
            self.front.append(
                f'<a href="#{_text(marker.anchor)}" class="org marked" '
                f'data-org="{_text(org_id)}">{"".join(parts)}</a>'
            )
        else:
            self.front.append(f'<g class="org" data-org="{_text(org_id)}">{"".join(parts)}</g>')

    def other(self, node: str, cx: float, cy: float) -> None:
        data = self.orgs[node]
        name, org_id = str(data.get("name") or data["id"]), str(data["id"])
        tip = f"{name} ({org_id}), {type_words(data['type'])}: another provider in the same market"
        self.front.append(
            f'<g class="other" data-org="{_text(org_id)}"><title>{_text(tip)}</title>'
            f'<circle cx="{cx}" cy="{cy}" r="{_DOT}" fill="{self.colours[data["type"]]}" '
            'fill-opacity="0.45" stroke="#829ab1" stroke-width="1"/></g>'
        )

    # -- the full picture ------------------------------------------------------------------

    def full(
        self,
        order: Sequence[str],
        groups: Mapping[str, list[str]],
        others: Mapping[str, list[str]],
        beyond: Mapping[str, int],
        agreements: Sequence[str],
        parties: Mapping[str, list[str]],
        keys: Sequence[AgreementKey],
    ) -> str:
        lanes = len(agreements)
        step = 12 if lanes * 12 <= 168 else max(4, 168 // lanes)
        lanes_width = _PAD + lanes * step + 6 if lanes else 0
        x0, x1 = _PAD + lanes_width, WIDTH - _PAD
        inner0, inner_w = x0 + 8, x1 - x0 - 16
        columns = max(1, int(inner_w // _CELL_W))
        cell_w = inner_w / columns
        lane_x = {a: _PAD + 4 + i * step for i, a in enumerate(agreements)}
        header = 34 if lanes else 4
        y: float = header
        drops: list[tuple[str, float, float, float]] = []  # (agreement, x, top, bottom)
        bottom_of: dict[str, float] = {}
        of_node: dict[str, list[str]] = defaultdict(list)
        for a in agreements:
            for party in parties[a]:
                of_node[party].append(a)
        body: list[str] = []
        for code in order:
            members = groups.get(code, [])
            pale = others.get(code, [])
            here = [a for a in agreements if any(p in members for p in parties[a])]
            track = {a: i for i, a in enumerate(here)}
            gutter = 8 + 3 * len(here)
            rows = math.ceil(len(members) / columns)
            top = y
            slot = len(self.back)
            self.back.append("")  # the box, once its height is known
            y += 28
            for r in range(rows):
                gutter_top = y
                y += gutter
                for c in range(columns):
                    index = r * columns + c
                    if index >= len(members):
                        break
                    node = members[index]
                    cx = round(inner0 + c * cell_w + 14, 1)
                    cy = y + _CELL_H / 2
                    self.partner(node, cx, cy, cell_w)
                    mine = of_node.get(node, [])
                    for k, a in enumerate(mine):
                        offset = (k - (len(mine) - 1) / 2) * 4
                        ty: float = gutter_top + 5 + track[a] * 3
                        drops.append((a, round(cx + offset, 1), ty, cy - _R))
                        bottom_of[a] = max(bottom_of.get(a, 0), ty)
                y += _CELL_H
            if pale or beyond.get(code):
                y += 6
                count = len(pale) + beyond.get(code, 0)
                caption = f"{count} other provider{'s' if count != 1 else ''} in the same markets"
                if beyond.get(code):
                    caption += f" ({beyond[code]} not drawn)"
                self.back.append(
                    f'<text x="{inner0}" y="{y + 10}" font-size="11" fill="#52606d">'
                    f"{_text(caption)}</text>"
                )
                y += 18
                per_row = max(1, int(inner_w // _DOT_STEP))
                for i, node in enumerate(pale):
                    cx = inner0 + 6 + (i % per_row) * _DOT_STEP
                    cy = y + 6 + (i // per_row) * _DOT_STEP
                    self.other(node, cx, cy)
                y += math.ceil(len(pale) / per_row) * _DOT_STEP
            y += 8
            partners_note = (
                f"{len(members)} partner{'s' if len(members) != 1 else ''}"
                if members
                else "no partners here; other providers only"
            )
            self.back[slot] = self.box(x0, top, x1, y, self.area_title(code), partners_note)
            self.area_marker(code, x1, top)
            y += 12
        height = int(y)
        # agreement lines under the organisations: lanes, runs along the gaps, drops
        colour_of = {a: k.colour for k, a in zip(keys, agreements, strict=True)}
        for a in agreements:
            colour = colour_of[a]
            x = lane_x[a]
            runs = [d for d in drops if d[0] == a]
            if not runs:
                continue
            body.append(
                f'<path d="M{x} 24V{bottom_of[a]}" stroke="{colour}" stroke-width="1.6" '
                'fill="none"/>'
            )
            for _agreement, dx, ty, end in runs:
                body.append(
                    f'<path d="M{x} {ty}H{dx}V{end}" stroke="{colour}" stroke-width="1.6" '
                    'fill="none" stroke-linejoin="round"/>'
                )
        heads: list[str] = []
        for key, a in zip(keys, agreements, strict=True):
            x = lane_x[a]
            tip = (
                f"Agreement {key.number}: {key.id} ({type_words(key.type)}), "
                f"{key.parties} parties: "
                + ", ".join(str(self.orgs[p].get("id")) for p in parties[a])
            )
            if key.marker is not None:
                tip += f". {key.marker.summary}"
            shape = (
                f'<path d="M{x} 14l5 5l-5 5l-5 -5z" fill="{key.colour}" stroke="#fff" '
                'stroke-width="1"/>'
                f'<text x="{x}" y="10" font-size="9" text-anchor="middle" '
                f'fill="{key.colour}" font-weight="bold">{key.number}</text>'
            )
            if key.marker is not None:
                ring = SEVERITY_COLOURS.get(key.marker.severity, "#52606d")
                shape = (
                    f'<circle cx="{x}" cy="19" r="8" fill="none" stroke="{ring}" '
                    'stroke-width="2"/>' + shape
                )
                heads.append(
                    f'<a href="#{_text(key.marker.anchor)}" class="agreement" '
                    f'data-agreement="{_text(key.id)}"><title>{_text(tip)}</title>{shape}</a>'
                )
            else:
                heads.append(
                    f'<g class="agreement" data-agreement="{_text(key.id)}">'
                    f"<title>{_text(tip)}</title>{shape}</g>"
                )
        return self.svg(height, [*self.back, *body, *self.front, *heads])

    # -- a summary, for partnerships too large to draw -------------------------------------

    def summary(
        self,
        order: Sequence[str],
        groups: Mapping[str, list[str]],
        others: Mapping[str, list[str]],
        beyond: Mapping[str, int],
    ) -> str:
        y = 4
        x0, x1 = _PAD, WIDTH - _PAD
        for code in order:
            members = groups.get(code, [])
            by_type: dict[str, int] = defaultdict(int)
            for node in members:
                by_type[self.orgs[node]["type"]] += 1
            marked = [
                self.markers[("partner", str(self.orgs[n]["id"]))]
                for n in members
                if ("partner", str(self.orgs[n]["id"])) in self.markers
            ]
            top = y
            y += 40
            items = sorted(by_type.items(), key=lambda kv: _TYPES.index(OrgType(kv[0])))
            for i, (kind, n) in enumerate(items):
                cx = x0 + 18 + (i % 3) * 250
                cy = y + (i // 3) * 22
                self.front.append(
                    f'<circle cx="{cx}" cy="{cy}" r="7" fill="{self.colours[kind]}" '
                    'stroke="#1f2933"/>'
                    f'<text x="{cx + 14}" y="{cy + 4}" font-size="12" fill="#1f2933">'
                    f"{n} {_text(_counted(type_words(kind), n))}</text>"
                )
            y += math.ceil(len(items) / 3) * 22
            if marked:
                worst = min(marked, key=lambda m: _SEVERITY_RANK.get(m.severity, 3))
                text = f"{len(marked)} of them have findings: select to go to the first"
                self.front.append(
                    f'<a href="#{_text(worst.anchor)}"><text x="{x0 + 12}" y="{y + 6}" '
                    f'font-size="12" fill="{SEVERITY_COLOURS.get(worst.severity, "#52606d")}" '
                    f'font-weight="bold">{_text(text)}</text></a>'
                )
                y += 20
            count = len(others.get(code, [])) + beyond.get(code, 0)
            if count:
                self.front.append(
                    f'<text x="{x0 + 12}" y="{y + 6}" font-size="11" fill="#52606d">'
                    f"{count} other providers in the same markets</text>"
                )
                y += 18
            y += 4
            note = f"{len(members)} partner{'s' if len(members) != 1 else ''}"
            self.back.append(self.box(x0, top, x1, y, self.area_title(code), note))
            y += 12
        return self.svg(int(y), [*self.back, *self.front])

    def svg(self, height: int, parts: Sequence[str]) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="{_FONT}" role="img" '
            'aria-label="The partnership: organisations by PCT area, and their agreements">\n'
            + "\n".join(parts)
            + "\n</svg>"
        )
