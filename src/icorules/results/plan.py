"""What a check's report takes from its rule bundle alone, worked out once per bundle.

Which rules need a market or a newer proposal format, their not-evaluated entries, the rule
ids and the rulesets' rows are the same for every check with a bundle, and a bundle never
changes: a check (every bid of a batch) looks them up here instead of going over the rules
again (a generated bid, with ~20 not-evaluated entries: 77 -> 11 us in one busy spell).
The entries are frozen models, shared by the reports that list them.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path

from icorules.inputs.formats import FORMAT_1_NEEDS
from icorules.results.findings import construct
from icorules.results.report import NotEvaluated, RulesetInfo
from icorules.rules.loader import RuleBundle, bundled_ruleset_dir

# Areas whose not-evaluated entries are kept per bundle: PCT codes are a few hundred, but a
# proposal may name any code, so the cache is emptied when it holds more than this many.
AREAS_KEPT = 1024
OLDER = f"the proposal is in format 1: {FORMAT_1_NEEDS}"  # format 1 is the only older one


class ReportPlan:
    """A bundle's rules as a report lists them (see the module docstring)."""

    def __init__(self, bundle: RuleBundle) -> None:
        self.ids: tuple[str, ...] = tuple(rule.id for rule in bundle.rules)
        self.market_rules: tuple[str, ...] = tuple(r.id for r in bundle.rules if r.needs_market)
        self._formats = tuple((r.id, r.needs_format) for r in bundle.rules if r.needs_format > 1)
        self.rulesets: tuple[RulesetInfo, ...] = tuple(
            construct(RulesetInfo, name=r.name, version=r.version, file=short_file(r.file))
            for r in bundle.rulesets
        )
        self._older: dict[int, tuple[NotEvaluated, ...]] = {}
        self._areas: dict[tuple[str, str], tuple[NotEvaluated, ...]] = {}

    def newer_format(self, format_version: int) -> list[str]:
        """Ids of the rules that need a newer format than `format_version`."""
        return [rule for rule, needs in self._formats if needs > format_version]

    def not_evaluated(
        self, format_version: int, areas: Sequence[str], reason: str, ignored: Iterable[str]
    ) -> list[NotEvaluated]:
        """The rules a proposal in `format_version` is too old for, then each rule that needs
        market data for each of `areas` (rule by rule, areas in order), leaving out `ignored`."""
        older = self._older.get(format_version)
        if older is None:
            older = self._older[format_version] = tuple(
                construct(NotEvaluated, rule=rule, reason=OLDER)
                for rule in self.newer_format(format_version)
            )
        found = [*older]
        if areas and self.market_rules:
            per_area = [self._area(area, reason) for area in areas]
            found += [row for rows in zip(*per_area, strict=True) for row in rows]
        if ignored:
            left_out = set(ignored)
            return [row for row in found if row.rule not in left_out]
        return found

    def _area(self, area: str, reason: str) -> tuple[NotEvaluated, ...]:
        rows = self._areas.get((area, reason))
        if rows is None:
            if len(self._areas) >= AREAS_KEPT:
                self._areas.clear()
            rows = self._areas[area, reason] = tuple(
                construct(NotEvaluated, rule=rule, pct_area=area, reason=reason)
                for rule in self.market_rules
            )
        return rows


_PLANS: weakref.WeakKeyDictionary[RuleBundle, ReportPlan] = weakref.WeakKeyDictionary()
_plans_lock = threading.Lock()


def report_plan(bundle: RuleBundle) -> ReportPlan:
    """The bundle's plan, made on its first check (bundles are immutable)."""
    plan = _PLANS.get(bundle)
    if plan is None:
        with _plans_lock:  # threads (the service, a library's pool) check at once
            plan = _PLANS.get(bundle)
            if plan is None:
                plan = _PLANS[bundle] = ReportPlan(bundle)
    return plan


@functools.lru_cache(maxsize=256)
def short_file(file: str) -> str:
    """Bundled ruleset files are reported relative to the bundle, so reports do not vary by
    install location."""
    path = Path(file)
    try:
        return f"<bundled>/{path.resolve().relative_to(bundled_ruleset_dir().resolve())}"
    except ValueError:
        return file
