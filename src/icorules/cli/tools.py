"""Commands for other tools: `schema`, `facts`, `graph`, `config`."""

from __future__ import annotations

import json
from typing import Any

import click

from icorules.cli.common import (
    cli,
    limit_option,
    limits_from,
    market_option,
    output_option,
    write_output,
)


@cli.command()
@click.argument("document", type=click.Choice(["proposal", "market", "report"]), default="proposal")
@output_option
def schema(document: str, output: str | None) -> None:
    """Print the JSON Schema of a proposal (default), a market file, or a JSON report.

    `check --format json` prints one report object, or a list of them for several proposals.
    """
    from icorules.inputs.market import market_schema
    from icorules.inputs.proposal_schema import proposal_schema
    from icorules.results.report import report_schema

    schemas = {"proposal": proposal_schema, "market": market_schema, "report": report_schema}
    write_output(json.dumps(schemas[document](), indent=2, sort_keys=True) + "\n", output)


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    show_default=True,
)
@output_option
def facts(fmt: str, output: str | None) -> None:
    """Print the fact catalogue: the kinds and fields rule conditions may use."""
    from icorules.analysis.facts import FACT_KINDS, fact_catalogue_markdown, field_types

    if fmt == "markdown":
        write_output(fact_catalogue_markdown() + "\n", output)
        return
    data: dict[str, Any] = {
        kind: {
            name: t.label + (" or absent" if t.nullable else "")
            for name, t in field_types(kind).items()
        }
        for kind in FACT_KINDS
    }
    write_output(json.dumps(data, indent=2) + "\n", output)


@cli.command()
@click.argument("proposal", type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "graphml", "dot"]),
    default="json",
    show_default=True,
)
@market_option
@output_option
@limit_option
def graph(
    proposal: str,
    fmt: str,
    market_path: str | None,
    output: str | None,
    limit_values: tuple[str, ...],
) -> None:
    """Export the partner graph of PROPOSAL: node-link JSON, GraphML (Gephi) or DOT (Graphviz)."""
    from icorules.analysis.graph import build_graph
    from icorules.api import load_market_file
    from icorules.inputs.proposal import load_proposal
    from icorules.output.graph_export import export_graph

    limits = limits_from(limit_values)
    market = load_market_file(market_path, limits) if market_path else None
    model = load_proposal(proposal, limits=limits)
    inputs = [proposal, *([market_path] if market_path else [])]
    write_output(export_graph(build_graph(model, market), fmt), output, inputs=inputs)


@cli.command("config")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def config_command(ctx: click.Context, fmt: str) -> None:
    """Show the settings `icorules check` runs with, and where each comes from."""
    from icorules.config import Config

    config: Config | None = ctx.find_object(Config)
    defaults = (ctx.parent.default_map or {}) if ctx.parent else {}
    given = defaults.get("check", {})
    rows = []
    for key, option, default in (
        ("rulesets", "rulesets", ["@bundled"]),
        ("market", "market_path", None),
        ("waivers", "waivers_path", None),
        ("fail-on", "fail_on", "error"),
        ("format", "fmt", "text"),
        ("select", "select", []),
        ("ignore", "ignore", []),
        ("params", "params", []),
        ("limits", "limit_values", []),
    ):
        value = given.get(option, default)
        source = config.where if config is not None and option in given else "default"
        rows.append({"setting": key, "value": value, "from": source})
    if fmt == "json":
        data = {"file": str(config.file) if config else None, "settings": rows}
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"Settings file: {config.where}" if config else "Settings file: none found")
    for row in rows:
        value = row["value"]
        shown = ", ".join(value) if isinstance(value, list) else value
        click.echo(f"  {row['setting']:<9} {shown or '(none)'}  [{row['from']}]")
    click.echo("Options given on the command line override these.")
