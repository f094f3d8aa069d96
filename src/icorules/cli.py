"""Command line: `icorules check`, `rules`, `test`, `lint`, `diff`, `market import`, `schema`,
`facts`, `graph`.

Exit codes follow linters: 0 clean, 1 findings at or above --fail-on, 2 bad usage or input,
3 an internal engine failure.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from icorules.analysis.facts import FACT_KINDS, fact_catalogue_markdown, field_types
from icorules.analysis.graph import build_graph
from icorules.api import resolve_rulesets
from icorules.batch import Settings, check_many, expand
from icorules.errors import InputError, Problem, did_you_mean
from icorules.inputs.market import Market, load_market, market_schema
from icorules.inputs.ods import import_ods
from icorules.inputs.proposal import load_proposal, proposal_schema
from icorules.limits import DEFAULT_LIMITS, Limits, parse_limits
from icorules.limits import NAMES as LIMIT_NAMES
from icorules.output.atomic import write_atomic
from icorules.output.graph_export import export_graph
from icorules.output.tabular import (
    SortOrder,
    render_csv,
    render_markdown,
    sorted_outcomes,
    summary_table,
)
from icorules.output.text import render_json, render_text
from icorules.results.outcome import Outcome
from icorules.results.report import FailOn, report_schema
from icorules.results.waivers import Waiver, load_waivers
from icorules.rules.docs import rule_details, rule_text, rules_markdown
from icorules.rules.explain import check_rule_ids
from icorules.rules.lint import CODES as LINT_CODES
from icorules.rules.lint import lint_paths
from icorules.rules.loader import RuleBundle, load_rulesets

if TYPE_CHECKING:
    from icorules.output.html import IndexRow


def _lazy(module: str, name: str) -> Callable[..., Any]:
    """`module.name`, imported on its first call: `icorules check` starts ~0.1 s sooner
    without SARIF's pydantic models, jinja2 and the rule tooling, which it never uses."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    return call


render_junit = _lazy("icorules.output.ci", "render_junit")
render_sarif = _lazy("icorules.output.ci", "render_sarif")
index_row = _lazy("icorules.output.html", "index_row")
render_index = _lazy("icorules.output.html", "render_index")
diff_bundles = _lazy("icorules.rules.diff", "diff_bundles")
diff_json = _lazy("icorules.rules.diff", "render_json")
diff_markdown = _lazy("icorules.rules.diff", "render_markdown")
diff_text = _lazy("icorules.rules.diff", "render_text")
default_test_paths = _lazy("icorules.rules.testing", "default_test_paths")
render_test_run = _lazy("icorules.rules.testing", "render_test_run")
run_suite = _lazy("icorules.rules.testing", "run_suite")

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


def _limits(values: Sequence[str]) -> Limits:
    try:
        return parse_limits(values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--limit") from None


def _market(path: str | None, limits: Limits = DEFAULT_LIMITS) -> Market | None:
    if path is None:
        return None
    try:
        return load_market(path, limits=limits)
    except InputError as exc:
        _fail(exc.problems)
        raise  # unreachable: _fail exits


def _bundle(
    rulesets: Sequence[str], params: Sequence[str], limits: Limits = DEFAULT_LIMITS
) -> RuleBundle:
    try:
        return resolve_rulesets(list(rulesets) or None, _parse_params(params), limits)
    except InputError as exc:
        _fail(exc.problems)
        raise  # unreachable: _fail exits


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def write_output(text: str, output: str | None, *, color: bool = False) -> None:
    """Print, or replace `output` atomically so a failed write never leaves half a file."""
    if output is None or output == "-":
        click.echo(text, nl=False, color=color)
        return
    target = Path(output)
    if target.is_dir():
        _fail([f"{output}: is a directory; give a file name for --output"])
    try:
        write_atomic(target, text)
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
limit_option = click.option(
    "--limit",
    "limit_values",
    multiple=True,
    metavar="NAME=VALUE",
    help="Raise or lower a cap on what an input may cost (repeatable), e.g. --limit "
    f"input_bytes=50M. Names: {', '.join(LIMIT_NAMES)}; defaults in docs/security.md.",
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
    type=click.Choice(["text", "json", "markdown", "csv", "sarif", "junit", "html"]),
    default="text",
    show_default=True,
    help="Report format. html with several proposals needs --output DIRECTORY.",
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
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Processes for a batch (default: one per CPU core).",
)
@click.option(
    "--sort",
    "order",
    type=click.Choice(["input", "worst", "name"]),
    default="input",
    show_default=True,
    help="Order of proposals in a batch's reports and summary table.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar for a batch (default: on a terminal, not in CI).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(),
    default=None,
    help="Write to this file (replaced atomically) instead of standard output; for html with "
    "several proposals, a directory to fill with index.html and one page per proposal.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Under each finding, show its condition part by part with the values it read.",
)
@click.option(
    "--explain-rule",
    "explain_rules",
    multiple=True,
    metavar="ID[:SUBJECT]",
    help="Explain rule ID (repeatable): its findings, and why it did not fire on each other "
    "subject; ID:SUBJECT for one subject only (e.g. GOV-002:GP3).",
)
@limit_option
def check(
    proposals: tuple[str, ...],
    rulesets: tuple[str, ...],
    params: tuple[str, ...],
    fmt: str,
    fail_on: FailOn,
    color: bool | None,
    timing: bool,
    market_path: str | None,
    waivers_path: str | None,
    jobs: int | None,
    order: SortOrder,
    progress: bool | None,
    output: str | None,
    explain: bool,
    explain_rules: tuple[str, ...],
    limit_values: tuple[str, ...],
) -> None:
    """Check PROPOSALS: JSON or YAML files, directories (searched for them) or glob patterns.

    Several proposals are checked in parallel; one that cannot be read is reported and the
    rest are still checked. Exit 0 clean, 1 findings at --fail-on, 2 unreadable input.
    """
    limits = _limits(limit_values)
    bundle = _bundle(rulesets, params, limits)
    try:
        check_rule_ids(bundle, explain_rules)
    except InputError as exc:
        _fail(exc.problems)
    market = _market(market_path, limits)
    waivers: list[Waiver] = []
    if waivers_path is not None:
        try:
            waivers = load_waivers(waivers_path, bundle, limits=limits)
        except InputError as exc:
            _fail(exc.problems)
    paths = expand(proposals)
    pages = fmt == "html"
    if pages and len(paths) > 1 and (output is None or output == "-"):
        _fail(["--format html with several proposals needs --output DIRECTORY"])
    settings = Settings(
        rulesets=bundle,
        market=market,
        waivers=tuple(waivers),
        timing=timing,
        pages=pages,
        fail_on=fail_on,
        index_link="index.html" if pages and len(paths) > 1 else None,
        explain=explain,
        explain_rules=explain_rules,
        limits=limits,
    )
    outcomes = sorted_outcomes(_run_batch(paths, settings, jobs, progress), order)
    reports = [o.report for o in outcomes if o.report is not None]
    rules_by_id = {rule.id: rule for rule in bundle.rules}
    if pages:
        _write_pages(outcomes, output, fail_on)
    elif fmt == "csv":
        write_output(render_csv(outcomes, rules_by_id), output)
    elif fmt == "markdown":
        write_output(render_markdown(outcomes, fail_on, rules_by_id), output)
    elif reports:
        if fmt == "json":
            text = render_json(reports)
        elif fmt == "sarif":
            text = render_sarif(reports, bundle)
        elif fmt == "junit":
            text = render_junit(reports, fail_on)
        else:
            if color is None:  # colour only on a terminal, and never with NO_COLOR set
                color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
            text = render_text(reports, color=color)
            if len(outcomes) > 1:
                text += "\n" + summary_table(outcomes, fail_on, color=color)
        write_output(text, output, color=bool(color))
    for i, waiver in enumerate(waivers):
        if waiver.expired():
            click.echo(
                f"icorules: warning: {waivers_path}: waivers[{i}] ({waiver.describe()}) expired "
                f"on {waiver.expires} and no longer applies",
                err=True,
            )
        elif waiver.proposal is None and not any(
            waiver.matches(r.proposal.id, w.finding) for r in reports for w in r.waived
        ):
            click.echo(
                f"icorules: warning: {waivers_path}: waivers[{i}] ({waiver.rule}"
                f"{' on ' + waiver.subject if waiver.subject else ''}) matched no finding",
                err=True,
            )
    for outcome in outcomes:
        for problem in outcome.problems:
            click.echo(f"icorules: {problem}", err=True)
        if outcome.internal_error is not None:
            click.echo(
                f"icorules: internal error while checking {outcome.path}: {outcome.internal_error}",
                err=True,
            )
    if any(o.internal_error is not None for o in outcomes):
        sys.exit(EXIT_INTERNAL)
    if any(o.problems for o in outcomes):
        sys.exit(EXIT_INPUT)
    if any(r.fails(fail_on) for r in reports):
        sys.exit(EXIT_FINDINGS)


def _run_batch(
    paths: Sequence[str], settings: Settings, jobs: int | None, progress: bool | None
) -> list[Outcome]:
    if progress is None:
        progress = len(paths) > 1 and sys.stderr.isatty() and not os.environ.get("CI")
    if not progress:
        return check_many(paths, settings, jobs=jobs)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("Checking", total=len(paths))
        return check_many(paths, settings, jobs=jobs, progress=lambda: bar.advance(task))


def _write_pages(outcomes: Sequence[Outcome], output: str | None, fail_on: FailOn) -> None:
    """One page to a file or standard output; a batch to a directory with an index."""
    if len(outcomes) == 1:
        if outcomes[0].page is not None:
            write_output(outcomes[0].page, output)
        return
    assert output is not None
    directory = Path(output)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail([f"{output}: cannot create the directory ({exc.strerror})"])
    rows: list[IndexRow] = []
    taken: set[str] = {"index"}
    for o in outcomes:
        link = None
        if o.page is not None:
            link = _page_name(o.path, taken)
            write_output(o.page, str(directory / link))
        rows.append(index_row(o, link, fail_on))
    write_output(render_index(rows), str(directory / "index.html"))


def _page_name(path: str, taken: set[str]) -> str:
    """A file name for a proposal's page: its file name's stem, made unique in the batch."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(path).stem).strip("-.") or "proposal"
    name, n = stem, 1
    while name.lower() in taken:
        n += 1
        name = f"{stem}-{n}"
    taken.add(name.lower())
    return f"{name}.html"


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
@limit_option
def rules_check(
    paths: tuple[str, ...], params: tuple[str, ...], limit_values: tuple[str, ...]
) -> None:
    """Validate ruleset files without running them (for editors and CI)."""
    bundle = _bundle(paths, params, _limits(limit_values))
    click.echo(
        f"{_count(len(bundle.rules), 'rule')} in {_count(len(bundle.rulesets), 'ruleset')}: OK"
    )


@rules.command("show")
@click.argument("rule_ids", metavar="ID...", nargs=-1, required=True)
@ruleset_option
@param_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def rules_show(
    rule_ids: tuple[str, ...], rulesets: tuple[str, ...], params: tuple[str, ...], fmt: str
) -> None:
    """Show rules in full: text, citation, condition in plain words, parameters, fields read."""
    bundle = _bundle(rulesets, params)
    known = {r.id: r for r in bundle.rules}
    for rule_id in rule_ids:
        if rule_id not in known:
            _fail([f"no loaded rule has the id '{rule_id}'{did_you_mean(rule_id, known)}"])
    if fmt == "json":
        details = [rule_details(bundle, known[i]) for i in rule_ids]
        click.echo(json.dumps(details if len(details) > 1 else details[0], indent=2))
        return
    click.echo("\n".join(rule_text(bundle, known[i]) for i in rule_ids), nl=False)


@rules.command("docs")
@ruleset_option
@param_option
@output_option
def rules_docs(rulesets: tuple[str, ...], params: tuple[str, ...], output: str | None) -> None:
    """Write the rule reference for bidders (Markdown): every rule, when it fires, its source
    and fix hint."""
    write_output(rules_markdown(_bundle(rulesets, params)) + "\n", output)


def _alias(command: click.Command, name: str) -> click.Command:
    """The same command under an older name, kept working but not listed in --help."""
    alias = copy.copy(command)
    alias.name = name
    alias.hidden = True
    return alias


rules.add_command(_alias(rules_docs, "doc"))


@cli.command("test")
@click.argument("paths", nargs=-1, type=click.Path())
@ruleset_option
@click.option(
    "--min-coverage",
    type=click.FloatRange(0, 100),
    default=None,
    metavar="PCT",
    help="Fail (exit 1) if fewer than PCT% of the rules fire in some case, or pass in some case.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def test_command(
    paths: tuple[str, ...], rulesets: tuple[str, ...], min_coverage: float | None, fmt: str
) -> None:
    """Run ruleset tests (*.test.yaml) and report rule coverage.

    PATHS are test files or directories; without them, the tests beside the --ruleset
    directories, or the bundled ruleset's own tests. Exit 0 all passed, 1 a case failed or
    coverage is below --min-coverage, 2 a test file or what it names is unreadable.
    """
    try:
        run = run_suite(paths or default_test_paths(rulesets), list(rulesets) or None)
    except InputError as exc:
        _fail(exc.problems)
    if fmt == "json":
        click.echo(json.dumps(run.as_json(min_coverage), indent=2))
    else:
        click.echo(render_test_run(run, min_coverage), nl=False)
    if run.failed or (min_coverage is not None and not run.coverage.meets(min_coverage)):
        sys.exit(EXIT_FINDINGS)


rules.add_command(_alias(test_command, "test"))


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--ignore",
    multiple=True,
    metavar="CODE",
    help="Do not report this lint code (repeatable), e.g. --ignore RL005.",
)
def lint(paths: tuple[str, ...], fmt: str, ignore: tuple[str, ...]) -> None:
    """Find mistakes in ruleset files: bad or duplicate ids, missing citations or fix hints,
    unused parameters, conditions that can never (or always) be true, and more.

    PATHS are ruleset files or directories (default: the bundled rulesets). Prints
    file:line:col: CODE message. Exit 0 clean, 1 problems found, 2 a file cannot be read.
    """
    unknown = [c for c in ignore if c not in LINT_CODES]
    if unknown:
        _fail([f"--ignore: no lint code '{unknown[0]}'{did_you_mean(unknown[0], LINT_CODES)}"])
    try:
        found = lint_paths(paths or ["@bundled"], ignore)
    except InputError as exc:
        _fail(exc.problems)
    if fmt == "json":
        click.echo(json.dumps([f.as_json() for f in found], indent=2))
    else:
        for finding in found:
            click.echo(str(finding))
        click.echo(f"{_count(len(found), 'problem')} found" if found else "No problems found.")
    if found:
        sys.exit(EXIT_FINDINGS)


@cli.command("diff")
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@output_option
def diff_command(old: str, new: str, fmt: str, output: str | None) -> None:
    """What changed between two drafts of a ruleset: rules added, removed and changed.

    OLD and NEW are ruleset files or directories ('@bundled' for the bundled set). Exit 0
    whatever changed; 2 if either cannot be loaded.
    """
    try:
        before = load_rulesets([old])
    except InputError as exc:
        _fail(exc.problems)
    try:
        after = load_rulesets([new])
    except InputError as exc:
        _fail(exc.problems)
    result = diff_bundles(before, after, old, new)
    if fmt == "json":
        text = json.dumps(diff_json(result), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "markdown":
        text = diff_markdown(result) + "\n"
    else:
        text = diff_text(result)
    write_output(text, output)


@cli.command()
@click.argument("document", type=click.Choice(["proposal", "market", "report"]), default="proposal")
@output_option
def schema(document: str, output: str | None) -> None:
    """Print the JSON Schema of a proposal (default), a market file, or a JSON report.

    `check --format json` prints one report object, or a list of them for several proposals.
    """
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
    limits = _limits(limit_values)
    market = _market(market_path, limits)
    try:
        model = load_proposal(proposal, limits=limits)
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
