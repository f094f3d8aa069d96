"""Rule conditions: readable expressions compiled to durable_rules' JSON condition form.

The text is parsed with Python's `ast` and then walked by a whitelist: boolean operators,
comparisons (including chains and `in`), `not`, field names, `params.NAME`, literals and
simple arithmetic. Anything else is rejected with the column where it starts. Nothing is ever
evaluated as Python. Types are checked against the fact vocabulary here, because the engine
would silently compare "5" with 5.
"""

from __future__ import annotations

import ast
import datetime as dt
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from icorules.analysis.facts import FieldType, engine_value
from icorules.errors import did_you_mean
from icorules.limits import DEFAULT_LIMITS, Limits

NUMBER = (int, float)
MAX_IN_LIST = 200
MAX_NUMBER = 2**53
# What durable_rules 2.0.28 survives in one condition (measured; tests/test_bad_input.py):
# 512 tests under one node hang its first assert, and about 70 tests other than plain
# equality (< <= > >= != and arithmetic) corrupt its memory (SIGSEGV/SIGABRT).
MAX_TESTS = 400
MAX_RANGE_TESTS = 64

_FLIP = {"$lt": "$gt", "$lte": "$gte", "$gt": "$lt", "$gte": "$lte", "$eq": "$eq", "$neq": "$neq"}
_NEGATE = {"$lt": "$gte", "$lte": "$gt", "$gt": "$lte", "$gte": "$lt", "$eq": "$neq", "$neq": "$eq"}
_OPS = {
    ast.Lt: "$lt",
    ast.LtE: "$lte",
    ast.Gt: "$gt",
    ast.GtE: "$gte",
    ast.Eq: "$eq",
    ast.NotEq: "$neq",
}
_ARITH = {ast.Add: "$add", ast.Sub: "$sub", ast.Mult: "$mul", ast.Div: "$div"}
_SYMBOL = {"$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">=", "$eq": "==", "$neq": "!="}


class ExpressionError(Exception):
    """A condition that cannot be compiled; `column` is 1-based within the expression."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


_KEYWORDS = {"and", "or", "not", "in", "is", "if", "else", "True", "False", "None"}
_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _unreadable(text: str, exc: SyntaxError) -> ExpressionError:
    """Python's parser could not read the condition: say why in our words where the text shows
    the slip (an unclosed bracket or quote, `=` for `==`, `&&`, two values with nothing
    between them, a dangling operator); otherwise give the parser's words."""

    def error(message: str, at: int | None) -> ExpressionError:
        return ExpressionError(f"cannot read the condition: {message}", at)

    opened: list[tuple[str, int]] = []
    tokens = list(_TOKEN.finditer(text))
    for token in tokens:
        char = token.group()
        if char in _PAIRS:
            opened.append((char, token.start()))
        elif char in _PAIRS.values():
            if not opened or _PAIRS[opened[-1][0]] != char:
                return error(f"'{char}' closes nothing", token.start() + 1)
            opened.pop()
        elif char[0] in "'\"" and (len(char) == 1 or char[-1] != char[0]):
            return error("this text has no closing quote", token.start() + 1)
    if opened:
        char, at = opened[-1]
        return error(f"'{char}' is never closed", at + 1)
    for token in tokens:
        advice = _SLIPS.get(token.group())
        if advice:
            return error(advice, token.start() + 1)
    for before, token in itertools.pairwise(tokens):
        if _is_value(before.group()) and _is_value(token.group()):
            return error(
                f"'{token.group()}' follows a value with nothing between them; compare with "
                "==, !=, <, <=, >, >=, in or not in, and join comparisons with and / or",
                token.start() + 1,
            )
    if tokens and tokens[-1].group() in _OPERATORS:
        last = tokens[-1]
        return error(f"the condition ends with '{last.group()}'; what comes after it?", last.end())
    return error(exc.msg, exc.offset)


_PAIRS = {"(": ")", "[": "]", "{": "}"}
_TOKEN = re.compile(
    r"'[^']*'?|\"[^\"]*\"?|[A-Za-z_][A-Za-z_0-9.]*|\d[\d_.]*|==|!=|<=|>=|&&|\|\||\S"
)
_OPERATORS = {"<", ">", "<=", ">=", "==", "!=", "+", "-", "*", "/", ",", "and", "or", "not", "in"}
_SLIPS = {
    "=": "use == to test equality ('=' alone is not a comparison)",
    "&&": "write 'and' instead of '&&'",
    "||": "write 'or' instead of '||'",
    "!": "write 'not' instead of '!'",
}


def _is_value(token: str) -> bool:
    """A field, parameter, number or text: something an operator must come between."""
    return (
        token not in _OPERATORS
        and token not in ("is", "if", "else")
        and (token[0].isalnum() or token[0] in "_'\"")
    )


@dataclass
class Compiled:
    condition: dict[str, Any]
    reads: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Field:
    name: str
    type: FieldType

    @property
    def engine_name(self) -> str:
        """The engine's `id` must be unique per session, so a fact's own id travels as `ref`."""
        return ENGINE_FIELD_NAMES.get(self.name, self.name)


ENGINE_FIELD_NAMES = {"id": "ref"}


@dataclass(frozen=True)
class _Const:
    value: Any  # bool, int, float, str, date, or a tuple of those


@dataclass(frozen=True)
class _Arith:
    json: dict[str, Any]


_Operand = _Field | _Const | _Arith


def compile_condition(
    text: str,
    fields: dict[str, FieldType],
    params: dict[str, Any],
    kind: str,
    limits: Limits = DEFAULT_LIMITS,
) -> Compiled:
    """Compile `text` about facts of `kind`; raises ExpressionError on anything not allowed.

    Length is checked before parsing and depth before compiling: Python's parser and this
    compiler both recurse, and a condition of 100,000 `not`s exhausts either.
    """
    if not text.strip():
        raise ExpressionError("the condition is empty")
    text = text.strip()
    if len(text) > limits.expression_length:
        found = f"the condition is {len(text):,} characters long"
        raise ExpressionError(limits.exceeded("expression_length", found))
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise _unreadable(text, exc) from None
    except (RecursionError, MemoryError):  # the parser's own stack ("too complex to parse")
        found = "the condition is nested too deeply to read"
        raise ExpressionError(limits.exceeded("expression_depth", found)) from None
    _check_depth(tree.body, limits)
    compiler = _Compiler(fields, params, kind)
    condition = compiler.condition(tree.body, negate=False)
    _check_engine_tests(condition)
    return Compiled(condition, sorted(set(compiler.reads), key=compiler.reads.index))


def _check_depth(root: ast.expr, limits: Limits) -> None:
    """Refuse a syntax tree deeper than the expression_depth limit (walked without recursion)."""
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.expression_depth:
            found = "the condition is nested too deeply"
            raise ExpressionError(
                limits.exceeded("expression_depth", found), getattr(node, "col_offset", -1) + 1
            )
        stack.extend((c, depth + 1) for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr))


def engine_tests(condition: dict[str, Any]) -> list[tuple[bool, str]]:
    """The leaf tests of a compiled condition, each as (is it other than `field == literal`,
    a key that is equal for equal tests): what the engine holds as sibling nodes."""
    tests: list[tuple[bool, str]] = []
    stack: list[Any] = [condition]
    while stack:
        item = stack.pop()
        for key, value in item.items():
            if key in ("$and", "$or"):
                stack.extend(value)
                continue
            ranged = key.startswith("$") or isinstance(value, dict)
            tests.append((ranged, json.dumps([key, value], sort_keys=True, default=str)))
    return tests


def _check_engine_tests(condition: dict[str, Any]) -> None:
    """Count the tests the engine will hold for this condition, against what it survives."""
    tests = engine_tests(condition)
    total = len(tests)
    ranged = sum(r for r, _ in tests)
    if total > MAX_TESTS:
        raise ExpressionError(
            f"the condition makes {total} comparisons (an 'in' list counts one per value); "
            f"the engine allows at most {MAX_TESTS} in one condition (more make it hang): "
            "split it into several rules"
        )
    if ranged > MAX_RANGE_TESTS:
        raise ExpressionError(
            f"the condition makes {ranged} comparisons other than == (such as <, >=, != or "
            f"arithmetic); the engine allows at most {MAX_RANGE_TESTS} in one condition (more "
            "crash it): split it into several rules"
        )


class _Compiler:
    def __init__(self, fields: dict[str, FieldType], params: dict[str, Any], kind: str) -> None:
        self.fields = fields
        self.params = params
        self.kind = kind
        self.reads: list[str] = []

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, getattr(node, "col_offset", -1) + 1)

    # -- boolean structure -------------------------------------------------------------

    def condition(self, node: ast.AST, negate: bool) -> dict[str, Any]:
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And) != negate
            parts = [self.condition(v, negate) for v in node.values]
            return {"$and" if is_and else "$or": parts}
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.condition(node.operand, not negate)
        if isinstance(node, ast.Compare):
            pairs = zip(
                [node.left, *node.comparators[:-1]], node.ops, node.comparators, strict=True
            )
            parts = [self.comparison(left, op, right, negate) for left, op, right in pairs]
            if len(parts) == 1:
                return parts[0]
            return {"$or" if negate else "$and": parts}
        if isinstance(node, ast.Name | ast.Attribute):
            operand = self.operand(node)
            if isinstance(operand, _Field) and operand.type.base is bool:
                return {operand.engine_name: not negate}
            if isinstance(operand, _Field):
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
            f"{_describe(node)} is not allowed in a condition; "
            "use comparisons joined by and / or / not",
        )

    def comparison(
        self, left: ast.AST, op: ast.cmpop, right: ast.AST, negate: bool
    ) -> dict[str, Any]:
        if isinstance(op, ast.In | ast.NotIn):
            return self.membership(left, right, isinstance(op, ast.NotIn) != negate)
        if type(op) not in _OPS:
            raise self.fail(
                right,
                f"the operator '{_op_text(op)}' is not allowed; use == != < <= > >= in, not in",
            )
        code = _OPS[type(op)]
        a, b = self.operand(left), self.operand(right)
        if not isinstance(a, _Field):
            if not isinstance(b, _Field):
                if _Arith in (type(a), type(b)):
                    raise self.fail(
                        left,
                        "put the arithmetic on the other side from a single field, e.g. "
                        "'list_size > 2000 * 4' rather than 'list_size / 4 > 2000'",
                    )
                raise self.fail(left, "one side of a comparison must be a field of the fact")
            a, b, code = b, a, _FLIP[code]
        self.check_types(a, b, code, right)
        if negate:
            code = _NEGATE[code]
        value = self.value_json(b)
        if code == "$eq":
            return {a.engine_name: value}
        return {code: {a.engine_name: value}}

    def membership(self, left: ast.AST, right: ast.AST, negated: bool) -> dict[str, Any]:
        subject = self.operand(left)
        choices = self.operand(right)
        if not isinstance(subject, _Field):
            raise self.fail(left, "the left of 'in' must be a field of the fact")
        if not (isinstance(choices, _Const) and isinstance(choices.value, tuple)):
            raise self.fail(
                right, "the right of 'in' must be a list such as ['a', 'b'] or a list parameter"
            )
        if not choices.value:
            raise self.fail(right, "the list after 'in' is empty, so the test never changes")
        if len(choices.value) > MAX_IN_LIST:
            raise self.fail(
                right,
                f"the list after 'in' has {len(choices.value)} values; the "
                f"engine allows at most {MAX_IN_LIST} (longer lists make it hang)",
            )
        for item in choices.value:
            self.check_types(subject, _Const(item), "$eq", right)
        tests = [
            {"$neq": {subject.engine_name: engine_value(v)}}
            if negated
            else {subject.engine_name: engine_value(v)}
            for v in choices.value
        ]
        if len(tests) == 1:
            return tests[0]
        return {"$and" if negated else "$or": tests}

    # -- operands --------------------------------------------------------------------

    def operand(self, node: ast.AST) -> _Operand:
        if isinstance(node, ast.Name):
            if node.id in self.fields:
                self.reads.append(node.id)
                return _Field(node.id, self.fields[node.id])
            if node.id in ("true", "false"):
                raise self.fail(node, f"write {node.id.capitalize()} (with a capital letter)")
            raise self.fail(
                node,
                f"'{self.kind}' facts have no field '{node.id}'"
                f"{did_you_mean(node.id, self.fields)}",
            )
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "params":
                if node.attr not in self.params:
                    raise self.fail(
                        node,
                        f"undefined parameter 'params.{node.attr}'"
                        f"{did_you_mean(node.attr, self.params)}; declare it under 'parameters:'",
                    )
                value = self.params[node.attr]
                for item in value if isinstance(value, list) else [value]:
                    self.check_number(item, node)
                return _Const(tuple(value) if isinstance(value, list) else value)
            raise self.fail(node, "only 'params.NAME' may use a dot; fact fields are plain names")
        if isinstance(node, ast.Constant):
            if node.value is None or isinstance(node.value, bytes | complex):
                raise self.fail(node, f"the value {node.value!r} is not allowed")
            self.check_number(node.value, node)
            return _Const(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.operand(node.operand)
            if (
                isinstance(inner, _Const)
                and isinstance(inner.value, NUMBER)
                and not isinstance(inner.value, bool)
            ):
                return _Const(-inner.value)
            raise self.fail(node, "a minus sign may only stand before a number")
        if isinstance(node, ast.List | ast.Tuple):
            items = [self.operand(e) for e in node.elts]
            consts = [i for i in items if isinstance(i, _Const) and not isinstance(i.value, tuple)]
            if len(consts) != len(items):
                raise self.fail(node, "a list may hold only literal values")
            return _Const(tuple(c.value for c in consts))
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            return self.arithmetic(node)
        raise self.fail(node, f"{_describe(node)} is not allowed in a condition")

    def arithmetic(self, node: ast.BinOp) -> _Operand:
        left, right = self.operand(node.left), self.operand(node.right)
        for side, ast_node in ((left, node.left), (right, node.right)):
            if isinstance(side, _Field) and side.type.base not in NUMBER:
                raise self.fail(
                    ast_node, f"'{side.name}' is {side.type.label}; arithmetic needs numbers"
                )
            if isinstance(side, _Const) and (
                not isinstance(side.value, NUMBER) or isinstance(side.value, bool)
            ):
                raise self.fail(ast_node, "arithmetic needs numbers")
        op = type(node.op)
        if isinstance(left, _Const) and isinstance(right, _Const):
            folded = _fold(op, left.value, right.value, node)
            self.check_number(folded, node)  # 2**53 * 2**53 and 1 / 3 are refused too
            return _Const(folded)
        right_json = self.value_json(right)
        if op is ast.Div:
            # The engine divides integers as integers and dies on a zero divisor (SIGFPE), so
            # only a non-zero constant may divide, and it is sent as a float.
            if not isinstance(right, _Const):
                raise self.fail(
                    node.right,
                    "you can only divide by a number or a parameter, "
                    "not by a field (it could be zero)",
                )
            if right.value == 0:
                raise ExpressionError("division by zero", node.col_offset + 1)
            right_json = float(right.value)
        return _Arith({_ARITH[op]: {"$l": self.value_json(left), "$r": right_json}})

    def value_json(self, operand: _Operand) -> Any:
        if isinstance(operand, _Field):
            return {"$m": operand.engine_name}
        if isinstance(operand, _Arith):
            return operand.json
        return engine_value(operand.value)

    def check_number(self, value: Any, node: ast.AST) -> None:
        """Numbers the engine compares faithfully: it keeps 4 decimal places and 53-bit ints."""
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

    def check_types(self, a: _Field, b: _Operand, code: str, node: ast.AST) -> None:
        base = a.type.base
        symbol = _SYMBOL[code]
        if isinstance(b, _Field):
            if (base in NUMBER) != (b.type.base in NUMBER) or (
                base not in NUMBER and base is not b.type.base
            ):
                raise self.fail(
                    node,
                    f"cannot compare '{a.name}' ({a.type.label}) with '{b.name}' ({b.type.label})",
                )
            return
        if isinstance(b, _Arith):
            if base not in NUMBER:
                raise self.fail(node, f"'{a.name}' is {a.type.label}; arithmetic needs numbers")
            return
        value = b.value
        if isinstance(value, tuple):
            raise self.fail(node, f"a list can only follow 'in', not '{symbol}'")
        if base is bool:
            if not isinstance(value, bool):
                raise self.fail(node, f"'{a.name}' is true/false; compare it with True or False")
            if code not in ("$eq", "$neq"):
                raise self.fail(node, f"'{a.name}' is true/false; use == or !=, not '{symbol}'")
        elif base in NUMBER:
            if isinstance(value, bool) or not isinstance(value, NUMBER):
                raise self.fail(node, f"'{a.name}' is a number; cannot compare it with {value!r}")
        elif base is dt.date:
            if not isinstance(value, dt.date):
                raise self.fail(
                    node,
                    f"'{a.name}' is a date; compare it with a date "
                    "parameter (e.g. 2008-12-31 under 'parameters:')",
                )
        elif base is str:
            if not isinstance(value, str):
                raise self.fail(node, f"'{a.name}' is text; cannot compare it with {value!r}")
            if code not in ("$eq", "$neq"):
                raise self.fail(node, f"'{a.name}' is text; use == != or in, not '{symbol}'")
            if a.type.choices and value not in a.type.choices:
                raise self.fail(
                    node,
                    f"'{value}' is never a value of '{a.name}'"
                    f"{did_you_mean(value, a.type.choices)}; "
                    f"it is one of: {', '.join(a.type.choices)}",
                )


def _fold(op: type, left: Any, right: Any, node: ast.expr) -> Any:
    if op is ast.Add:
        return left + right
    if op is ast.Sub:
        return left - right
    if op is ast.Mult:
        return left * right
    if right == 0:
        raise ExpressionError("division by zero", node.col_offset + 1)
    return left / right


def _describe(node: ast.AST) -> str:
    names: dict[type[ast.AST], str] = {
        ast.Call: "a function call",
        ast.Subscript: "indexing with [...]",
        ast.Lambda: "a lambda",
        ast.IfExp: "an if-expression",
        ast.Dict: "a dictionary",
        ast.Set: "a set",
        ast.ListComp: "a comprehension",
        ast.GeneratorExp: "a comprehension",
        ast.JoinedStr: "an f-string",
        ast.NamedExpr: "an assignment",
        ast.BinOp: "this operator",
        ast.Starred: "unpacking with *",
        ast.Yield: "yield",
        ast.Await: "await",
    }
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOP_TEXT:
        return f"the operator '{_BINOP_TEXT[type(node.op)]}'"
    return names.get(type(node), f"'{type(node).__name__}'")


_BINOP_TEXT = {
    ast.Pow: "**",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
}


def _op_text(op: ast.cmpop) -> str:
    return {ast.Is: "is", ast.IsNot: "is not"}.get(type(op), type(op).__name__)
