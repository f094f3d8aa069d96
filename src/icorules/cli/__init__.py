"""Command line: `icorules check`, `rules`, `test`, `lint`, `diff`, `schema`, `facts`, `graph`,
`market import`.

Exit codes follow linters: 0 clean, 1 findings at or above --fail-on, 2 bad usage or input,
3 an internal failure. Each command lives in a module by who uses it (check.py for assessors,
rules.py for policy teams, tools.py for other programs) over the shared parts in common.py.
"""

from __future__ import annotations

import sys

from icorules.cli import check, rules, serve, tools, upgrade
from icorules.cli.common import EXIT_INTERNAL, cli, say
from icorules.errors import printable

__all__ = ["check", "cli", "main", "rules", "serve", "tools", "upgrade"]


def main() -> None:
    try:
        cli(prog_name="icorules")
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug, not bad input: say so in one line, no traceback
        say(
            f"internal error ({type(exc).__name__}: {printable(str(exc))}); please report it "
            "with the input that caused it"
        )
        sys.exit(EXIT_INTERNAL)
