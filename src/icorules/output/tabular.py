"""Report formats for people and spreadsheets: the batch summary table, Markdown and CSV.

Every format carries each finding's rule id, severity, citation and subject, and lists the
rules that passed (auditors ask for them).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Literal

from rich import box
from rich.console import Console, JustifyMethod
from rich.table import Table

from icorules.results.outcome import Outcome
from icorules.results.report import FailOn, Report
from icorules.rules.loader import Rule

SortOrder = Literal["input", "worst", "name"]

CSV_COLUMNS = (
    "proposal_file",
    "proposal_id",
    "status",
    "rule",
    "severity",
    "title",
    "subject_kind",
    "subject_id",
    "subject_path",
    "message",
    "fix",
    "source",
    "waiver_reason",
)


def sorted_outcomes(outcomes: Sequence[Outcome], order: SortOrder) -> list[Outcome]:
    if order == "worst":
        return sorted(outcomes, key=Outcome.worst_key)
    if order == "name":
        return sorted(outcomes, key=lambda o: o.path)
    return list(outcomes)


def summary_table(outcomes: Sequence[Outcome], fail_on: FailOn, *, color: bool = False) -> str:
    """One row per proposal with its counts and verdict, for the end of a batch."""
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
        s = o.report.summary if o.report else None
        counts = [str(n) for n in (s.error, s.warning, s.info, s.waived)] if s else ["-"] * 4
        table.add_row(o.path, *counts, f"[{style.get(verdict, 'magenta')}]{verdict}[/]")
    totals = _totals(outcomes, fail_on)
    buffer = io.StringIO()
    width = max([100, *(len(o.path) + 60 for o in outcomes)])  # paths are never cut short
    console = Console(
        file=buffer, force_terminal=color, color_system="standard" if color else None, width=width
    )
    console.print(table)
    console.print(
        f"{len(outcomes)} proposals: {totals['pass']} pass, {totals['fail']} fail"
        + (f", {totals['unreadable']} unreadable" if totals["unreadable"] else "")
    )
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def _totals(outcomes: Sequence[Outcome], fail_on: FailOn) -> dict[str, int]:
    verdicts = [o.verdict(fail_on) for o in outcomes]
    return {
        "pass": verdicts.count("pass"),
        "fail": verdicts.count("fail"),
        "unreadable": len(verdicts) - verdicts.count("pass") - verdicts.count("fail"),
    }


def render_markdown(outcomes: Sequence[Outcome], fail_on: FailOn, rules: Mapping[str, Rule]) -> str:
    """A summary table for a batch, then each proposal's findings, waivers and passing rules."""
    out: list[str] = []
    if len(outcomes) > 1:
        out += ["# icorules results", ""]
        out += [
            "| Proposal | Errors | Warnings | Notes | Waived | Verdict |",
            "|---|--:|--:|--:|--:|---|",
        ]
        for o in outcomes:
            s = o.report.summary if o.report else None
            counts = f"{s.error} | {s.warning} | {s.info} | {s.waived}" if s else "- | - | - | -"
            out.append(f"| {_cell(o.path)} | {counts} | {o.verdict(fail_on)} |")
        out.append("")
    for o in outcomes:
        if o.report is None:
            out += [f"## {_cell(o.path)}", "", "Could not be checked:", ""]
            out += [f"- {_cell(str(p))}" for p in o.problems] or [f"- {o.internal_error}"]
            out.append("")
            continue
        out += _markdown_report(o.report, fail_on, rules)
    return "\n".join(out).rstrip("\n") + "\n"


def _markdown_report(report: Report, fail_on: FailOn, rules: Mapping[str, Rule]) -> list[str]:
    p, s = report.proposal, report.summary
    verdict = "**fails**" if report.fails(fail_on) else "**passes**"
    out = [f"## {_cell(p.name)} (`{p.id}`)", ""]
    if p.file:
        out += [f"File: `{p.file}`", ""]
    out += [
        f"Verdict: {verdict} — {_n(s.error, 'error')}, {_n(s.warning, 'warning')}, "
        f"{_n(s.info, 'note')}, "
        f"{s.passed} rules passed, {s.waived} waived, {s.not_evaluated} not evaluated.",
        "",
    ]
    out += [f"> Input warning: {_cell(w)}" for w in report.warnings]
    if report.warnings:
        out.append("")
    if report.findings:
        out += [
            "| Severity | Rule | Subject | Finding | Fix | Source |",
            "|---|---|---|---|---|---|",
        ]
        for f in report.findings:
            out.append(
                f"| {f.severity} | {f.rule} | `{f.subject.path or f.subject.id}` | "
                f"{_cell(f.message)} | {_cell(f.fix)} | {_cell(f.source)} |"
            )
        out.append("")
    if report.waived:
        out += ["Waived:", ""]
        out += [
            f"- {w.finding.rule} on `{w.finding.subject.id}`: {_cell(w.reason)}"
            + (f" (approved by {_cell(w.approved_by)})" if w.approved_by else "")
            for w in report.waived
        ]
        out.append("")
    if report.passed:
        out += [
            "Passed:",
            "",
            "| Rule | Severity if it fired | Check | Source |",
            "|---|---|---|---|",
        ]
        for rule_id in report.passed:
            rule = rules.get(rule_id)
            out.append(
                f"| {rule_id} | {rule.severity} | {_cell(rule.title)} | {_cell(rule.source)} |"
                if rule
                else f"| {rule_id} | | | |"
            )
        out.append("")
    if report.not_evaluated:
        out += ["Not evaluated (needs `--market FILE`): " + ", ".join(report.not_evaluated), ""]
    return out


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def render_csv(outcomes: Sequence[Outcome], rules: Mapping[str, Rule]) -> str:
    """One row per finding, waived finding, passing or unevaluated rule, or unreadable file."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for o in outcomes:
        if o.report is None:
            for message in [str(p) for p in o.problems] or [o.internal_error or ""]:
                writer.writerow(
                    {"proposal_file": o.path, "status": "unreadable", "message": message}
                )
            continue
        r = o.report
        base = {"proposal_file": r.proposal.file, "proposal_id": r.proposal.id}
        rows = [(f, "finding", "") for f in r.findings]
        rows += [(w.finding, "waived", w.reason) for w in r.waived]
        for f, status, reason in rows:
            writer.writerow(
                {
                    **base,
                    "status": status,
                    "rule": f.rule,
                    "severity": f.severity,
                    "title": f.title,
                    "subject_kind": f.subject.kind,
                    "subject_id": f.subject.id,
                    "subject_path": f.subject.path,
                    "message": f.message,
                    "fix": f.fix,
                    "source": f.source,
                    "waiver_reason": reason,
                }
            )
        for status, ids in (("passed", r.passed), ("not_evaluated", r.not_evaluated)):
            for rule_id in ids:
                rule = rules.get(rule_id)
                writer.writerow(
                    {**base, "status": status, "rule": rule_id}
                    | (
                        {"severity": rule.severity, "title": rule.title, "source": rule.source}
                        if rule
                        else {}
                    )
                )
    return buffer.getvalue()


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
