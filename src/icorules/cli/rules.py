"""Commands for policy teams editing rulesets: `rules list|check|show|docs`, `test`, `lint`,
`diff`."""

from __future__ import annotations

import copy
import json
import sys

import click

from icorules.api import resolve_rulesets
from icorules.cli.common import (
    EXIT_FINDINGS,
    cli,
    count,
    fail,
    limit_option,
    limits_from,
    output_option,
    param_option,
    parse_params,
    ruleset_option,
    write_output,
)
from icorules.errors import did_you_mean
from icorules.limits import DEFAULT_LIMITS, Limits
from icorules.rules.loader import RuleBundle, load_rulesets

_text_or_json = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)


def _bundle(
    rulesets: tuple[str, ...], params: tuple[str, ...], limits: Limits = DEFAULT_LIMITS
) -> RuleBundle:
    return resolve_rulesets(list(rulesets) or None, parse_params(params), limits)


@cli.group()
def rules() -> None:
    """Work with rulesets."""


@rules.command("list")
@ruleset_option
@param_option
@_text_or_json
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
    bundle = _bundle(paths, params, limits_from(limit_values))
    click.echo(
        f"{count(len(bundle.rules), 'rule')} in {count(len(bundle.rulesets), 'ruleset')}: OK"
    )


@rules.command("show")
@click.argument("rule_ids", metavar="ID...", nargs=-1, required=True)
@ruleset_option
@param_option
@_text_or_json
def rules_show(
    rule_ids: tuple[str, ...], rulesets: tuple[str, ...], params: tuple[str, ...], fmt: str
) -> None:
    """Show rules in full: text, citation, condition in plain words, parameters, fields read."""
    from icorules.rules.docs import rule_details, rule_text

    bundle = _bundle(rulesets, params)
    known = {r.id: r for r in bundle.rules}
    for rule_id in rule_ids:
        if rule_id not in known:
            fail([f"no loaded rule has the id '{rule_id}'{did_you_mean(rule_id, known)}"])
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
    from icorules.rules.docs import rules_markdown

    write_output(rules_markdown(_bundle(rulesets, params)) + "\n", output, inputs=rulesets)


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
@_text_or_json
def test_command(
    paths: tuple[str, ...], rulesets: tuple[str, ...], min_coverage: float | None, fmt: str
) -> None:
    """Run ruleset tests (*.test.yaml) and report rule coverage.

    PATHS are test files or directories; without them, the tests beside the --ruleset
    directories, or the bundled ruleset's own tests. Exit 0 all passed, 1 a case failed or
    coverage is below --min-coverage, 2 a test file or what it names is unreadable.
    """
    from icorules.rules.testing import default_test_paths, render_test_run, run_suite

    run = run_suite(paths or default_test_paths(rulesets), list(rulesets) or None)
    if fmt == "json":
        click.echo(json.dumps(run.as_json(min_coverage), indent=2))
    else:
        click.echo(render_test_run(run, min_coverage), nl=False)
    if run.failed or (min_coverage is not None and not run.coverage.meets(min_coverage)):
        sys.exit(EXIT_FINDINGS)


rules.add_command(_alias(test_command, "test"))


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@_text_or_json
@click.option(
    "--ignore",
    multiple=True,
    metavar="CODE",
    help="Do not report this lint code (repeatable), e.g. --ignore RL005.",
)
@click.option(
    "--base",
    "base",
    multiple=True,
    type=click.Path(),
    help="An earlier copy of the rulesets (file or directory, repeatable): report rules that "
    "changed since then while their ruleset kept its version (RL013).",
)
def lint(paths: tuple[str, ...], fmt: str, ignore: tuple[str, ...], base: tuple[str, ...]) -> None:
    """Find mistakes in ruleset files: bad or duplicate ids, missing citations or fix hints,
    unused parameters, conditions that can never (or always) be true, and more.

    PATHS are ruleset files or directories (default: the bundled rulesets). Prints
    file:line:col: CODE message. Exit 0 clean, 1 problems found, 2 a file cannot be read.
    """
    from icorules.rules.lint import CODES, lint_paths

    unknown = [c for c in ignore if c not in CODES]
    if unknown:
        fail([f"--ignore: no lint code '{unknown[0]}'{did_you_mean(unknown[0], CODES)}"])
    found = lint_paths(paths or ["@bundled"], ignore, base or None)
    if fmt == "json":
        click.echo(json.dumps([f.as_json() for f in found], indent=2))
    else:
        for finding in found:
            click.echo(str(finding))
        click.echo(f"{count(len(found), 'problem')} found" if found else "No problems found.")
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
    from icorules.rules import diff

    result = diff.diff_bundles(load_rulesets([old]), load_rulesets([new]), old, new)
    if fmt == "json":
        text = json.dumps(diff.render_json(result), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "markdown":
        text = diff.render_markdown(result) + "\n"
    else:
        text = diff.render_text(result)
    write_output(text, output, inputs=[old, new])
