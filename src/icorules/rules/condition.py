"""Rule conditions: readable expressions type-checked and compiled to the typed form (rules/ir).

The text is parsed with Python's `ast` (rules/syntax.py) and then walked by a whitelist:
boolean operators, comparisons (including chains and `in`), `not`, field names, `params.NAME`,
literals and simple arithmetic. Anything else is rejected with the column where it starts.
Nothing is ever evaluated as Python. Types are checked against the fact vocabulary here, so no
backend has to: an engine would silently compare "5" with 5.

Parameters stay references in the result, but their current values are checked here (types,
numbers, a zero divisor), so a rule compiles only if it can run with the values it was given.
What a particular engine can hold (how many comparisons, and so on) is its backend's business:
the loader asks each backend (icorules.engines.rule_problems).
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from icorules.analysis.facts import FieldType
from icorules.errors import did_you_mean
from icorules.limits import DEFAULT_LIMITS, Limits
from icorules.rules import ir
from icorules.rules.syntax import ExpressionError, describe, op_text, parse

__all__ = ["Compiled", "ExpressionError", "compile_condition"]

NUMBER = (int, float)
MAX_IN_LIST = 200  # values in one list: a condition is short text a person reads
MAX_NUMBER = 2**53  # facts keep 53-bit whole numbers and 4 decimal places (engines.fact_record)

# The operators a condition may use, as the typed form writes them (explain shows them too).
COMPARISONS: dict[type[ast.cmpop], ir.CompareOp] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}
ARITHMETIC: dict[type[ast.operator], ir.ArithOp] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
}


@dataclass
class Compiled:
    condition: ir.Cond
    reads: list[str] = field(default_factory=list)


def compile_condition(
    text: str,
    fields: dict[str, FieldType],
    params: Mapping[str, Any],
    kind: str,
    limits: Limits = DEFAULT_LIMITS,
) -> Compiled:
    """Compile `text` about facts of `kind`; raises ExpressionError on anything not allowed."""
    if not text.strip():
        raise ExpressionError("the condition is empty")
    tree = parse(text.strip(), limits)
    compiler = _Compiler(fields, params, kind)
    condition = compiler.condition(tree, negate=False)
    return Compiled(condition, sorted(set(compiler.reads), key=compiler.reads.index))


def _column(node: ast.AST) -> int:
    return int(getattr(node, "col_offset", -1)) + 1


class _List:
    """A list in the text (or a list parameter): only `in` takes one."""

    def __init__(self, choices: tuple[ir.Value, ...] | ir.ParamRef, values: list[Any]) -> None:
        self.choices = choices
        self.values = values


_Operand = ir.Value | _List


class _Compiler:
    def __init__(self, fields: dict[str, FieldType], params: Mapping[str, Any], kind: str) -> None:
        self.fields = fields
        self.params = params
        self.kind = kind
        self.reads: list[str] = []

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, _column(node))

    # -- boolean structure -------------------------------------------------------------

    def condition(self, node: ast.AST, negate: bool) -> ir.Cond:
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And) != negate
            parts = tuple(self.condition(v, negate) for v in node.values)
            return ir.BoolOp("and" if is_and else "or", parts, _column(node))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.condition(node.operand, not negate)
        if isinstance(node, ast.Compare):
            pairs = zip(
                [node.left, *node.comparators[:-1]], node.ops, node.comparators, strict=True
            )
            tests = tuple(self.comparison(left, op, right, negate) for left, op, right in pairs)
            if len(tests) == 1:
                return tests[0]
            return ir.BoolOp("or" if negate else "and", tests, _column(node))
        if isinstance(node, ast.Name | ast.Attribute):
            operand = self.operand(node)
            if isinstance(operand, ir.FieldRef) and operand.type.base is bool:
                return ir.Compare("==", operand, ir.Const(not negate, _column(node)), _column(node))
            if isinstance(operand, ir.FieldRef):
                raise self.fail(
                    node,
                    f"'{operand.name}' is {operand.type.label}, not true/false; "
                    "compare it with something (e.g. == or >)",
                )
            raise self.fail(node, "a condition must test a field of the fact, not only a value")
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            raise self.fail(node, "a condition that is always true or false cannot fail or pass")
        raise self.fail(
            node,
            f"{describe(node)} is not allowed in a condition; "
            "use comparisons joined by and / or / not",
        )

    def comparison(self, left: ast.AST, op: ast.cmpop, right: ast.AST, negate: bool) -> ir.Cond:
        if isinstance(op, ast.In | ast.NotIn):
            return self.membership(left, right, isinstance(op, ast.NotIn) != negate)
        if type(op) not in COMPARISONS:
            raise self.fail(
                right,
                f"the operator '{op_text(op)}' is not allowed; use == != < <= > >= in, not in",
            )
        code = COMPARISONS[type(op)]
        a, b = self.operand(left), self.operand(right)
        if not isinstance(a, ir.FieldRef):
            if not isinstance(b, ir.FieldRef):
                if any(isinstance(x, ir.Arith) and not ir.fixed(x) for x in (a, b)):
                    raise self.fail(
                        left,
                        "put the arithmetic on the other side from a single field, e.g. "
                        "'list_size > 2000 * 4' rather than 'list_size / 4 > 2000'",
                    )
                raise self.fail(left, "one side of a comparison must be a field of the fact")
            a, b, code = b, a, ir.FLIP[code]
        value = self.check_types(a, b, code, right)
        if negate:
            code = ir.NEGATE[code]
        return ir.Compare(code, a, value, _column(left))

    def membership(self, left: ast.AST, right: ast.AST, negated: bool) -> ir.Member:
        subject = self.operand(left)
        choices = self.operand(right)
        if not isinstance(subject, ir.FieldRef):
            raise self.fail(left, "the left of 'in' must be a field of the fact")
        if not isinstance(choices, _List):
            raise self.fail(
                right, "the right of 'in' must be a list such as ['a', 'b'] or a list parameter"
            )
        if not choices.values:
            raise self.fail(right, "the list after 'in' is empty, so the test never changes")
        if len(choices.values) > MAX_IN_LIST:
            raise self.fail(
                right,
                f"the list after 'in' has {len(choices.values)} values; "
                f"a list may hold at most {MAX_IN_LIST}",
            )
        for item in choices.values:
            self.check_value(subject, item, "==", right)
        return ir.Member(negated, subject, choices.choices, _column(left))

    # -- operands --------------------------------------------------------------------

    def operand(self, node: ast.AST) -> _Operand:
        """A value in a condition: a field, a parameter, a literal, a list or arithmetic."""
        if isinstance(node, ast.Name):
            return self.field(node)
        if isinstance(node, ast.Attribute):
            return self.parameter(node)
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, bool | int | float | str):  # None, bytes, 1j, ...
                raise self.fail(node, f"the value {node.value!r} is not allowed")
            self.check_literal(node.value, node)
            return ir.Const(node.value, _column(node))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self.negative(node)
        if isinstance(node, ast.List | ast.Tuple):
            return self.literal_list(node)
        if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
            return self.arithmetic(node)
        raise self.fail(node, f"{describe(node)} is not allowed in a condition")

    def field(self, node: ast.Name) -> ir.FieldRef:
        if node.id in self.fields:
            self.reads.append(node.id)
            return ir.FieldRef(node.id, self.fields[node.id], _column(node))
        if node.id in ("true", "false"):
            raise self.fail(node, f"write {node.id.capitalize()} (with a capital letter)")
        raise self.fail(
            node,
            f"'{self.kind}' facts have no field '{node.id}'{did_you_mean(node.id, self.fields)}",
        )

    def parameter(self, node: ast.Attribute) -> _Operand:
        if not (isinstance(node.value, ast.Name) and node.value.id == "params"):
            raise self.fail(node, "only 'params.NAME' may use a dot; fact fields are plain names")
        if node.attr not in self.params:
            raise self.fail(
                node,
                f"undefined parameter 'params.{node.attr}'"
                f"{did_you_mean(node.attr, self.params)}; declare it under 'parameters:'",
            )
        value = self.params[node.attr]
        for item in value if isinstance(value, list) else [value]:
            self.check_literal(item, node)
        ref = ir.ParamRef(node.attr, _column(node))
        return _List(ref, list(value)) if isinstance(value, list) else ref

    def negative(self, node: ast.UnaryOp) -> ir.Value:
        inner = self.operand(node.operand)
        if not isinstance(inner, ir.FieldRef | _List) and ir.fixed(inner):
            value = ir.param_value(inner, self.params)
            if isinstance(value, NUMBER) and not isinstance(value, bool):
                if isinstance(inner, ir.Const):
                    return ir.Const(-value, _column(node))
                return ir.Arith("-", ir.Const(0, _column(node)), inner, _column(node))
        raise self.fail(node, "a minus sign may only stand before a number")

    def literal_list(self, node: ast.List | ast.Tuple) -> _List:
        items = [self.operand(e) for e in node.elts]
        if not all(not isinstance(i, ir.FieldRef | _List) and ir.fixed(i) for i in items):
            raise self.fail(node, "a list may hold only literal values")
        fixed = tuple(i for i in items if not isinstance(i, _List))
        return _List(fixed, [ir.param_value(i, self.params) for i in fixed])

    def arithmetic(self, node: ast.BinOp) -> ir.Value:
        left, right = self.operand(node.left), self.operand(node.right)
        sides: list[ir.Value] = []
        for side, ast_node in ((left, node.left), (right, node.right)):
            if isinstance(side, ir.FieldRef):
                if side.type.base not in NUMBER:
                    raise self.fail(
                        ast_node, f"'{side.name}' is {side.type.label}; arithmetic needs numbers"
                    )
            elif isinstance(side, _List) or (
                ir.fixed(side) and not _is_number(ir.param_value(side, self.params))
            ):
                raise self.fail(ast_node, "arithmetic needs numbers")
            assert not isinstance(side, _List)
            sides.append(side)
        a, b = sides
        op = ARITHMETIC[type(node.op)]
        if ir.fixed(a) and ir.fixed(b):
            try:
                folded = ir.fold(op, ir.param_value(a, self.params), ir.param_value(b, self.params))
            except ZeroDivisionError:
                raise ExpressionError("division by zero", node.col_offset + 1) from None
            self.check_literal(folded, node)  # 2**53 * 2**53 and 1 / 3 are refused too
            if isinstance(a, ir.Const) and isinstance(b, ir.Const):
                return ir.Const(folded, _column(node))  # worked out once, when the rule loads
            return ir.Arith(op, a, b, _column(node))
        if op == "/":
            # Only a number or a parameter may divide: a field could be zero.
            if not ir.fixed(b):
                raise self.fail(
                    node.right,
                    "you can only divide by a number or a parameter, "
                    "not by a field (it could be zero)",
                )
            if ir.param_value(b, self.params) == 0:
                raise ExpressionError("division by zero", node.col_offset + 1)
        return ir.Arith(op, a, b, _column(node))

    def check_literal(self, value: Any, node: ast.AST) -> None:
        """Numbers facts keep faithfully (4 decimal places, 53-bit whole numbers), and text
        that is text (no half of a surrogate pair, which no bid can hold)."""
        if isinstance(value, str):
            bad = next((c for c in value if "\ud800" <= c <= "\udfff"), None)
            if bad is not None:
                what = repr(value) if value == bad else f"the text {value!r} holds {bad!r}, which"
                raise self.fail(node, f"{what} is half of a surrogate pair, not valid text")
            return
        if isinstance(value, bool) or not isinstance(value, NUMBER):
            return
        if abs(value) > MAX_NUMBER:
            raise self.fail(node, f"{value!r} is too large to compare reliably")
        if isinstance(value, float) and round(value, 4) != value:
            raise self.fail(
                node,
                f"{value!r} has more than 4 decimal places, which the engine "
                "would round away; write it with at most 4 (e.g. 0.6 for 60%)",
            )

    # -- types -----------------------------------------------------------------------

    def check_types(
        self, a: ir.FieldRef, b: _Operand, code: ir.CompareOp, node: ast.AST
    ) -> ir.Value:
        """`b` may be compared with field `a` by `code`; returns it as a value."""
        if isinstance(b, ir.FieldRef):
            base = a.type.base
            if (base in NUMBER) != (b.type.base in NUMBER) or (
                base not in NUMBER and base is not b.type.base
            ):
                raise self.fail(
                    node,
                    f"cannot compare '{a.name}' ({a.type.label}) with '{b.name}' ({b.type.label})",
                )
            return b
        if isinstance(b, _List):
            raise self.fail(node, f"a list can only follow 'in', not '{code}'")
        if not ir.fixed(b):  # arithmetic with a field
            if a.type.base not in NUMBER:
                raise self.fail(node, f"'{a.name}' is {a.type.label}; arithmetic needs numbers")
            return b
        self.check_value(a, ir.param_value(b, self.params), code, node)
        return b

    def check_value(self, a: ir.FieldRef, value: Any, code: ir.CompareOp, node: ast.AST) -> None:
        """A field compared with a value of the wrong kind, or with an operator its kind has
        no use for, is refused: the engine would silently compare "5" with 5."""
        if isinstance(value, list):
            raise self.fail(node, f"a list can only follow 'in', not '{code}'")
        base = a.type.base
        check = _VALUE_CHECKS.get(base if base not in NUMBER else float)
        problem = check(a, value, code) if check else None
        if problem is not None:
            raise self.fail(node, problem)


def _bool_problem(a: ir.FieldRef, value: Any, code: str) -> str | None:
    if not isinstance(value, bool):
        return f"'{a.name}' is true/false; compare it with True or False"
    if code not in ("==", "!="):
        return f"'{a.name}' is true/false; use == or !=, not '{code}'"
    return None


def _number_problem(a: ir.FieldRef, value: Any, code: str) -> str | None:
    if not _is_number(value):
        return f"'{a.name}' is a number; cannot compare it with {value!r}"
    return None


def _date_problem(a: ir.FieldRef, value: Any, code: str) -> str | None:
    if not isinstance(value, dt.date):
        return (
            f"'{a.name}' is a date; compare it with a date "
            "parameter (e.g. 2008-12-31 under 'parameters:')"
        )
    return None


def _text_problem(a: ir.FieldRef, value: Any, code: str) -> str | None:
    if not isinstance(value, str):
        return f"'{a.name}' is text; cannot compare it with {value!r}"
    if code not in ("==", "!="):
        return f"'{a.name}' is text; use == != or in, not '{code}'"
    if a.type.choices and value not in a.type.choices:
        return (
            f"'{value}' is never a value of '{a.name}'{did_you_mean(value, a.type.choices)}; "
            f"it is one of: {', '.join(a.type.choices)}"
        )
    return None


_VALUE_CHECKS: dict[type, Callable[[ir.FieldRef, Any, str], str | None]] = {
    bool: _bool_problem,
    float: _number_problem,
    dt.date: _date_problem,
    str: _text_problem,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, NUMBER) and not isinstance(value, bool)
