"""What crosses the engine seam: the records facts travel as, matches, engine errors and the
Backend protocol. Backends import these from here, and `icorules.engines` re-exports them.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import gc
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

if TYPE_CHECKING:
    from icorules.analysis.facts import Fact
    from icorules.rules.loader import Rule, RuleBundle

Record = dict[str, Any]


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


# -- facts ---------------------------------------------------------------------------------


def fact_record(fact: Fact) -> Record:
    """A fact of the check (analysis.derive_facts) as every backend reads it: its kind, its
    subject's id and its fields, enums as their text and numbers to 4 decimal places (what
    rules can rely on); an absent value is left out, so any test of it is false."""
    return record_of(type(fact), fact.__dict__)


def record_of(cls: type[Fact], values: Mapping[str, Any]) -> Record:
    """fact_record of a fact of kind `cls` with these values."""
    return _corrected({"kind": cls.kind, **values}, _record_plan(cls.kind))


def normalized(record: Record) -> Record:
    """A record as fact_record gives it, of one a check sent.

    A check sends each fact's row as it is (Fact.row: its kind, `path`, None for a value that
    is absent, enums as members, numbers as worked out), not fact_record's copy: making ~50
    copies was 5% of a typical check, and durable_rules' encoding reads the few fields it sends
    as they are. A backend that reads every field (the reference evaluator) reads this. A record
    that is already one (fact_record's, a derived fact's) comes back equal."""
    return _corrected(dict(record), _record_plan(record["kind"]))


def _corrected(out: Record, plan: _RecordPlan) -> Record:
    # Copied whole in one step, then the few fields that may be absent, are rounded or are
    # enums' text put right in place.
    out.pop("path", None)
    for name in plan.nullable:
        if name in out and out[name] is None:
            del out[name]
    for name in plan.rounded:
        value = out.get(name)
        if value is not None:
            out[name] = round(value, 4)
    for name in plan.texts:
        value = out.get(name)
        if isinstance(value, enum.Enum):
            out[name] = value._value_
    return out


class _RecordPlan(NamedTuple):
    nullable: tuple[str, ...]  # fields that may be None: left out of the record
    rounded: tuple[str, ...]  # numbers kept to 4 decimal places
    texts: tuple[str, ...]  # enums, sent as their text


@functools.cache
def _record_plan(kind: str) -> _RecordPlan:
    """What a record of `kind` needs put right, worked out once (nothing, for a kind rules
    derive: derived_record makes them right)."""
    from icorules.analysis.facts import FACT_KINDS, field_types

    if kind not in FACT_KINDS:
        return _RecordPlan((), (), ())
    types = field_types(kind)
    return _RecordPlan(
        nullable=tuple(name for name, info in types.items() if info.nullable),
        rounded=tuple(name for name, info in types.items() if info.base is float),
        texts=tuple(
            name for name, info in types.items() if info.base is not float and info.choices
        ),
    )


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
