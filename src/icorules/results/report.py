"""The report of one check, and how it is written out (text for people, JSON for tools)."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console
from rich.markup import escape

from icorules.findings import SEVERITY_RANK, Explained, Finding
from icorules.waivers import WaivedFinding

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
        if fail_on == "never":
            return False
        limit = SEVERITY_RANK[fail_on]
        return any(SEVERITY_RANK[f.severity] <= limit for f in self.findings)

    def by_rule(self, rule_id: str) -> list[Finding]:
        return [f for f in self.findings if f.rule == rule_id]


def report_schema() -> dict[str, Any]:
    """The JSON Schema of one report, as `check --format json` writes it (several: a list)."""
    schema = Report.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"icorules report ({REPORT_FORMAT})"
    return schema


def render_json(reports: Sequence[Report]) -> str:
    """One report as an object; several as a list (so one file stays simple to consume)."""
    data = [r.model_dump(mode="json", exclude_none=True) for r in reports]
    payload = data[0] if len(data) == 1 else data
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_HEADING = {"error": "Errors", "warning": "Warnings", "info": "Notes"}


def render_text(reports: Sequence[Report], *, color: bool = False, width: int = 100) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        color_system="standard" if color else None,
        width=width,
        highlight=False,
        soft_wrap=True,
        emoji=False,
    )
    for index, report in enumerate(reports):
        if index:
            console.print()
        _render_one(console, report)
    return buffer.getvalue()


def _render_one(console: Console, report: Report) -> None:
    p = report.proposal
    where = f"{p.file}: " if p.file else ""
    console.print(f"[bold]{escape(where)}{escape(p.name)}[/] ({escape(p.id)})")
    for warning in report.warnings:
        console.print(f"  [yellow]input warning:[/] {escape(warning)}")
    for severity in ("error", "warning", "info"):
        group = [f for f in report.findings if f.severity == severity]
        if not group:
            continue
        style = _STYLE[severity]
        console.print()
        console.print(f"[{style}]{_HEADING[severity]} ({len(group)})[/]")
        for f in group:
            console.print(f"  [{style}]{f.rule}[/]  {escape(f.message)}")
            at = f.subject.path or "the proposal as a whole"
            console.print(f"      [dim]at[/] {escape(at)}  [dim]·  {escape(f.title)}[/]")
            console.print(f"      [dim]fix:[/] {escape(f.fix)}")
            console.print(f"      [dim]source: {escape(f.source)}[/]")
            _render_explanation(console, f.explanation)
    s = report.summary
    counts = ", ".join(
        f"{n} {label}"
        for n, label in (
            (s.error, "error" if s.error == 1 else "errors"),
            (s.warning, "warning" if s.warning == 1 else "warnings"),
            (s.info, "note" if s.info == 1 else "notes"),
        )
    )
    verdict = "[bold red]✗[/]" if s.error else "[bold green]✓[/]"
    if report.waived:
        console.print()
        console.print(f"[dim]Waived ({len(report.waived)})[/]")
        for w in report.waived:
            until = f", until {w.expires.isoformat()}" if w.expires else ""
            by = f" (approved by {escape(w.approved_by)}{until})" if w.approved_by else ""
            console.print(f"  [dim]{w.finding.rule}[/]  {escape(w.finding.message)}")
            console.print(f"      [dim]reason:[/] {escape(w.reason)}{by}")
            _render_explanation(console, w.finding.explanation)
    if report.explained:
        console.print()
        console.print(f"[bold]Did not fire ({len(report.explained)})[/]")
        for e in report.explained:
            on = f" on {e.subject.id}" if e.subject else ""
            console.print(f"  [bold]{e.rule}[/]{escape(on)}")
            _render_explanation(console, e.lines)
    console.print()
    extra = f"; {s.waived} waived" if s.waived else ""
    if s.not_evaluated:
        extra += f"; {s.not_evaluated} not evaluated (they need a market context: --market FILE)"
    if report.elapsed_ms is not None:
        extra += f"; checked in {report.elapsed_ms:.1f} ms"
    passed = "1 rule passed" if s.passed == 1 else f"{s.passed} rules passed"
    console.print(f"{verdict} {counts}; {passed}{extra}")


def _render_explanation(console: Console, lines: list[str] | None) -> None:
    """The condition with the values it read, indented under its finding."""
    if not lines:
        return
    console.print("      [dim]why:[/]")
    for line in lines:
        console.print(f"        {escape(line)}")
