"""The same compiled rules evaluated in plain Python, without durable_rules.

A second backend (`icorules.check(..., engine="reference")`): the oracle the durable_rules
backend is tested against, the floor benchmarks compare it with, and a fallback where the
durable_rules C extension cannot load. It is quadratic in the facts a join rule reads, which
the bundled rules keep small.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from itertools import product
from typing import Any

from icorules.engine import Match
from icorules.rules.loader import SUBJECT, RuleBundle

_CMP = {
    "$lt": operator.lt,
    "$lte": operator.le,
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$neq": operator.ne,
}
_ARITH = {
    "$add": operator.add,
    "$sub": operator.sub,
    "$mul": operator.mul,
    "$div": operator.truediv,
}
_MISSING = object()


def _value(expr: Any, fact: dict[str, Any]) -> Any:
    if isinstance(expr, dict) and "$m" in expr:
        return fact.get(expr["$m"], _MISSING)
    if isinstance(expr, dict):
        ((op, args),) = expr.items()
        left, right = _value(args["$l"], fact), _value(args["$r"], fact)
        if _MISSING in (left, right):
            return _MISSING
        return _ARITH[op](left, right)
    return expr


def holds(condition: dict[str, Any], fact: dict[str, Any]) -> bool:
    ((key, arg),) = condition.items() if len(condition) == 1 else ((None, None),)
    if key is None:
        return all(holds({k: v}, fact) for k, v in condition.items())
    if key == "$and":
        return all(holds(c, fact) for c in arg)
    if key == "$or":
        return any(holds(c, fact) for c in arg)
    if key in _CMP:
        ((name, rhs),) = arg.items()
        left, right = fact.get(name, _MISSING), _value(rhs, fact)
        return _MISSING not in (left, right) and _CMP[key](left, right)
    value = fact.get(key, _MISSING)
    return value is not _MISSING and value == arg


def evaluate(bundle: RuleBundle, facts: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
    """(rule id, subject engine id) for every match."""
    return {(m.rule, m.subject["id"]) for m in ReferenceEngine().run(bundle, facts)}


class ReferenceEngine:
    """Stateless, so safe from any number of threads at once."""

    def run(self, bundle: RuleBundle, facts: Sequence[dict[str, Any]]) -> list[Match]:
        """Every rule match, chaining derived facts to a fixpoint, one per (rule, subject)."""
        return _run(bundle, facts)


def _run(bundle: RuleBundle, facts: Sequence[dict[str, Any]]) -> list[Match]:
    known = list(facts)
    fired: set[tuple[str, str]] = set()
    matches: list[Match] = []
    changed = True
    while changed:
        changed = False
        for rule in bundle.rules:
            candidates = [[f for f in known if holds(cond, f)] for _, cond in rule.patterns]
            aliases = [alias for alias, _ in rule.patterns]
            for combo in product(*candidates):
                subject = combo[aliases.index(SUBJECT)]
                key = (rule.id, subject["id"])
                if key in fired:
                    continue
                fired.add(key)
                changed = True
                given = {a: f for a, f in zip(aliases, combo, strict=True) if a != SUBJECT}
                matches.append(Match(rule.id, subject, given))
                if rule.derive is not None:
                    ref = f"{rule.id}/{subject['ref']}"
                    known.append(
                        {
                            **rule.derive.fields,
                            "kind": rule.derive.kind,
                            "id": f"{rule.derive.kind}:{ref}",
                            "ref": ref,
                        }
                    )
    return matches
