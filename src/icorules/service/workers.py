"""The process pool that does the checking.

durable_rules keeps one host per process, holds the GIL and is serialised by a lock, so
threads would take turns: checks run in worker processes instead, `--workers` of them, each
with the server's state (rules, markets, waivers, examples) from its initializer. As in
icorules.batch, the pool is forked when this process has not started the engine (the server's
own process never runs a check) and spawned otherwise; a pool whose worker died is replaced by
a spawned one (the server's process has threads by then, and forking those is not safe).
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from icorules.service.checks import BundleCache, Reply, Request, error_reply, handle
from icorules.service.state import State

T = TypeVar("T")

_state: State | None = None
_bundles: BundleCache | None = None


def _init(state: State) -> None:
    """In each worker: keep the state; leave Ctrl-C and SIGTERM to the server's process, which
    shuts the pool down in order. The markets' lookups are worked out now and everything held
    so far is moved out of the garbage collector's sight, as a batch's workers do: a national
    market is ~40,000 objects that live as long as the worker, and otherwise its first check
    made ~9,600 lists, enough to set off a full collection over all of them."""
    global _state, _bundles
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _state, _bundles = state, BundleCache(state)
    for market in state.markets.values():
        market.look_up()
    gc.collect()
    gc.freeze()


def _ready() -> bool:
    return _state is not None


def check_in_worker(request: Request) -> Reply:
    assert _state is not None and _bundles is not None, "_init runs first in every worker"
    return handle(_state, request, _bundles)


def trial_in_worker(payload: dict[str, Any]) -> Reply:
    from icorules.service.trial import handle_trial

    assert _state is not None, "_init runs first in every worker"
    return handle_trial(_state, payload)


def _context(spawn: bool) -> multiprocessing.context.BaseContext:
    from icorules.engines import durable

    if spawn or durable.engine_started() or "fork" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    return multiprocessing.get_context("fork")


class Workers:
    """`size` worker processes; `run` awaits a function's result from one of them."""

    def __init__(self, state: State, size: int) -> None:
        self.state = state
        self.size = size
        self._lock = threading.Lock()
        self._pool = self._start(spawn=False)

    def _start(self, spawn: bool) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=self.size,
            mp_context=_context(spawn),
            initializer=_init,
            initargs=(self.state,),
        )
        for future in [pool.submit(_ready) for _ in range(self.size)]:
            future.result()  # every worker started and initialised before the first request
        return pool

    async def run(self, function: Callable[..., Reply], *args: Any) -> Reply:
        pool = self._pool
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, function, *args)
        except BrokenProcessPool:
            await loop.run_in_executor(None, self._replace, pool)
            return error_reply("internal error: a worker process died during the check")

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = self._start(spawn=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
