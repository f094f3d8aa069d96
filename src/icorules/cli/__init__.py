"""Command line: `icorules check`, `rules`, `test`, `lint`, `diff`, `schema`, `facts`, `graph`,
`market import|compile`, `config`, `serve`.

Exit codes follow linters: 0 clean, 1 findings at or above --fail-on, 2 bad usage or input,
3 an internal failure. Each command lives in a module by who uses it (check.py for assessors,
rules.py for policy teams, market.py for market files, tools.py for other programs, serve.py
for the service) over the shared parts in common.py. A command's module is imported only when
the command runs (`Commands.lazy`): a cold `icorules check` pays for nothing else.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
import types
from typing import Any

from icorules.cli.common import EXIT_INTERNAL, Commands, cli, say
from icorules.errors import printable

__all__ = ["cli", "main"]

_MODULES = {
    "check": "icorules.cli.check",
    "rules": "icorules.cli.rules",
    "test": "icorules.cli.rules",
    "lint": "icorules.cli.rules",
    "diff": "icorules.cli.rules",
    "schema": "icorules.cli.tools",
    "facts": "icorules.cli.tools",
    "graph": "icorules.cli.tools",
    "config": "icorules.cli.tools",
    "market": "icorules.cli.market",
    "serve": "icorules.cli.serve",
    "upgrade": "icorules.cli.upgrade",
}
Commands.lazy = _MODULES


def main() -> None:
    # pydantic looks for plugins (importlib.metadata, every installed package's entry points:
    # 20 ms of each start) the first time it builds a model; the command line has no use for
    # them. Set PYDANTIC_DISABLE_PLUGINS yourself (even to "") to decide otherwise.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    _no_plugin_loader()
    Commands.own_process = True
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
    finally:
        # On exit the interpreter clears every module and collects what that leaves, one
        # object at a time: ~0.1 s after a check. Frozen objects are left to the process's end.
        gc.freeze()


_LOADER = "pydantic.plugin._loader"


def _no_plugin_loader() -> None:
    """With plugins disabled, pydantic is given a loader that finds none. Its own loader imports
    importlib.metadata (email, zipfile, csv: 10-20 ms of a start) before it reads the setting
    that says not to look; pydantic imports the loader when it builds its first validator.
    Anything else asked of the loader (another pydantic) gets the real one, imported then."""
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in ("__all__", "1", "true"):
        return
    if _LOADER not in sys.modules:
        loader = types.ModuleType(_LOADER, "pydantic's plugin loader, with plugins disabled")
        loader.get_plugins = lambda: ()  # type: ignore[attr-defined]
        loader.__getattr__ = _real_loader  # type: ignore[method-assign]
        sys.modules[_LOADER] = loader


def _real_loader(name: str) -> Any:
    """A name the stand-in lacks, from pydantic's own loader (which then replaces it)."""
    if name.startswith("__"):  # what import machinery and tools probe modules for
        raise AttributeError(name)
    del sys.modules[_LOADER]
    return getattr(importlib.import_module(_LOADER), name)
