"""Typed conditions (icorules.rules.ir) as Python predicates over one record: what the
reference backend runs, and what the cost estimate, `--explain` and lint evaluate with, so
none of them can disagree with it. A test of a field the record does not have is false, as in
durable_rules. Nothing here holds state.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from icorules.rules import ir

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
