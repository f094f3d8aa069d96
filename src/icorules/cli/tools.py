"""Commands for other tools: `schema`, `facts`, `graph`, `market import`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from icorules.cli.common import (
    cli,
    limit_option,
    limits_from,
    market_option,
    output_option,
    warn,
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
    from icorules.inputs.proposal import proposal_schema
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
    from icorules.inputs.market import load_market
    from icorules.inputs.proposal import load_proposal
    from icorules.output.graph_export import export_graph

    limits = limits_from(limit_values)
    market = load_market(market_path, limits=limits) if market_path else None
    model = load_proposal(proposal, limits=limits)
    inputs = [proposal, *([market_path] if market_path else [])]
    write_output(export_graph(build_graph(model, market), fmt), output, inputs=inputs)


@cli.group()
def market() -> None:
    """Work with market context files."""


@market.command("import")
@click.option(
    "--practices",
    type=click.Path(),
    required=True,
    help="GP practices in the ODS epraccur layout (no header row).",
)
@click.option(
    "--pct-areas",
    type=click.Path(),
    required=True,
    help="CSV with header code,name,population[,adjacent].",
)
@click.option(
    "--trusts",
    type=click.Path(),
    default=None,
    help="NHS trusts in the ODS etr layout (no header row).",
)
@click.option(
    "--list-sizes",
    type=click.Path(),
    default=None,
    help="CSV with PRACTICE_CODE,NUMBER_OF_PATIENTS (NHS Digital layout).",
)
@click.option(
    "--services",
    type=click.Path(),
    default=None,
    help="CSV with header code,services (';'-separated service lines).",
)
@click.option("--name", default="ODS extract", show_default=True, help="Name of the market.")
@output_option
def market_import(
    practices: str,
    pct_areas: str,
    trusts: str | None,
    list_sizes: str | None,
    services: str | None,
    name: str,
    output: str | None,
) -> None:
    """Build a market context file from NHS Organisation Data Service CSV extracts."""
    from icorules.inputs.ods import import_ods

    optional = {"trusts": trusts, "list_sizes": list_sizes, "services": services}
    given = {key: value for key, value in optional.items() if value}
    built, warnings = import_ods(
        practices=Path(practices),
        pct_areas=Path(pct_areas),
        name=name,
        **{key: Path(value) for key, value in given.items()},
    )
    for warning in warnings:
        warn(warning)
    data = built.model_dump(mode="json", exclude_none=True)
    inputs = [practices, pct_areas, *given.values()]
    write_output(json.dumps(data, indent=2, ensure_ascii=False) + "\n", output, inputs=inputs)


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
