"""The same compiled rules evaluated in plain Python, without durable_rules.

A second backend (`icorules.check(..., engine="reference")`): the oracle the durable_rules
backend is tested against, the floor benchmarks compare it with, and a fallback where the
durable_rules C extension cannot load. Each compiled condition is turned into a Python closure
once per bundle; facts are grouped by kind, so a rule only looks at the facts of its kinds.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from icorules.engines import Match
from icorules.engines.durable import pattern_kind
from icorules.rules.loader import SUBJECT, Rule, RuleBundle

Fact = dict[str, Any]
Test = Callable[[Fact], bool]
Value = Callable[[Fact], Any]

_CMP = {
    "$lt": operator.lt,
    "$lte": operator.le,
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$neq": operator.ne,
}
_ARITH = {
    "$add": operator.add,
    "$sub": operator.sub,
    "$mul": operator.mul,
    "$div": operator.truediv,
}
_MISSING = object()  # a field the fact does not have: every comparison with it is false


def compile_value(expr: Any) -> Value:
    """A value in a condition: another field of the fact (`$m`), arithmetic, or a constant."""
    if isinstance(expr, dict) and "$m" in expr:
        name = expr["$m"]
        return lambda fact: fact.get(name, _MISSING)
    if isinstance(expr, dict):
        ((op, args),) = expr.items()
        func, left, right = _ARITH[op], compile_value(args["$l"]), compile_value(args["$r"])

        def arithmetic(fact: Fact) -> Any:
            a, b = left(fact), right(fact)
            return _MISSING if a is _MISSING or b is _MISSING else func(a, b)

        return arithmetic
    return lambda fact: expr


def compile_test(condition: dict[str, Any]) -> Test:
    """A compiled condition (durable_rules JSON) as a predicate over one fact."""
    if len(condition) != 1:  # several keys in one object: all must hold
        return _all([compile_test({k: v}) for k, v in condition.items()])
    ((key, arg),) = condition.items()
    if key == "$and":
        return _all([compile_test(c) for c in arg])
    if key == "$or":
        return _any([compile_test(c) for c in arg])
    if key in _CMP:
        ((name, rhs),) = arg.items()
        return _compare(_CMP[key], name, compile_value(rhs))
    if isinstance(arg, dict):  # equality with another field or with arithmetic
        return _compare(operator.eq, key, compile_value(arg))
    return lambda fact: key in fact and bool(fact[key] == arg)


def _compare(func: Callable[[Any, Any], Any], name: str, right: Value) -> Test:
    def compare(fact: Fact) -> bool:
        left, value = fact.get(name, _MISSING), right(fact)
        return left is not _MISSING and value is not _MISSING and bool(func(left, value))

    return compare


def _all(parts: list[Test]) -> Test:
    if len(parts) == 1:
        return parts[0]

    def every(fact: Fact) -> bool:  # a loop, not all(<generator>): half the cost per fact
        for part in parts:  # noqa: SIM110
            if not part(fact):
                return False
        return True

    return every


def _any(parts: list[Test]) -> Test:
    def some(fact: Fact) -> bool:
        for part in parts:  # noqa: SIM110
            if part(fact):
                return True
        return False

    return some


def holds(condition: dict[str, Any], fact: Fact) -> bool:
    """Whether `fact` satisfies a compiled condition (compiled each time: not for hot loops)."""
    return compile_test(condition)(fact)


def _value(expr: Any, fact: Fact) -> Any:
    """A condition's value for one fact, or _MISSING (rules/explain.py shows it)."""
    return compile_value(expr)(fact)


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    # (alias, fact kind, test of the rest): facts are grouped by kind, so the kind test goes
    patterns: tuple[tuple[str, str, Test], ...]
    kinds: frozenset[str]


_CACHE: weakref.WeakKeyDictionary[RuleBundle, list[_Compiled]] = weakref.WeakKeyDictionary()


def _compiled(bundle: RuleBundle) -> list[_Compiled]:
    if bundle not in _CACHE:
        out = []
        for rule in bundle.rules:
            patterns = tuple(
                (alias, pattern_kind(cond), compile_test({"$and": cond["$and"][1:]}))
                for alias, cond in rule.patterns
            )
            out.append(_Compiled(rule, patterns, frozenset(k for _, k, _ in patterns)))
        _CACHE[bundle] = out
    return _CACHE[bundle]


def evaluate(bundle: RuleBundle, facts: Sequence[Fact]) -> set[tuple[str, str]]:
    """(rule id, subject engine id) for every match."""
    return {(m.rule, m.subject["id"]) for m in ReferenceEngine().run(bundle, facts)}


class ReferenceEngine:
    """Stateless, so safe from any number of threads at once."""

    def run(self, bundle: RuleBundle, facts: Sequence[Fact]) -> list[Match]:
        """Every rule match, chaining derived facts to a fixpoint, one per (rule, subject)."""
        return _run(_compiled(bundle), facts)


def _run(rules: list[_Compiled], facts: Sequence[Fact]) -> list[Match]:
    by_kind: dict[str, list[Fact]] = {}
    for fact in facts:
        by_kind.setdefault(fact["kind"], []).append(fact)
    fired: set[tuple[str, str]] = set()
    matches: list[Match] = []
    todo = rules  # first every rule; then only those that read a kind that has new facts
    while todo:
        derived: list[Fact] = []
        for compiled in todo:
            _fire(compiled, by_kind, fired, matches, derived)
        for fact in derived:
            by_kind.setdefault(fact["kind"], []).append(fact)
        new_kinds = {f["kind"] for f in derived}
        todo = [c for c in rules if c.kinds & new_kinds]
    return matches


def _fire(
    compiled: _Compiled,
    by_kind: dict[str, list[Fact]],
    fired: set[tuple[str, str]],
    matches: list[Match],
    derived: list[Fact],
) -> None:
    """A `given` pattern only asks whether some fact matches it, so the first one stands in."""
    rule = compiled.rule
    given: dict[str, Fact] = {}
    subjects: list[Fact] = []
    for alias, kind, test in compiled.patterns:
        found = [f for f in by_kind.get(kind, ()) if test(f)]
        if not found:
            return
        if alias == SUBJECT:
            subjects = found
        else:
            given[alias] = found[0]
    for subject in subjects:
        key = (rule.id, subject["id"])
        if key in fired:
            continue
        fired.add(key)
        matches.append(Match(rule.id, subject, dict(given)))
        if rule.derive is not None:
            ref = f"{rule.id}/{subject['ref']}"
            derived.append(
                {
                    **rule.derive.fields,
                    "kind": rule.derive.kind,
                    "id": f"{rule.derive.kind}:{ref}",
                    "ref": ref,
                }
            )
