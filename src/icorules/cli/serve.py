"""`icorules serve`: the HTTP API and the browser workspace (the `serve` extra)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

import click

from icorules.cli.common import (
    EXIT_INTERNAL,
    cli,
    fail,
    limit_option,
    limits_from,
    param_option,
    parse_params,
    ruleset_option,
    say,
)
from icorules.results.report import FailOn


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes that run checks (default: one per CPU core).",
)
@ruleset_option
@param_option
@click.option(
    "--market",
    "-m",
    "markets",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A market file requests may name, by its stem (repeatable; the settings file's "
    "market is offered too).",
)
@click.option(
    "--waivers",
    "-w",
    "waivers",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A waiver file requests may name, by its stem (repeatable).",
)
@click.option(
    "--examples",
    type=click.Path(file_okay=False),
    default=None,
    help="A folder of example bids to offer in the workspace (default: none).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    default=None,
    help="Default verdict threshold for requests that do not say (default: error).",
)
@limit_option
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int | None,
    rulesets: tuple[str, ...],
    params: tuple[str, ...],
    markets: tuple[str, ...],
    waivers: tuple[str, ...],
    examples: str | None,
    fail_on: FailOn | None,
    limit_values: tuple[str, ...],
    log_level: str,
) -> None:
    """Serve the HTTP API (/v1/check, /openapi.json) and the browser workspace (/).

    The rules, market and waiver files and examples are loaded once, now; a ruleset that
    does not load stops the server (exit 2). There is no authentication: run it on
    127.0.0.1, or behind your organisation's reverse proxy (docs/service.md).
    """
    try:
        import uvicorn

        from icorules.service.app import create_app
    except ImportError as exc:
        fail([f'serve needs FastAPI and uvicorn: pip install "icorules[serve]" ({exc})'])
    from icorules.config import Config
    from icorules.service.state import ServeOptions, load_state

    _Server = _server_class()

    config = ctx.find_root().obj
    settings = config.settings if isinstance(config, Config) else None
    limits = limits_from([*_config_limits(config), *limit_values])
    chosen_rulesets = rulesets
    if not chosen_rulesets and settings is not None and settings.rulesets:
        chosen_rulesets = tuple(config.path(p) for p in settings.rulesets)
    merged_params: dict[str, object] = dict(settings.params or {}) if settings else {}
    merged_params.update(parse_params(params))
    offered_markets = list(markets)
    offered_waivers = list(waivers)
    if settings is not None and settings.market:
        offered_markets.insert(0, config.path(settings.market))
    if settings is not None and settings.waivers:
        offered_waivers.insert(0, config.path(settings.waivers))
    options = ServeOptions(
        rulesets=chosen_rulesets,
        params=merged_params,
        limits=limits,
        markets=tuple(dict.fromkeys(offered_markets)),
        waivers=tuple(dict.fromkeys(offered_waivers)),
        examples=examples,
        fail_on=fail_on or (settings.fail_on if settings and settings.fail_on else "error"),
    )
    state = load_state(options)  # InputError: printed, located, by the group; exit 2
    size = workers or os.cpu_count() or 1
    say(
        f"{len(state.bundle.rules)} rules, {len(state.markets)} market file(s), "
        f"{len(state.waivers)} waiver file(s), {len(state.examples)} example bid(s); "
        f"{size} worker(s); listening on http://{_shown(host)}:{port}/"
    )
    app = create_app(state, workers=size)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, server_header=False)
    server = _Server(config)
    server.run()
    sys.exit(0 if server.started else EXIT_INTERNAL)


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, except that a SIGTERM or Ctrl-C that shut it down cleanly ends
        the process with 0 (uvicorn raises the signal again once it has shut down, so that a
        service manager sees the process killed)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            signals = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    return Server


def _config_limits(config: object) -> list[str]:
    from icorules.config import Config

    if not isinstance(config, Config) or not config.settings.limits:
        return []
    return [f"{k}={v}" for k, v in config.settings.limits.items()]


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host else host
