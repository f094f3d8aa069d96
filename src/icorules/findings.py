"""Turning engine matches into findings a policy analyst can read and act on."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from icorules.engine import Match
from icorules.facts import Fact
from icorules.rules.loader import RuleBundle, Severity

SEVERITY_RANK: dict[str, int] = {"error": 0, "warning": 1, "info": 2}

Scalar = bool | int | float | str | None


class Subject(BaseModel):
    """What a finding is about, and where it is in the proposal."""

    model_config = ConfigDict(frozen=True)
    kind: str = Field(description="Fact kind: proposal, partner, agreement, pct_area, ...")
    id: str = Field(description="Id of the organisation, agreement, PCT area, service line, ...")
    name: str = Field("", description="Human-readable name, where the subject has one.")
    path: str = Field("", description="JSON path into the proposal ('' for the whole bid).")


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)
    rule: str
    severity: Severity
    title: str
    message: str
    source: str
    fix: str
    subject: Subject
    evidence: dict[str, Scalar] = Field(
        default_factory=dict, description="The fact fields the rule's condition read."
    )
    ruleset: str

    def sort_key(self) -> tuple[Any, ...]:
        """Severity, rule, then place in the proposal (organisations[9] before [10])."""
        path = tuple(
            (0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"[.\[\]]+", self.subject.path)
            if part
        )
        return (SEVERITY_RANK[self.severity], self.rule, path, self.subject.id)


def display(value: Any) -> Scalar:
    """A fact value as shown to people and in JSON reports."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value  # type: ignore[no-any-return]


def for_message(value: Any) -> Any:
    """Values as a message template gets them: dates and numbers keep their type so format
    specs like {share:.0%} or {date:%B %Y} work; true/false read as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, enum.Enum):
        return str(value.value)
    return value


class _Params:
    def __init__(self, params: Mapping[str, Any]) -> None:
        self._params = params

    def __getattr__(self, name: str) -> Any:
        value = self._params[name]
        if isinstance(value, list):
            return ", ".join(str(display(v)) for v in value)
        return for_message(value)


def build_findings(
    matches: Sequence[Match], bundle: RuleBundle, facts: Mapping[str, Fact]
) -> list[Finding]:
    """One finding per match, in a stable order (severity, rule, subject)."""
    findings = []
    for match in matches:
        rule = bundle.rule(match.rule)
        fact = facts.get(match.subject["id"])
        if fact is not None:
            values: dict[str, Any] = {n: getattr(fact, n) for n in type(fact).model_fields}
            subject = Subject(
                kind=fact.kind, id=fact.id, name=str(getattr(fact, "name", "")), path=fact.path
            )
        else:  # a derived fact: it exists only in the engine
            values = {**match.subject, "id": match.subject["ref"]}
            subject = Subject(
                kind=match.subject["kind"],
                id=match.subject["ref"],
                name=str(match.subject.get("name", "")),
            )
        fields = {k: for_message(v) for k, v in values.items()}
        fields["params"] = _Params(rule.params)
        findings.append(
            Finding(
                rule=rule.id,
                severity=rule.severity,
                title=rule.title,
                message=rule.message.format_map(fields),
                source=rule.source,
                fix=rule.fix.format_map(fields),
                subject=subject,
                evidence={name: display(values.get(name)) for name in rule.reads},
                ruleset=rule.ruleset,
            )
        )
    return sorted(findings, key=Finding.sort_key)
