"""Engines: the one seam between loaded rules and whatever runs them over a check's facts.

A backend (`get_backend(name)`) has two steps. `prepare(bundle)` checks the rules against the
backend's own limits and readies them (durable_rules registers them once per process);
`run(prepared, facts)` returns the matches. Two backends share the seam: "durable_rules" (the
default; engines/durable/, the only package that imports durable_rules) and "reference"
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

import importlib
from typing import TYPE_CHECKING, Any

from icorules.engines.base import (
    Backend,
    Derives,
    EngineError,
    Match,
    Prepared,
    Record,
    RuleProblem,
    derived_record,
    fact_record,
    gc_paused,
    normalized,
    record_of,
)

if TYPE_CHECKING:
    from icorules.engines.cost import Cost, RuleCost, check_cost, estimate, ways
    from icorules.rules.loader import Rule

__all__ = [
    "BACKENDS",
    "Backend",
    "Cost",
    "Derives",
    "EngineError",
    "Match",
    "Prepared",
    "Record",
    "RuleCost",
    "RuleProblem",
    "check_cost",
    "derived_record",
    "estimate",
    "fact_record",
    "gc_paused",
    "get_backend",
    "normalized",
    "record_of",
    "rule_problems",
    "ways",
]

BACKENDS = ("durable_rules", "reference")

# The cost estimate reads the rules' conditions (rules.ir, the fact models, pydantic): it is
# imported on first use, so what needs only EngineError (the command line) does not pay for it.
_COST = frozenset({"Cost", "RuleCost", "check_cost", "estimate", "ways"})


def __getattr__(name: str) -> Any:
    """The cost estimate's names, imported on first use (PEP 562) and kept."""
    if name not in _COST:
        raise AttributeError(f"module 'icorules.engines' has no attribute {name!r}")
    value = getattr(importlib.import_module("icorules.engines.cost"), name)
    globals()[name] = value
    return value


def get_backend(name: str = "durable_rules") -> Backend[Any]:
    """The backend called `name`: "durable_rules" (one per process) or "reference"."""
    if name == "durable_rules":
        from icorules.engines import durable

        return durable.get_engine()
    if name == "reference":
        from icorules.engines import reference

        return reference.BACKEND
    raise ValueError(f"unknown engine {name!r}: use {' or '.join(map(repr, BACKENDS))}")


def rule_problems(rule: Rule) -> list[RuleProblem]:
    """What any backend could not run in `rule`: a ruleset that loads must run on each. Only
    static checks, so durable_rules itself is not loaded for them."""
    from icorules.engines import durable, reference

    return [*durable.rule_problems(rule), *reference.rule_problems(rule)]
