"""Check many proposals in one run: expand directories and globs, spread the checks over
processes, and keep every result (one unreadable file never costs the others).

durable_rules' host is process-global and serialised by a lock, so threads would not run
checks in parallel: each worker process gets its own engine. Workers are forked when this
process has not started the engine (the CLI never has, so start-up is nearly free), and
spawned otherwise, because forking a live durable_rules host is not safe.
"""

from __future__ import annotations

import gc
import glob
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from icorules.api import run_check
from icorules.engines import EngineError
from icorules.errors import InputError, Problem
from icorules.inputs.documents import Document
from icorules.inputs.market import Market
from icorules.limits import DEFAULT_LIMITS, Limits
from icorules.output import RenderOptions, renderer
from icorules.results.outcome import Outcome
from icorules.rules.loader import RuleBundle

if TYPE_CHECKING:
    import multiprocessing.context

    from icorules.results.waivers import Waiver

PROPOSAL_SUFFIXES = (".json", ".yaml", ".yml")
MIN_PARALLEL = 8  # below this many proposals, starting workers costs more than it saves


@dataclass(frozen=True)
class Settings:
    """What every check in a batch shares; sent once to each worker process."""

    rulesets: RuleBundle
    market: Market | None = None
    waivers: tuple[Waiver, ...] = ()
    timing: bool = False
    explain: bool = False  # explain every finding (--explain)
    explain_rules: tuple[str, ...] = ()  # explain these rules, passing subjects too
    limits: Limits = DEFAULT_LIMITS  # caps on what each proposal may cost (--limit)
    select: tuple[str, ...] = ()  # rule-id prefixes to keep (--select)
    ignore: tuple[str, ...] = ()  # rule-id prefixes to leave out (--ignore)
    render: str | None = None  # a format (icorules.output.FORMATS): each outcome gets its part
    options: RenderOptions = field(default_factory=RenderOptions)
    keep_reports: bool = True  # False when only the rendered parts are wanted (the CLI)


def expand(inputs: Sequence[str]) -> list[str]:
    """Files as given; directories searched recursively for proposals; glob patterns expanded.

    Hidden files and directories, and rule test files (`*.test.yaml`), are skipped. A name that
    matches nothing is kept, so its check reports it as missing.
    """
    found: list[str] = []
    for item in inputs:
        if os.path.isdir(item):
            # An empty directory stays in the list, so its check says there was nothing to check.
            found.extend(_proposals_under(Path(item)) or [item])
        elif glob.has_magic(item) and not os.path.exists(item):
            matches = sorted(glob.glob(item, recursive=True))
            found.extend(m for m in matches if _is_proposal(Path(m)) and os.path.isfile(m))
            if not matches:
                found.append(item)
        else:
            found.append(item)
    return list(dict.fromkeys(found))


def _proposals_under(root: Path) -> list[str]:
    return sorted(
        str(path)
        for path in root.rglob("*")
        if path.is_file()
        and _is_proposal(path)
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
        and not _declares_other_format(path)
    )


_FORMAT = re.compile(rb"""["']?format["']?\s*:\s*["']?icorules/([a-z]+)/""")


def _declares_other_format(path: Path) -> bool:
    """A market or waiver file beside the proposals (it says so in its first lines)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    match = _FORMAT.search(head)
    return match is not None and match.group(1) != b"proposal"


def _is_proposal(path: Path) -> bool:
    return path.suffix.lower() in PROPOSAL_SUFFIXES and not path.name.endswith(".test.yaml")


def check_many(
    paths: Sequence[str | Document],
    settings: Settings,
    *,
    jobs: int | None = None,
    progress: Callable[[], None] | None = None,
) -> list[Outcome]:
    """Check every path (or document already read), in parallel when it pays; outcomes come
    back in the order given.

    `progress` is called once per finished proposal (for a progress bar).
    """
    jobs = min(jobs or os.cpu_count() or 1, len(paths)) or 1
    if jobs == 1 or len(paths) < MIN_PARALLEL:
        _init(settings)
        return list(_tick(map(_check_one, paths), progress))
    from concurrent.futures import ProcessPoolExecutor  # only for a batch: 10 ms to import

    chunk = max(1, min(64, len(paths) // (jobs * 8)))
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=_context(), initializer=_init_worker, initargs=(settings,)
    ) as pool:
        return list(_tick(pool.map(_check_one, paths, chunksize=chunk), progress))


def _tick(outcomes: Iterable[Outcome], progress: Callable[[], None] | None) -> Iterable[Outcome]:
    for outcome in outcomes:
        if progress is not None:
            progress()
        yield outcome


def _context() -> multiprocessing.context.BaseContext:
    import multiprocessing

    from icorules.engines import durable as engine

    if engine.engine_started() or "fork" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    return multiprocessing.get_context("fork")


_settings: Settings | None = None


def _init(settings: Settings) -> None:
    global _settings
    _settings = settings


def _init_worker(settings: Settings) -> None:
    """A worker process starts: the settings (rules, market, waivers) arrive once, the rules
    are registered with this process's engine before the first proposal, and everything made
    so far is moved out of the garbage collector's sight (it lives as long as the worker, and
    each collection would otherwise walk the rules, the market and every module's objects)."""
    from icorules.engines import get_backend

    _init(settings)
    get_backend("durable_rules").prepare(settings.rulesets)
    gc.collect()
    gc.freeze()


def _check_one(source: str | Document) -> Outcome:
    settings = _settings
    assert settings is not None, "_init runs first in every worker"
    path = source.name if isinstance(source, Document) else source
    if isinstance(source, str) and os.path.isdir(source):
        suffixes = ", ".join(PROPOSAL_SUFFIXES)
        return Outcome(
            path,
            problems=(
                Problem(path, None, None, f"no proposal files ({suffixes}) in this directory"),
            ),
        )
    try:
        result = run_check(
            source,
            rulesets=settings.rulesets,
            market=settings.market,
            waivers=list(settings.waivers),
            timing=settings.timing,
            explain=settings.explain,
            explain_rules=settings.explain_rules,
            limits=settings.limits,
            select=settings.select,
            ignore=settings.ignore,
        )
    except InputError as exc:
        return Outcome(path, problems=tuple(exc.problems))
    except EngineError as exc:
        return Outcome(path, internal_error=str(exc))
    report = result.report
    part = None
    if settings.render is not None:
        part = renderer(settings.render).part(result, settings.options)
    return Outcome(
        path,
        proposal=report.proposal,
        summary=report.summary,
        part=part,
        report=report if settings.keep_reports else None,
        waivers_used=result.waivers_used,
    )


def waiver_warnings(settings: Settings, outcomes: Sequence[Outcome], file: str) -> list[str]:
    """What a run says about its waiver file as a whole: waivers that have expired, waivers
    for any proposal that matched no finding in any of them (a waiver for one named proposal
    is reported by that proposal's check), and waivers whose proposal id looks misspelt."""
    from icorules.results.waivers import proposal_warnings

    used = {i for o in outcomes for i in o.waivers_used}
    checked = [o.proposal.id for o in outcomes if o.proposal is not None]
    warnings = proposal_warnings(settings.waivers, checked, file)
    for i, waiver in enumerate(settings.waivers):
        if waiver.expired():
            warnings.append(
                f"{file}: waivers[{i}] ({waiver.describe()}) expired on {waiver.expires} and no "
                "longer applies"
            )
        elif waiver.proposal is None and i not in used:
            warnings.append(f"{file}: waivers[{i}] ({waiver.describe()}) matched no finding")
    return warnings
