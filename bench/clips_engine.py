"""The compiled icorules rules run on CLIPS (via clipspy), for a same-input peer comparison.

Each fact kind becomes a deftemplate and each compiled rule a defrule: the rule's condition
(durable_rules JSON, as the loader compiled it) becomes one predicate constraint inside its
pattern, so CLIPS tests it in its pattern network as durable_rules does in its alpha network;
`given` patterns are extra patterns; a derived fact is asserted on the right-hand side, so
chaining happens inside CLIPS. Matches come back through one Python function call per match
and are de-duplicated on (rule, subject), as icorules does.

Two clipspy 1.0.6 traps (shared/design/DURABLE_RULES_NOTES.md) are avoided: each asserted fact
is released explicitly (its wrapper's release is broken, so facts would never be freed), and no
slot constraint mixes a literal with a predicate. Facts go in through templates (CLIPS's fact
builder), not as text: `load-facts` from a string measured 10x slower here (20 ms for 46 facts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from icorules.analysis.facts import FACT_KINDS, field_types
from icorules.engines.durable import pattern_kind
from icorules.rules.loader import SUBJECT, Rule, RuleBundle

_CMP = {"$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">=", "$neq": "neq"}
_ARITH = {"$add": "+", "$sub": "-", "$mul": "*", "$div": "/"}


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

    def __init__(self, alias: str, condition: dict[str, Any]) -> None:
        self.alias = alias
        self.kind = pattern_kind(condition)
        self.types = {name: t.base for name, t in field_types(self.kind).items()}
        self.types["ref"] = str
        self.nullable = {n for n, t in field_types(self.kind).items() if t.nullable}
        self.bound: list[str] = []
        rest = condition["$and"][1:]
        self.test = self.expr(rest[0] if len(rest) == 1 else {"$and": rest})

    def var(self, field: str) -> str:
        if field not in self.bound:
            self.bound.append(field)
        return f"?{self.alias}_{field}"

    def is_number(self, field: str) -> bool:
        return self.types.get(field) not in (bool, str)

    def expr(self, cond: dict[str, Any]) -> str:
        if len(cond) != 1:
            return "(and " + " ".join(self.expr({k: v}) for k, v in cond.items()) + ")"
        ((key, arg),) = cond.items()
        if key in ("$and", "$or"):
            parts = [self.expr(c) for c in arg]
            return parts[0] if len(parts) == 1 else f"({key[1:]} {' '.join(parts)})"
        if key in _CMP:
            ((field, rhs),) = arg.items()
            return self.compare(_CMP[key], field, rhs)
        return self.compare("=", key, arg)

    def compare(self, op: str, field: str, rhs: Any) -> str:
        left, right = self.var(field), self.value(rhs)
        if self.is_number(field):  # `=` and `<>` compare 1 with 1.0 as equal; `eq` does not
            test = f"(<> {left} {right})" if op == "neq" else f"({op} {left} {right})"
        else:
            test = f"({'neq' if op == 'neq' else 'eq'} {left} {right})"
        if field in self.nullable:  # a missing field fails every comparison, as in the engine
            return f"(and (neq {left} nil) {test})"
        return test

    def value(self, expr: Any) -> str:
        if isinstance(expr, dict) and "$m" in expr:
            return self.var(expr["$m"])
        if isinstance(expr, dict):
            ((op, args),) = expr.items()
            return f"({_ARITH[op]} {self.value(args['$l'])} {self.value(args['$r'])})"
        return literal(expr)

    def clips(self) -> str:
        """`(kind (id ?x_id) (f ?x_f) ... (last ?x_last&:(test)))`."""
        self.var("id")
        self.var("ref")
        slots = [f"({f} {self.var(f)})" for f in self.bound]
        last = self.bound[-1]
        slots[-1] = f"({last} {self.var(last)}&:{self.test})"
        return f"({self.kind} {' '.join(slots)})"


def defrule(rule: Rule) -> str:
    """One compiled icorules rule as a CLIPS defrule."""
    patterns = [
        _Pattern("s" if a == SUBJECT else f"g{i}", c) for i, (a, c) in enumerate(rule.patterns)
    ]
    lhs = " ".join(p.clips() for p in patterns)
    rhs = f'(icr-match "{rule.id}" ?s_id)'
    if rule.derive is not None:
        ref = f'(str-cat "{rule.id}/" ?s_ref)'
        fields = " ".join(f"({k} {literal(v)})" for k, v in rule.derive.fields.items())
        kind = rule.derive.kind
        rhs += f' (assert ({kind} (id (str-cat "{kind}:" {ref})) (ref {ref}) {fields}))'
    return f"(defrule r-{rule.id} {lhs} => {rhs})"


def deftemplate(kind: str) -> str:
    slots = ["id", "ref", *(f for f in field_types(kind) if f != "id")]  # own id travels as ref
    return f"(deftemplate {kind} " + " ".join(f"(slot {s})" for s in slots) + ")"


class ClipsEngine:
    """One CLIPS environment holding one bundle's rules; `run` checks one set of facts."""

    def __init__(self, bundle: RuleBundle) -> None:
        import clips
        from clips._clips import lib

        self._release = lib.ReleaseFact
        self._true, self._false = clips.Symbol("TRUE"), clips.Symbol("FALSE")
        self.env = clips.Environment()
        self.matches: list[tuple[str, str]] = []
        self.env.define_function(self._record, name="icr-match")
        for kind in FACT_KINDS:
            self.env.build(deftemplate(kind))
        self.templates = {kind: self.env.find_template(kind) for kind in FACT_KINDS}
        for rule in bundle.rules:
            self.env.build(defrule(rule))

    def _record(self, rule: str, subject: str) -> None:
        self.matches.append((rule, subject))

    def run(self, facts: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
        """(rule id, subject engine id) for every match."""
        self.matches = []
        self.env.reset()
        true, false = self._true, self._false
        for fact in facts:
            slots = {
                k: (true if v else false) if isinstance(v, bool) else v
                for k, v in fact.items()
                if k != "kind"
            }
            self._release(self.templates[fact["kind"]].assert_fact(**slots)._fact)
        self.env.run()
        return set(self.matches)
