"""Rules and facts in durable_rules' JSON: a typed condition (icorules.rules.ir) becomes a
pattern of `$and`, `$lt`, `$m` and so on; a caller's record becomes a fact the engine can
compare (dates as YYYYMMDD, numbers to 4 decimal places, its own id as `ref`).

Parameter values are never written into a pattern: each becomes a field (`_p…`, or `_i…` for
whether a fact's value is in a list parameter) that the facts a chunk gets carry, so that new
values register nothing new (see icorules.engines.durable).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from icorules.rules import ir

if TYPE_CHECKING:
    from icorules.rules.loader import Rule

CAP = 1000  # matches handed to one action call
SUBJECT = "subject"
_ALWAYS_SENT = ("kind", "id", "ref")
_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}
_ARITH = {"+": "$add", "-": "$sub", "*": "$mul", "/": "$div"}
_JOINS = {"and": "$and", "or": "$or"}


@functools.cache
def engine_names(kind: str) -> Mapping[str, str]:
    """A fact kind's fields as the engine knows them: `A`, `B`, ... `Z`, `BA`, ... in the order
    of the kind's fields (upper case, so never `kind`, `id`, `ref` or `sid`). durable_rules'
    C core spends its time mostly reading each fact's JSON (~6 us a kilobyte), and the field
    names were a third of a typical check's."""
    from icorules.analysis.facts import FACT_KINDS, field_types

    if kind not in FACT_KINDS:
        return {}
    return {name: _letters(index) for index, name in enumerate(field_types(kind))}


def _letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> BA: base 26 in capital letters."""
    out = chr(65 + index % 26)
    while index >= 26:
        index //= 26
        out = chr(65 + index % 26) + out
    return out


def _canon(test: Any) -> str:
    """A key equal for equal tests (within this process: tests are built in one fixed way)."""
    return repr(test)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def engine_value(value: Any) -> Any:
    """A value as durable_rules compares it: dates as YYYYMMDD, numbers to 4 decimal places."""
    if isinstance(value, dt.date):
        return value.year * 10_000 + value.month * 100 + value.day
    if isinstance(value, float):
        return round(value, 4)
    return value


def _literal(value: Any) -> Any:
    """A constant in a condition: equal constants must be equal JSON, so that they share a
    node (2.0 and 2 would not), and whole floats compare the same as whole numbers."""
    value = engine_value(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@functools.cache
def _converted(kind: str) -> tuple[str, ...] | None:
    """The fields of a kind whose values need a look before they are sent: dates and numbers
    (durable_rules needs them in another form), and any that may be None (absent: left out).
    None for a kind rules derive: its facts have only the fields their rule gives, so each
    field needs a look."""
    from icorules.analysis.facts import FACT_KINDS, field_types

    if kind not in FACT_KINDS:
        return None
    return tuple(
        n for n, t in field_types(kind).items() if t.base in (dt.date, float) or t.nullable
    )


def _texts(kind: str) -> tuple[str, ...]:
    """The fields of a kind whose values are text (a list parameter of texts is all a loaded
    rule may test them against)."""
    from icorules.analysis.facts import FACT_KINDS, field_types

    if kind not in FACT_KINDS:
        return ()
    return tuple(n for n, t in field_types(kind).items() if t.base is str)


# -- rules in durable_rules' form -------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """A field the facts of a chunk carry for a parameter: a fixed value (a parameter, or
    arithmetic on parameters), or, for `field in params.list`, whether the fact's own `member`
    field is one of the list's values (worked out for each fact as it is sent: one true or
    false rather than the whole list on every fact)."""

    ruleset: str
    value: ir.Value | None = None
    param: str = ""
    member: str = ""
    divisor: bool = False

    def fill(self, params: Mapping[str, Any]) -> Any:
        """The value every fact carries (not for a `member` slot: see `members`)."""
        assert self.value is not None
        value = ir.param_value(self.value, params)
        return float(value) if self.divisor else engine_value(value)

    def members(self, params: Mapping[str, Any]) -> frozenset[tuple[bool, Any]]:
        """The list's values as `member_key` gives them, for a `member` slot."""
        return frozenset(member_key(engine_value(v)) for v in params[self.param])


def member_key(value: Any) -> tuple[bool, Any]:
    """A value as the engine would compare it with another for equality: numbers by value
    (1 equals 1.0), but a truth value never equals a number (JSON's true is not 1)."""
    return value.__class__ is bool, value


def _value_key(value: ir.Value) -> str:
    if isinstance(value, ir.FieldRef):
        return f"f:{value.name}"
    if isinstance(value, ir.Const):
        return f"c:{type(value.value).__name__}:{value.value!r}"
    if isinstance(value, ir.ParamRef):
        return f"p:{value.name}"
    return f"({_value_key(value.left)}{value.op}{_value_key(value.right)})"


@dataclass
class _Form:
    """One rule in durable_rules' JSON, with what it sends and what the engine must hold."""

    rule: Rule
    patterns: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    fields: dict[str, set[str]] = field(default_factory=dict)  # kind -> engine fields read
    slots: dict[str, dict[str, _Slot]] = field(default_factory=dict)  # kind -> slot fields

    def definition(self) -> dict[str, Any]:
        return {"all": [{alias: pattern} for alias, _, pattern in self.patterns], "cap": CAP}


class _Translator:
    def __init__(self, form: _Form, ruleset: str, params: Mapping[str, Any]) -> None:
        self.form = form
        self.ruleset = ruleset
        self.params = params
        self.kind = ""

    def pattern(self, pattern: ir.Pattern) -> dict[str, Any]:
        self.kind = pattern.kind
        form = self.form
        form.fields.setdefault(pattern.kind, set(_ALWAYS_SENT))
        form.slots.setdefault(pattern.kind, {})
        body = self.condition(pattern.condition)
        parts = body["$and"] if set(body) == {"$and"} else [body]
        alias = SUBJECT if pattern.subject else f"given_{pattern.kind}"
        json_form = {"$and": [{"kind": pattern.kind}, *parts]}
        form.patterns.append((alias, pattern.kind, json_form))
        return json_form

    def condition(self, cond: ir.Cond) -> dict[str, Any]:
        if isinstance(cond, ir.BoolOp):
            return _join(_JOINS[cond.op], [self.condition(part) for part in cond.parts])
        name = self.field(cond.left)
        if isinstance(cond, ir.Compare):
            right = self.value(cond.right)
            return {name: right} if cond.op == "==" else {_OPS[cond.op]: {name: right}}
        if isinstance(cond.choices, ir.ParamRef):
            return {self.member_slot(cond.left, cond.choices.name): not cond.negated}
        rights = [self.value(choice) for choice in cond.choices]
        tests = [{"$neq": {name: r}} if cond.negated else {name: r} for r in rights]
        return _join("$and" if cond.negated else "$or", tests)

    def field(self, ref: ir.FieldRef) -> str:
        name = "ref" if ref.name == "id" else engine_names(self.kind).get(ref.name, ref.name)
        self.form.fields[self.kind].add(name)
        return name

    def value(self, value: ir.Value, divisor: bool = False) -> Any:
        if isinstance(value, ir.FieldRef):
            return {"$m": self.field(value)}
        if isinstance(value, ir.Const):
            return float(value.value) if divisor else _literal(value.value)  # type: ignore[arg-type]
        if ir.fixed(value):
            name = "_p" + _digest(f"{self.ruleset}|{_value_key(value)}|{divisor}")
            self.form.slots[self.kind][name] = _Slot(self.ruleset, value, divisor=divisor)
            return {"$m": name}
        assert isinstance(value, ir.Arith)
        left, right = self.value(value.left), self.value(value.right, value.op == "/")
        return {_ARITH[value.op]: {"$l": left, "$r": right}}

    def member_slot(self, ref: ir.FieldRef, param: str) -> str:
        """A field that says whether the fact's `ref` is in list parameter `param` (absent
        where the fact lacks `ref`, so that, like any test of an absent value, both `in` and
        `not in` are false)."""
        name = "_i" + _digest(f"{self.ruleset}|{param}|{ref.name}")
        self.form.slots[self.kind][name] = _Slot(self.ruleset, param=param, member=ref.name)
        return name


def _join(key: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """`key` over `parts`, with groups of the same kind merged and equal tests sent once."""
    items: dict[str, dict[str, Any]] = {}
    for part in parts:
        for item in part[key] if set(part) == {key} else [part]:
            items.setdefault(_canon(item), item)
    found = list(items.values())
    return found[0] if len(found) == 1 else {key: found}


def translate(rule: Rule) -> _Form:
    """`rule` in durable_rules' JSON, `given` patterns first and its own fact's last."""
    translator = _Translator(_Form(rule), rule.ruleset, rule.params)
    for pattern in rule.patterns:
        translator.pattern(pattern)
    return translator.form


def pattern_json(
    pattern: ir.Pattern, params: Mapping[str, Any], ruleset: str = ""
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One pattern in durable_rules' JSON, and the parameter fields its facts carry, with these
    values (what tests and `bench/` look at)."""
    form = _Form(None)  # type: ignore[arg-type]
    json_form = _Translator(form, ruleset, params).pattern(pattern)
    slots = form.slots[pattern.kind]
    return json_form, {
        name: list(params[slot.param]) if slot.member else slot.fill(params)
        for name, slot in slots.items()
    }
