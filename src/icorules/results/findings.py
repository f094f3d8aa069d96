"""Turning engine matches into findings a policy analyst can read and act on.

The models here (and in report.py and waivers.py) defer building their validators: a check
makes its findings and report from values it has worked out itself, with `construct`, so a
check written as text never builds them (~15 ms of every start); reading a report back
(`model_validate`) or writing one as JSON builds them on first use.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from icorules.analysis.facts import Fact
from icorules.engines import Match, gc_paused
from icorules.rules.loader import RuleBundle
from icorules.rules.spec import Severity
from icorules.rules.templates import Budget, display, for_message, render

__all__ = [
    "SEVERITY_RANK",
    "Explained",
    "Finding",
    "Subject",
    "build_findings",
    "construct",
    "display",
    "for_message",
    "render",
]

SEVERITY_RANK: dict[str, int] = {"error": 0, "warning": 1, "info": 2}

M = TypeVar("M", bound=BaseModel)


def construct(cls: type[M], **values: Any) -> M:
    """A results model from values a check worked out itself, of its fields' types: not
    validated, so no validator is built (pydantic's `model_construct` does the same, at twice
    the cost of validating). Fields not given take their defaults."""
    defaults, factories = _defaults(cls)
    data = defaults.copy()  # every field, in order: the values given then take their places
    data.update(values)
    if len(data) != len(defaults):
        raise TypeError(f"{cls.__name__}: unknown fields {sorted(set(data) - set(defaults))}")
    for name, factory in factories:
        if name not in values:
            data[name] = factory()
    made = cls.__new__(cls)
    object.__setattr__(made, "__dict__", data)
    object.__setattr__(made, "__pydantic_fields_set__", set(values))
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", None)
    return made


@functools.cache
def _defaults(
    cls: type[BaseModel],
) -> tuple[dict[str, Any], tuple[tuple[str, Callable[[], Any]], ...]]:
    """A model's fields with their defaults, in order, and those whose default is made fresh
    for each object (a list, a dict)."""
    fields = cls.model_fields
    factories = tuple(
        (name, info.default_factory)
        for name, info in fields.items()
        if info.default_factory is not None
    )
    return {name: info.default for name, info in fields.items()}, factories  # type: ignore[return-value]


Scalar = bool | int | float | str | None


class Subject(BaseModel):
    """What a finding is about, and where it is in the proposal."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    kind: str = Field(description="Fact kind: proposal, partner, agreement, pct_area, ...")
    id: str = Field(description="Id of the organisation, agreement, PCT area, service line, ...")
    name: str = Field("", description="Human-readable name, where the subject has one.")
    path: str = Field("", description="JSON path into the proposal ('' for the whole bid).")


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
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
            for part in _PATH_PARTS.split(self.subject.path)
            if part
        )
        return (SEVERITY_RANK[self.severity], self.rule, path, self.subject.id)


_PATH_PARTS = re.compile(r"[.\[\]]+")


class Explained(BaseModel):
    """Why a rule did not fire on a subject (asked for with --explain-rule)."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    rule: str
    subject: Subject | None = Field(None, description="None when the rule had no subject.")
    lines: list[str]


FactKey = tuple[str, str]  # (kind, id)
FEW_MATCHES = 100


def build_findings(
    matches: Sequence[Match],
    bundle: RuleBundle,
    facts: Mapping[FactKey, Fact],
    budget: Budget | None = None,
) -> list[Finding]:
    """One finding per match, in a stable order (severity, rule, subject). `facts` are the
    check's facts by (kind, id); a match on a fact rules derived has none. The messages and
    fixes spend `budget` as they are filled in (ReportTooLarge when it runs out)."""
    if len(matches) < FEW_MATCHES:  # the collector has little to walk: no need to pause it
        return _build_findings(matches, bundle, facts, budget)
    with gc_paused():  # thousands of findings with many rules: see engine.gc_paused
        return _build_findings(matches, bundle, facts, budget)


def _build_findings(
    matches: Sequence[Match],
    bundle: RuleBundle,
    facts: Mapping[FactKey, Fact],
    budget: Budget | None,
) -> list[Finding]:
    findings = []
    # Per subject, worked out once: with many rules, one fact is the subject of many findings.
    prepared: dict[FactKey, tuple[Mapping[str, Any], Mapping[str, Any], Subject]] = {}
    for match in matches:
        rule = bundle.rule(match.rule)
        key = (match.subject["kind"], match.subject["id"])
        if key not in prepared:
            prepared[key] = _subject(match, facts.get(key))
        values, fields, subject = prepared[key]
        findings.append(
            construct(
                Finding,
                rule=rule.id,
                severity=rule.severity,
                title=rule.title,
                message=render(rule.message, fields, rule.params, budget),
                source=rule.source,
                fix=render(rule.fix, fields, rule.params, budget),
                subject=subject,
                evidence={name: display(values.get(name)) for name in rule.reads},
                ruleset=rule.ruleset,
            )
        )
    return sorted(findings, key=Finding.sort_key)


def _subject(
    match: Match, fact: Fact | None
) -> tuple[Mapping[str, Any], Mapping[str, Any], Subject]:
    """A match's subject: its values, those values as messages show them, and the Subject."""
    values: Mapping[str, Any]
    if fact is not None:
        values = fact.__dict__  # its fields, in order (read here, never changed)
        # Read from its fields: pydantic's getattr of a kind without a name took ~2 us to fail.
        name = str(values.get("name", ""))
        subject = construct(Subject, kind=fact.kind, id=fact.id, name=name, path=fact.path)
    else:  # a derived fact: it exists only while the rules run
        values = dict(match.subject)
        subject = construct(
            Subject,
            kind=match.subject["kind"],
            id=match.subject["id"],
            name=str(match.subject.get("name", "")),
        )
    return values, _ForMessage(values), subject


class _ForMessage(Mapping[str, Any]):
    """A fact's values as message templates get them (`for_message`), each converted when a
    template reads it: a template reads a few of a fact's dozens of fields."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getitem__(self, name: str) -> Any:
        return for_message(self._values[name])

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
