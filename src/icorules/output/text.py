"""The text report, for people at a terminal.

Findings are written with plain string building (rich's layout engine costs more than a check
and is not needed for lines that never wrap); the batch summary table uses rich's tables. All
text from inputs goes through `printable`, so no control or bidi character reaches a terminal.
Colour is ANSI SGR, only when asked for (the CLI asks on a terminal without NO_COLOR).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from icorules.output.escape import printable
from icorules.output.options import RenderOptions
from icorules.results.outcome import CheckResult, Outcome
from icorules.results.report import NO_MARKET, FailOn, Report, Summary
from icorules.rules.loader import RuleBundle

_SGR = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "magenta": "35",
    "cyan": "36",
}
_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_HEADING = {"error": "Errors", "warning": "Warnings", "info": "Notes"}


class _Writer:
    """Lines of text, with styles applied only when colour is on."""

    def __init__(self, color: bool) -> None:
        self.color = color
        self.lines: list[str] = []

    def style(self, text: str, style: str) -> str:
        if not self.color:
            return text
        codes = ";".join(_SGR[word] for word in style.split())
        return f"\x1b[{codes}m{text}\x1b[0m"

    def line(self, *pieces: str) -> None:
        self.lines.append("".join(pieces))


def render_report(report: Report, options: RenderOptions | None = None) -> str:
    """One proposal's text report."""
    options = options or RenderOptions()
    out = _Writer(options.color)
    if not options.quiet:
        _body(out, report)
        out.line()
    out.line(_summary_line(out, report, options.fail_on))
    return "\n".join(out.lines) + "\n"


def _body(out: _Writer, report: Report) -> None:
    p = report.proposal
    where = f"{p.file}: " if p.file else ""
    out.line(out.style(printable(f"{where}{p.name}"), "bold"), f" ({printable(p.id)})")
    for warning in report.warnings:
        out.line("  ", out.style("input warning:", "yellow"), " ", printable(warning))
    for severity in ("error", "warning", "info"):
        group = [f for f in report.findings if f.severity == severity]
        if not group:
            continue
        style = _STYLE[severity]
        out.line()
        out.line(out.style(f"{_HEADING[severity]} ({len(group)})", style))
        for f in group:
            out.line("  ", out.style(f.rule, style), "  ", printable(f.message))
            at = printable(f.subject.path) or "the proposal as a whole"
            out.line(
                "      ",
                out.style("at", "dim"),
                f" {at}  ",
                out.style(f"·  {printable(f.title)}", "dim"),
            )
            out.line("      ", out.style("fix:", "dim"), " ", printable(f.fix))
            out.line("      ", out.style(f"source: {printable(f.source)}", "dim"))
            _explanation(out, f.explanation)
    if report.waived:
        out.line()
        out.line(out.style(f"Waived ({len(report.waived)})", "dim"))
        for w in report.waived:
            until = f", until {w.expires.isoformat()}" if w.expires else ""
            by = f" (approved by {printable(w.approved_by)}{until})" if w.approved_by else ""
            out.line("  ", out.style(w.finding.rule, "dim"), "  ", printable(w.finding.message))
            out.line("      ", out.style("reason:", "dim"), " ", printable(w.reason), by)
            _explanation(out, w.finding.explanation)
    groups = report.not_evaluated_groups()
    if any(g.reason != NO_MARKET for g in groups):
        out.line()
        out.line(out.style(f"Not evaluated ({report.summary.not_evaluated})", "bold"))
        for unevaluated in groups:
            out.line(f"  {unevaluated.describe()}: {', '.join(unevaluated.rules)}")
    if report.explained:
        out.line()
        out.line(out.style(f"Did not fire ({len(report.explained)})", "bold"))
        for e in report.explained:
            on = f" on {printable(e.subject.id)}" if e.subject else ""
            out.line("  ", out.style(e.rule, "bold"), on)
            _explanation(out, e.lines)


def _explanation(out: _Writer, lines: list[str] | None) -> None:
    """The condition with the values it read, indented under its finding."""
    if not lines:
        return
    out.line("      ", out.style("why:", "dim"))
    for line in lines:
        out.line("        ", printable(line))


def _summary_line(out: _Writer, report: Report, fail_on: FailOn) -> str:
    s = report.summary
    counts = ", ".join(
        f"{n} {label}"
        for n, label in (
            (s.error, "error" if s.error == 1 else "errors"),
            (s.warning, "warning" if s.warning == 1 else "warnings"),
            (s.info, "note" if s.info == 1 else "notes"),
        )
    )
    extra = f"; {s.waived} waived" if s.waived else ""
    groups = report.not_evaluated_groups()
    if groups and all(g.reason == NO_MARKET for g in groups):
        extra += f"; {s.not_evaluated} not evaluated (they need a market context: --market FILE)"
    elif len(groups) == 1:
        extra += f"; {s.not_evaluated} not evaluated {groups[0].describe()}"
    elif groups and all(g.areas for g in groups):
        extra += f"; {s.not_evaluated} not evaluated in some PCT areas (listed above)"
    elif groups:
        extra += f"; {s.not_evaluated} not evaluated (listed above)"
    if s.ignored:
        extra += f"; {s.ignored} ignored"
    if report.elapsed_ms is not None:
        extra += f"; checked in {report.elapsed_ms:.1f} ms"
    passed = "1 rule passed" if s.passed == 1 else f"{s.passed} rules passed"
    return f"{verdict_mark(out, s, fail_on)} {counts}; {passed}{extra}"


def verdict_mark(out: _Writer, summary: Summary, fail_on: FailOn) -> str:
    """✗ when the check fails at `fail_on` (as the exit code does), ✓ otherwise."""
    if summary.fails(fail_on):
        return out.style("✗", "bold red")
    return out.style("✓", "bold green")


def summary_table(outcomes: Sequence[Outcome], fail_on: FailOn, *, color: bool = False) -> str:
    """One row per proposal with its counts and verdict, for the end of a batch."""
    from rich import box
    from rich.console import Console, JustifyMethod
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("Proposal", "left"),
        ("Errors", "right"),
        ("Warnings", "right"),
        ("Notes", "right"),
        ("Waived", "right"),
        ("Verdict", "left"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify)
    style = {"pass": "green", "fail": "bold red", "unreadable": "magenta"}
    for o in outcomes:
        verdict = o.verdict(fail_on)
        s = o.summary
        counts = [str(n) for n in (s.error, s.warning, s.info, s.waived)] if s else ["-"] * 4
        name = escape(printable(o.path))  # a file name is text, never rich markup
        table.add_row(name, *counts, f"[{style.get(verdict, 'magenta')}]{verdict}[/]")
    verdicts = [o.verdict(fail_on) for o in outcomes]
    passed, failed = verdicts.count("pass"), verdicts.count("fail")
    unreadable = len(verdicts) - passed - failed
    buffer = io.StringIO()
    width = max([100, *(len(printable(o.path)) + 60 for o in outcomes)])  # never cut short
    console = Console(
        file=buffer, force_terminal=color, color_system="standard" if color else None, width=width
    )
    console.print(table)
    console.print(
        f"{len(outcomes)} proposals: {passed} pass, {failed} fail"
        + (f", {unreadable} unreadable" if unreadable else ""),
        markup=False,
    )
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


class TextRenderer:
    name = "text"
    media_type = "text/plain; charset=utf-8"
    pages = False

    def part(self, result: CheckResult, options: RenderOptions) -> str:
        return render_report(result.report, options)

    def document(
        self, outcomes: Sequence[Outcome], bundle: RuleBundle, options: RenderOptions
    ) -> str:
        parts = [o.part for o in outcomes if o.part is not None]
        text = "\n".join(parts)
        if len(outcomes) > 1 and not options.quiet:
            text += "\n" + summary_table(outcomes, options.fail_on, color=options.color)
        return text


RENDERER = TextRenderer()


def render_text(
    reports: Sequence[Report], *, color: bool = False, fail_on: FailOn = "error"
) -> str:
    """Reports as text, one after another (for callers holding reports, not outcomes)."""
    options = RenderOptions(fail_on=fail_on, color=color)
    return "\n".join(render_report(r, options) for r in reports)
