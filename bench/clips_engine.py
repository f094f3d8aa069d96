"""The compiled icorules rules run on CLIPS (via clipspy), for a same-input peer comparison.

Each fact kind becomes a deftemplate and each compiled rule a defrule: the rule's typed
condition (icorules.rules.ir, as the loader compiled it, with its parameter values) becomes one
predicate constraint inside its pattern, so CLIPS tests it in its pattern network as
durable_rules does in its alpha network; `given` patterns are extra patterns; a derived fact is
asserted on the right-hand side, so chaining happens inside CLIPS. Matches come back through
one Python function call per match and are de-duplicated on (rule, subject), as icorules does.
CLIPS has no dates, so dates go in (and are compared) as YYYYMMDD numbers.

Two clipspy 1.0.6 traps, found while building this comparison, are avoided: each asserted fact
is released explicitly (its wrapper's release is broken, so facts would never be freed), and no
slot constraint mixes a literal with a predicate. Facts go in through templates (CLIPS's fact
builder), not as text: `load-facts` from a string measured 10x slower here (20 ms for 46 facts).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from icorules.analysis.facts import FACT_KINDS, field_types
from icorules.rules import ir
from icorules.rules.loader import Rule, RuleBundle

_CMP = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}


def available() -> str | None:
    """None if clipspy imports, else why not (for the results table)."""
    try:
        import clips  # noqa: F401
    except ImportError as exc:
        return f"clipspy is not installed ({exc}); pip install -e '.[bench]'"
    return None


def literal(value: Any) -> str:
    """A Python value as a CLIPS literal."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.date):
        return str(value.year * 10_000 + value.month * 100 + value.day)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"CLIPS has no literal for {value!r}")
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


class _Pattern:
    """One pattern of a rule: the slots it binds and its condition as a CLIPS expression."""

    def __init__(self, alias: str, pattern: ir.Pattern, params: Mapping[str, Any]) -> None:
        self.alias = alias
        self.kind = pattern.kind
        self.params = params
        self.types = {name: t.base for name, t in field_types(self.kind).items()}
        self.types["id"] = str
        self.nullable = {n for n, t in field_types(self.kind).items() if t.nullable}
        self.bound: list[str] = []
        self.test = self.expr(pattern.condition)

    def var(self, field: str) -> str:
        if field not in self.bound:
            self.bound.append(field)
        return f"?{self.alias}_{field}"

    def is_number(self, field: str) -> bool:
        return self.types.get(field) not in (bool, str)

    def expr(self, cond: ir.Cond) -> str:
        if isinstance(cond, ir.BoolOp):
            parts = [self.expr(c) for c in cond.parts]
            return parts[0] if len(parts) == 1 else f"({cond.op} {' '.join(parts)})"
        field = cond.left.name
        if isinstance(cond, ir.Compare):
            return self.compare(cond.op, field, self.value(cond.right))
        tests = [
            self.compare("!=" if cond.negated else "==", field, literal(v))
            for v in ir.choice_values(cond, self.params)
        ]
        joined = " ".join(tests)
        return tests[0] if len(tests) == 1 else f"({'and' if cond.negated else 'or'} {joined})"

    def compare(self, op: str, field: str, right: str) -> str:
        left = self.var(field)
        if op in _CMP:
            test = f"({_CMP[op]} {left} {right})"
        elif self.is_number(field):  # `=` and `<>` compare 1 with 1.0 as equal; `eq` does not
            test = f"(<> {left} {right})" if op == "!=" else f"(= {left} {right})"
        else:
            test = f"({'neq' if op == '!=' else 'eq'} {left} {right})"
        if field in self.nullable:  # a missing field fails every comparison, as in the engine
            return f"(and (neq {left} nil) {test})"
        return test

    def value(self, value: ir.Value) -> str:
        if isinstance(value, ir.FieldRef):
            return self.var(value.name)
        if ir.fixed(value):
            return literal(ir.param_value(value, self.params))
        assert isinstance(value, ir.Arith)
        return f"({value.op} {self.value(value.left)} {self.value(value.right)})"

    def clips(self) -> str:
        """`(kind (id ?x_id) (f ?x_f) ... (last ?x_last&:(test)))`."""
        self.var("id")
        slots = [f"({f} {self.var(f)})" for f in self.bound]
        last = self.bound[-1]
        slots[-1] = f"({last} {self.var(last)}&:{self.test})"
        return f"({self.kind} {' '.join(slots)})"


def defrule(rule: Rule) -> str:
    """One compiled icorules rule as a CLIPS defrule."""
    patterns = [
        _Pattern("s" if p.subject else f"g{i}", p, rule.params) for i, p in enumerate(rule.patterns)
    ]
    lhs = " ".join(p.clips() for p in patterns)
    rhs = f'(icr-match "{rule.id}" ?s_id)'
    if rule.derive is not None:
        fields = " ".join(f"({k} {literal(v)})" for k, v in rule.derive.fields.items())
        rhs += f' (assert ({rule.derive.kind} (id (str-cat "{rule.id}/" ?s_id)) {fields}))'
    return f"(defrule r-{rule.id} {lhs} => {rhs})"


def deftemplate(kind: str) -> str:
    slots = ["id", *(f for f in field_types(kind) if f != "id")]
    return f"(deftemplate {kind} " + " ".join(f"(slot {s})" for s in slots) + ")"


class ClipsEngine:
    """One CLIPS environment holding one bundle's rules; `run` checks one set of facts."""

    def __init__(self, bundle: RuleBundle) -> None:
        import clips
        from clips._clips import lib

        self._release = lib.ReleaseFact
        self._true, self._false = clips.Symbol("TRUE"), clips.Symbol("FALSE")
        self.env = clips.Environment()
        self.matches: list[tuple[str, str, str]] = []
        self.kinds = {rule.id: rule.fact for rule in bundle.rules}
        self.env.define_function(self._record, name="icr-match")
        for kind in FACT_KINDS:
            self.env.build(deftemplate(kind))
        self.templates = {kind: self.env.find_template(kind) for kind in FACT_KINDS}
        for rule in bundle.rules:
            self.env.build(defrule(rule))

    def _record(self, rule: str, subject: str) -> None:
        self.matches.append((rule, self.kinds[rule], subject))

    def run(self, facts: Sequence[dict[str, Any]]) -> set[tuple[str, str, str]]:
        """(rule id, subject kind, subject id) for every match."""
        self.matches = []
        self.env.reset()
        true, false = self._true, self._false
        for fact in facts:
            slots = {k: _slot(v, true, false) for k, v in fact.items() if k != "kind"}
            self._release(self.templates[fact["kind"]].assert_fact(**slots)._fact)
        self.env.run()
        return set(self.matches)


def _slot(value: Any, true: Any, false: Any) -> Any:
    if isinstance(value, bool):
        return true if value else false
    if isinstance(value, dt.date):
        return value.year * 10_000 + value.month * 100 + value.day
    return value
