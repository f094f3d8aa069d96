"""A large proposal (500 partners) against a synthetic national market.

    python bench/bench_market.py [--repeat 30] [--partners 500] [--memory-checks 300]

The market is bench/synthetic.py's: 152 PCT areas, ~8,000 practices, ~1,500 other providers.
Medians of `--repeat` in-process runs after a warm-up, with the stages timed separately and,
as same-run baselines, the same proposal checked without the market file and the same facts
evaluated by the plain-Python reference evaluator (icorules.reference_engine).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import icorules  # noqa: E402
from bench.bench_check import rss_mb  # noqa: E402
from bench.synthetic import large_proposal, national_market  # noqa: E402
from icorules.engine import get_engine  # noqa: E402
from icorules.facts import derive_facts  # noqa: E402
from icorules.graph import build_graph  # noqa: E402
from icorules.market import reconcile  # noqa: E402
from icorules.reference_engine import evaluate  # noqa: E402


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--partners", type=int, default=500)
    parser.add_argument("--memory-checks", type=int, default=300)
    args = parser.parse_args()

    rss_start = rss_mb()
    market = national_market()
    data = large_proposal(market, partners=args.partners)
    proposal = icorules.load_proposal(data)
    bundle = icorules.default_rulesets()
    partners = build_graph(proposal, market)
    facts = derive_facts(partners)
    engine_facts = [f.engine_dict() for f in facts]
    report = icorules.check(proposal, market=market, rulesets=bundle)
    print(
        f"market: {len(market.pct_areas)} PCT areas, {len(market.providers):,} providers; "
        f"proposal: {len(proposal.organisations)} partners, {len(partners.markets)} markets, "
        f"{len(facts)} facts, {len(report.findings)} findings"
    )

    rows = [
        (
            "check (model + market, full)",
            lambda: icorules.check(proposal, market=market, rulesets=bundle),
        ),
        (
            "check (dict + market, full)",
            lambda: icorules.check(data, market=market, rulesets=bundle),
        ),
        ("  validate proposal dict", lambda: icorules.load_proposal(data)),
        ("  reconcile with market", lambda: reconcile(proposal, market)),
        ("  graph + market measures", lambda: build_graph(proposal, market)),
        ("  facts", lambda: [f.engine_dict() for f in derive_facts(partners)]),
        ("  engine (durable_rules)", lambda: get_engine().run(bundle, engine_facts)),
        ("baseline: check without market", lambda: icorules.check(proposal, rulesets=bundle)),
        ("baseline: plain-Python rules", lambda: evaluate(bundle, engine_facts)),
    ]
    results = {name: median_ms(fn, args.repeat) for name, fn in rows}
    full = results["check (model + market, full)"]
    for name, ms in results.items():
        print(f"{name:34} {ms:9.1f} ms   {ms / full:5.2f}x of full check")

    before = rss_mb()
    for _ in range(args.memory_checks):
        icorules.check(proposal, market=market, rulesets=bundle)
    print(
        f"memory: RSS {rss_start:.0f} MB at start, {before:.0f} MB with market loaded and "
        f"warmed up, {rss_mb():.0f} MB after {args.memory_checks} more checks"
    )


if __name__ == "__main__":
    main()
