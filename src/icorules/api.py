"""The whole flow in one call.

proposal -> model -> graph -> facts -> engine -> findings -> report
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from icorules.analysis.derive import derive_facts
from icorules.analysis.graph import build_graph
from icorules.engines import check_cost, fact_record, get_backend
from icorules.errors import InputError
from icorules.inputs.market import Market, load_market, reconcile
from icorules.inputs.proposal import Proposal, read_proposal
from icorules.limits import DEFAULT_LIMITS, Limits
from icorules.results.findings import build_findings
from icorules.results.outcome import CheckResult
from icorules.results.report import MarketRow, ProposalInfo, Report, RulesetInfo, Summary
from icorules.results.waivers import Waiver, expired_warnings, load_waivers, split_waived
from icorules.rules.loader import RuleBundle, load_rulesets

ProposalSource = str | Path | dict[str, Any] | Proposal
RulesetSource = RuleBundle | Iterable[str | Path] | None
MarketSource = str | Path | dict[str, Any] | Market | None
WaiverSource = str | Path | dict[str, Any] | list[Waiver] | None
Backend = Literal["durable_rules", "reference"]

_default_bundle: RuleBundle | None = None


def default_rulesets() -> RuleBundle:
    """The bundled prospectus-2008 rulesets, loaded once per process."""
    global _default_bundle
    if _default_bundle is None:
        _default_bundle = load_rulesets()
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
) -> CheckResult:
    """`check`, returning the report with what renderers need besides it (icorules.results
    .outcome.CheckResult): the graph, the rules and the parsed proposal file."""
    started = time.perf_counter()
    bundle = resolve_rulesets(rulesets, params, limits)
    model, document = read_proposal(proposal, limits=limits)
    context = load_market(market, limits=limits) if market is not None else None
    warnings: list[str] = []
    if context is not None:
        errors, warnings = reconcile(model, context)
        if errors:
            raise InputError(errors)
    partner_graph = build_graph(model, context)
    warnings = [*warnings, *partner_graph.warnings]
    facts = derive_facts(partner_graph)
    records = [fact_record(f) for f in facts]
    check_cost(bundle, records, limits, document.name if document else "<proposal>")
    backend = get_backend(engine)
    matches = backend.run(backend.prepare(bundle), records)
    by_key = {(f.kind, f.id): f for f in facts}
    skipped = [r.id for r in bundle.rules if r.needs_market and context is None]
    findings = [f for f in build_findings(matches, bundle, by_key) if f.rule not in skipped]
    explained = None
    if explain or explain_rules:
        from icorules.rules.explain import explain_check

        findings, explained = explain_check(
            bundle,
            facts,
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
    passed = [r.id for r in bundle.rules if r.id not in fired and r.id not in skipped]
    report = Report(
        proposal=ProposalInfo(
            id=model.id,
            name=model.name,
            file=str(proposal) if isinstance(proposal, str | Path) else "",
        ),
        rulesets=[
            RulesetInfo(name=r.name, version=r.version, file=_short(r.file))
            for r in bundle.rulesets
        ],
        findings=findings,
        waived=waived,
        explained=explained if explain_rules else None,
        passed=passed,
        not_evaluated=skipped,
        warnings=warnings,
        markets=[
            MarketRow(
                pct_area=m.area,
                service_line=m.service,
                partners=list(m.partners),
                other_providers=len(m.outside),
                partner_share=round(m.concentration.partner_share, 6),
                basis=m.concentration.basis,
                hhi_before=round(m.concentration.hhi_pre, 2),
                hhi_after=round(m.concentration.hhi_post, 2),
                alternative_nearby=m.alternative_nearby,
            )
            for m in partner_graph.markets.values()
        ],
        summary=Summary(
            error=sum(f.severity == "error" for f in findings),
            warning=sum(f.severity == "warning" for f in findings),
            info=sum(f.severity == "info" for f in findings),
            passed=len(passed),
            not_evaluated=len(skipped),
            waived=len(waived),
        ),
        elapsed_ms=round((time.perf_counter() - started) * 1000, 3) if timing else None,
    )
    return CheckResult(report, bundle, partner_graph, document)


def _waivers(
    source: WaiverSource, bundle: RuleBundle, limits: Limits = DEFAULT_LIMITS
) -> list[Waiver]:
    if source is None:
        return []
    if isinstance(source, list):
        return source
    return load_waivers(source, bundle, limits=limits)


@functools.lru_cache(maxsize=256)
def _short(file: str) -> str:
    """Bundled ruleset files are reported relative to the bundle, so reports do not vary by
    install location."""
    from icorules.rules.loader import bundled_ruleset_dir

    path = Path(file)
    try:
        return f"<bundled>/{path.resolve().relative_to(bundled_ruleset_dir().resolve())}"
    except ValueError:
        return file
