"""Command line: `icorules check`, `rules`, `market import`, `schema`, `facts`, `graph`.

Exit codes follow linters: 0 clean, 1 findings at or above --fail-on, 2 bad usage or input,
3 an internal engine failure.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from icorules.api import check as run_check
from icorules.api import resolve_rulesets
from icorules.ci_formats import render_junit, render_sarif
from icorules.engine import EngineError
from icorules.errors import InputError, Problem
from icorules.facts import FACT_KINDS, fact_catalogue_markdown, field_types
from icorules.graph import build_graph, export_graph
from icorules.market import Market, load_market
from icorules.model import load_proposal, proposal_schema
from icorules.ods import import_ods
from icorules.report import Report, render_json, render_text
from icorules.rules.loader import RuleBundle
from icorules.rules.reference import rules_markdown
from icorules.rules.testing import run_tests
from icorules.waivers import Waiver, load_waivers

EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 1, 2, 3


def _fail(problems: Sequence[Problem | str]) -> None:
    for problem in problems:
        click.echo(f"icorules: {problem}", err=True)
    sys.exit(EXIT_INPUT)


def _parse_params(values: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{item}' should look like NAME=VALUE", param_hint="--param")
        params[name.strip()] = value.strip()
    return params


def _market(path: str | None) -> Market | None:
    if path is None:
        return None
    try:
        return load_market(path)
    except InputError as exc:
        _fail(exc.problems)
        raise  # unreachable: _fail exits


def _bundle(rulesets: Sequence[str], params: Sequence[str]) -> RuleBundle:
    try:
        return resolve_rulesets(list(rulesets) or None, _parse_params(params))
    except InputError as exc:
        _fail(exc.problems)
        raise  # unreachable: _fail exits


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_output(text: str, output: str | None, *, color: bool = False) -> None:
    """Print, or replace `output` atomically so a failed write never leaves half a file."""
    if output is None or output == "-":
        click.echo(text, nl=False, color=color)
        return
    target = Path(output)
    if target.is_dir():
        _fail([f"{output}: is a directory; give a file name for --output"])
    directory = target.resolve().parent
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        # mkstemp makes the file private; give it the old file's mode, or the usual one.
        os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        _fail([f"{output}: cannot write ({exc.strerror})"])


ruleset_option = click.option(
    "--ruleset",
    "-r",
    "rulesets",
    multiple=True,
    type=click.Path(),
    help="Ruleset file or directory (repeatable); '@bundled' is the bundled prospectus-2008 set, "
    "which is the default. Add your own rules with: -r @bundled -r my-rules/",
)
param_option = click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a ruleset parameter, e.g. --param max_pct_population_share=0.5.",
)
market_option = click.option(
    "--market",
    "-m",
    "market_path",
    type=click.Path(),
    default=None,
    help="Market context file: the other providers in the local health economy.",
)
output_option = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write to this file (replaced atomically) instead of standard output.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="icorules")
def cli() -> None:
    """Check integrated care pilot proposals against the 2008 prospectus rules."""


@cli.command()
@click.argument("proposals", nargs=-1, required=True, type=click.Path())
@ruleset_option
@param_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "junit"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    default="error",
    show_default=True,
    help="Exit 1 if any finding is at or above this severity.",
)
@click.option(
    "--color/--no-color", default=None, help="Colour the text report (default: only on a terminal)."
)
@click.option("--timing", is_flag=True, help="Include how long each check took.")
@market_option
@click.option(
    "--waivers",
    "-w",
    "waivers_path",
    type=click.Path(),
    default=None,
    help="Waiver file: findings accepted with a reason (they no longer fail the check).",
)
@output_option
def check(
    proposals: tuple[str, ...],
    rulesets: tuple[str, ...],
    params: tuple[str, ...],
    fmt: str,
    fail_on: str,
    color: bool | None,
    timing: bool,
    market_path: str | None,
    waivers_path: str | None,
    output: str | None,
) -> None:
    """Check one or more PROPOSAL files (JSON or YAML)."""
    bundle = _bundle(rulesets, params)
    market = _market(market_path)
    waivers: list[Waiver] = []
    if waivers_path is not None:
        try:
            waivers = load_waivers(waivers_path, bundle)
        except InputError as exc:
            _fail(exc.problems)
    reports: list[Report] = []
    problems: list[Problem] = []
    for path in proposals:
        try:
            reports.append(
                run_check(path, rulesets=bundle, market=market, waivers=waivers, timing=timing)
            )
        except InputError as exc:
            problems.extend(exc.problems)
        except EngineError as exc:
            click.echo(f"icorules: internal error while checking {path}: {exc}", err=True)
            sys.exit(EXIT_INTERNAL)
    if reports:
        if fmt == "json":
            text = render_json(reports)
        elif fmt == "sarif":
            text = render_sarif(reports)
        elif fmt == "junit":
            text = render_junit(reports, fail_on)  # type: ignore[arg-type]
        else:
            if color is None:  # colour only on a terminal, and never with NO_COLOR set
                color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
            text = render_text(reports, color=color)
        write_output(text, output, color=bool(color))
    for i, waiver in enumerate(waivers):
        if waiver.proposal is None and not any(
            waiver.matches(r.proposal.id, w.finding) for r in reports for w in r.waived
        ):
            click.echo(
                f"icorules: warning: {waivers_path}: waivers[{i}] ({waiver.rule}"
                f"{' on ' + waiver.subject if waiver.subject else ''}) matched no finding",
                err=True,
            )
    if problems:
        _fail(problems)
    if any(r.fails(fail_on) for r in reports):  # type: ignore[arg-type]
        sys.exit(EXIT_FINDINGS)


@cli.group()
def rules() -> None:
    """Work with rulesets."""


@rules.command("list")
@ruleset_option
@param_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def rules_list(rulesets: tuple[str, ...], params: tuple[str, ...], fmt: str) -> None:
    """List the loaded rules: id, severity, title (and fact kind and ruleset)."""
    bundle = _bundle(rulesets, params)
    rows = [
        {
            "id": r.id,
            "severity": r.severity,
            "title": r.title,
            "fact": r.fact,
            "ruleset": r.ruleset,
            "source": r.source,
        }
        for r in bundle.rules
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        click.echo(f"{r['id']:<{width}}  {r['severity']:<7}  {r['title']}")


@rules.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@param_option
def rules_check(paths: tuple[str, ...], params: tuple[str, ...]) -> None:
    """Validate ruleset files without running them (for editors and CI)."""
    bundle = _bundle(paths, params)
    click.echo(
        f"{_count(len(bundle.rules), 'rule')} in {_count(len(bundle.rulesets), 'ruleset')}: OK"
    )


@rules.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@ruleset_option
def rules_test(paths: tuple[str, ...], rulesets: tuple[str, ...]) -> None:
    """Run ruleset tests: *.test.yaml files that name a proposal and the findings it must give."""
    try:
        results = run_tests(paths, list(rulesets) or None)
    except InputError as exc:
        _fail(exc.problems)
    for result in results:
        mark = "PASS" if result.passed else "FAIL"
        click.echo(f"{mark}  {result.file}: {result.name}")
        for failure in result.failures:
            click.echo(f"      {failure}")
    failed = sum(not r.passed for r in results)
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        sys.exit(EXIT_FINDINGS)


@rules.command("doc")
@ruleset_option
@output_option
def rules_doc(rulesets: tuple[str, ...], output: str | None) -> None:
    """Write the rule reference (Markdown): every rule, its condition, parameters and source."""
    write_output(rules_markdown(_bundle(rulesets, ())) + "\n", output)


@cli.command()
@output_option
def schema(output: str | None) -> None:
    """Print the JSON Schema of the proposal format."""
    write_output(json.dumps(proposal_schema(), indent=2, sort_keys=True) + "\n", output)


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
    "--format", "fmt", type=click.Choice(["json", "graphml"]), default="json", show_default=True
)
@market_option
@output_option
def graph(proposal: str, fmt: str, market_path: str | None, output: str | None) -> None:
    """Export the partner graph of PROPOSAL (node-link JSON or GraphML)."""
    market = _market(market_path)
    try:
        model = load_proposal(proposal)
    except InputError as exc:
        _fail(exc.problems)
    write_output(export_graph(build_graph(model, market), fmt), output)


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
    optional = {"trusts": trusts, "list_sizes": list_sizes, "services": services}
    try:
        built, warnings = import_ods(
            practices=Path(practices),
            pct_areas=Path(pct_areas),
            name=name,
            **{key: Path(value) for key, value in optional.items() if value},
        )
    except InputError as exc:
        _fail(exc.problems)
    for warning in warnings:
        click.echo(f"icorules: warning: {warning}", err=True)
    data = built.model_dump(mode="json", exclude_none=True)
    write_output(json.dumps(data, indent=2, ensure_ascii=False) + "\n", output)


def main() -> None:
    try:
        cli(prog_name="icorules")
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug, not bad input: say so in one line, no traceback
        click.echo(
            f"icorules: internal error ({type(exc).__name__}: {exc}); please report it with "
            "the input that caused it",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
