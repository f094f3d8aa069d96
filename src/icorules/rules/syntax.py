"""Reading a condition's text: Python's parser, bounded, with our own words for its errors.

A policy analyst who types `=` for `==`, leaves a bracket open or writes `&&` should be told so
at the spot, not given the parser's own message. The length and depth limits are applied here,
before anything recurses: Python's parser and the compiler both recurse, and a condition of
100,000 `not`s exhausts either.
"""

from __future__ import annotations

import ast
import itertools
import re

from icorules.limits import DEFAULT_LIMITS, Limits


class ExpressionError(Exception):
    """A condition that cannot be compiled; `column` is 1-based within the expression."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> ast.expr:
    """The syntax tree of a condition (already stripped), within the length and depth limits."""
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
    return tree.body


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


def _unreadable(text: str, exc: SyntaxError) -> ExpressionError:
    """Python's parser could not read the condition: say why in our words where the text shows
    the slip (an unclosed bracket or quote, `=` for `==`, `&&`, two values with nothing
    between them, a dangling operator); otherwise give the parser's words."""
    tokens = list(_TOKEN.finditer(text))
    message, at = _unbalanced(tokens) or _slip(tokens) or (exc.msg, exc.offset)
    return ExpressionError(f"cannot read the condition: {message}", at)


def _unbalanced(tokens: list[re.Match[str]]) -> tuple[str, int] | None:
    """A bracket that closes nothing or is never closed, or a quote never closed."""
    opened: list[tuple[str, int]] = []
    for token in tokens:
        char = token.group()
        if char in _PAIRS:
            opened.append((char, token.start()))
        elif char in _PAIRS.values():
            if not opened or _PAIRS[opened[-1][0]] != char:
                return f"'{char}' closes nothing", token.start() + 1
            opened.pop()
        elif char[0] in "'\"" and (len(char) == 1 or char[-1] != char[0]):
            return "this text has no closing quote", token.start() + 1
    if opened:
        char, at = opened[-1]
        return f"'{char}' is never closed", at + 1
    return None


def _slip(tokens: list[re.Match[str]]) -> tuple[str, int] | None:
    """An operator from another language, two values side by side, or a dangling operator."""
    for token in tokens:
        advice = _SLIPS.get(token.group())
        if advice:
            return advice, token.start() + 1
    for before, token in itertools.pairwise(tokens):
        if _is_value(before.group()) and _is_value(token.group()):
            return (
                f"'{token.group()}' follows a value with nothing between them; compare with "
                "==, !=, <, <=, >, >=, in or not in, and join comparisons with and / or",
                token.start() + 1,
            )
    if tokens and tokens[-1].group() in _OPERATORS:
        last = tokens[-1]
        return f"the condition ends with '{last.group()}'; what comes after it?", last.end()
    return None


def _is_value(token: str) -> bool:
    """A field, parameter, number or text: something an operator must come between."""
    return (
        token not in _OPERATORS
        and token not in ("is", "if", "else")
        and (token[0].isalnum() or token[0] in "_'\"")
    )


def describe(node: ast.AST) -> str:
    """What a construction the language does not have is called, for a message."""
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


def op_text(op: ast.cmpop) -> str:
    """A comparison operator the language does not have, as written."""
    return {ast.Is: "is", ast.IsNot: "is not"}.get(type(op), type(op).__name__)
