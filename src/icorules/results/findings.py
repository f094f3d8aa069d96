"""Turning engine matches into findings a policy analyst can read and act on."""

from __future__ import annotations

import datetime as dt
import enum
import re
import string
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from icorules.analysis.facts import Fact
from icorules.engines import Match, gc_paused
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
    explanation: list[str] | None = Field(
        None,
        description="Only with --explain: the condition part by part, with the values it read.",
    )

    def sort_key(self) -> tuple[Any, ...]:
        """Severity, rule, then place in the proposal (organisations[9] before [10])."""
        path = tuple(
            (0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"[.\[\]]+", self.subject.path)
            if part
        )
        return (SEVERITY_RANK[self.severity], self.rule, path, self.subject.id)


class Explained(BaseModel):
    """Why a rule did not fire on a subject (asked for with --explain-rule)."""

    model_config = ConfigDict(frozen=True)
    rule: str
    subject: Subject | None = Field(None, description="None when the rule had no subject.")
    lines: list[str]


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


MAX_FORMAT_WIDTH = 100  # as the loader allows (rules.loader.MAX_FORMAT_WIDTH)


class _TemplateFormatter(string.Formatter):
    """Python's format language cut down to what a message needs, because the template is
    text from a ruleset: `{field}` and `{params.NAME}`, each with a format spec, and nothing
    that reaches into an object (`{name.__class__}`, `{params.__dict__}`, `{x[0]}`) or asks
    for a gigabyte of padding. The loader refuses all of these when a ruleset loads; this is
    the second line, for rules built by other means.
    """

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        values, params = kwargs["values"], kwargs["params"]
        key = field_name.removeprefix("params.")
        if key != field_name and key in params and "." not in key and "[" not in key:
            value = params[key]
            if isinstance(value, list):
                return ", ".join(str(display(v)) for v in value), field_name
            return for_message(value), field_name
        if field_name in values:
            return values[field_name], field_name
        raise ValueError(f"'{{{field_name}}}' is not a field or params.NAME")

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion:
            raise ValueError(f"the conversion '!{conversion}' is not allowed")
        return value

    def format_field(self, value: Any, format_spec: str) -> Any:
        if any(int(n) > MAX_FORMAT_WIDTH for n in re.findall(r"\d+", format_spec)):
            raise ValueError(f"the format '{format_spec}' is too wide")
        try:
            return format(value, format_spec)
        except (TypeError, ValueError):
            # The loader tried the spec on a value of the field's type, but an optional field
            # may be absent ({implementation_date:%B %Y} with no date): show it plainly.
            return str(value)


_FORMATTER = _TemplateFormatter()


def render(template: str, values: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """Fill a rule's message or fix template from a fact's values and the rule's parameters."""
    return _FORMATTER.vformat(template, (), {"values": values, "params": params})


def build_findings(
    matches: Sequence[Match], bundle: RuleBundle, facts: Mapping[str, Fact]
) -> list[Finding]:
    """One finding per match, in a stable order (severity, rule, subject)."""
    with gc_paused():  # thousands of findings with many rules: see engine.gc_paused
        return _build_findings(matches, bundle, facts)


def _build_findings(
    matches: Sequence[Match], bundle: RuleBundle, facts: Mapping[str, Fact]
) -> list[Finding]:
    findings = []
    # Per subject, worked out once: with many rules, one fact is the subject of many findings.
    prepared: dict[str, tuple[dict[str, Any], dict[str, Any], Subject]] = {}
    for match in matches:
        rule = bundle.rule(match.rule)
        key = match.subject["id"]
        if key not in prepared:
            prepared[key] = _subject(match, facts.get(key))
        values, fields, subject = prepared[key]
        findings.append(
            Finding(
                rule=rule.id,
                severity=rule.severity,
                title=rule.title,
                message=render(rule.message, fields, rule.params),
                source=rule.source,
                fix=render(rule.fix, fields, rule.params),
                subject=subject,
                evidence={name: display(values.get(name)) for name in rule.reads},
                ruleset=rule.ruleset,
            )
        )
    return sorted(findings, key=Finding.sort_key)


def _subject(match: Match, fact: Fact | None) -> tuple[dict[str, Any], dict[str, Any], Subject]:
    """A match's subject: its values, those values as messages show them, and the Subject."""
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
    return values, {k: for_message(v) for k, v in values.items()}, subject
