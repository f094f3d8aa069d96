"""Engines: the one seam between loaded rules and whatever runs them over a check's facts.

A backend (`get_backend(name)`) has two steps. `prepare(bundle)` checks the rules against the
backend's own limits and readies them (durable_rules registers them once per process);
`run(prepared, facts)` returns the matches. Two backends share the seam: "durable_rules" (the
default; engines/durable.py, the only module that imports durable_rules) and "reference"
(engines/reference.py: the same typed conditions evaluated in plain Python).

Facts cross the seam as plain records, `{"kind", "id", <fields>}` with Python values (dates as
`datetime.date`, enums as their text, numbers to 4 decimal places); a backend converts them to
its own form inside. Matches carry the caller's records back. The record a rule derives is
built here only (`derived_record`), so every stage that rebuilds one gets the same thing.

What a check may cost is bounded before any backend runs (`check_cost`): the matches the rules
can make and the join that `given` patterns ask for, against `Limits.matches` and
`Limits.join_product`.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from icorules.errors import InputError, Problem
from icorules.limits import DEFAULT_LIMITS, Limits
from icorules.rules import ir

if TYPE_CHECKING:
    from icorules.analysis.facts import Fact
    from icorules.rules.loader import Rule, RuleBundle

Record = dict[str, Any]
BACKENDS = ("durable_rules", "reference")


class EngineError(RuntimeError):
    """The engine failed while running a check (a bug, not bad input)."""


@dataclass(frozen=True)
class Match:
    """Rule `rule` fired on the fact `subject`; `given` holds, by kind, a fact that met each of
    its `given` patterns. Both are the caller's records."""

    rule: str
    subject: Record
    given: dict[str, Record]


@dataclass(frozen=True)
class RuleProblem:
    """A rule a backend cannot run: which pattern (`None` for the rule's own condition, else
    the `given` kind) and why."""

    given: str | None
    message: str


class Prepared(Protocol):
    """A bundle made ready by one backend (its plan, registrations and so on)."""

    @property
    def bundle(self) -> RuleBundle: ...


P = TypeVar("P", bound=Prepared)


class Backend(Protocol[P]):
    """What runs rules: durable_rules, or the reference evaluator. `P` is its Prepared."""

    name: str

    def rule_problems(self, rule: Rule) -> list[RuleProblem]:
        """What in this rule, with its parameter values, the backend could not run."""
        ...

    def prepare(self, bundle: RuleBundle) -> P:
        """Check the bundle against the backend's limits and ready it (raises InputError)."""
        ...

    def run(self, prepared: P, facts: Sequence[Record]) -> list[Match]:
        """Every rule match over `facts`, derived facts chained in, one per (rule, subject)."""
        ...


def get_backend(name: str = "durable_rules") -> Backend[Any]:
    """The backend called `name`: "durable_rules" (one per process) or "reference"."""
    if name == "durable_rules":
        from icorules.engines import durable

        return durable.get_engine()
    if name == "reference":
        from icorules.engines import reference

        return reference.BACKEND
    raise ValueError(f"unknown engine {name!r}: use 'durable_rules' or 'reference'")


def rule_problems(rule: Rule) -> list[RuleProblem]:
    """What any backend could not run in `rule`: a ruleset that loads must run on each. Only
    static checks, so durable_rules itself is not loaded for them."""
    from icorules.engines import durable, reference

    return [*durable.rule_problems(rule), *reference.rule_problems(rule)]


# -- facts -----------------------------------------------------------------------------------


def fact_record(fact: Fact) -> Record:
    """A derived fact as every backend gets it: its kind, its subject's id and its fields,
    enums as their text and numbers to 4 decimal places (what rules can rely on); an absent
    value is left out, so any test of it is false."""
    out: Record = {"kind": fact.kind, "id": fact.id}
    for name, value in fact.__dict__.items():
        if value is None or name in ("id", "path"):
            continue
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, float):
            value = round(value, 4)
        out[name] = value
    return out


class Derives(Protocol):
    """What a rule derives (the loader's `Derive`, or a ruleset file's `derive:`)."""

    @property
    def kind(self) -> str: ...

    @property
    def fields(self) -> Mapping[str, Any]: ...


def derived_record(rule_id: str, derive: Derives, subject_id: str) -> Record:
    """The fact rule `rule_id` derives from its match on subject `subject_id`: every stage
    that makes or rebuilds derived facts calls this."""
    return {**derive.fields, "kind": derive.kind, "id": f"{rule_id}/{subject_id}"}


# -- cost ------------------------------------------------------------------------------------


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
    from icorules.engines.reference import holds

    counts: dict[str, int] = {}
    for fact in facts:
        counts[fact["kind"]] = counts.get(fact["kind"], 0) + 1
    producers: dict[str, list[Rule]] = {}
    for rule in bundle.rules:
        if rule.derive is not None:
            producers.setdefault(rule.derive.kind, []).append(rule)

    def candidates(pattern: ir.Pattern, params: Mapping[str, Any]) -> int:
        """Facts of the pattern's kind that may meet it (each derived one made once per
        subject of the rule that derives it)."""
        if pattern.kind not in producers:
            return counts.get(pattern.kind, 0)
        exact = "id" not in ir.fields_read(pattern.condition)  # a derived id varies
        total = 0
        for rule in producers[pattern.kind]:
            assert rule.derive is not None
            record = derived_record(rule.id, rule.derive, "")
            if not exact or holds(pattern.condition, record, params):
                total += counts.get(rule.fact, 0)
        return total

    for _ in range(8):  # facts rules derive (of kinds they may derive from derived facts)
        made = {
            kind: sum(counts.get(rule.fact, 0) for rule in rules)
            for kind, rules in producers.items()
        }
        grown = {k: v for k, v in made.items() if v > counts.get(k, 0)}
        if not grown:
            break
        counts.update(grown)
    matches = join_total = 0
    most: RuleCost | None = None
    biggest: RuleCost | None = None
    for rule in bundle.rules:
        factors = tuple(
            (p.kind, candidates(p, rule.params), ways(p.condition)) for p in rule.patterns
        )
        _, facts_, ways_ = factors[-1]
        own = RuleCost(rule, facts_ * ways_, factors[-1:])
        matches += own.total
        if most is None or own.total > most.total:
            most = own
        if len(factors) > 1:
            join = RuleCost(rule, math.prod(f * n for _, f, n in factors), factors)
            join_total += join.total
            if biggest is None or join.total > biggest.total:
                biggest = join
    return Cost(matches, join_total, most, biggest)


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


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a stretch that allocates many objects which live
    to the end of the check but form no cycles (matches, findings). Its passes over them grow
    with the matches: 1,000 rules (4,000 matches) took 30% longer per check with it on. It is
    switched back on only if it was on, so nested and concurrent pauses leave it as found."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
