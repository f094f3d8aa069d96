"""The reference backend: typed conditions (icorules.rules.ir) evaluated in plain Python.

A second backend (`icorules.check(..., engine="reference")`): the oracle the durable_rules
backend is tested against, the floor benchmarks compare it with, and a fallback where the
durable_rules C extension cannot load. Explain and lint evaluate conditions with `holds` and
`value` from here, so what they say cannot disagree with it.

Each condition is turned into a Python closure once per bundle, with its rule's parameter
values; facts are grouped by kind, so a rule only looks at the facts of its kinds. A test of a
field the fact does not have is false, as in durable_rules. It holds no state between calls,
so threads need no lock.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from icorules.engines.base import Match, Record, RuleProblem, derived_record
from icorules.rules import ir

if TYPE_CHECKING:
    from icorules.rules.loader import Rule, RuleBundle

Test = Callable[[Mapping[str, Any]], bool]
Value = Callable[[Mapping[str, Any]], Any]

_CMP: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
MISSING: Any = object()  # a field the fact does not have: every comparison with it is false


def compile_value(value: ir.Value, params: Mapping[str, Any]) -> Value:
    """A value in a condition, for one fact: a field, a constant, a parameter, arithmetic."""
    if isinstance(value, ir.FieldRef):
        name = value.name
        return lambda fact: fact.get(name, MISSING)
    if ir.fixed(value):
        constant = ir.param_value(value, params)
        return lambda fact: constant
    assert isinstance(value, ir.Arith)
    op, left, right = (
        value.op,
        compile_value(value.left, params),
        compile_value(value.right, params),
    )

    def arithmetic(fact: Mapping[str, Any]) -> Any:
        a, b = left(fact), right(fact)
        return MISSING if a is MISSING or b is MISSING else ir.fold(op, a, b)

    return arithmetic


def compile_test(cond: ir.Cond, params: Mapping[str, Any]) -> Test:
    """A condition as a predicate over one fact, with these parameter values."""
    if isinstance(cond, ir.BoolOp):
        parts = [compile_test(part, params) for part in cond.parts]
        return _all(parts) if cond.op == "and" else _any(parts)
    name = cond.left.name
    if isinstance(cond, ir.Member):
        choices = ir.choice_values(cond, params)
        negated = cond.negated

        def member(fact: Mapping[str, Any]) -> bool:
            left = fact.get(name, MISSING)
            return left is not MISSING and (left in choices) != negated

        return member
    func, right = _CMP[cond.op], compile_value(cond.right, params)

    def compare(fact: Mapping[str, Any]) -> bool:
        left, value = fact.get(name, MISSING), right(fact)
        return left is not MISSING and value is not MISSING and bool(func(left, value))

    return compare


def _all(parts: list[Test]) -> Test:
    if len(parts) == 1:
        return parts[0]

    def every(fact: Mapping[str, Any]) -> bool:  # a loop, not all(<generator>): half the cost
        for part in parts:  # noqa: SIM110
            if not part(fact):
                return False
        return True

    return every


def _any(parts: list[Test]) -> Test:
    def some(fact: Mapping[str, Any]) -> bool:
        for part in parts:  # noqa: SIM110
            if part(fact):
                return True
        return False

    return some


def holds(cond: ir.Cond, fact: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
    """Whether `fact` satisfies `cond` (compiled each time: not for hot loops)."""
    return compile_test(cond, params)(fact)


def value(expr: ir.Value, fact: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
    """A value's worth for one fact, or MISSING (rules/explain.py shows it)."""
    return compile_value(expr, params)(fact)


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
        return _run(list(prepared.rules), facts)


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
