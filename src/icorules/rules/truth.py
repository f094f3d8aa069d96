"""Static truth for lint (RL006/RL007): is a condition, or a part of one, never or always true?

Decided on the typed condition (rules/ir.py), the form every backend runs: it is put in
disjunctive normal form and each conjunction is checked per field (number bounds, equalities,
the fixed values of true/false and choice fields, days between dates). Parameters are taken at
the values the rule has. Comparisons between two fields or with arithmetic on a field are
treated as unknown, so lint only reports what it can prove.
"""

from __future__ import annotations

import ast
import datetime as dt
import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any

from icorules.analysis.facts import FieldType, field_types
from icorules.rules import ir
from icorules.rules.condition import compile_condition
from icorules.rules.syntax import ExpressionError

MAX_CONJUNCTIONS = 512
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
Atom = tuple[str, str, Any]  # (operator, field name, value)
_OPAQUE: list[list[Atom]] = [[]]  # a test lint cannot reason about: satisfiable either way


def static_verdicts(text: str, kind: str, params: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    """("never" | "always", the part's text, whether it is the whole condition), outermost
    parts first; nothing inside a part already reported."""
    fields = field_types(kind)
    source = text.strip()
    try:  # compiling first applies the length and depth limits before Python's parser recurses
        compile_condition(source, fields, params, kind)
        tree = ast.parse(source, mode="eval").body
    except (SyntaxError, ExpressionError):
        return []
    out: list[tuple[str, str, bool]] = []

    def visit(node: ast.AST, whole: bool) -> None:
        segment = " ".join((ast.get_source_segment(source, node) or "").split())
        try:
            compiled = compile_condition(segment, fields, params, kind).condition
        except ExpressionError:
            return
        verdict = _verdict(compiled, fields, params)
        if verdict is not None:
            out.append((verdict, segment, whole))
            return
        inner = node.operand if isinstance(node, ast.UnaryOp) else node
        if isinstance(inner, ast.BoolOp):
            for child in inner.values:
                visit(child, False)

    visit(tree, True)
    return out


def _verdict(
    condition: ir.Cond, fields: Mapping[str, FieldType], params: Mapping[str, Any]
) -> str | None:
    never = _dnf(condition, False, params)
    if never is not None and not any(_satisfiable(c, fields, False) for c in never):
        return "never"
    always = _dnf(condition, True, params)
    if always is not None and not any(_satisfiable(c, fields, True) for c in always):
        return "always"
    return None


def _dnf(cond: ir.Cond, negate: bool, params: Mapping[str, Any]) -> list[list[Atom]] | None:
    """The (negated) condition as a list of conjunctions of atoms; None if too large."""
    if isinstance(cond, ir.BoolOp):
        parts = [_dnf(c, negate, params) for c in cond.parts]
        known = [p for p in parts if p is not None]
        if len(known) != len(parts):
            return None
        if (cond.op == "and") == negate:  # a disjunction
            return [c for p in known for c in p]
        out: list[list[Atom]] = [[]]
        for part in known:
            out = [a + b for a, b in itertools.product(out, part)]
            if len(out) > MAX_CONJUNCTIONS:
                return None
        return out
    name = cond.left.name
    if isinstance(cond, ir.Member):
        values = ir.choice_values(cond, params)
        if cond.negated == negate:  # in: one of the values
            return [[("==", name, v)] for v in values]
        return [[("!=", name, v) for v in values]]
    if not ir.fixed(cond.right):
        return _OPAQUE
    op = ir.NEGATE[cond.op] if negate else cond.op
    return [[(op, name, ir.param_value(cond.right, params))]]


def _satisfiable(atoms: list[Atom], fields: Mapping[str, FieldType], complement: bool) -> bool:
    """Whether some fact meets every atom. In the complement of a condition an absent value
    meets every (negated) test on it, because every comparison on an absent value is false."""
    by_field: dict[str, list[tuple[str, Any]]] = {}
    for op, name, value in atoms:
        by_field.setdefault(name, []).append((op, value))
    for name, tests in by_field.items():
        ftype = fields.get(name)
        if ftype is None or (complement and ftype.nullable):
            continue
        if not _field_satisfiable(ftype, tests):
            return False
    return True


def _field_satisfiable(ftype: FieldType, tests: list[tuple[str, Any]]) -> bool:
    def meets(value: Any) -> bool:
        return all(_COMPARE[op](value, bound) for op, bound in tests)

    if ftype.base is bool:
        return any(meets(v) for v in (True, False))
    if ftype.choices:
        return any(meets(v) for v in ftype.choices)
    equal = {v for op, v in tests if op == "=="}
    if equal:
        return len(equal) == 1 and meets(next(iter(equal)))
    if ftype.base is str:
        return True  # unlimited text: only a clash of equalities is impossible
    if ftype.base is dt.date:  # days: whole numbers in order, with nothing between neighbours
        tests = [(op, v.toordinal()) for op, v in tests]
    excluded = {v for op, v in tests if op == "!="}
    lo, lo_strict, hi, hi_strict = _bounds(tests)
    if ftype.base is float:
        if lo > hi or (lo == hi and (lo_strict or hi_strict)):
            return False
        return not (lo == hi and lo in excluded)
    return _whole_number_between(lo, lo_strict, hi, hi_strict, excluded)


def _bounds(tests: list[tuple[str, Any]]) -> tuple[float, bool, float, bool]:
    """The tightest lower and upper bound the tests set, and whether each is strict."""
    lo, lo_strict, hi, hi_strict = -math.inf, False, math.inf, False
    for op, bound in tests:
        if op in (">", ">=") and (bound > lo or (bound == lo and op == ">")):
            lo, lo_strict = bound, op == ">"
        if op in ("<", "<=") and (bound < hi or (bound == hi and op == "<")):
            hi, hi_strict = bound, op == "<"
    return lo, lo_strict, hi, hi_strict


def _whole_number_between(
    lo: float, lo_strict: bool, hi: float, hi_strict: bool, excluded: set[Any]
) -> bool:
    """Whether a whole number (or a day) lies within the bounds and is not excluded."""
    low = lo if math.isinf(lo) else math.floor(lo) + 1 if lo_strict else math.ceil(lo)
    high = hi if math.isinf(hi) else math.ceil(hi) - 1 if hi_strict else math.floor(hi)
    if low > high:
        return False
    if math.isinf(low) or math.isinf(high) or high - low + 1 > len(excluded):
        return True
    return any(v not in excluded for v in range(int(low), int(high) + 1))
