"""The typed form of a rule condition, shared by every stage after the compiler.

A condition is compiled once (rules/condition.py) into these frozen dataclasses; the engines,
explain, lint, diff and docs all read this form, so none of them has to interpret another
stage's representation. Values are Python values (dates are `datetime.date`, a subject's id is
the field `id`); what one engine needs instead (durable_rules' JSON) is made inside its backend.

`not` is pushed down by the compiler: the tree has only `and`/`or`, comparisons and membership.
Parameters stay references (`ParamRef`): their values are looked up when the rule runs, so the
same rule text with other parameter values is the same condition. Every node keeps the column
where its text starts; columns do not take part in equality, so a condition re-wrapped or
re-bracketed compiles to an equal tree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from icorules.analysis.facts import FieldType

Scalar = bool | int | float | str | dt.date
CompareOp = Literal["<", "<=", ">", ">=", "==", "!="]
ArithOp = Literal["+", "-", "*", "/"]

# `not (a < b)` is `a >= b`; `b < a` is `a > b`: the only tables of their kind.
NEGATE: dict[CompareOp, CompareOp] = {
    "<": ">=",
    "<=": ">",
    ">": "<=",
    ">=": "<",
    "==": "!=",
    "!=": "==",
}
FLIP: dict[CompareOp, CompareOp] = {
    "<": ">",
    "<=": ">=",
    ">": "<",
    ">=": "<=",
    "==": "==",
    "!=": "!=",
}


@dataclass(frozen=True)
class FieldRef:
    """A field of the fact the pattern is about."""

    name: str
    type: FieldType
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Const:
    """A literal value from the condition (or worked out from literals)."""

    value: Scalar
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ParamRef:
    """`params.NAME`: its value is the rule's parameter value when the rule runs."""

    name: str
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Arith:
    """`left op right` on numbers. A divisor is never a field (it could be zero)."""

    op: ArithOp
    left: Value
    right: Value
    column: int = field(default=0, compare=False)


Value = FieldRef | Const | ParamRef | Arith


@dataclass(frozen=True)
class Compare:
    """`left op right`; the compiler puts the field on the left."""

    op: CompareOp
    left: FieldRef
    right: Value
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Member:
    """`left in [...]` (or `not in` when `negated`): a list written out, whose items are
    fixed values (constants, or parameters holding one value), or a list parameter."""

    negated: bool
    left: FieldRef
    choices: tuple[Value, ...] | ParamRef
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class BoolOp:
    """All (`and`) or at least one (`or`) of the parts."""

    op: Literal["and", "or"]
    parts: tuple[Cond, ...]
    column: int = field(default=0, compare=False)


Cond = Compare | Member | BoolOp


@dataclass(frozen=True)
class Pattern:
    """What one fact must satisfy for a rule: its kind and condition. A rule has one pattern
    for its own fact (`subject`) and one per `given` kind."""

    kind: str
    condition: Cond
    subject: bool


# -- walking ----------------------------------------------------------------------------------


def conditions(cond: Cond) -> Iterator[Compare | Member]:
    """The comparisons and memberships of a condition, left to right."""
    stack: list[Cond] = [cond]
    while stack:
        node = stack.pop()
        if isinstance(node, BoolOp):
            stack.extend(reversed(node.parts))
        else:
            yield node


def values(value: Value) -> Iterator[Value]:
    """A value and every value inside it (arithmetic operands), left to right."""
    stack: list[Value] = [value]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Arith):
            stack.extend((node.right, node.left))


def operands(cond: Cond) -> Iterator[Value]:
    """Every value a condition reads: fields, constants, parameters, arithmetic."""
    for test in conditions(cond):
        yield test.left
        if isinstance(test, Compare):
            yield from values(test.right)
        elif isinstance(test.choices, ParamRef):
            yield test.choices
        else:
            for choice in test.choices:
                yield from values(choice)


def fields_read(cond: Cond) -> list[str]:
    """The fact fields a condition reads, each once, in order."""
    out: dict[str, None] = {}
    for value in operands(cond):
        if isinstance(value, FieldRef):
            out.setdefault(value.name)
    return list(out)


def params_read(cond: Cond) -> list[str]:
    """The parameters a condition refers to, each once, in order."""
    out: dict[str, None] = {}
    for value in operands(cond):
        if isinstance(value, ParamRef):
            out.setdefault(value.name)
    return list(out)


def fixed(value: Value) -> bool:
    """Whether a value is the same for every fact: no field in it (parameters are fixed for
    a run)."""
    return not any(isinstance(v, FieldRef) for v in values(value))


# -- arithmetic ------------------------------------------------------------------------------


def fold(op: ArithOp, left: Any, right: Any) -> Any:
    """`left op right` as every backend and the compiler work it out (true division).

    Raises ZeroDivisionError for a zero divisor; the compiler refuses those when it can see
    the divisor, and a divisor is never a field."""
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    return left / right


def choice_values(member: Member, params: Mapping[str, Any]) -> list[Any]:
    """The values a membership test compares with, for these parameter values."""
    if isinstance(member.choices, ParamRef):
        return list(params[member.choices.name])
    return [param_value(choice, params) for choice in member.choices]


def param_value(value: Value, params: Mapping[str, Any]) -> Any:
    """The value of a fixed value (constants, parameters and arithmetic on them)."""
    if isinstance(value, Const):
        return value.value
    if isinstance(value, ParamRef):
        return params[value.name]
    if isinstance(value, Arith):
        return fold(value.op, param_value(value.left, params), param_value(value.right, params))
    raise TypeError(f"{value.name!r} is a field, not a fixed value")
