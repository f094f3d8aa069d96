"""The report as text: for people at a terminal (rich), and JSON for other programs."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from icorules.results.report import Report


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
