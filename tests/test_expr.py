"""The condition compiler: what compiles to what, and what is refused (with a reason)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from icorules.analysis.facts import field_types
from icorules.rules import ir
from icorules.rules.condition import ExpressionError, compile_condition

PARAMS: dict[str, Any] = {
    "share": 0.6,
    "types": ["pct", "school"],
    "start": dt.date(2008, 12, 31),
    "limit": 3,
}


def compile_(text: str, kind: str = "partner") -> ir.Cond:
    return compile_condition(text, field_types(kind), PARAMS, kind).condition


def F(name: str, kind: str = "partner") -> ir.FieldRef:
    return ir.FieldRef(name, field_types(kind)[name])


def C(value: Any) -> ir.Const:
    return ir.Const(value)


def cmp(op: ir.CompareOp, name: str, right: Any, kind: str = "partner") -> ir.Compare:
    value = (
        right if isinstance(right, ir.FieldRef | ir.Const | ir.ParamRef | ir.Arith) else C(right)
    )
    return ir.Compare(op, F(name, kind), value)


def AND(*parts: ir.Cond) -> ir.BoolOp:
    return ir.BoolOp("and", parts)


def OR(*parts: ir.Cond) -> ir.BoolOp:
    return ir.BoolOp("or", parts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("is_practice", cmp("==", "is_practice", True)),
        ("not is_practice", cmp("==", "is_practice", False)),
        ("list_size == 0", cmp("==", "list_size", 0)),
        ("list_size != 0", cmp("!=", "list_size", 0)),
        ("0 < list_size", cmp(">", "list_size", 0)),
        ("not list_size >= 5", cmp("<", "list_size", 5)),
        (
            "is_practice and not on_board",
            AND(cmp("==", "is_practice", True), cmp("==", "on_board", False)),
        ),
        (
            "not (is_practice or on_board)",
            AND(cmp("==", "is_practice", False), cmp("==", "on_board", False)),
        ),
        ("1 < list_size <= 9", AND(cmp(">", "list_size", 1), cmp("<=", "list_size", 9))),
        ("type in ['pct', 'school']", ir.Member(False, F("type"), (C("pct"), C("school")))),
        ("type not in params.types", ir.Member(True, F("type"), ir.ParamRef("types"))),
        ("agreement_count > params.limit", cmp(">", "agreement_count", ir.ParamRef("limit"))),
        ("agreement_count > service_count", cmp(">", "agreement_count", F("service_count"))),
        (
            "list_size > service_count * 2",
            cmp(">", "list_size", ir.Arith("*", F("service_count"), C(2))),
        ),
        ("list_size > 2 * 1000", cmp(">", "list_size", 2000)),  # constants are worked out
        ("id == 'GP1'", cmp("==", "id", "GP1")),  # the subject's own id, as written
    ],
)
def test_compiles(text: str, expected: ir.Cond) -> None:
    assert compile_(text) == expected


def test_parameters_stay_references_with_the_values_they_have() -> None:
    """A parameter is looked up when the rule runs: the same text with other values is the
    same condition, and the values it has now are what it compares with."""
    compiled = compile_("list_size > params.limit * 1000")
    assert compiled == cmp(">", "list_size", ir.Arith("*", ir.ParamRef("limit"), C(1000)))
    assert isinstance(compiled, ir.Compare)
    assert ir.param_value(compiled.right, PARAMS) == 3000
    other = compile_condition(
        "list_size > params.limit * 1000", field_types("partner"), {"limit": 7}, "partner"
    )
    assert other.condition == compiled
    member = compile_("type not in params.types")
    assert isinstance(member, ir.Member) and ir.choice_values(member, PARAMS) == ["pct", "school"]


def test_division_is_true_division() -> None:
    compiled = compile_("list_size >= service_count / 2")
    assert compiled == cmp(">=", "list_size", ir.Arith("/", F("service_count"), C(2)))
    assert ir.fold("/", 3, 2) == 1.5


def test_dates_and_floats_keep_their_types() -> None:
    compiled = compile_("implementation_date > params.start", "proposal")
    assert compiled == cmp(">", "implementation_date", ir.ParamRef("start"), "proposal")
    assert isinstance(compiled, ir.Compare)
    assert ir.param_value(compiled.right, PARAMS) == dt.date(2008, 12, 31)
    share = compile_("population_share > params.share", "pct_area")
    assert isinstance(share, ir.Compare) and ir.param_value(share.right, PARAMS) == 0.6


def test_columns_are_kept_but_do_not_make_conditions_differ() -> None:
    compiled = compile_("is_practice and   list_size > 3")
    assert isinstance(compiled, ir.BoolOp)
    assert [part.column for part in compiled.parts] == [1, 19]
    assert compiled == compile_("(is_practice) and list_size > 3")


def test_reads_lists_fields_in_order() -> None:
    compiled = compile_condition(
        "on_board or (is_practice and on_board)", field_types("partner"), PARAMS, "partner"
    )
    assert compiled.reads == ["on_board", "is_practice"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('x')", "a function call is not allowed"),
        ("on_bord", "no field 'on_bord' (did you mean 'on_board'?)"),
        ("params.limt > 1", "undefined parameter 'params.limt' (did you mean 'limit'?)"),
        ("list_size.real > 1", "only 'params.NAME' may use a dot"),
        ("list_size > 'big'", "'list_size' is a number"),
        ("type == 'gp_practise'", "did you mean 'gp_practice'?"),
        ("name > 'a'", "'name' is text; use == != or in"),
        ("is_practice == 1", "compare it with True or False"),
        ("list_size", "compare it with something"),
        ("1 < 2", "one side of a comparison must be a field"),
        ("True", "always true or false"),
        ("list_size >", "cannot read the condition"),
        ("type in []", "the list after 'in' is empty"),
        ("list_size is 3", "the operator 'is' is not allowed"),
        ("[x for x in y]", "a comprehension is not allowed"),
        ("list_size > 1 if on_board else 2", "an if-expression is not allowed"),
        ("is_practice == true", "write True"),
        ("", "the condition is empty"),
        ("list_size > params.limit / 0", "division by zero"),
        ("list_size > service_count / 0", "division by zero"),
        ("list_size > 100 / service_count", "not by a field (it could be zero)"),
        ("list_size / 4 > 2000", "put the arithmetic on the other side from a single field"),
        ("name + 1 > 2", "arithmetic needs numbers"),
        ("list_size > 0.12345", "more than 4 decimal places"),
        ("list_size > 9007199254740993", "too large to compare reliably"),
        ("type in [" + ", ".join(f"'t{i}'" for i in range(201)) + "]", "at most 200"),
        ("name == '\\ud800'", "half of a surrogate pair"),
    ],
)
def test_refuses(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_(text)
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("list_size > (params.limit", "'(' is never closed", 13),
        ("list_size > params.limit)", "')' closes nothing", 25),
        ("name == 'Riverside", "this text has no closing quote", 9),
        ("list_size = 3", "use == to test equality ('=' alone is not a comparison)", 11),
        ("on_board && is_practice", "write 'and' instead of '&&'", 10),
        ("on_board || is_practice", "write 'or' instead of '||'", 10),
        ("!on_board", "write 'not' instead of '!'", 1),
        ("name matches 'Riv'", "'matches' follows a value with nothing between them", 6),
        ("list_size > 3 on_board", "'on_board' follows a value with nothing between them", 15),
        ("list_size >", "the condition ends with '>'; what comes after it?", 11),
    ],
)
def test_a_condition_that_cannot_be_read_says_why_in_our_words(
    text: str, message: str, column: int
) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_(text)
    assert caught.value.message.startswith(f"cannot read the condition: {message}")
    assert caught.value.column == column


def test_error_column_points_at_the_problem() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_("is_practice and on_bord")
    assert caught.value.column == 17


def test_date_fields_need_dates() -> None:
    with pytest.raises(ExpressionError, match="is a date"):
        compile_("implementation_date > 2008", "proposal")
