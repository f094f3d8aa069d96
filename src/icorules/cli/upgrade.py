"""`icorules upgrade`: bring format-1 proposals and market files to format 2, in place.

    icorules upgrade bids/*.json          # rewrite each file that is in format 1
    icorules upgrade bid.yaml --check     # say which files need it (exit 1 if any)
    icorules upgrade bid.yaml --diff      # show the change, write nothing
    icorules upgrade old.json -o new.json # write the upgrade to a new file

Each file is rewritten in one step (icorules.output.atomic), keeping its comments, key order
and layout; see icorules.inputs.upgrade for what changes.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import click

from icorules.cli.common import EXIT_FINDINGS, cli, limit_option, limits_from, say
from icorules.errors import InputError
from icorules.inputs.documents import load_document
from icorules.inputs.upgrade import Upgrade, upgrade
from icorules.output.atomic import write_atomic


@cli.command("upgrade")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--check", is_flag=True, help="Say which files need upgrading; change nothing.")
@click.option("--diff", "show_diff", is_flag=True, help="Show the changes; change nothing.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the upgraded file here instead of over the original (one file only; a new "
    "file, never another existing one).",
)
@limit_option
def upgrade_command(
    files: tuple[str, ...],
    check: bool,
    show_diff: bool,
    output: str | None,
    limit_values: tuple[str, ...],
) -> None:
    """Rewrite format-1 proposals and market files in format 2.

    The upgrade is lossless: `format` becomes format 2, and a PCT area's `supports_bid: true`
    becomes `commissioner_support: supports` (`supports_bid: false` goes: the commissioner's
    support is then pending, as before). Comments, key order and layout are kept.
    """
    if output is not None and len(files) != 1:
        raise InputError.single("--output", "give one file to upgrade with --output")
    if output is not None:
        _refuse_to_overwrite(files[0], output)
    chosen = limits_from(limit_values)
    results = [upgrade(load_document(file, limits=chosen)) for file in files]
    needed = [r for r in results if r.needed]
    if check or show_diff:
        for result in results:
            if show_diff:
                click.echo(_diff(result), nl=False)
            elif result.needed:
                click.echo(f"{result.name}: {result.kind} in {result.before}: needs upgrading")
        if check and needed:
            raise click.exceptions.Exit(EXIT_FINDINGS)
        return
    for result in results:
        target = output if output is not None else result.name
        if result.needed or output is not None:
            write_atomic(target, result.text)
        _report(result, target)


def _refuse_to_overwrite(source: str, output: str) -> None:
    """An output may replace only its own input: never another existing file."""
    target = Path(output)
    if not target.exists() and not target.is_symlink():
        return
    if target.exists() and os.path.samefile(source, target):
        return
    raise InputError.single(
        output, "already exists: give a new file, or leave out --output to upgrade in place"
    )


def _report(result: Upgrade, target: str) -> None:
    if not result.needed:
        say(f"{result.name}: already in format 2")
    elif target == result.name:
        say(f"{result.name}: upgraded from {result.before} to format 2")
    else:
        say(f"{result.name}: upgraded from {result.before} to format 2, written to {target}")


def _diff(result: Upgrade) -> str:
    """A unified diff of the upgrade ('' for a file already in format 2)."""
    if not result.needed:
        return ""
    return "".join(
        difflib.unified_diff(
            result.original.splitlines(keepends=True),
            result.text.splitlines(keepends=True),
            fromfile=result.name,
            tofile=f"{result.name} (format 2)",
        )
    )
