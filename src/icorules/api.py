"""The whole flow in one call.

proposal -> model -> graph -> facts -> engine -> findings -> report
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from icorules.analysis.derive import derive_rows
from icorules.analysis.fact_base import Fact, FactsByKey, made
from icorules.analysis.graph import build_graph
from icorules.engines import Match, check_cost, get_backend
from icorules.errors import InputError, Problem, did_you_mean
from icorules.inputs.documents import Document
from icorules.inputs.market import Market, load_market
from icorules.inputs.market_match import reconcile
from icorules.inputs.proposal import Proposal, read_proposal
from icorules.limits import DEFAULT_LIMITS, Limits
from icorules.results.findings import FactKey, Finding, build_findings, construct
from icorules.results.outcome import CheckResult
from icorules.results.plan import ReportPlan, report_plan
from icorules.results.report import (
    NO_MARKET,
    NOT_COVERED,
    MarketRow,
    NotEvaluated,
    ProposalInfo,
    Report,
    Summary,
)
from icorules.results.waivers import (
    Waiver,
    expired_warnings,
    load_waivers,
    proposal_warnings,
    split_waived,
)
from icorules.rules.loader import RuleBundle, load_rulesets
from icorules.rules.templates import Budget, ReportTooLarge

ProposalSource = str | Path | dict[str, Any] | Proposal | Document
RulesetSource = RuleBundle | Iterable[str | Path] | None
MarketSource = str | Path | dict[str, Any] | Market | None
WaiverSource = str | Path | dict[str, Any] | list[Waiver] | None
Backend = Literal["durable_rules", "reference"]

_default_bundle: RuleBundle | None = None


def default_rulesets() -> RuleBundle:
    """The bundled prospectus-2008 rulesets, loaded once per process (compiled once and kept
    between runs: icorules.rule_cache)."""
    global _default_bundle
    if _default_bundle is None:
        from icorules.rule_cache import bundled_rules

        _default_bundle = bundled_rules()
    return _default_bundle


def resolve_rulesets(
    rulesets: RulesetSource,
    params: Mapping[str, Any] | None,
    limits: Limits = DEFAULT_LIMITS,
) -> RuleBundle:
    if isinstance(rulesets, RuleBundle):
        if params:
            raise ValueError("pass params to load_rulesets() when giving a loaded RuleBundle")
        return rulesets
    if rulesets is None and not params:
        return default_rulesets()  # the bundled set is not input: the limits are for inputs
    return load_rulesets(None if rulesets is None else list(rulesets), params, limits=limits)


def check(
    proposal: ProposalSource,
    *,
    rulesets: RulesetSource = None,
    market: MarketSource = None,
    params: Mapping[str, Any] | None = None,
    waivers: WaiverSource = None,
    timing: bool = False,
    engine: Backend = "durable_rules",
    explain: bool = False,
    explain_rules: Sequence[str] = (),
    limits: Limits = DEFAULT_LIMITS,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
) -> Report:
    """Check one proposal. Raises InputError (with every problem located) for bad input.

    `proposal` is a path to JSON/YAML, a dict, or a Proposal. `rulesets` is a loaded
    RuleBundle (fastest for many checks), paths to ruleset files or directories, or None for
    the bundled ruleset; `market` is the optional market context (a path, dict or Market: the
    other providers in the local health economy); `params` overrides ruleset parameters;
    `waivers` (a path, dict or list of Waiver) accepts findings with a recorded reason.
    `engine="reference"` evaluates the same compiled rules in plain Python instead of
    durable_rules (same findings; see icorules.engines.reference). `explain=True` gives every
    finding an `explanation` (the condition with the values it read); `explain_rules` does so
    for those rules' findings and explains each subject they did not fire on (`explained`).
    `limits` caps what each input may cost (icorules.limits.Limits; defaults in docs/security.md).
    `select` keeps only the rules whose ids start with one of its prefixes (`GOV`, `MKT-00`);
    `ignore` leaves out those that do: their findings are dropped and they are listed under
    `ignored`, never as passed.
    """
    return run_check(
        proposal,
        rulesets=rulesets,
        market=market,
        params=params,
        waivers=waivers,
        timing=timing,
        engine=engine,
        explain=explain,
        explain_rules=explain_rules,
        limits=limits,
        select=select,
        ignore=ignore,
    ).report


def run_check(
    proposal: ProposalSource,
    *,
    rulesets: RulesetSource = None,
    market: MarketSource = None,
    params: Mapping[str, Any] | None = None,
    waivers: WaiverSource = None,
    timing: bool = False,
    engine: Backend = "durable_rules",
    explain: bool = False,
    explain_rules: Sequence[str] = (),
    limits: Limits = DEFAULT_LIMITS,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
) -> CheckResult:
    """`check`, returning the report with what renderers need besides it (icorules.results
    .outcome.CheckResult): the graph, the rules and the parsed proposal file."""
    started = time.perf_counter()
    bundle = resolve_rulesets(rulesets, params, limits)
    ignored = left_out(bundle, select, ignore)
    model, document = read_proposal(proposal, limits=limits)
    context = _market_context(market, limits) if market is not None else None
    warnings: list[str] = []
    if context is not None:
        errors, warnings = reconcile(model, context)
        if errors:
            raise InputError(errors)
    partner_graph = build_graph(model, context)
    warnings = [*warnings, *partner_graph.warnings]
    # The engine gets the rows' values as they are (engines.normalized); the fact objects are
    # made only for what findings show.
    rows = derive_rows(partner_graph)
    records = [values for _, values in rows]
    check_cost(bundle, records, limits, document.name if document else "<proposal>")
    backend = get_backend(engine)
    matches = backend.run(backend.prepare(bundle), records)
    by_key = FactsByKey(rows)
    plan = report_plan(bundle)  # what the report takes from the rules alone: once per bundle
    not_evaluated = _not_evaluated(plan, model, context, ignored)
    skipped = [*plan.market_rules] if context is None else []
    skipped += plan.newer_format(model.format_version)
    dropped = {*skipped, *ignored}
    findings = [
        f for f in _findings(matches, bundle, by_key, limits, document) if f.rule not in dropped
    ]
    explained = None
    if explain or explain_rules:
        from icorules.rules.explain import explain_check

        findings, explained = explain_check(
            bundle,
            [made(row) for row in rows],
            matches,
            findings,
            every_finding=explain,
            rule_ids=list(explain_rules),
            not_evaluated=skipped,
        )
    fired = {f.rule for f in findings}
    accepted = _waivers(waivers, bundle, limits)
    findings, waived, used = split_waived(model.id, findings, accepted)
    warnings += [
        f"waiver for {w.rule}{f' on {w.subject}' if w.subject else ''} matched no finding"
        for i, w in enumerate(accepted)
        if w.proposal == model.id and i not in used and not w.expired()
    ]
    warnings += expired_warnings(model.id, findings, accepted)
    if not isinstance(waivers, list):  # read here for this one check, so it is every proposal
        warnings += proposal_warnings(accepted, [model.id])
    not_run = {n.rule for n in not_evaluated}
    unfinished = not_run | set(ignored)
    passed = [i for i in plan.ids if i not in fired and i not in unfinished]
    # Values worked out here, of the fields' types: built without validation (see findings.py).
    report = construct(
        Report,
        proposal=construct(
            ProposalInfo,
            id=model.id,
            name=model.name,
            file=document.name if document is not None else "",
        ),
        rulesets=[*plan.rulesets],
        findings=findings,
        waived=waived,
        explained=explained if explain_rules else None,
        passed=passed,
        not_evaluated=not_evaluated,
        ignored=ignored,
        warnings=warnings,
        markets=[
            construct(
                MarketRow,
                pct_area=m.area,
                service_line=m.service,
                partners=list(m.partners),
                other_providers=len(m.outside),
                partner_share=float(round(m.concentration.partner_share, 6)),
                basis=m.concentration.basis,
                hhi_before=float(round(m.concentration.hhi_pre, 2)),
                hhi_after=float(round(m.concentration.hhi_post, 2)),
                alternative_nearby=m.alternative_nearby,
            )
            for m in partner_graph.markets.values()
        ],
        summary=construct(
            Summary,
            error=sum(f.severity == "error" for f in findings),
            warning=sum(f.severity == "warning" for f in findings),
            info=sum(f.severity == "info" for f in findings),
            passed=len(passed),
            not_evaluated=len(not_run),
            waived=len(waived),
            ignored=len(ignored),
        ),
        elapsed_ms=round((time.perf_counter() - started) * 1000, 3) if timing else None,
    )
    return CheckResult(report, bundle, partner_graph, document, frozenset(used))


# Markets read or checked here, by identity (a few: a service offers several). A Market given
# again (every check of a batch, a library's loop, the command line's market, read by
# load_market_file before its checks) is the same object: its cross-references were checked
# when it was read, and writing out and checking the national market again cost ~35 ms (in a
# fresh process ~100 ms) of each check.
_checked_markets: dict[int, Market] = {}
_CHECKED_KEPT = 8
_checked_lock = threading.Lock()


def _findings(
    matches: Sequence[Match],
    bundle: RuleBundle,
    facts: Mapping[FactKey, Fact],
    limits: Limits,
    document: Document | None,
) -> list[Finding]:
    """The findings, within the report_chars limit counted while their text is filled in."""
    try:
        return build_findings(matches, bundle, facts, Budget(limits.report_chars))
    except ReportTooLarge:
        found = "the messages and fixes of this proposal's findings are longer than a report may be"
        where = document.name if document is not None else "<proposal>"
        problem = Problem(where, None, None, limits.exceeded("report_chars", found))
        raise InputError([problem]) from None


def _market_context(source: MarketSource, limits: Limits) -> Market:
    assert source is not None
    return load_market_file(source, limits)


def load_market_file(
    source: str | Path | dict[str, Any] | Market, limits: Limits = DEFAULT_LIMITS
) -> Market:
    """A market from a market file (JSON or YAML), a compiled one (`.icm`, from `icorules
    market compile`), a dict or a Market; checked once, so a check given it is not checked
    again."""
    if isinstance(source, Market) and _checked_markets.get(id(source)) is source:
        return source
    market: Market | None = None
    if isinstance(source, str | Path):
        from icorules.compiled_market import is_compiled, load_compiled

        if is_compiled(source):
            market = load_compiled(source, limits)
    if market is None:
        market = load_market(source, limits=limits)
    with _checked_lock:  # threads (the service, a library's pool) read markets at once
        _checked_markets[id(market)] = market
        while len(_checked_markets) > _CHECKED_KEPT:
            del _checked_markets[next(iter(_checked_markets))]
    return market


def _not_evaluated(
    plan: ReportPlan, proposal: Proposal, market: Market | None, ignored: Sequence[str]
) -> list[NotEvaluated]:
    """Rules that need market data, for each of the bid's PCT areas that has none: all of
    them without a market file, those the file does not list with one."""
    if market is None:
        areas, reason = [a.code for a in proposal.pct_areas], NO_MARKET
    else:
        covered = {a.code for a in market.pct_areas}
        areas = [a.code for a in proposal.pct_areas if a.code not in covered]
        reason = NOT_COVERED
    return plan.not_evaluated(proposal.format_version, areas, reason, ignored)


def left_out(bundle: RuleBundle, select: Sequence[str], ignore: Sequence[str]) -> list[str]:
    """Ids of the rules --select/--ignore leave out; a prefix that names no rule is an error
    (a misspelt prefix would otherwise quietly select nothing)."""
    if not select and not ignore:
        return []
    ids = [rule.id for rule in bundle.rules]
    for option, prefixes in (("--select", select), ("--ignore", ignore)):
        for prefix in prefixes:
            if not any(i.startswith(prefix) for i in ids):
                hint = did_you_mean(prefix, sorted({i.split("-")[0] for i in ids} | set(ids)))
                raise InputError.single(option, f"no loaded rule id starts with '{prefix}'{hint}")
    return [
        i
        for i in ids
        if (select and not any(i.startswith(p) for p in select))
        or any(i.startswith(p) for p in ignore)
    ]


def _waivers(
    source: WaiverSource, bundle: RuleBundle, limits: Limits = DEFAULT_LIMITS
) -> list[Waiver]:
    if source is None:
        return []
    if isinstance(source, list):
        return source
    return load_waivers(source, bundle, limits=limits)
