"""`icorules market`: market context files, built from ODS extracts (`import`) and compiled
for fast loading (`compile`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from icorules.cli.common import (
    cli,
    limit_option,
    limits_from,
    output_option,
    say,
    warn,
    write_output,
)


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


@market.command("compile")
@click.argument("source", type=click.Path())
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="The compiled file (default: SOURCE with the extension .icm).",
)
@limit_option
def market_compile(source: str, output: str | None, limit_values: tuple[str, ...]) -> None:
    """Compile the market file SOURCE for fast loading: --market AREA.icm is then accepted
    wherever a market file is, and loads without being validated again (a national market in
    tens of milliseconds, not hundreds). It records the SHA-256 of SOURCE and is refused once
    SOURCE changes (or icorules does): compile it again then."""
    from icorules.compiled_market import SUFFIX, compile_market

    target = output or str(Path(source).with_suffix(SUFFIX))
    if Path(target).suffix.lower() != SUFFIX:
        raise click.BadParameter(f"a compiled market's name ends in {SUFFIX}", param_hint="-o")
    market = compile_market(source, target, limits_from(limit_values))
    say(
        f"compiled {source} ({len(market.pct_areas):,} PCT areas, "
        f"{len(market.providers):,} providers) to {target}"
    )
