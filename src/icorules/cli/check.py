"""`icorules check`: proposals in, reports out, in any format."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from icorules.api import left_out, load_market_file, resolve_rulesets
from icorules.batch import Settings, check_many, expand, waiver_warnings
from icorules.cli.common import (
    EXIT_FINDINGS,
    EXIT_INPUT,
    EXIT_INTERNAL,
    cli,
    color_wanted,
    fail,
    limit_option,
    limits_from,
    long_lived,
    market_option,
    param_option,
    parse_params,
    ruleset_option,
    say,
    warn,
    write_output,
)
from icorules.errors import printable
from icorules.inputs.documents import Document, load_document, read_stream
from icorules.limits import Limits
from icorules.output import FORMATS, Renderer, RenderOptions, renderer
from icorules.output.tabular import SortOrder, sorted_outcomes
from icorules.results.outcome import Outcome
from icorules.results.report import FailOn
from icorules.rules.loader import RuleBundle

if TYPE_CHECKING:
    from icorules.inputs.market import Market
    from icorules.results.waivers import Waiver


@cli.command()
@click.argument("proposals", nargs=-1, required=True, type=click.Path())
@ruleset_option
@param_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
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
@click.option("--quiet", "-q", is_flag=True, help="Text format: the summary line only.")
@click.option(
    "--select",
    multiple=True,
    metavar="PREFIX",
    help="Run only the rules whose ids start with PREFIX (repeatable, or comma-separated), "
    "e.g. --select GOV,MKT-00.",
)
@click.option(
    "--ignore",
    multiple=True,
    metavar="PREFIX",
    help="Leave out the rules whose ids start with PREFIX (repeatable, or comma-separated); "
    "they are listed as ignored, never as passed.",
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
@click.option(
    "--fix",
    is_flag=True,
    help="Make the fixes the rules offer (safe ones) in the proposal files, keeping their "
    "layout and comments; say what changed, then check again.",
)
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="With --fix or --diff, also the fixes that leave text for the bid's authors to write.",
)
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Show the changes --fix would make, as a unified diff, and change nothing "
    "(exit 1 if there are any).",
)
@click.option(
    "--stdin-filename",
    default=None,
    metavar="NAME",
    help="The name to give a proposal read from standard input ('-') in messages and reports; "
    "its extension (.json, .yaml) says how to read it.",
)
@limit_option
def check(
    proposals: tuple[str, ...],
    rulesets: tuple[str, ...],
    params: tuple[str, ...],
    fmt: str,
    fail_on: FailOn,
    color: bool | None,
    quiet: bool,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    timing: bool,
    market_path: str | None,
    waivers_path: str | None,
    jobs: int | None,
    order: SortOrder,
    progress: bool | None,
    output: str | None,
    explain: bool,
    explain_rules: tuple[str, ...],
    fix: bool,
    unsafe_fixes: bool,
    show_diff: bool,
    stdin_filename: str | None,
    limit_values: tuple[str, ...],
) -> None:
    """Check PROPOSALS: JSON or YAML files, directories (searched for them) or glob patterns;
    '-' reads one proposal from standard input.

    Several proposals are checked in parallel; one that cannot be read is reported and the
    rest are still checked. Exit 0 clean, 1 findings at --fail-on, 2 unreadable input.
    """
    limits = limits_from(limit_values)
    with long_lived():
        bundle = resolve_rulesets(list(rulesets) or None, parse_params(params), limits)
    _known_rules(bundle, explain_rules)
    select, ignore = _prefixes(select), _prefixes(ignore)
    left_out(bundle, select, ignore)  # a prefix that names no rule stops the run here
    with long_lived():
        market = load_market_file(market_path, limits) if market_path else None
    waivers = _waivers(waivers_path, bundle, limits) if waivers_path else []
    paths = expand(proposals)
    sources = [_stdin(stdin_filename, limits) if p == "-" else p for p in paths]
    chosen = renderer(fmt)
    many = len(paths) > 1
    if chosen.pages and many and output in (None, "-"):
        fail([f"--format {fmt} with several proposals needs --output DIRECTORY"])
    options = RenderOptions(
        fail_on=fail_on,
        color=fmt == "text" and color_wanted(color, output),
        quiet=quiet,
        index_link="index.html" if chosen.pages and many else None,
    )
    if fix or show_diff:
        changed = _fix(paths, bundle, market, waivers, limits, unsafe_fixes, show_diff)
        if show_diff:
            sys.exit(EXIT_FINDINGS if changed else 0)
    settings = Settings(
        rulesets=bundle,
        market=market,
        waivers=tuple(waivers),
        timing=timing,
        explain=explain,
        explain_rules=explain_rules,
        limits=limits,
        select=select,
        ignore=ignore,
        render=fmt,
        options=options,
        keep_reports=False,
    )
    outcomes = sorted_outcomes(_run(sources, settings, jobs, progress), order)
    inputs = [*paths, *(p for p in (market_path, waivers_path) if p), *rulesets]
    _write(chosen, outcomes, bundle, options, output, inputs)
    if waivers_path:
        for warning in waiver_warnings(settings, outcomes, waivers_path):
            warn(warning)
    for outcome in outcomes:
        for problem in outcome.problems:
            say(str(problem))
        if outcome.internal_error is not None:
            say(
                f"internal error while checking {printable(outcome.path)}: "
                f"{printable(outcome.internal_error)}"
            )
    if any(o.internal_error is not None for o in outcomes):
        sys.exit(EXIT_INTERNAL)
    if any(o.problems for o in outcomes):
        sys.exit(EXIT_INPUT)
    if any(o.verdict(fail_on) == "fail" for o in outcomes):
        sys.exit(EXIT_FINDINGS)


def _write(
    chosen: Renderer,
    outcomes: Sequence[Outcome],
    bundle: RuleBundle,
    options: RenderOptions,
    output: str | None,
    inputs: Sequence[str],
) -> None:
    """The run's document to standard output or a file; for pages of a batch, a directory of
    pages with the document as its index."""
    pieces = iter(chosen.document(outcomes, bundle, options))
    first = next((piece for piece in pieces if piece), None)
    if first is None:  # nothing to write (every proposal unreadable): no file is made
        return
    if not (chosen.pages and len(outcomes) > 1):
        write_output(itertools.chain([first], pieces), output, color=options.color, inputs=inputs)
        return
    from icorules.output.html import page_names

    assert output is not None
    directory = Path(output)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail([f"{output}: cannot create the directory ({exc.strerror})"])
    for outcome, name in zip(outcomes, page_names(outcomes), strict=True):
        if name is not None and outcome.part is not None:
            write_output(outcome.part, str(directory / name), inputs=inputs)
    write_output(itertools.chain([first], pieces), str(directory / "index.html"), inputs=inputs)


def _fix(
    paths: Sequence[str],
    bundle: RuleBundle,
    market: Market | None,
    waivers: Sequence[Waiver],
    limits: Limits,
    unsafe: bool,
    show_diff: bool,
) -> bool:
    """Make (or, with `show_diff`, print) the fixes the rules offer for each proposal file;
    True if any file would change. A file that cannot be read is left to the check itself."""
    from icorules.api import run_check
    from icorules.errors import InputError
    from icorules.output.atomic import write_atomic
    from icorules.results.fixes import fix_document, fixes_for

    changed = False
    for path in paths:
        if path == "-":
            warn("standard input cannot be fixed in place; give the file instead")
            continue
        try:
            result = run_check(
                path, rulesets=bundle, market=market, waivers=list(waivers), limits=limits
            )
        except InputError:
            continue
        if result.document is None:
            continue
        fixed = fix_document(result.document, fixes_for(result, unsafe=unsafe))
        for left, why in fixed.left:
            say(f"{printable(path)}: not fixed: {printable(left.describe())} ({printable(why)})")
        if not fixed.made:
            continue
        changed = True
        if show_diff:
            click.echo(_diff(path, result.document.text, fixed.text), nl=False)
            continue
        try:
            write_atomic(Path(path), fixed.text)
        except OSError as exc:
            fail([f"{path}: cannot write ({exc.strerror})"])
        count = len(fixed.made)
        say(f"fixed {count} finding{'' if count == 1 else 's'} in {printable(path)}:")
        for made in fixed.made:
            click.echo(f"  {printable(made.describe())}", err=True)
    return changed


def _diff(path: str, before: str, after: str) -> str:
    import difflib

    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), path, path
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _known_rules(bundle: RuleBundle, explain_rules: Sequence[str]) -> None:
    """--explain-rule names loaded rules (the explainer is imported only when asked for)."""
    if explain_rules:
        from icorules.rules.explain import check_rule_ids

        check_rule_ids(bundle, explain_rules)


def _waivers(path: str, bundle: RuleBundle, limits: Limits) -> list[Waiver]:
    from icorules.results.waivers import load_waivers

    return load_waivers(path, bundle, limits=limits)


def _prefixes(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p.strip() for value in values for p in value.split(",") if p.strip())


def _stdin(name: str | None, limits: Limits) -> Document:
    """The proposal on standard input, read within the input_bytes limit."""
    shown = name or "<stdin>"
    text = read_stream(sys.stdin.buffer, shown, limits)
    return load_document(shown, text=text, limits=limits)


def _run(
    paths: Sequence[str | Document],
    settings: Settings,
    jobs: int | None,
    progress: bool | None,
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
