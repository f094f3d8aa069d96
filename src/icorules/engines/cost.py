"""What a check may cost, bounded before any backend runs: the matches the rules can make and
the join that `given` patterns ask for, against `Limits.matches` and `Limits.join_product`.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from icorules.errors import InputError, Problem
from icorules.limits import DEFAULT_LIMITS, Limits
from icorules.rules import ir

if TYPE_CHECKING:
    from icorules.rules.loader import Rule, RuleBundle

from icorules.engines.base import Record, derived_record


@dataclass(frozen=True)
class RuleCost:
    """One rule's share: per pattern (kind, facts it may match, `ways`), and their product."""

    rule: Rule
    total: int
    factors: tuple[tuple[str, int, int], ...]

    def shown(self) -> str:
        """`1,000 partner × 5,000 agreement facts`, `1,000 partner facts, up to 31 matches
        each`."""
        text = " × ".join(f"{facts:,} {kind}" for kind, facts, _ in self.factors) + " facts"
        many = [(kind, n) for kind, _, n in self.factors if n > 1]
        if len(self.factors) == 1 and many:
            return f"{text}, up to {many[0][1]:,} matches each"
        if many:
            text += " (" + ", ".join(f"up to {n:,} matches per {k} fact" for k, n in many) + ")"
        return text


@dataclass(frozen=True)
class Cost:
    """What a bundle may cost on some facts, worked out before any backend runs."""

    matches: int
    join_product: int
    most_matches: RuleCost | None  # the rule that may match most often
    biggest_join: RuleCost | None  # the rule with the largest join


def ways(cond: ir.Cond) -> int:
    """How many matches one fact can make for `cond` at once: an `or` fires once for each part
    that holds (durable_rules keeps each as a match), except parts that test one field for
    equality with different values, of which only one can hold."""
    if isinstance(cond, ir.BoolOp):
        if cond.op == "and":
            product = 1
            for part in cond.parts:
                product *= ways(part)
            return product
        equal: set[str] = set()
        total = 0
        for part in cond.parts:
            if _equality(part):
                assert isinstance(part, ir.Compare | ir.Member)
                if part.left.name in equal:
                    continue
                equal.add(part.left.name)
            total += ways(part)
        return total
    return 1


def _equality(cond: ir.Cond) -> bool:
    if isinstance(cond, ir.Member):
        return not cond.negated
    return isinstance(cond, ir.Compare) and cond.op == "==" and ir.fixed(cond.right)


def estimate(bundle: RuleBundle, facts: Sequence[Record]) -> Cost:
    """Matches and joins the rules may make on `facts`: for each rule, the facts its pattern
    can match times `ways`, and for a rule with `given`, the product over its patterns (the
    engine joins every combination before a rule fires once per subject). A derived fact can
    match a pattern only if the values its rule gives it do, so those are tried first."""
    counts: dict[str, int] = {}
    for fact in facts:
        counts[fact["kind"]] = counts.get(fact["kind"], 0) + 1
    shape = _shape(bundle)
    key = tuple(sorted(counts.items()))  # the cost depends on the counts alone
    known = shape.costs.get(key)
    if known is None:
        known = shape.costs[key] = _estimate(shape, counts)
        if len(shape.costs) > _COSTS_KEPT:
            del shape.costs[next(iter(shape.costs))]
    return known


_COSTS_KEPT = 256  # per bundle: proposals of a batch share few counts per kind


def _estimate(shape: _Shape, counts: dict[str, int]) -> Cost:
    for _ in range(8):  # facts rules derive (of kinds they may derive from derived facts)
        made = {kind: sum(counts.get(k, 0) for k in sources) for kind, sources in shape.derived}
        grown = {k: v for k, v in made.items() if v > counts.get(k, 0)}
        if not grown:
            break
        counts.update(grown)
    matches = join_total = most_total = biggest_total = 0
    most: RuleCost | None = None
    biggest: RuleCost | None = None
    for rule, patterns in shape.rules:  # a hot path (every check): objects only for the largest
        factors = [
            (
                kind,
                counts.get(kind, 0) if froms is None else sum(counts.get(k, 0) for k in froms),
                n,
            )
            for kind, froms, n in patterns
        ]
        _, facts_, ways_ = factors[-1]
        own = facts_ * ways_
        matches += own
        if most is None or own > most_total:
            most, most_total = RuleCost(rule, own, tuple(factors[-1:])), own
        if len(factors) > 1:
            join = math.prod(f * n for _, f, n in factors)
            join_total += join
            if biggest is None or join > biggest_total:
                biggest, biggest_total = RuleCost(rule, join, tuple(factors)), join
    return Cost(matches, join_total, most, biggest)


@dataclass(frozen=True)
class _Shape:
    """What `estimate` needs of a bundle, worked out once: per rule, per pattern, its kind,
    the kinds whose facts the rules that derive a fact it can match are about (None for a kind
    no rule derives), and `ways`; per derived kind, the kinds it is derived from."""

    rules: tuple[tuple[Rule, tuple[tuple[str, tuple[str, ...] | None, int], ...]], ...]
    derived: tuple[tuple[str, tuple[str, ...]], ...]
    costs: dict[tuple[tuple[str, int], ...], Cost] = field(default_factory=dict)  # worked out


_SHAPES: weakref.WeakKeyDictionary[RuleBundle, _Shape] = weakref.WeakKeyDictionary()


def _shape(bundle: RuleBundle) -> _Shape:
    found = _SHAPES.get(bundle)
    if found is not None:
        return found
    from icorules.engines.evaluate import holds

    producers: dict[str, list[Rule]] = {}
    for rule in bundle.rules:
        if rule.derive is not None:
            producers.setdefault(rule.derive.kind, []).append(rule)

    def sources(pattern: ir.Pattern, params: Mapping[str, Any]) -> tuple[str, ...] | None:
        if pattern.kind not in producers:
            return None
        exact = "id" not in ir.fields_read(pattern.condition)  # a derived id varies
        return tuple(
            rule.fact
            for rule in producers[pattern.kind]
            if rule.derive is not None
            and (
                not exact
                or holds(pattern.condition, derived_record(rule.id, rule.derive, ""), params)
            )
        )

    shape = _Shape(
        tuple(
            (
                rule,
                tuple((p.kind, sources(p, rule.params), ways(p.condition)) for p in rule.patterns),
            )
            for rule in bundle.rules
        ),
        tuple((kind, tuple(r.fact for r in rules)) for kind, rules in producers.items()),
    )
    _SHAPES[bundle] = shape
    return shape


def check_cost(
    bundle: RuleBundle,
    facts: Sequence[Record],
    limits: Limits = DEFAULT_LIMITS,
    where: str = "<proposal>",
) -> Cost:
    """Refuse (InputError) a check whose rules could make more matches or joins than the
    limits allow, before any backend starts on it."""
    cost = estimate(bundle, facts)
    problems: list[Problem] = []
    if cost.join_product > limits.join_product and cost.biggest_join is not None:
        join = cost.biggest_join
        found = (
            f"rule {join.rule.id} joins {join.shown()} ({join.total:,} combinations) "
            f"through 'given', {cost.join_product:,} for all the rules"
        )
        rule = join.rule
        problems.append(Problem(rule.file, rule.line, None, limits.exceeded("join_product", found)))
    if cost.matches > limits.matches and cost.most_matches is not None:
        most = cost.most_matches
        found = (
            f"the rules could make {cost.matches:,} matches on this proposal (each rule one "
            "for each fact of its kind it may match, and one more for each part of an 'or' "
            f"that holds at the same time); rule {most.rule.id} alone could make "
            f"{most.total:,} ({most.shown()})"
        )
        problems.append(Problem(where, None, None, limits.exceeded("matches", found)))
    if problems:
        raise InputError(problems)
    return cost
