"""What every command shares: the command group, shared options, writing output, exit codes.

Bad input is raised as `InputError` by the library and handled once, here, in the group: its
problems are printed as `icorules: file:line:col: message` and the exit code is 2. A command is
a few lines that parse options and call the library.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import click

from icorules.engines import EngineError
from icorules.errors import InputError, Problem
from icorules.limits import NAMES as LIMIT_NAMES
from icorules.limits import Limits, parse_limits
from icorules.output.atomic import same_file, write_atomic
from icorules.output.escape import printable, unicode_safe

EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 1, 2, 3


class Commands(click.Group):
    """The icorules command group: bad input from any command ends the same way.

    Each command's module is imported only when that command is asked for (`lazy`: command
    name -> module, filled by icorules.cli), so `icorules check` never imports what `serve`,
    `lint` or `market import` need."""

    lazy: ClassVar[dict[str, str]] = {}
    # True when the process is the command line's own (main() sets it): a command's modules
    # are then imported as `long_lived` objects. A program that calls `cli` keeps its collector.
    own_process: ClassVar[bool] = False

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = self.lazy.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            with long_lived():
                importlib.import_module(module)  # its decorators add the command to this group
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            fail(exc.problems)
        except EngineError as exc:
            click.echo(f"icorules: internal error: {printable(str(exc))}", err=True)
            ctx.exit(EXIT_INTERNAL)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="icorules")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Settings file (default: the nearest icorules.toml, or pyproject.toml with "
    "[tool.icorules], from this folder up).",
)
@click.option("--isolated", is_flag=True, help="Ignore every settings file.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, isolated: bool) -> None:
    """Check integrated care pilot proposals against the 2008 prospectus rules.

    Settings a team shares (rulesets, market, waivers, fail-on, format, params, limits) can
    live in icorules.toml or [tool.icorules] in pyproject.toml; `icorules config` shows them.
    Options on the command line override them.
    """
    from icorules.config import command_defaults, find_config, load_config

    found = None if isolated else Path(config_path) if config_path else find_config()
    config = load_config(found) if found is not None else None
    ctx.obj = config
    if config is not None:
        ctx.default_map = command_defaults(config)


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """In the command line's own process (`Commands.own_process`), make what lives as long as
    the process (modules, the rules, the market) with the cyclic garbage collector off, then
    freeze it: collections while it is made free nothing and walk everything made so far, and
    once frozen no later collection walks it again (a national market is ~40,000 objects)."""
    if not Commands.own_process:
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def fail(problems: Sequence[Problem | str]) -> None:
    """Print each problem on its own line and exit with 2."""
    for problem in problems:
        say(str(problem) if isinstance(problem, Problem) else printable(problem))
    sys.exit(EXIT_INPUT)


def say(line: str) -> None:
    """One line to standard error, as icorules says things (already made printable)."""
    click.echo(f"icorules: {line}", err=True)


def warn(text: str) -> None:
    say(f"warning: {printable(text)}")


def parse_params(values: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{item}' should look like NAME=VALUE", param_hint="--param")
        params[name.strip()] = value.strip()
    return params


def limits_from(values: Sequence[str]) -> Limits:
    try:
        return parse_limits(values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--limit") from None


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def color_wanted(color: bool | None, output: str | None) -> bool:
    """Colour when asked, else only on a terminal and never with NO_COLOR set."""
    if color is not None:
        return color
    return (
        (output is None or output == "-") and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    )


def write_output(
    text: str | Iterable[str],
    output: str | None,
    *,
    color: bool = False,
    inputs: Sequence[str] = (),
) -> None:
    """Print, or replace `output` atomically so a failed write never leaves half a file. An
    output that is one of the inputs (by name, link or hard link) is refused: a report never
    replaces what it reports on. A document in pieces is written as it is made, a megabyte at
    a time, never joined whole."""
    pieces = _megabytes(map(unicode_safe, [text] if isinstance(text, str) else text))
    if output is None or output == "-":
        for piece in pieces:
            click.echo(piece, nl=False, color=color)
        return
    target = Path(output)
    if target.is_dir():
        fail([f"{output}: is a directory; give a file name for --output"])
    for source in inputs:
        if same_file(target, source):
            fail([f"{output}: is one of the inputs ({source}); give another file for --output"])
    try:
        write_atomic(target, pieces)
    except OSError as exc:
        fail([f"{output}: cannot write ({exc.strerror})"])


def _megabytes(pieces: Iterable[str], size: int = 1 << 20) -> Iterator[str]:
    """Pieces joined into runs of about `size` characters: one write each, not one per piece."""
    run: list[str] = []
    held = 0
    for piece in pieces:
        run.append(piece)
        held += len(piece)
        if held >= size:
            yield "".join(run)
            run, held = [], 0
    if run:
        yield "".join(run)


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
