"""The library under load: many threads at once (a web server), and a process pool (a batch).

Every check must give, for its proposal, exactly what a single-threaded run gives: the same
report, byte for byte, or the same problems. durable_rules' host is process-global and not
thread-safe, so engine.py serialises it with a lock; parallel work uses processes, each with
its own engine. The mix covers clean and defective proposals, market files, a ruleset of the
caller's own (registered with the engine while other threads are checking), and inputs that
are refused, so the error paths run concurrently too.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import icorules
from icorules.errors import InputError
from icorules.output.json_report import render_json
from icorules.rules.loader import RuleBundle
from tests.proposals import clean_market, clean_proposal, edited, remove_party

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"
BAD = HERE / "bad"
OWN_RULESET = BAD / "rulesets" / "valid.yaml"

THREADS = 8
CHECKS_PER_THREAD = 500
POOL_CHECKS = 240


def cases() -> list[tuple[str, Any, Any, bool]]:
    """(name, proposal, market, own ruleset?): built afresh, so no case shares objects."""
    bay = EXAMPLES / "markets" / "morecambe-bay.json"
    return [
        ("clean", clean_proposal(), None, False),
        ("clean with market", clean_proposal(), clean_market(), False),
        ("outside the dispute procedure", edited(_drop_gp2_from_disputes), None, False),
        ("church view defects", EXAMPLES / "church-view-defects.json", None, False),
        ("south lakeland", EXAMPLES / "south-lakeland.json", None, False),
        ("norfolk (yaml)", EXAMPLES / "norfolk-older-people.yaml", None, False),
        ("bay, no alternative", EXAMPLES / "bay-no-alternative.json", bay, False),
        ("bay, whole pct", EXAMPLES / "bay-whole-pct.json", bay, False),
        ("own ruleset", clean_proposal(), None, True),
        ("refused proposal", BAD / "proposals" / "several_problems.json", None, False),
        ("refused market", clean_proposal(), BAD / "markets" / "duplicate_provider.json", False),
        ("refused yaml", BAD / "proposals" / "python_object_tag.yaml", None, False),
    ]


def _drop_gp2_from_disputes(p: dict[str, Any]) -> None:
    remove_party(p, "dispute_resolution", "GP2")


def run_case(index: int, own: RuleBundle | None = None) -> str:
    """One check: the JSON report, or the problems it was refused with."""
    _, proposal, market, uses_own = cases()[index]
    bundle = own if uses_own else None
    if uses_own and bundle is None:
        bundle = icorules.load_rulesets([OWN_RULESET])
    try:
        return render_json([icorules.check(proposal, market=market, rulesets=bundle)])
    except InputError as exc:
        return "refused:\n" + "\n".join(str(p) for p in exc.problems)


def check_raising(index: int) -> str:
    """For the process pool: an InputError travels back to the parent as itself."""
    _, proposal, market, uses_own = cases()[index]
    bundle = icorules.load_rulesets([OWN_RULESET]) if uses_own else None
    return render_json([icorules.check(proposal, market=market, rulesets=bundle)])


def baseline() -> list[str]:
    return [run_case(i) for i in range(len(cases()))]


def test_the_mix_has_reports_and_refusals() -> None:
    expected = baseline()
    assert sum(e.startswith("refused:") for e in expected) == 3
    assert len(set(expected)) == len(expected)  # every case is told apart from the others


@pytest.mark.slow
def test_threads_get_what_a_single_thread_gets() -> None:
    expected = baseline()
    count = len(expected)
    start = threading.Barrier(THREADS)
    failures: list[str] = []
    done = [0] * THREADS

    def worker(n: int) -> None:
        try:
            own = icorules.load_rulesets([OWN_RULESET])  # each thread registers its own bundle
            start.wait()
            for k in range(CHECKS_PER_THREAD):
                index = (n * 7 + k * (n + 1)) % count  # each thread its own order
                got = run_case(index, own)
                if got != expected[index]:
                    failures.append(f"thread {n}, check {k}: {cases()[index][0]} differs")
                done[n] += 1
        except BaseException as exc:  # any crash is a failure, reported with its thread
            failures.append(f"thread {n} crashed: {exc!r}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert failures == []
    assert sum(done) == THREADS * CHECKS_PER_THREAD


@pytest.mark.slow
def test_the_reference_engine_under_threads_agrees() -> None:
    """The plain-Python backend has no lock; it must be thread-safe on its own."""
    proposals = [clean_proposal(), edited(_drop_gp2_from_disputes)]
    expected = [render_json([icorules.check(p, engine="reference")]) for p in proposals]
    failures: list[int] = []

    def worker(n: int) -> None:
        for k in range(100):
            index = (n + k) % 2
            if (
                render_json([icorules.check(proposals[index], engine="reference")])
                != expected[index]
            ):
                failures.append(n)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert failures == []


@pytest.mark.slow
def test_a_process_pool_gets_what_a_single_thread_gets() -> None:
    """Spawned workers (this process has started the engine, and forking a live durable_rules
    host is not safe), each with its own engine; refusals come back as InputError."""
    expected = baseline()
    count = len(expected)
    order = [(k * 5) % count for k in range(POOL_CHECKS)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=4, mp_context=context) as pool:
        futures = [pool.submit(check_raising, index) for index in order]
        for index, future in zip(order, futures, strict=True):
            try:
                got = future.result(timeout=300)
            except InputError as exc:  # pickled in the worker, rebuilt here with its problems
                got = "refused:\n" + "\n".join(str(p) for p in exc.problems)
            assert got == expected[index], cases()[index][0]
