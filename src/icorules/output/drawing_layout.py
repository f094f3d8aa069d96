"""Where the partnership drawing puts things: the full picture's grid and lanes, and the
summary by area drawn instead when the partnership is too large.

Each PCT area is a band across the page. Its partners sit in a grid inside it, rows apart
by a gap that the agreement lines run along; other providers are dots below them. Agreements
run in lanes down the left side: each lane turns into the gap above a row of partners and drops
into each party from above, so no line crosses an organisation or a name. Every position is
worked out from counts alone (no text is measured), so the same contents give the same bytes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from icorules.inputs.codes import OrgType
from icorules.output.drawing_style import (
    CELL_H,
    CELL_W,
    DOT_STEP,
    PAD,
    SEVERITY_RANK,
    TYPES,
    WIDTH,
    AgreementKey,
    R,
)
from icorules.output.drawing_svg import Canvas, Drop, agreement_lines, svg


@dataclass(frozen=True)
class Contents:
    """What the drawing shows, each part in drawing order (see `drawing.partnership_drawing`)."""

    order: Sequence[str]  # the PCT areas, "" for partners with none
    groups: Mapping[str, list[str]]  # area -> partners' nodes
    others: Mapping[str, list[str]]  # area -> other providers' nodes drawn
    beyond: Mapping[str, int]  # area -> other providers not drawn
    agreements: Sequence[str]  # agreements' nodes
    parties: Mapping[str, list[str]]  # agreement -> its parties' nodes


@dataclass(frozen=True)
class Grid:
    """The columns of the full picture: the agreements' lanes at the left, then the area
    boxes (x0 to x1) with the partners' cells inside them."""

    lane_x: dict[str, int]  # agreement -> its lane
    x0: int
    x1: int
    inner0: int  # where the cells start
    inner_w: int
    columns: int
    cell_w: float
    top: int  # below the agreements' heads


def grid_for(agreements: Sequence[str]) -> Grid:
    """Lanes 12 pixels apart, narrower when there are many; as many cells as fit."""
    lanes = len(agreements)
    step = 12 if lanes * 12 <= 168 else max(4, 168 // lanes)
    lanes_width = PAD + lanes * step + 6 if lanes else 0
    x0, x1 = PAD + lanes_width, WIDTH - PAD
    inner0, inner_w = x0 + 8, x1 - x0 - 16
    columns = max(1, int(inner_w // CELL_W))
    return Grid(
        lane_x={a: PAD + 4 + i * step for i, a in enumerate(agreements)},
        x0=x0,
        x1=x1,
        inner0=inner0,
        inner_w=inner_w,
        columns=columns,
        cell_w=inner_w / columns,
        top=34 if lanes else 4,
    )


@dataclass
class Lines:
    """The agreement lines, found while the partners are placed: a drop into each party from
    the gap above its row, and how far down each lane runs."""

    of_node: Mapping[str, list[str]]  # partner -> the agreements it is party to
    drops: dict[str, list[Drop]] = field(default_factory=dict)
    bottom_of: dict[str, float] = field(default_factory=dict)

    def drop_into(
        self, node: str, cx: float, cy: float, gutter_top: float, track: Mapping[str, int]
    ) -> None:
        """Drops into the partner at (cx, cy), side by side, each from its agreement's track
        in the gap above the row."""
        mine = self.of_node.get(node, [])
        for k, a in enumerate(mine):
            offset = (k - (len(mine) - 1) / 2) * 4
            ty: float = gutter_top + 5 + track[a] * 3
            self.drops.setdefault(a, []).append((a, round(cx + offset, 1), ty, cy - R))
            self.bottom_of[a] = max(self.bottom_of.get(a, 0), ty)


def parties_by_org(
    agreements: Sequence[str], parties: Mapping[str, list[str]]
) -> dict[str, list[str]]:
    """Partner -> the agreements it is party to, in the agreements' order."""
    of_node: dict[str, list[str]] = defaultdict(list)
    for a in agreements:
        for party in parties[a]:
            of_node[party].append(a)
    return of_node


def full_picture(canvas: Canvas, contents: Contents, keys: Sequence[AgreementKey]) -> str:
    """Every partner and agreement: the areas one under another, then the agreement lines
    under the organisations and the agreements' heads over everything."""
    grid = grid_for(contents.agreements)
    lines = Lines(parties_by_org(contents.agreements, contents.parties))
    y = grid.top
    for code in contents.order:
        y = _area(canvas, grid, contents, code, y, lines)
    body: list[str] = []
    for key, a in zip(keys, contents.agreements, strict=True):
        if a in lines.drops:
            body += agreement_lines(grid.lane_x[a], key.colour, lines.bottom_of[a], lines.drops[a])
    heads = [
        canvas.agreement_head(key, grid.lane_x[a], contents.parties[a])
        for key, a in zip(keys, contents.agreements, strict=True)
    ]
    return svg(int(y), [*canvas.back, *body, *canvas.front, *heads])


def _area(canvas: Canvas, grid: Grid, contents: Contents, code: str, y: int, lines: Lines) -> int:
    """One area's band from `y`: its partners, the other providers, then its box around them.
    Returns where the next band starts."""
    members = contents.groups.get(code, [])
    top = y
    slot = canvas.reserve()  # the box, once its height is known
    y += 28
    y = _partner_rows(canvas, grid, contents, members, y, lines)
    pale, beyond = contents.others.get(code, []), contents.beyond.get(code, 0)
    if pale or beyond:
        y = _other_providers(canvas, grid, pale, beyond, y)
    y += 8
    partners_note = (
        f"{len(members)} partner{'s' if len(members) != 1 else ''}"
        if members
        else "no partners here; other providers only"
    )
    canvas.back[slot] = canvas.box(grid.x0, top, grid.x1, y, canvas.area_title(code), partners_note)
    canvas.area_marker(code, grid.x1, top)
    return y + 12


def _partner_rows(
    canvas: Canvas, grid: Grid, contents: Contents, members: list[str], y: int, lines: Lines
) -> int:
    """The area's partners in rows of cells, each row below a gap wide enough for a track per
    agreement of the area's partners. Returns the y below the last row."""
    here = [a for a in contents.agreements if any(p in members for p in contents.parties[a])]
    track = {a: i for i, a in enumerate(here)}
    gutter = 8 + 3 * len(here)
    for r in range(math.ceil(len(members) / grid.columns)):
        gutter_top = y
        y += gutter
        for c, node in enumerate(members[r * grid.columns : (r + 1) * grid.columns]):
            cx = round(grid.inner0 + c * grid.cell_w + 14, 1)
            cy = y + CELL_H / 2
            canvas.partner(node, cx, cy, grid.cell_w)
            lines.drop_into(node, cx, cy, gutter_top, track)
        y += CELL_H
    return y


def _other_providers(canvas: Canvas, grid: Grid, pale: list[str], beyond: int, y: int) -> int:
    """A caption counting the other providers in the area, then a dot for each drawn."""
    y += 6
    count = len(pale) + beyond
    caption = f"{count} other provider{'s' if count != 1 else ''} in the same markets"
    if beyond:
        caption += f" ({beyond} not drawn)"
    canvas.caption(caption, grid.inner0, y)
    y += 18
    per_row = max(1, int(grid.inner_w // DOT_STEP))
    for i, node in enumerate(pale):
        cx = grid.inner0 + 6 + (i % per_row) * DOT_STEP
        cy = y + 6 + (i // per_row) * DOT_STEP
        canvas.other(node, cx, cy)
    return y + math.ceil(len(pale) / per_row) * DOT_STEP


def summary_picture(canvas: Canvas, contents: Contents) -> str:
    """For partnerships too large to draw: each area's partners counted by type, how many of
    them have findings, and how many other providers there are."""
    y = 4
    x0, x1 = PAD, WIDTH - PAD
    for code in contents.order:
        members = contents.groups.get(code, [])
        top = y
        y += 40
        y = _type_counts(canvas, members, x0, y)
        marked = [
            canvas.markers[("partner", str(canvas.orgs[n]["id"]))]
            for n in members
            if ("partner", str(canvas.orgs[n]["id"])) in canvas.markers
        ]
        if marked:
            worst = min(marked, key=lambda m: SEVERITY_RANK.get(m.severity, 3))
            text = f"{len(marked)} of them have findings: select to go to the first"
            canvas.findings_link(worst, text, x0 + 12, y)
            y += 20
        count = len(contents.others.get(code, [])) + contents.beyond.get(code, 0)
        if count:
            canvas.others_count(count, x0 + 12, y)
            y += 18
        y += 4
        note = f"{len(members)} partner{'s' if len(members) != 1 else ''}"
        canvas.back.append(canvas.box(x0, top, x1, y, canvas.area_title(code), note))
        y += 12
    return svg(int(y), [*canvas.back, *canvas.front])


def _type_counts(canvas: Canvas, members: list[str], x0: int, y: int) -> int:
    """The area's partners counted by type, three to a row. Returns the y below them."""
    by_type: dict[str, int] = defaultdict(int)
    for node in members:
        by_type[canvas.orgs[node]["type"]] += 1
    items = sorted(by_type.items(), key=lambda kv: TYPES.index(OrgType(kv[0])))
    for i, (kind, n) in enumerate(items):
        canvas.type_count(kind, n, x0 + 18 + (i % 3) * 250, y + (i // 3) * 22)
    return y + math.ceil(len(items) / 3) * 22
