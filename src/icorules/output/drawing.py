"""A picture of the partnership for the HTML report: organisations grouped in boxes by PCT
area, coloured by type; partners solid, other providers in the market pale; agreements as
small diamonds joined to their parties.

The layout is a grid per PCT area rather than a force layout, so the same proposal always
gives the same picture and an assessor finds each area where the proposal lists it.
matplotlib (via networkx's drawing helpers) renders it to SVG text with no timestamps or
random ids, so reports stay byte-identical.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from typing import Any

from icorules.analysis.graph import PartnerGraph, pct_node
from icorules.inputs.codes import OrgType

MAX_MARKET_NODES = 240  # beyond this the picture is a blur; the count is printed instead
_TYPES: list[OrgType] = list(OrgType)
_SPACING = 1.0
_MAX_COLUMNS_OF_AREAS = 3


def type_colours() -> dict[str, str]:
    """A fixed colour per organisation type (matplotlib's tab20 palette)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    palette = colormaps["tab20"]
    return {t.value: to_hex(palette(i % 20)) for i, t in enumerate(_TYPES)}


def partnership_svg(partners: PartnerGraph) -> tuple[str, int]:
    """The picture as SVG text, and how many market providers were left out of it."""
    import matplotlib
    import networkx as nx
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyBboxPatch

    g = partners.graph
    orgs = {n: d for n, d in g.nodes(data=True) if d.get("kind") == "organisation"}
    market = sorted((n for n, d in orgs.items() if d.get("partner") is False), key=_area_first(g))
    hidden = max(0, len(market) - MAX_MARKET_NODES)
    shown = {n for n in orgs if orgs[n].get("partner", True)} | set(market[:MAX_MARKET_NODES])

    groups: dict[str, list[str]] = defaultdict(list)
    for node in sorted(shown, key=lambda n: (orgs[n].get("partner") is False, n)):
        groups[orgs[node].get("pct", "")].append(node)
    order = [a.code for a in partners.proposal.pct_areas if a.code in groups]
    order += sorted(k for k in groups if k not in order and k)
    order += [""] if "" in groups else []

    pos, boxes = _layout(order, groups)
    agreements = [n for n, d in g.nodes(data=True) if d.get("kind") == "agreement"]
    edges: list[tuple[str, str]] = []
    for hub in sorted(agreements):
        parties = sorted(u for u, _ in g.in_edges(hub) if u in pos)
        if parties:
            pos[hub] = (
                sum(pos[p][0] for p in parties) / len(parties),
                sum(pos[p][1] for p in parties) / len(parties) + 0.35,
            )
            edges.extend((p, hub) for p in parties)

    width = max(x1 for _, (_, _, x1, _) in boxes.items()) if boxes else 1.0
    height = max(-y0 for _, (_, y0, _, _) in boxes.items()) if boxes else 1.0
    colours = type_colours()
    # parse_math off: a "$" in an area name is text, not a formula for matplotlib to parse.
    with matplotlib.rc_context(
        {"svg.hashsalt": "icorules", "svg.fonttype": "none", "text.parse_math": False}
    ):
        figure = Figure(figsize=(min(16, 1.5 + width * 0.9), min(24, 1.5 + height * 0.9)))
        FigureCanvasSVG(figure)
        ax = figure.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        for code, (x0, y0, x1, y1) in boxes.items():
            ax.add_patch(
                FancyBboxPatch(
                    (x0, y0),
                    x1 - x0,
                    y1 - y0,
                    boxstyle="round,pad=0.1",
                    facecolor="#f4f6f8",
                    edgecolor="#9aa5b1",
                )
            )
            ax.text(x0, y1 + 0.15, _area_label(g, code), fontsize=9, fontweight="bold")
        nx.draw_networkx_edges(
            g, pos, edgelist=edges, ax=ax, edge_color="#7b8794", width=0.8, arrows=False
        )
        partner_nodes = [n for n in shown if orgs[n].get("partner", True)]
        for nodes, alpha, size, outline in (
            (sorted(set(shown) - set(partner_nodes)), 0.35, 90, "#9aa5b1"),
            (sorted(partner_nodes), 1.0, 260, "#1f2933"),
        ):
            nx.draw_networkx_nodes(
                g,
                pos,
                nodelist=nodes,
                ax=ax,
                node_size=size,
                node_color=[colours[orgs[n]["type"]] for n in nodes],
                edgecolors=outline,
                alpha=alpha,
            )
        nx.draw_networkx_nodes(
            g,
            pos,
            nodelist=sorted(a for a in agreements if a in pos),
            ax=ax,
            node_shape="D",
            node_size=40,
            node_color="#52606d",
        )
        below = {n: (x, y - 0.28) for n, (x, y) in pos.items()}
        nx.draw_networkx_labels(
            g,
            below,
            labels={n: orgs[n]["id"] for n in partner_nodes if len(partner_nodes) <= 60},
            ax=ax,
            font_size=6,
            verticalalignment="top",
        )
        present = sorted({orgs[n]["type"] for n in shown}, key=lambda t: _TYPES.index(OrgType(t)))
        handles: list[Any] = [_dot(Line2D, colours[t], t.replace("_", " ")) for t in present]
        handles.append(_dot(Line2D, "#ffffff", "other provider (pale)", edge="#9aa5b1"))
        handles.append(_dot(Line2D, "#52606d", "agreement", marker="D"))
        ax.legend(handles=handles, loc="lower right", fontsize=7, frameon=True)
        ax.margins(0.04)
        ax.autoscale_view()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "icorules"})
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :], hidden


def _layout(
    order: list[str], groups: dict[str, list[str]]
) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float, float, float]]]:
    """A grid of nodes inside each area's box; boxes flow left to right, then down."""
    pos: dict[str, tuple[float, float]] = {}
    boxes: dict[str, tuple[float, float, float, float]] = {}
    x, top, row_height = 0.0, 0.0, 0.0
    for index, code in enumerate(order):
        members = groups[code]
        columns = max(1, math.ceil(math.sqrt(len(members) * 1.5)))
        rows = math.ceil(len(members) / columns)
        if index and index % _MAX_COLUMNS_OF_AREAS == 0:
            x, top, row_height = 0.0, top - row_height - 1.2, 0.0
        for i, node in enumerate(members):
            pos[node] = (x + (i % columns) * _SPACING, top - (i // columns) * _SPACING)
        box_width, box_height = (columns - 1) * _SPACING, (rows - 1) * _SPACING
        boxes[code] = (x - 0.4, top - box_height - 0.5, x + box_width + 0.4, top + 0.6)
        x += box_width + 1.6
        row_height = max(row_height, box_height + 1.2)
    return pos, boxes


def _area_label(g: Any, code: str) -> str:
    if not code:
        return "No PCT area given"
    data = g.nodes.get(pct_node(code), {})
    return f"{code} {data.get('name', '')}".strip()


def _area_first(g: Any) -> Any:
    return lambda n: (g.nodes[n].get("pct", ""), n)


def _dot(line: Any, colour: str, label: str, marker: str = "o", edge: str = "#1f2933") -> Any:
    return line(
        [],
        [],
        marker=marker,
        linestyle="",
        markerfacecolor=colour,
        markeredgecolor=edge,
        label=label,
    )
