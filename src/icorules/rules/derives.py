"""A rule's `derive:`, checked when the ruleset loads: a kind rules may derive, every field
of it given, each of its type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from icorules.analysis.facts import FACT_KINDS, FieldType, field_types
from icorules.errors import did_you_mean
from icorules.rules.spec import RuleSpec


@dataclass(frozen=True)
class Derive:
    kind: str
    fields: Mapping[str, Any]


def check_derive(spec: RuleSpec, problem: Any) -> Derive | None:
    if spec.derive is None:
        return None
    kind = spec.derive.kind
    if kind not in FACT_KINDS or not FACT_KINDS[kind].derived:
        derivable = [k for k, c in FACT_KINDS.items() if c.derived]
        problem(
            ("derive", "kind"),
            f"'{kind}' is not a kind rules can derive; derivable kinds: {', '.join(derivable)}",
        )
        return None
    types = field_types(kind)
    for name, value in spec.derive.fields.items():
        if name not in types or name == "id":
            problem(
                ("derive", "fields", name),
                f"'{kind}' facts have no field '{name}'{did_you_mean(name, types)}",
            )
        elif not _fits(value, types[name]):
            problem(("derive", "fields", name), f"'{name}' must be {types[name].label}")
    missing = sorted(set(types) - set(spec.derive.fields) - {"id"})
    if missing:
        problem(("derive", "fields"), f"missing field(s) for '{kind}': {', '.join(missing)}")
    return Derive(kind, dict(spec.derive.fields))


def _fits(value: Any, ftype: FieldType) -> bool:
    if ftype.base is bool:
        return isinstance(value, bool)
    if ftype.base in (int, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if ftype.base is str:
        return isinstance(value, str) and (not ftype.choices or value in ftype.choices)
    return False
