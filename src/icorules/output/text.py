"""The text report, for people at a terminal.

Findings and the batch summary table are written with plain string building (rich's layout
engine costs more than a check, and is not needed for lines that never wrap). All
text from inputs goes through `printable`, so no control or bidi character reaches a terminal.
Colour is ANSI SGR, only when asked for (the CLI asks on a terminal without NO_COLOR).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

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


# The batch summary table's columns and how each is aligned.
_COLUMNS = (
    ("Proposal", str.ljust),
    ("Errors", str.rjust),
    ("Warnings", str.rjust),
    ("Notes", str.rjust),
    ("Waived", str.rjust),
    ("Verdict", str.ljust),
)
_VERDICT_STYLE = {"pass": "green", "fail": "bold red", "unreadable": "magenta"}


def summary_table(outcomes: Sequence[Outcome], fail_on: FailOn, *, color: bool = False) -> str:
    """One row per proposal with its counts and verdict, for the end of a batch.

    Laid out as a simple-headed table (a blank line, the header, a rule, the rows, a blank
    line) by plain string building: rich's tables took ~0.7 ms a row, 7 s for a batch of
    10,000 bids. A row is never wrapped or cut short, however long its file name."""
    from rich.cells import cell_len  # the terminal width of text with wide characters

    out = _Writer(color)
    verdicts = [o.verdict(fail_on) for o in outcomes]
    header = [name for name, _ in _COLUMNS]
    rows = [header]
    for o, verdict in zip(outcomes, verdicts, strict=True):
        s = o.summary
        counts = [str(n) for n in (s.error, s.warning, s.info, s.waived)] if s else ["-"] * 4
        rows.append([printable(o.path), *counts, verdict])
    widths = [max(cell_len(row[i]) for row in rows) for i in range(len(_COLUMNS))]

    def cells(row: list[str]) -> list[str]:
        """Each cell aligned in its column (padded by terminal width, not characters)."""
        return [
            align(text, width + len(text) - cell_len(text))
            for text, width, (_, align) in zip(row, widths, _COLUMNS, strict=True)
        ]

    bold_space = out.style(" ", "bold")
    lines = [
        "",
        " " + (bold_space + " " + bold_space).join(out.style(c, "bold") for c in cells(header)),
    ]
    lines.append(" " + "\u2500" * (sum(widths) + 3 * (len(widths) - 1)))
    for row in rows[1:]:
        *counts, verdict = cells(row)
        styled = out.style(row[-1], _VERDICT_STYLE.get(row[-1], "magenta"))
        lines.append(" " + "   ".join([*counts, styled + verdict[len(row[-1]) :]]))
    passed, failed = verdicts.count("pass"), verdicts.count("fail")
    unreadable = len(verdicts) - passed - failed
    tally = [(passed, "pass"), (failed, "fail"), (unreadable, "unreadable")][
        : 3 if unreadable else 2
    ]
    count = [out.style(str(n), "bold cyan") + " " + word for n, word in tally]
    lines += ["", out.style(str(len(outcomes)), "bold cyan") + " proposals: " + ", ".join(count)]
    return "".join(line.rstrip() + "\n" for line in "\n".join(lines).splitlines())


class TextRenderer:
    name = "text"
    media_type = "text/plain; charset=utf-8"
    pages = False

    def part(self, result: CheckResult, options: RenderOptions) -> str:
        return render_report(result.report, options)

    def document(
        self, outcomes: Sequence[Outcome], bundle: RuleBundle, options: RenderOptions
    ) -> Iterator[str]:
        parts = [o.part for o in outcomes if o.part is not None]
        for i, part in enumerate(parts):
            yield "\n" + part if i else part
        if len(outcomes) > 1 and not options.quiet:
            yield "\n" + summary_table(outcomes, options.fail_on, color=options.color)


RENDERER = TextRenderer()


def render_text(
    reports: Sequence[Report], *, color: bool = False, fail_on: FailOn = "error"
) -> str:
    """Reports as text, one after another (for callers holding reports, not outcomes)."""
    options = RenderOptions(fail_on=fail_on, color=color)
    return "\n".join(render_report(r, options) for r in reports)
