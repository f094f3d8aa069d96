"""Every icorules benchmark in one run, with its figures checked against the targets.

    python bench/run.py            # the full run (about 5-10 minutes on 2 cores)
    python bench/run.py --quick    # a fast sanity run (under a minute; smaller counts)
    python bench/run.py --only latency,engines

Writes bench/results.md and bench/results.json (or under --out). Every ratio is between
figures measured in the same run. Sections:

- latency: `icorules.check` in-process, split by stage (load/validate, graph, facts, engine,
  report), for a typical proposal (~30 organisations) and a large one (500, with a national
  market), on both backends (durable_rules and the plain-Python reference);
- engines: the engine stage alone on identical facts: icorules' durable_rules engine, the
  durable_rules floor (same rulesets and facts, actions that do nothing: bench/floor.py), the
  reference evaluator and CLIPS (bench/clips_engine.py, if clipspy is installed);
- batch: 10,000 generated proposals on every core (a process pool, one engine per process;
  icorules.batch and `icorules check DIR` too), and in one process;
- cold: `icorules check` wall time from process start to exit;
- scaling: organisations 10 -> 1,000, market providers 100 -> 10,000, rules 30 -> 1,000, each
  with a fitted exponent (time ~ n^k; k <= 1.15 counts as linear);
- memory: RSS over 100,000 checks in one process, and the peak.

Each section runs in a child process of its own, so none pays for another's memory. Figures are
medians of wall time; where other work on the machine may inflate them (it only ever adds), the
quietest third of the samples is reported and CPU time is given beside them. A fixed Python
loop (the calibration) is timed before each section: a timing section that ran while the
machine was slow is run again once it is fast, and the faster machine's figures are kept.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import math
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import icorules  # noqa: E402
from bench.synthetic import (  # noqa: E402
    ProposalFactory,
    large_proposal,
    national_market,
    synthetic_rules,
)

TYPICAL_EXAMPLE = ROOT / "examples" / "norfolk-older-people.yaml"  # 35 organisations
COLD_EXAMPLE = ROOT / "examples" / "church-view.json"
CACHE = Path(tempfile.gettempdir()) / "icorules-bench"
STAGES = ("load/validate", "graph", "facts", "engine", "report")

TARGETS = {
    "typical_check_ms": 2.0,
    "engine_over_floor": 1.5,
    "batch_10k_s": 12.0,
    "cold_start_s": 0.5,
    "linear_exponent": 1.15,
    "memory_growth_mb": 2.0,
}


# -- measuring ---------------------------------------------------------------------------------


BLOCKS = 3  # rounds are split into blocks; the quietest block's medians are reported


def quietest(samples: list[float]) -> float:
    """The lowest of the medians of BLOCKS consecutive blocks of samples.

    Other work on the machine only ever adds time, and comes in bursts; a block that missed
    the bursts is the fairest figure. With few samples this is the plain median.
    """
    if len(samples) < 3 * BLOCKS:
        return statistics.median(samples)
    size = len(samples) // BLOCKS
    return min(statistics.median(samples[i * size : (i + 1) * size]) for i in range(BLOCKS))


def interleaved(
    fns: dict[str, Callable[[], Any]], rounds: int, warmup: int = 3, joint: bool = False
) -> dict[str, float]:
    """Median ms of each function, run in turn round after round so they share the noise.
    With `joint`, all medians come from the same block of rounds (for ratios between them)."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    if not joint or rounds < 3 * BLOCKS:
        return {name: quietest(t) * 1000 for name, t in times.items()}
    size = rounds // BLOCKS
    blocks = [slice(i * size, (i + 1) * size) for i in range(BLOCKS)]
    best = min(blocks, key=lambda b: sum(statistics.median(t[b]) / min(t) for t in times.values()))
    return {name: statistics.median(t[best]) * 1000 for name, t in times.items()}


class StageClock:
    """Times the stages of a real `icorules.check` call by wrapping what icorules.api calls:
    load/validate runs from the call to the graph, facts from the graph to the engine, report
    from the engine to the return (findings, waivers, the Report)."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}

    @contextlib.contextmanager
    def installed(self) -> Iterator[StageClock]:
        import icorules.api as api

        real_graph, real_backend = api.build_graph, api.get_backend
        marks = self.marks

        def build_graph(*args: Any, **kwargs: Any) -> Any:
            marks["graph0"] = time.perf_counter()
            try:
                return real_graph(*args, **kwargs)
            finally:
                marks["graph1"] = time.perf_counter()

        class Timed:
            def __init__(self, backend: Any) -> None:
                self.backend = backend

            def prepare(self, bundle: Any) -> Any:
                return self.backend.prepare(bundle)

            def run(self, prepared: Any, facts: Any) -> Any:
                marks["engine0"] = time.perf_counter()
                try:
                    return self.backend.run(prepared, facts)
                finally:
                    marks["engine1"] = time.perf_counter()

        api.build_graph = build_graph
        api.get_backend = lambda name: Timed(real_backend(name))  # type: ignore[assignment]
        try:
            yield self
        finally:
            api.build_graph, api.get_backend = real_graph, real_backend

    def check(self, *args: Any, **kwargs: Any) -> dict[str, float]:
        """One check; seconds per stage and in total (wall), and the CPU time it used."""
        cpu = time.process_time()
        start = time.perf_counter()
        icorules.check(*args, **kwargs)
        end = time.perf_counter()
        cpu = time.process_time() - cpu
        m = self.marks
        return {
            "load/validate": m["graph0"] - start,
            "graph": m["graph1"] - m["graph0"],
            "facts": m["engine0"] - m["graph1"],
            "engine": m["engine1"] - m["engine0"],
            "report": end - m["engine1"],
            "total": end - start,
            "cpu": cpu,
        }


def staged(
    runs: dict[str, Callable[[StageClock], dict[str, float]]],
    rounds: int,
    warmup: int = 3,
    joint: bool = False,
) -> dict[str, dict[str, float]]:
    """Median ms per stage for each named check, interleaved round by round. With `joint`,
    every check's figures come from the same block of rounds (for curves and ratios)."""
    clock = StageClock()
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in runs}
    with clock.installed():
        for _ in range(warmup):
            for run in runs.values():
                run(clock)
        for _ in range(rounds):
            for name, run in runs.items():
                samples[name].append(run(clock))
    size = rounds // BLOCKS if rounds >= 3 * BLOCKS else rounds
    starts = range(0, rounds - size + 1, size)

    def cost(got: list[dict[str, float]], i: int) -> float:
        return statistics.median(s["total"] for s in got[i : i + size])

    shared = min(starts, key=lambda i: sum(cost(got, i) for got in samples.values()))
    out = {}
    for name, got in samples.items():
        i = shared if joint else min(starts, key=lambda i: cost(got, i))
        best = got[i : i + size]
        out[name] = {
            k: statistics.median(s[k] for s in best) * 1000 for k in (*STAGES, "total", "cpu")
        }
    return out


def calibration_ms() -> float:
    """A fixed pure-Python workload: how fast this machine is running right now (shared
    machines slow down when others are busy; compare this figure between runs)."""

    def work() -> int:
        total = 0
        for i in range(200_000):
            total += i * i % 7
        return total + len(json.dumps({"k": list(range(2_000))}))

    return interleaved({"w": work}, 9, warmup=1)["w"]


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def exponent(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of log(time) on log(n): time grows as n^slope."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def growth(points: list[tuple[float, float]]) -> dict[str, Any]:
    """Exponent over the whole range and over the upper half (where fixed costs matter least)."""
    upper = points[len(points) // 2 :] if len(points) > 2 else points
    top = exponent(upper)
    return {
        "exponent": round(exponent(points), 3),
        "upper_exponent": round(top, 3),
        "verdict": "linear or better" if top <= TARGETS["linear_exponent"] else "superlinear",
    }


# -- inputs ------------------------------------------------------------------------------------


_MARKET: Any = None


def market() -> Any:
    """The synthetic national market (152 PCT areas, ~9,570 providers), built once."""
    global _MARKET
    if _MARKET is None:
        _MARKET = national_market()
    return _MARKET


def typical_data() -> dict[str, Any]:
    data = icorules.load_proposal(TYPICAL_EXAMPLE).model_dump(mode="json", exclude_none=True)
    return data  # type: ignore[no-any-return]


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def engine_facts(proposal: Any, market_context: Any = None) -> list[dict[str, Any]]:
    from icorules.analysis.derive import derive_facts
    from icorules.analysis.graph import build_graph
    from icorules.engines import fact_record

    model = icorules.load_proposal(proposal)
    return [fact_record(f) for f in derive_facts(build_graph(model, market_context))]


# -- sections ----------------------------------------------------------------------------------


def section_latency(quick: bool, work: Path) -> dict[str, Any]:
    bundle = icorules.default_rulesets()
    typical = write_json(work / "typical.json", typical_data())
    out: dict[str, Any] = {
        "typical": {
            "input": f"{TYPICAL_EXAMPLE.name} as JSON ({len(typical_data()['organisations'])} "
            "organisations), bundled rules",
        },
        "large": {"input": "synthetic 500-partner bid with the national market, bundled rules"},
    }
    rounds = 60 if quick else 400
    got = staged(
        {
            "durable_rules": lambda c: c.check(typical, rulesets=bundle),
            "reference": lambda c: c.check(typical, rulesets=bundle, engine="reference"),
        },
        rounds,
        joint=True,
    )
    out["typical"]["stages_ms"] = got
    yaml_ms = interleaved(
        {"yaml": lambda: icorules.check(TYPICAL_EXAMPLE, rulesets=bundle)}, rounds
    )
    out["typical"]["yaml_file_total_ms"] = yaml_ms["yaml"]
    nm = market()  # only now: the typical figures are taken without it in memory
    large = write_json(work / "large.json", large_proposal(nm, partners=500))
    rounds = 8 if quick else 40
    out["large"]["stages_ms"] = staged(
        {
            "durable_rules": lambda c: c.check(large, rulesets=bundle, market=nm),
            "reference": lambda c: c.check(large, rulesets=bundle, market=nm, engine="reference"),
        },
        rounds,
        warmup=2,
    )
    return out


def section_engines(quick: bool, work: Path) -> dict[str, Any]:
    from icorules.engines import get_backend

    bundle = icorules.default_rulesets()
    engine, reference = get_backend("durable_rules"), get_backend("reference")
    ready, ready_reference = engine.prepare(bundle), reference.prepare(bundle)
    cases: dict[str, Callable[[], list[dict[str, Any]]]] = {  # the market only when needed
        "typical": lambda: engine_facts(typical_data()),
        "large": lambda: engine_facts(large_proposal(market(), partners=500), market()),
    }
    floor_error = clips_error = None
    try:
        from bench.floor import Floor

        floor: Any = Floor(bundle)
    except ImportError as exc:  # an older icorules without engine.plan
        floor, floor_error = None, str(exc)
    try:
        from bench import clips_engine

        clips_error = clips_engine.available()
    except ImportError as exc:  # an older icorules without engine.pattern_kind
        clips_error = str(exc)
    clips = clips_engine.ClipsEngine(bundle) if clips_error is None else None
    out: dict[str, Any] = {"floor_note": floor_error, "clips_note": clips_error}
    for name, make in cases.items():
        facts = make()
        fns: dict[str, Callable[[], Any]] = {
            "durable_rules": lambda f=facts: engine.run(ready, f),  # type: ignore[misc]
            "reference": lambda f=facts: reference.run(ready_reference, f),  # type: ignore[misc]
        }
        if floor is not None:
            prepared = floor.prepare(facts)
            fns["floor"] = lambda p=prepared: floor.run(p)  # type: ignore[misc]
        if clips is not None:
            fns["clips"] = lambda f=facts: clips.run(f)  # type: ignore[misc]
        rounds = (60 if quick else 400) if name == "typical" else (8 if quick else 60)
        ms = interleaved(fns, rounds, joint=True)
        key = lambda m: (m.rule, m.subject["kind"], m.subject["id"])  # noqa: E731
        want = {key(m) for m in engine.run(ready, facts)}
        same = {"reference": {key(m) for m in reference.run(ready_reference, facts)}}
        if clips is not None:
            same["clips"] = clips.run(facts)
        out[name] = {
            "facts": len(facts),
            "matches": len(want),
            "ms": ms,
            "identical_matches": {k: v == want for k, v in same.items()},
        }
    return out


def _worker_init() -> None:
    from icorules.engines.durable import get_engine

    icorules.default_rulesets()
    get_engine()


def _worker_check(path: str) -> tuple[int, int, int]:
    summary = icorules.check(path, rulesets=icorules.default_rulesets()).summary
    return (summary.error, summary.warning, summary.info)


def proposals_dir(count: int) -> list[str]:
    """`count` generated proposals of usual size as JSON files (kept between runs)."""
    folder = CACHE / f"proposals-v1-{count}"
    done = folder / ".complete"
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        factory = ProposalFactory(market())
        for seed in range(count):
            data = factory.typical(seed)
            (folder / f"p{seed:05d}.json").write_text(json.dumps(data), encoding="utf-8")
        done.write_text("")
    return sorted(str(p) for p in folder.glob("p*.json"))


def section_batch(quick: bool, work: Path) -> dict[str, Any]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    count = 1_000 if quick else 10_000
    jobs = os.cpu_count() or 1
    started = time.perf_counter()
    paths = proposals_dir(count)
    global _MARKET
    _MARKET = None  # forked workers would otherwise garbage-collect over it on every check
    gc.collect()
    out: dict[str, Any] = {
        "proposals": count,
        "jobs": jobs,
        "generated_s": round(time.perf_counter() - started, 2),
        "mean_organisations": statistics.fmean(
            len(json.loads(Path(p).read_text())["organisations"]) for p in paths[:500]
        ),
    }
    fork = multiprocessing.get_context("fork")
    children = _children_cpu()
    start = time.perf_counter()
    with ProcessPoolExecutor(jobs, mp_context=fork, initializer=_worker_init) as pool:
        pooled = list(pool.map(_worker_check, paths, chunksize=64))
    out["pool_s"] = time.perf_counter() - start
    # CPU the workers used: what the run would take on `jobs` otherwise idle cores.
    out["pool_cpu_s"] = _children_cpu() - children
    try:
        from icorules.batch import Settings, check_many

        start = time.perf_counter()
        outcomes = check_many(paths, Settings(rulesets=icorules.default_rulesets()), jobs=jobs)
        out["batch_module_s"] = time.perf_counter() - start
        got = [
            (o.report.summary.error, o.report.summary.warning, o.report.summary.info)
            for o in outcomes
            if o.report
        ]
        out["batch_module_agrees"] = got == pooled
    except ImportError:
        out["batch_module_s"] = None
    cli = Path(sys.executable).parent / "icorules"
    folder = str(Path(paths[0]).parent)
    start = time.perf_counter()
    done = subprocess.run(
        [
            str(cli),
            "check",
            folder,
            "--format",
            "json",
            "--no-progress",
            "-o",
            str(work / "batch.json"),
        ],
        capture_output=True,
        text=True,
    )
    out["cli_s"] = time.perf_counter() - start if done.returncode in (0, 1) else None
    if out["cli_s"] is None:
        out["cli_note"] = (done.stderr.strip().splitlines() or ["failed"])[-1][:200]
    _worker_init()
    cpu = time.process_time()
    start = time.perf_counter()
    single = [_worker_check(p) for p in paths]
    out["one_process_s"] = time.perf_counter() - start
    out["one_process_cpu_s"] = time.process_time() - cpu
    out["pool_agrees"] = single == pooled
    out["findings"] = sum(map(sum, single))
    return out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr[-500:]}")
    return elapsed


def section_cold(quick: bool, work: Path) -> dict[str, Any]:
    runs = 5 if quick else 21
    python = sys.executable
    cli = str(Path(python).parent / "icorules")
    here = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # this sandbox: sources compiled
    installed = {k: v for k, v in here.items() if k != "PYTHONDONTWRITEBYTECODE"}
    installed["PYTHONPYCACHEPREFIX"] = str(work / "pycache")  # as after pip install: .pyc kept
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "import icorules.cli": [python, "-c", "import icorules.cli"],
        f"icorules check {COLD_EXAMPLE.name}": [cli, "check", str(COLD_EXAMPLE)],
    }
    setups = {"bytecode cached": installed, "no bytecode cache": here}
    for env in setups.values():
        for cmd in commands.values():
            _run(cmd, env)  # warm the OS file cache (and the bytecode cache)
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(runs):  # every command in every setup, in turn, so they share the noise
        for label, env in setups.items():
            for name, cmd in commands.items():
                times.setdefault((label, name), []).append(_run(cmd, env))
    out: dict[str, Any] = {"example": COLD_EXAMPLE.name, "runs": runs}
    for (label, name), t in times.items():
        out.setdefault(label, {})[name] = {"median_s": statistics.median(t), "min_s": min(t)}
    return out


def section_scaling(quick: bool, work: Path) -> dict[str, Any]:
    """Every point of a curve is measured in the same rounds, in turn: the machine's speed
    drifts over seconds, and a curve measured point after point would show the drift."""
    from icorules.inputs.market import Market
    from icorules.rules import loader

    bundle = icorules.default_rulesets()
    nm = market()
    factory = ProposalFactory(nm)
    out: dict[str, Any] = {}

    def curve(runs: dict[int, Callable[[StageClock], dict[str, float]]], rounds: int) -> Any:
        got = staged({str(n): run for n, run in runs.items()}, rounds, 1, joint=True)
        rows = [{"n": n, **{k: round(v, 3) for k, v in got[str(n)].items()}} for n in runs]
        return {"rows": rows, **growth([(r["n"], r["total"]) for r in rows])}

    sizes = [10, 100, 1000] if quick else [10, 30, 100, 300, 1000]
    bids = {n: factory.proposal(n, seed=1) for n in sizes}
    out["organisations"] = curve(
        {n: lambda c, d=bids[n]: c.check(d, rulesets=bundle) for n in sizes},
        9 if quick else 30,
    )

    proposal = factory.proposal(30, seed=2)
    partner_ids = {o["id"] for o in proposal["organisations"]}
    extra = national_market(seed=1)
    pool = [p for p in nm.providers if p.id not in partner_ids]
    pool += [p.model_copy(update={"id": f"X{p.id}"}) for p in extra.providers]
    rng = random.Random(0)
    rng.shuffle(pool)
    partners = [p for p in nm.providers if p.id in partner_ids]
    counts = [100, 1000, 10_000] if quick else [100, 300, 1000, 3000, 10_000]
    contexts = {
        n: Market.model_validate(
            {
                "name": f"{n} providers",
                "pct_areas": nm.pct_areas,
                "providers": partners + pool[: n - len(partners)],
            }
        )
        for n in counts
    }
    out["market_providers"] = curve(
        {n: lambda c, m=contexts[n]: c.check(proposal, rulesets=bundle, market=m) for n in counts},
        9 if quick else 30,
    )

    typical = typical_data()
    counts = [30, 300, 1000] if quick else [30, 100, 300, 1000]
    saved = loader.MAX_RULES
    loader.MAX_RULES = max(saved, max(counts))  # an older loader capped rules at 400
    try:
        loaded: dict[int, Any] = {}
        extra_cols: dict[int, dict[str, Any]] = {}
        for n in counts:
            path = work / f"rules-{n}.yaml"
            path.write_text(json.dumps(synthetic_rules(n)), encoding="utf-8")
            start = time.perf_counter()
            loaded[n] = icorules.load_rulesets([path])
            load_s = time.perf_counter() - start
            start = time.perf_counter()
            icorules.check(typical, rulesets=loaded[n])
            extra_cols[n] = {
                "load_ms": round(load_s * 1000, 1),
                "first_check_ms": round((time.perf_counter() - start) * 1000, 1),
                "engine_rulesets": _chunks(loaded[n]),
            }
        rounds = 9 if quick else 21
        durable = curve(
            {n: lambda c, r=loaded[n]: c.check(typical, rulesets=r) for n in counts}, rounds
        )
        reference = curve(
            {
                n: lambda c, r=loaded[n]: c.check(typical, rulesets=r, engine="reference")
                for n in counts
            },
            rounds,
        )
    finally:
        loader.MAX_RULES = saved
    for row, ref in zip(durable["rows"], reference["rows"], strict=True):
        row.update(extra_cols[row["n"]], reference_total=ref["total"])
    out["rules"] = durable
    out["rules"]["engine"] = growth([(r["n"], r["engine"]) for r in durable["rows"]])
    out["rules"]["reference"] = growth([(r["n"], r["total"]) for r in reference["rows"]])
    return out


def _chunks(bundle: Any) -> int | None:
    try:
        from icorules.engines.durable import plan
    except ImportError:
        return None
    return len(plan(bundle))


def section_memory(quick: bool, work: Path) -> dict[str, Any]:
    checks = 5_000 if quick else 100_000
    bundle = icorules.default_rulesets()
    data = typical_data()
    for _ in range(200):
        icorules.check(data, rulesets=bundle)
    samples = [(0, rss_mb())]
    step = checks // 10
    start = time.perf_counter()
    for i in range(1, checks + 1):
        icorules.check(data, rulesets=bundle)
        if i % step == 0:
            samples.append((i, rss_mb()))
    elapsed = time.perf_counter() - start
    settled = samples[1][1]
    return {
        "checks": checks,
        "seconds": round(elapsed, 1),
        "rss_mb": [[i, round(m, 2)] for i, m in samples],
        "growth_after_first_tenth_mb": round(samples[-1][1] - settled, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "gc_objects": len(gc.get_objects()),
    }


SECTIONS: dict[str, Callable[[bool, Path], dict[str, Any]]] = {
    "latency": section_latency,
    "engines": section_engines,
    "batch": section_batch,
    "cold": section_cold,
    "scaling": section_scaling,
    "memory": section_memory,
}
# Each section starts from a clean process: a national market left in memory by one section
# makes every later check pay for garbage collection over it (2x for the typical proposal),
# and the batch section forks workers, which a process with a live engine must not do.
IN_CHILD = set(SECTIONS)


RETRY = ("latency", "engines", "cold", "batch")  # timings worth repeating after a slow spell
SLOW = 1.15  # a calibration this much above the run's fastest marks a slow spell


def run_section(name: str, quick: bool, work: Path) -> dict[str, Any]:
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    result = run_child(name, quick, work) if name in IN_CHILD else SECTIONS[name](quick, work)
    print(f"bench: {name} done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return result


def run_child(name: str, quick: bool, work: Path) -> dict[str, Any]:
    target = work / f"{name}.json"
    cmd = [sys.executable, str(Path(__file__)), "--child", name, "--child-out", str(target)]
    subprocess.run([*cmd, *(["--quick"] if quick else [])], check=True, cwd=ROOT)
    return json.loads(target.read_text())  # type: ignore[no-any-return]


# -- verdicts and the Markdown table -----------------------------------------------------------


def verdicts(results: dict[str, Any], quick: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(target: str, measured: str, met: bool | None, note: str = "") -> None:
        rows.append({"target": target, "measured": measured, "met": met, "note": note})

    lat = results.get("latency")
    if lat:
        ms = lat["typical"]["stages_ms"]["durable_rules"]["total"]
        add("typical (~30 organisations) full check <= 2 ms", f"{ms:.2f} ms", ms <= 2.0)
    eng = results.get("engines")
    if eng and "floor" in eng["typical"]["ms"]:
        for case in ("typical", "large"):
            r = eng[case]["ms"]
            ratio = r["durable_rules"] / r["floor"]
            add(
                f"engine stage within 1.5x of durable_rules' floor ({case})",
                f"{ratio:.2f}x ({r['durable_rules']:.2f} vs {r['floor']:.2f} ms)",
                ratio <= TARGETS["engine_over_floor"],
            )
    batch = results.get("batch")
    if batch:
        s = batch["pool_s"]
        scaled = s * 10_000 / batch["proposals"]
        add(
            f"10,000 proposals <= 12 s on {batch['jobs']} cores",
            f"{s:.1f} s for {batch['proposals']:,}"
            + (f" (~{scaled:.1f} s per 10,000)" if batch["proposals"] != 10_000 else ""),
            scaled <= TARGETS["batch_10k_s"],
            "quick run: scaled from fewer proposals" if quick else "",
        )
    cold = results.get("cold")
    if cold:
        key = f"icorules check {cold['example']}"
        s = cold["bytecode cached"][key]["median_s"]
        raw = cold["no bytecode cache"][key]["median_s"]
        add(
            "CLI cold start <= 0.5 s",
            f"{s:.3f} s (no bytecode cache: {raw:.3f} s)",
            s <= TARGETS["cold_start_s"],
        )
    scale = results.get("scaling")
    if scale:
        for key, label in (
            ("organisations", "organisations 10 -> 1,000"),
            ("market_providers", "market providers 100 -> 10,000"),
            ("rules", "rules 30 -> 1,000"),
        ):
            g = scale[key]
            add(
                f"linear scaling: {label}",
                f"n^{g['upper_exponent']:.2f} (upper half), n^{g['exponent']:.2f} overall",
                g["upper_exponent"] <= TARGETS["linear_exponent"],
            )
    mem = results.get("memory")
    if mem:
        grown = mem["growth_after_first_tenth_mb"]
        add(
            f"flat memory over {mem['checks']:,} checks",
            f"{grown:+.2f} MB after the first tenth; peak RSS {mem['peak_rss_mb']} MB",
            grown <= TARGETS["memory_growth_mb"],
        )
    return rows


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return [*out, ""]


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# icorules benchmark results",
        "",
        f"<!-- Written by `python bench/run.py{' --quick' if meta['quick'] else ''}`; "
        "see docs/performance.md. -->",
        "",
        f"{meta['date']} · Python {meta['python']} · {meta['cpus']} CPUs · "
        f"load average {meta['load_before']} before, {meta['load_after']} after · "
        f"calibration loop {meta['calibration_ms_before']} ms before, "
        f"{meta['calibration_ms_after']} ms after (lower is a faster machine; before each "
        f"section kept: {', '.join(f'{k} {v}' for k, v in meta.get('speed_ms', {}).items())}) · "
        f"{'quick run' if meta['quick'] else 'full run'} · {meta['seconds']:.0f} s",
        "",
        "## Targets",
        "",
    ]
    lines += _table(
        ["target", "measured", "met"],
        [
            [
                v["target"],
                v["measured"] + (f" ({v['note']})" if v["note"] else ""),
                "yes" if v["met"] else "**no**",
            ]
            for v in results["targets"]
        ],
    )
    lat = results.get("latency")
    if lat:
        lines += ["## Latency in-process, by stage (median ms)", ""]
        rows = []
        for case in ("typical", "large"):
            for backend, st in lat[case]["stages_ms"].items():
                rows.append([case, backend, *(st[s] for s in STAGES), st["total"], st["cpu"]])
        lines += _table(["proposal", "backend", *STAGES, "total", "CPU time"], rows)
        lines += [
            f"typical: {lat['typical']['input']}; the same proposal read from its YAML file: "
            f"{lat['typical']['yaml_file_total_ms']:.2f} ms. large: {lat['large']['input']}.",
            "",
        ]
    eng = results.get("engines")
    if eng:
        lines += ["## Engine stage alone, identical facts (median ms)", ""]
        names = list(eng["typical"]["ms"])
        rows = []
        for case in ("typical", "large"):
            r = eng[case]["ms"]
            rows.append([f"{case} ({eng[case]['facts']} facts)", *(r[n] for n in names)])
        lines += _table(["facts", *names], rows)
        ratios = []
        for case in ("typical", "large"):
            r = eng[case]["ms"]
            parts = [f"durable_rules / reference {r['durable_rules'] / r['reference']:.1f}x"]
            if "floor" in r:
                parts.append(f"durable_rules / floor {r['durable_rules'] / r['floor']:.2f}x")
            if "clips" in r:
                parts.append(f"CLIPS / reference {r['clips'] / r['reference']:.1f}x")
                parts.append(f"durable_rules / CLIPS {r['durable_rules'] / r['clips']:.2f}x")
            same = ", ".join(
                f"{k} {'yes' if v else 'NO'}" for k, v in eng[case]["identical_matches"].items()
            )
            ratios.append(f"- {case}: {'; '.join(parts)}; identical matches: {same}")
        lines += [*ratios, ""]
        for note in (eng.get("floor_note"), eng.get("clips_note")):
            if note:
                lines += [f"Note: {note}", ""]
    batch = results.get("batch")
    if batch:
        lines += ["## Batch throughput", ""]
        n = batch["proposals"]
        rows = [
            [
                f"process pool, {batch['jobs']} workers, one engine each",
                batch["pool_s"],
                n / batch["pool_s"],
            ]
        ]
        if batch.get("batch_module_s"):
            rows.append(
                [
                    f"icorules.batch.check_many, {batch['jobs']} jobs",
                    batch["batch_module_s"],
                    n / batch["batch_module_s"],
                ]
            )
        if batch.get("cli_s"):
            rows.append(
                ["`icorules check DIR --format json -o FILE`", batch["cli_s"], n / batch["cli_s"]]
            )
        rows.append(
            ["one process, one after another", batch["one_process_s"], n / batch["one_process_s"]]
        )
        lines += _table([f"{n:,} generated proposals", "seconds", "proposals/s"], rows)
        lines += [
            f"Mean {batch['mean_organisations']:.1f} organisations per proposal; "
            f"{batch['findings']:,} findings; pool results identical to one process: "
            f"{'yes' if batch['pool_agrees'] else 'NO'}. CPU time: the pool's workers "
            f"{batch['pool_cpu_s']:.1f} s in all ({batch['pool_cpu_s'] / batch['jobs']:.1f} s "
            f"per core, what the pool would take on {batch['jobs']} idle cores); one process "
            f"{batch['one_process_cpu_s']:.1f} s.",
            "",
        ]
    cold = results.get("cold")
    if cold:
        lines += [f"## Cold start (median of {cold['runs']} runs, seconds)", ""]
        names = list(cold["bytecode cached"])
        rows = [
            [
                name,
                cold["bytecode cached"][name]["median_s"],
                cold["no bytecode cache"][name]["median_s"],
            ]
            for name in names
        ]
        lines += _table(["command", "bytecode cached (installed)", "no bytecode cache"], rows)
    scale = results.get("scaling")
    if scale:
        lines += ["## Scaling (median ms per check)", ""]
        for key, label in (
            ("organisations", "organisations"),
            ("market_providers", "market providers"),
            ("rules", "rules"),
        ):
            g = scale[key]
            extra = (
                ["load_ms", "first_check_ms", "reference_total", "engine_rulesets"]
                if key == "rules"
                else []
            )
            rows = [
                [r["n"], *(r[s] for s in STAGES), r["total"], *(r[e] for e in extra)]
                for r in g["rows"]
            ]
            lines += _table([label, *STAGES, "total", *extra], rows)
            lines += [
                f"Fitted exponent: n^{g['exponent']:.2f} over the range, "
                f"n^{g['upper_exponent']:.2f} over the upper half: {g['verdict']}.",
                "",
            ]
    mem = results.get("memory")
    if mem:
        lines += [f"## Memory over {mem['checks']:,} checks in one process", ""]
        lines += _table(["checks done", "RSS MB"], mem["rss_mb"])
        lines += [
            f"Peak RSS {mem['peak_rss_mb']} MB; growth after the first tenth "
            f"{mem['growth_after_first_tenth_mb']:+.2f} MB; {mem['seconds']} s in all.",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts: a sanity run")
    parser.add_argument("--only", help=f"comma-separated sections of: {', '.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, default=ROOT / "bench", help="where results go")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="icorules-bench-"))
    if args.child:
        result = SECTIONS[args.child](args.quick, work)
        result["_speed_ms"] = calibration_ms()  # how fast the machine was as it ended
        args.child_out.write_text(json.dumps(result), encoding="utf-8")
        return
    names = args.only.split(",") if args.only else list(SECTIONS)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    started = time.perf_counter()
    results: dict[str, Any] = {
        "meta": {
            "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "quick": args.quick,
            "load_before": round(os.getloadavg()[0], 2),
            "calibration_ms_before": round(calibration_ms(), 2),
        }
    }
    speed: dict[str, float] = {}  # calibration before and after each section: the slower
    for name in names:
        before = calibration_ms()
        results[name] = run_section(name, args.quick, work)
        speed[name] = max(before, results[name].pop("_speed_ms", before))
    # A shared machine has slow spells lasting minutes (the calibration loop varies up to
    # 1.6x here). A timing section that ran in one is run again if the machine is faster
    # now, and the run on the faster machine is kept; speed_ms in the results says which.
    fastest = min(speed.values())
    for name in names:
        now = calibration_ms()
        if name in RETRY and speed[name] > SLOW * fastest and now < speed[name] / SLOW:
            print(f"bench: {name} ran in a slow spell; again", file=sys.stderr)
            again = run_section(name, args.quick, work)
            after = max(now, again.pop("_speed_ms", now))
            if after < speed[name]:
                results[name], speed[name] = again, after
    results["meta"]["speed_ms"] = {name: round(ms, 2) for name, ms in speed.items()}
    results["meta"]["load_after"] = round(os.getloadavg()[0], 2)
    results["meta"]["calibration_ms_after"] = round(calibration_ms(), 2)
    results["meta"]["seconds"] = time.perf_counter() - started
    results["targets"] = verdicts(results, args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (args.out / "results.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))


if __name__ == "__main__":
    main()
