"""The partner graph for other tools: node-link JSON, GraphML and Graphviz DOT.

Names come from bids and market files, so GraphML gets them as XML 1.0 allows (`xml_text`) and
DOT as properly quoted strings (`dot_quoted`); JSON holds any text as it is.
"""

from __future__ import annotations

import json
from typing import Any

import networkx as nx

from icorules.analysis.graph import PartnerGraph
from icorules.output.escape import dot_quoted, xml_text


def export_graph(partners: PartnerGraph, fmt: str) -> str:
    """The graph for other tools: node-link JSON, GraphML or DOT (deterministic order)."""
    ordered: nx.MultiDiGraph[str] = nx.MultiDiGraph(**partners.graph.graph)
    ordered.add_nodes_from(sorted(partners.graph.nodes(data=True)))
    edges = partners.graph.edges(keys=True, data=True)
    for u, v, key, attrs in sorted(edges, key=lambda e: (e[0], e[1], str(e[2]))):
        ordered.add_edge(u, v, key, **attrs)
    if fmt == "json":
        data = nx.node_link_data(ordered, edges="edges")
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    if fmt == "graphml":
        return "\n".join(nx.generate_graphml(_xml_safe(ordered))) + "\n"
    if fmt == "dot":
        return _to_dot(ordered)
    raise ValueError(f"unknown graph format {fmt!r}")


_DOT_SHAPES = {"agreement": "diamond", "arrangement": "hexagon", "pct_area": "folder"}


def _to_dot(g: nx.MultiDiGraph[str]) -> str:
    """Graphviz DOT: organisations in a cluster per PCT area, coloured by type; market
    providers dashed. (networkx's own converter trips over a node attribute called `name`.)"""
    import pydot

    from icorules.output.drawing_style import type_colours

    colours = type_colours()
    dot = pydot.Dot(graph_name="partnership", graph_type="digraph", rankdir="LR")
    clusters: dict[str, pydot.Cluster] = {}
    for node, data in g.nodes(data=True):
        kind = data.get("kind", "")
        label = data.get("name") or data.get("id") or node
        attrs: dict[str, str] = {"label": f"{label}", "tooltip": node}
        if kind == "organisation":
            attrs |= {"style": "filled", "fillcolor": colours.get(data.get("type", ""), "#ffffff")}
            if data.get("partner") is False:
                attrs["style"] = "filled,dashed"
        else:
            attrs["shape"] = _DOT_SHAPES.get(kind, "ellipse")
        target: pydot.Dot | pydot.Cluster = dot
        area = data.get("pct") if kind == "organisation" else None
        if area:
            if area not in clusters:
                clusters[area] = pydot.Cluster(f"pct_{area}", label=dot_quoted(f"PCT area {area}"))
                # pydot annotates add_subgraph() as taking a Subgraph, but it accepts (and
                # checks for) a Cluster too.
                dot.add_subgraph(clusters[area])  # type: ignore[arg-type]
            target = clusters[area]
        target.add_node(pydot.Node(dot_quoted(node), **_quoted(attrs)))
    for u, v, data in g.edges(data=True):
        dot.add_edge(
            pydot.Edge(
                dot_quoted(u),
                dot_quoted(v),
                label=dot_quoted(data.get("kind", "")),
            )
        )
    return dot.to_string()


def _quoted(attrs: dict[str, str]) -> dict[str, Any]:
    return {k: dot_quoted(v) for k, v in attrs.items()}


def _xml_safe(g: nx.MultiDiGraph[str]) -> nx.MultiDiGraph[str]:
    """The graph with every text attribute as XML 1.0 allows it."""

    def clean(attrs: dict[str, Any]) -> dict[str, Any]:
        return {k: xml_text(v) if isinstance(v, str) else v for k, v in attrs.items()}

    safe: nx.MultiDiGraph[str] = nx.MultiDiGraph(**clean(dict(g.graph)))
    safe.add_nodes_from((xml_text(n), clean(a)) for n, a in g.nodes(data=True))
    for u, v, key, attrs in g.edges(keys=True, data=True):
        safe.add_edge(xml_text(u), xml_text(v), key, **clean(attrs))
    return safe
