"""The reference backend: typed conditions (icorules.rules.ir) evaluated in plain Python.

A second backend (`icorules.check(..., engine="reference")`): the oracle the durable_rules
backend is tested against, the floor benchmarks compare it with, and a fallback where the
durable_rules C extension cannot load. Explain and lint evaluate conditions with `holds` and
`value` from here, so what they say cannot disagree with it.

Each condition is turned into a Python closure once per bundle, with its rule's parameter
values (icorules.engines.evaluate); facts are grouped by kind, so a rule only looks at the
facts of its kinds. A test of a field the fact does not have is false, as in durable_rules. It
holds no state between calls, so threads need no lock.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from icorules.engines.base import Match, Record, RuleProblem, derived_record, normalized
from icorules.engines.evaluate import (  # re-exported: explain and lint read them from here
    MISSING,
    Test,
    Value,
    compile_test,
    compile_value,
    holds,
    value,
)

if TYPE_CHECKING:
    from icorules.rules.loader import Rule, RuleBundle

__all__ = [
    "BACKEND",
    "MISSING",
    "Prepared",
    "ReferenceBackend",
    "Test",
    "Value",
    "compile_test",
    "compile_value",
    "evaluate",
    "holds",
    "rule_problems",
    "value",
]


def rule_problems(rule: Rule) -> list[RuleProblem]:
    """Nothing a loaded rule says is beyond plain Python."""
    return []


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    # (kind, is it the rule's own fact, test): facts are grouped by kind, so no kind test
    patterns: tuple[tuple[str, bool, Test], ...]
    kinds: frozenset[str]


@dataclass(frozen=True)
class Prepared:
    bundle: RuleBundle
    rules: tuple[_Compiled, ...]


class ReferenceBackend:
    """Stateless, so safe from any number of threads at once."""

    name = "reference"

    def __init__(self) -> None:
        self._cache: weakref.WeakKeyDictionary[RuleBundle, tuple[_Compiled, ...]] = (
            weakref.WeakKeyDictionary()
        )

    def rule_problems(self, rule: Rule) -> list[RuleProblem]:
        return rule_problems(rule)

    def prepare(self, bundle: RuleBundle) -> Prepared:
        rules = self._cache.get(bundle)
        if rules is None:
            rules = tuple(
                _Compiled(
                    rule,
                    tuple(
                        (p.kind, p.subject, compile_test(p.condition, rule.params))
                        for p in rule.patterns
                    ),
                    frozenset(p.kind for p in rule.patterns),
                )
                for rule in bundle.rules
            )
            self._cache[bundle] = rules
        return Prepared(bundle, rules)

    def run(self, prepared: Prepared, facts: Sequence[Record]) -> list[Match]:
        """Every rule match, chaining derived facts to a fixpoint, one per (rule, subject)."""
        return _run(list(prepared.rules), [normalized(fact) for fact in facts])


BACKEND = ReferenceBackend()


def evaluate(bundle: RuleBundle, facts: Sequence[Record]) -> set[tuple[str, str, str]]:
    """(rule id, subject kind, subject id) for every match."""
    matches = BACKEND.run(BACKEND.prepare(bundle), facts)
    return {(m.rule, m.subject["kind"], m.subject["id"]) for m in matches}


def _run(rules: list[_Compiled], facts: Sequence[Record]) -> list[Match]:
    by_kind: dict[str, list[Record]] = {}
    for fact in facts:
        by_kind.setdefault(fact["kind"], []).append(fact)
    fired: set[tuple[str, str]] = set()
    matches: list[Match] = []
    todo = rules  # first every rule; then only those that read a kind that has new facts
    while todo:
        derived: list[Record] = []
        for compiled in todo:
            _fire(compiled, by_kind, fired, matches, derived)
        for fact in derived:
            by_kind.setdefault(fact["kind"], []).append(fact)
        new_kinds = {f["kind"] for f in derived}
        todo = [c for c in rules if c.kinds & new_kinds]
    return matches


def _fire(
    compiled: _Compiled,
    by_kind: dict[str, list[Record]],
    fired: set[tuple[str, str]],
    matches: list[Match],
    derived: list[Record],
) -> None:
    """A `given` pattern only asks whether some fact matches it, so the first one stands in."""
    rule = compiled.rule
    given: dict[str, Record] = {}
    subjects: list[Record] = []
    for kind, subject, test in compiled.patterns:
        found = [f for f in by_kind.get(kind, ()) if test(f)]
        if not found:
            return
        if subject:
            subjects = found
        else:
            given[kind] = found[0]
    for fact in subjects:
        key = (rule.id, fact["id"])
        if key in fired:
            continue
        fired.add(key)
        matches.append(Match(rule.id, fact, dict(given)))
        if rule.derive is not None:
            derived.append(derived_record(rule.id, rule.derive, fact["id"]))
