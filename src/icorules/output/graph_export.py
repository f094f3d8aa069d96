"""The partner graph for other tools: node-link JSON, GraphML and Graphviz DOT."""

from __future__ import annotations

import json
from typing import Any

import networkx as nx

from icorules.analysis.graph import PartnerGraph


def export_graph(partners: PartnerGraph, fmt: str) -> str:
    """The graph for other tools: node-link JSON or GraphML (deterministic order)."""
    import networkx as nx

    ordered: nx.MultiDiGraph[str] = nx.MultiDiGraph(**partners.graph.graph)
    ordered.add_nodes_from(sorted(partners.graph.nodes(data=True)))
    edges = partners.graph.edges(keys=True, data=True)
    for u, v, key, attrs in sorted(edges, key=lambda e: (e[0], e[1], str(e[2]))):
        ordered.add_edge(u, v, key, **attrs)
    if fmt == "json":
        data = nx.node_link_data(ordered, edges="edges")
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    if fmt == "graphml":
        return "\n".join(nx.generate_graphml(ordered)) + "\n"
    if fmt == "dot":
        return _to_dot(ordered)
    raise ValueError(f"unknown graph format {fmt!r}")


_DOT_SHAPES = {"agreement": "diamond", "arrangement": "hexagon", "pct_area": "folder"}


def _to_dot(g: nx.MultiDiGraph[str]) -> str:
    """Graphviz DOT: organisations in a cluster per PCT area, coloured by type; market
    providers dashed. (networkx's own converter trips over a node attribute called `name`.)"""
    import pydot

    from icorules.output.drawing import type_colours

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
                clusters[area] = pydot.Cluster(
                    f"pct_{area}", label=pydot.make_quoted(f"PCT area {area}")
                )
                # pydot annotates add_subgraph() as taking a Subgraph, but it accepts (and
                # checks for) a Cluster too.
                dot.add_subgraph(clusters[area])  # type: ignore[arg-type]
            target = clusters[area]
        target.add_node(pydot.Node(pydot.make_quoted(node), **_quoted(attrs)))
    for u, v, data in g.edges(data=True):
        dot.add_edge(
            pydot.Edge(
                pydot.make_quoted(u),
                pydot.make_quoted(v),
                label=pydot.make_quoted(data.get("kind", "")),
            )
        )
    return dot.to_string()


def _quoted(attrs: dict[str, str]) -> dict[str, Any]:
    import pydot

    return {k: pydot.make_quoted(v) for k, v in attrs.items()}
