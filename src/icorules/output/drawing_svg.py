"""The partnership drawing's SVG, written by hand: each piece (an area's box, a partner, another
provider, an agreement's lines and head, a summary's counts) as markup at the place the layout
gives it (icorules.output.drawing_layout).

Names are fitted to their space by counting characters, not by measuring text: no font metrics,
so the same input gives the same bytes everywhere.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from icorules.analysis.graph import pct_node
from icorules.output.drawing_style import (
    CHAR,
    DOT,
    FONT,
    SEVERITY_COLOURS,
    WIDTH,
    AgreementKey,
    Marker,
    R,
    type_words,
)
from icorules.output.escape import xml_text

_MUTED = "#52606d"  # captions, and a marker of a severity with no colour of its own

# A drop of an agreement line into one party: (agreement, x, top, bottom).
Drop = tuple[str, float, float, float]


def _text(value: object) -> str:
    """Text for SVG: characters XML 1.0 forbids shown as escapes, then markup escaped."""
    return html.escape(xml_text(str(value)), quote=True)


def counted(words: str, n: int) -> str:
    """`Local authority`, 3 -> `local authorities`; acronyms keep their capitals."""
    if not words[:2].isupper():
        words = words[0].lower() + words[1:]
    if n == 1:
        return words
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _cut(text: str, per_line: int) -> str:
    return text if len(text) <= per_line else text[: per_line - 1].rstrip() + "…"


def fit(text: str, width: float, size: float = 12) -> list[str]:
    """`text` in at most two lines of `width` pixels, the second cut short with … if need be."""
    per_line = max(4, int(width / (CHAR * size / 12)))
    words = text.split() or [""]
    first, used = "", 0
    while used < len(words) and len(f"{first} {words[used]}".strip()) <= per_line:
        first = f"{first} {words[used]}".strip()
        used += 1
    if not first:  # one word longer than a line
        first, used = _cut(words[0], per_line), 1
    rest = " ".join(words[used:])
    return [first, _cut(rest, per_line)] if rest else [first]


def one_line(text: str, width: float, size: float) -> str:
    return _cut(text, max(4, int(width / (CHAR * size / 12))))


def _severity_colour(marker: Marker) -> str:
    return SEVERITY_COLOURS.get(marker.severity, _MUTED)


class Canvas:
    """The drawing's pieces as they are placed: `back` (area boxes, titles, captions) is drawn
    first and `front` (organisations and markers) last, over the agreement lines."""

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

    def reserve(self) -> int:
        """A place in `back` for a box drawn once its height is known (it goes under what
        is placed in it)."""
        self.back.append("")
        return len(self.back) - 1

    # -- areas -----------------------------------------------------------------------------

    def area_title(self, code: str) -> str:
        if not code:
            return "No PCT area given"
        data = self.g.nodes.get(pct_node(code), {})
        return f"{code} {data.get('name', '')}".strip()

    def box(self, x0: float, y0: float, x1: float, y1: float, title: str, note: str) -> str:
        """An area's box with its title inside, on one line (all of it in the tooltip)."""
        shown = one_line(title, (x1 - x0 - 20) * 0.62, 14)
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
        colour = _severity_colour(marker)
        label = f"{marker.count} finding{'s' if marker.count != 1 else ''}"
        self.front.append(
            f'<a href="#{_text(marker.anchor)}"><title>{_text(code)}: {_text(marker.summary)}'
            f"</title>"
            f'<rect x="{x - 78}" y="{y + 6}" width="72" height="18" rx="9" fill="{colour}"/>'
            f'<text x="{x - 42}" y="{y + 19}" font-size="11" font-weight="bold" fill="#fff" '
            f'text-anchor="middle">{label}</text></a>'
        )

    def caption(self, text: str, x: float, y: float) -> None:
        """A line of small text under an area's partners."""
        self.back.append(
            f'<text x="{x}" y="{y + 10}" font-size="11" fill="#52606d">{_text(text)}</text>'
        )

    # -- organisations ---------------------------------------------------------------------

    def partner(self, node: str, cx: float, cy: float, width: float) -> None:
        data = self.orgs[node]
        name, org_id = str(data.get("name") or data["id"]), str(data["id"])
        marker = self.markers.get(("partner", org_id))
        parts = [f"<title>{_text(_partner_tip(data, name, org_id, marker))}</title>"]
        if marker is not None:
            parts.append(
                f'<circle cx="{cx}" cy="{cy}" r="{R + 4}" fill="none" '
                f'stroke="{_severity_colour(marker)}" stroke-width="3"/>'
            )
        parts.append(
            f'<circle cx="{cx}" cy="{cy}" r="{R}" fill="{self.colours[data["type"]]}" '
            'stroke="#1f2933" stroke-width="1.5"/>'
        )
        lines = fit(name, width - 2 * R - 14)
        top = cy + 4 if len(lines) == 1 else cy - 3
        for i, line in enumerate(lines):
            parts.append(
                f'<text x="{cx + R + 8}" y="{top + i * 14}" font-size="12" '
                f'fill="#1f2933">{_text(line)}</text>'
            )
        if marker is None:
            self.front.append(f'<g class="org" data-org="{_text(org_id)}">{"".join(parts)}</g>')
            return
        parts.append(
            f'<circle cx="{cx - R - 1}" cy="{cy - R - 1}" r="7.5" '
            f'fill="{_severity_colour(marker)}" stroke="#fff" stroke-width="1"/>'
            f'<text x="{cx - R - 1}" y="{cy - R + 2.5}" font-size="10" font-weight="bold" '
            f'fill="#fff" text-anchor="middle">{min(marker.count, 99)}</text>'
        )
        self.front.append(
            f'<a href="#{_text(marker.anchor)}" class="org marked" '
            f'data-org="{_text(org_id)}">{"".join(parts)}</a>'
        )

    def other(self, node: str, cx: float, cy: float) -> None:
        data = self.orgs[node]
        name, org_id = str(data.get("name") or data["id"]), str(data["id"])
        tip = f"{name} ({org_id}), {type_words(data['type'])}: another provider in the same market"
        if data.get("stakeholder"):  # named by the bid, not a partner
            tip = f"{name} ({org_id}), {type_words(data['type'])}: a stakeholder, not a partner"
            tip += f" (its support: {data['stakeholder']})"
        self.front.append(
            f'<g class="other" data-org="{_text(org_id)}"><title>{_text(tip)}</title>'
            f'<circle cx="{cx}" cy="{cy}" r="{DOT}" fill="{self.colours[data["type"]]}" '
            'fill-opacity="0.45" stroke="#829ab1" stroke-width="1"/></g>'
        )

    # -- agreements ------------------------------------------------------------------------

    def agreement_head(self, key: AgreementKey, x: float, parties: Sequence[str]) -> str:
        """An agreement's numbered head at the top of its lane, with its parties in the
        tooltip; ringed, and a link to its first finding, when it has findings."""
        tip = (
            f"Agreement {key.number}: {key.id} ({type_words(key.type)}), "
            f"{key.parties} parties: " + ", ".join(str(self.orgs[p].get("id")) for p in parties)
        )
        if key.marker is not None:
            tip += f". {key.marker.summary}"
        shape = (
            f'<path d="M{x} 14l5 5l-5 5l-5 -5z" fill="{key.colour}" stroke="#fff" '
            'stroke-width="1"/>'
            f'<text x="{x}" y="10" font-size="9" text-anchor="middle" '
            f'fill="{key.colour}" font-weight="bold">{key.number}</text>'
        )
        if key.marker is None:
            return (
                f'<g class="agreement" data-agreement="{_text(key.id)}">'
                f"<title>{_text(tip)}</title>{shape}</g>"
            )
        shape = (
            f'<circle cx="{x}" cy="19" r="8" fill="none" stroke="{_severity_colour(key.marker)}" '
            'stroke-width="2"/>' + shape
        )
        return (
            f'<a href="#{_text(key.marker.anchor)}" class="agreement" '
            f'data-agreement="{_text(key.id)}"><title>{_text(tip)}</title>{shape}</a>'
        )

    # -- a summary's pieces ----------------------------------------------------------------

    def type_count(self, kind: str, n: int, cx: float, cy: float) -> None:
        """How many partners of one type an area has."""
        self.front.append(
            f'<circle cx="{cx}" cy="{cy}" r="7" fill="{self.colours[kind]}" stroke="#1f2933"/>'
            f'<text x="{cx + 14}" y="{cy + 4}" font-size="12" fill="#1f2933">'
            f"{n} {_text(counted(type_words(kind), n))}</text>"
        )

    def findings_link(self, worst: Marker, text: str, x: float, y: float) -> None:
        """A line saying how many of an area's partners have findings, linking to the worst."""
        self.front.append(
            f'<a href="#{_text(worst.anchor)}"><text x="{x}" y="{y + 6}" '
            f'font-size="12" fill="{_severity_colour(worst)}" '
            f'font-weight="bold">{_text(text)}</text></a>'
        )

    def others_count(self, count: int, x: float, y: float) -> None:
        self.front.append(
            f'<text x="{x}" y="{y + 6}" font-size="11" fill="#52606d">'
            f"{count} other providers in the same markets</text>"
        )


def _partner_tip(data: Mapping[str, Any], name: str, org_id: str, marker: Marker | None) -> str:
    """A partner's tooltip: its name, id, type and area, and its findings."""
    tip = f"{name} ({org_id}), {type_words(data['type'])}"
    if data.get("pct"):
        tip += f", in {data['pct']}"
    if marker is not None:
        tip += f". {marker.summary}: select to read them"
    return tip


def agreement_lines(x: float, colour: str, bottom: float, drops: Sequence[Drop]) -> list[str]:
    """An agreement's lane down the left side, and a run from it along the gap above each
    party's row, dropping into the party from above."""
    lines = [f'<path d="M{x} 24V{bottom}" stroke="{colour}" stroke-width="1.6" fill="none"/>']
    for _agreement, dx, ty, end in drops:
        lines.append(
            f'<path d="M{x} {ty}H{dx}V{end}" stroke="{colour}" stroke-width="1.6" '
            'fill="none" stroke-linejoin="round"/>'
        )
    return lines


def svg(height: int, parts: Sequence[str]) -> str:
    """The pieces, in drawing order, as one SVG document."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="{FONT}" role="img" '
        'aria-label="The partnership: organisations by PCT area, and their agreements">\n'
        + "\n".join(parts)
        + "\n</svg>"
    )
