"""The report of one check, and how it is written out (text for people, JSON for tools)."""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from icorules.results.findings import SEVERITY_RANK, Explained, Finding
from icorules.results.waivers import WaivedFinding

FailOn = Literal["error", "warning", "info", "never"]
REPORT_FORMAT: Final = "icorules/report/1"  # bumped when a field changes meaning or goes away


class RulesetInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    version: str
    file: str


class ProposalInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    name: str
    file: str = Field("", description="Where the proposal was read from, if a file.")


class Summary(BaseModel):
    model_config = ConfigDict(frozen=True)
    error: int = 0
    warning: int = 0
    info: int = 0
    passed: int = 0
    not_evaluated: int = 0
    waived: int = 0

    def fails(self, fail_on: FailOn) -> bool:
        """True if any finding is at or above the `fail_on` severity (what the exit code and
        every format's verdict mark follow)."""
        if fail_on == "never":
            return False
        counts = (self.error, self.warning, self.info)
        return any(counts[: SEVERITY_RANK[fail_on] + 1])


class MarketRow(BaseModel):
    """One market the pilot touches (a service line in a PCT area), as measured."""

    model_config = ConfigDict(frozen=True)
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


class Report(BaseModel):
    """Everything one check found. Same input, same report: no timestamps unless asked."""

    model_config = ConfigDict(frozen=True)
    format: Literal["icorules/report/1"] = Field(
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
    passed: list[str] = Field(description="Ids of rules that ran and did not fire.")
    not_evaluated: list[str] = Field(
        default_factory=list,
        description="Ids of rules that need a market context and none was given.",
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


def report_schema() -> dict[str, Any]:
    """The JSON Schema of one report, as `check --format json` writes it (several: a list)."""
    schema = Report.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"icorules report ({REPORT_FORMAT})"
    return schema
