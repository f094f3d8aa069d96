"""Per-check time and memory of `icorules.check`, with same-run baselines.

    python bench/bench_check.py [--repeat 300] [--memory-checks 10000]

Figures are medians of `--repeat` runs, in-process, after a warm-up. Baselines measured in
the same run, on the same facts:
  - `prepare`: parse + validate + graph + facts only (no rules run);
  - `engine`: durable_rules matching alone (icorules.engine.Engine.run);
  - `python`: the same compiled rules evaluated by a plain-Python interpreter
    (icorules.reference_engine), i.e. what the engine costs over the simplest possible evaluator.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import icorules  # noqa: E402
from icorules.engine import get_engine  # noqa: E402
from icorules.facts import derive_facts  # noqa: E402
from icorules.graph import build_graph  # noqa: E402
from icorules.reference_engine import evaluate  # noqa: E402

EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.suffix in (".json", ".yaml"))


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    for _ in range(min(20, repeat)):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    import resource

    return pages * resource.getpagesize() / 2**20


def bench_example(path: Path, repeat: int) -> dict[str, Any]:
    bundle = icorules.default_rulesets()
    proposal = icorules.load_proposal(path)
    data = json.loads(proposal.model_dump_json())
    facts = [f.engine_dict() for f in derive_facts(build_graph(proposal))]
    engine = get_engine()
    row = {
        "example": path.name,
        "partners": len(proposal.organisations),
        "facts": len(facts),
        "check_file_ms": median_ms(lambda: icorules.check(path, rulesets=bundle), repeat),
        "check_model_ms": median_ms(lambda: icorules.check(proposal, rulesets=bundle), repeat),
        "prepare_ms": median_ms(
            lambda: derive_facts(build_graph(icorules.load_proposal(data))), repeat
        ),
        "engine_ms": median_ms(lambda: engine.run(bundle, facts), repeat),
        "python_ms": median_ms(lambda: evaluate(bundle, facts), repeat),
    }
    row["engine_vs_python"] = row["engine_ms"] / row["python_ms"]
    return row


def memory_over(checks: int) -> dict[str, float]:
    bundle = icorules.default_rulesets()
    proposal = icorules.load_proposal(EXAMPLES[0])
    for _ in range(200):
        icorules.check(proposal, rulesets=bundle)
    before = rss_mb()
    start = time.perf_counter()
    for _ in range(checks):
        icorules.check(proposal, rulesets=bundle)
    elapsed = time.perf_counter() - start
    return {
        "checks": checks,
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(rss_mb(), 1),
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--memory-checks", type=int, default=10_000)
    args = parser.parse_args()
    print(
        f"{'example':32} {'partners':>8} {'facts':>5} {'check(file)':>11} {'check(model)':>12}"
        f" {'prepare':>8} {'engine':>8} {'python':>8} {'engine/python':>13}"
    )
    for path in EXAMPLES:
        r = bench_example(path, args.repeat)
        print(
            f"{r['example']:32} {r['partners']:>8} {r['facts']:>5} {r['check_file_ms']:>9.2f}ms"
            f" {r['check_model_ms']:>10.2f}ms {r['prepare_ms']:>6.2f}ms {r['engine_ms']:>6.2f}ms"
            f" {r['python_ms']:>6.2f}ms {r['engine_vs_python']:>12.1f}x"
        )
    if args.memory_checks:
        m = memory_over(args.memory_checks)
        print(
            f"memory: {m['checks']:,} checks in {m['seconds']}s; RSS {m['rss_before_mb']} MB "
            f"before, {m['rss_after_mb']} MB after"
        )


if __name__ == "__main__":
    main()
