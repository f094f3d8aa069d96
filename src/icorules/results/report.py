"""The report of one check, and how it is written out (text for people, JSON for tools)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from icorules.results.findings import SEVERITY_RANK, Explained, Finding
from icorules.results.waivers import WaivedFinding

FailOn = Literal["error", "warning", "info", "never"]

# Why a rule that needs market data was not evaluated for a PCT area.
NO_MARKET = "no market file was given (--market FILE)"
NOT_COVERED = "the market file does not cover it"
REPORT_FORMAT: Final = "icorules/report/2"  # bumped when a field changes meaning or goes away


class RulesetInfo(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    name: str
    version: str
    file: str


class ProposalInfo(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    id: str
    name: str
    file: str = Field("", description="Where the proposal was read from, if a file.")


class Summary(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    error: int = 0
    warning: int = 0
    info: int = 0
    passed: int = 0
    not_evaluated: int = 0  # rules not evaluated somewhere (see Report.not_evaluated)
    waived: int = 0
    ignored: int = 0

    def fails(self, fail_on: FailOn) -> bool:
        """True if any finding is at or above the `fail_on` severity (what the exit code and
        every format's verdict mark follow)."""
        if fail_on == "never":
            return False
        counts = (self.error, self.warning, self.info)
        return any(counts[: SEVERITY_RANK[fail_on] + 1])


class MarketRow(BaseModel):
    """One market the pilot touches (a service line in a PCT area), as measured."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    pct_area: str
    service_line: str
    partners: list[str]
    other_providers: int
    partner_share: float = Field(description="0 to 1, by size where known, else by count.")
    basis: Literal["size", "count"]
    hhi_before: float
    hhi_after: float = Field(description="With the partners counted as one provider.")
    alternative_nearby: bool = Field(
        description="A non-partner provides it in this PCT area or an adjacent one."
    )


class NotEvaluated(BaseModel):
    """A rule that did not run for a PCT area, and why; it never counts as passed there."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    rule: str
    pct_area: str | None = Field(
        None, description="The PCT area it was not evaluated for (None: not for any)."
    )
    reason: str = Field(description="Why, in words an assessor can act on.")


class Report(BaseModel):
    """Everything one check found. Same input, same report: no timestamps unless asked."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    format: Literal["icorules/report/2"] = Field(
        REPORT_FORMAT, description="Version of this report layout; new fields may be added."
    )
    proposal: ProposalInfo
    rulesets: list[RulesetInfo]
    findings: list[Finding]
    waived: list[WaivedFinding] = Field(
        default_factory=list, description="Findings accepted by a waiver, with its reason."
    )
    explained: list[Explained] | None = Field(
        None, description="Only with --explain-rule: why those rules did not fire, per subject."
    )
    passed: list[str] = Field(
        description="Ids of rules that ran everywhere they apply and did not fire."
    )
    not_evaluated: list[NotEvaluated] = Field(
        default_factory=list,
        description="Rules that could not run for a PCT area (e.g. no market data for it), "
        "with the reason; such a rule is never listed as passed.",
    )
    ignored: list[str] = Field(
        default_factory=list,
        description="Ids of rules left out by --select/--ignore: neither passed nor failed.",
    )
    warnings: list[str] = Field(
        default_factory=list, description="Problems with the input that did not stop the check."
    )
    markets: list[MarketRow] = Field(
        default_factory=list, description="The markets measured; only with a market context."
    )
    summary: Summary
    elapsed_ms: float | None = Field(None, description="Only when timing was asked for.")

    def fails(self, fail_on: FailOn) -> bool:
        """True if any finding is at or above the `fail_on` severity."""
        return self.summary.fails(fail_on)

    def by_rule(self, rule_id: str) -> list[Finding]:
        return [f for f in self.findings if f.rule == rule_id]

    @property
    def rules_not_evaluated(self) -> list[str]:
        """Ids of the rules not evaluated somewhere, in report order."""
        return list(dict.fromkeys(n.rule for n in self.not_evaluated))

    def not_evaluated_groups(self) -> list[NotEvaluatedGroup]:
        """The unevaluated rules as people read them: areas that share a reason and the same
        rules go together ("for 5NE and 5NF: the market file does not cover it: MKT-001, ...")."""
        by_area: dict[tuple[str, str | None], list[str]] = {}
        for entry in self.not_evaluated:
            by_area.setdefault((entry.reason, entry.pct_area), []).append(entry.rule)
        groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for (reason, area), rules in by_area.items():
            areas = groups.setdefault((reason, tuple(rules)), [])
            if area is not None:
                areas.append(area)
        return [
            NotEvaluatedGroup(reason, tuple(areas), rules)
            for (reason, rules), areas in groups.items()
        ]


@dataclass(frozen=True)
class NotEvaluatedGroup:
    reason: str
    areas: tuple[str, ...]
    rules: tuple[str, ...]

    @property
    def where(self) -> str:
        """ "for 5NE and 5NF", or "" when the rules were not evaluated anywhere."""
        if not self.areas:
            return ""
        if len(self.areas) == 1:
            return f"for {self.areas[0]}"
        return f"for {', '.join(self.areas[:-1])} and {self.areas[-1]}"

    def describe(self) -> str:
        """ "for 5NE (the market file does not cover it)"."""
        return f"{self.where} ({self.reason})".strip()


def report_schema() -> dict[str, Any]:
    """The JSON Schema of one report, as `check --format json` writes it (several: a list)."""
    schema = Report.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"icorules report ({REPORT_FORMAT})"
    return schema
