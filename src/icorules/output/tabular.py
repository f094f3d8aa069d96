"""The CSV report, for spreadsheets: one row per finding, waived finding, passing or unevaluated
rule, or unreadable file.

Every cell goes through `csv_cell`, so a name such as `=HYPERLINK(...)` is shown, not run.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Literal

from icorules.output.escape import csv_cell
from icorules.output.options import RenderOptions
from icorules.results.outcome import CheckResult, Outcome
from icorules.results.report import Report
from icorules.rules.loader import RuleBundle

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


def _rows_text(rows: Iterable[Mapping[str, str]], header: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def report_rows(report: Report, bundle: RuleBundle) -> list[dict[str, str]]:
    rules = {rule.id: rule for rule in bundle.rules}
    base = {"proposal_file": report.proposal.file, "proposal_id": report.proposal.id}
    rows: list[dict[str, str]] = []
    found = [(f, "finding", "") for f in report.findings]
    found += [(w.finding, "waived", w.reason) for w in report.waived]
    for f, status, reason in found:
        rows.append(
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

    def about(rule_id: str) -> dict[str, str]:
        rule = rules.get(rule_id)
        if rule is None:
            return {"rule": rule_id}
        return {
            "rule": rule_id,
            "severity": rule.severity,
            "title": rule.title,
            "source": rule.source,
        }

    rows += [{**base, "status": "passed", **about(rule_id)} for rule_id in report.passed]
    rows += [
        {
            **base,
            "status": "not_evaluated",
            **about(entry.rule),
            "subject_kind": "pct_area" if entry.pct_area else "",
            "subject_id": entry.pct_area or "",
            "message": entry.reason,
        }
        for entry in report.not_evaluated
    ]
    rows += [{**base, "status": "ignored", **about(rule_id)} for rule_id in report.ignored]
    return rows


class CsvRenderer:
    name = "csv"
    media_type = "text/csv; charset=utf-8"
    pages = False

    def part(self, result: CheckResult, options: RenderOptions) -> str:
        return _rows_text(report_rows(result.report, result.bundle))

    def document(
        self, outcomes: Sequence[Outcome], bundle: RuleBundle, options: RenderOptions
    ) -> Iterator[str]:
        yield _rows_text([], header=True)
        for o in outcomes:
            if o.part is not None:
                yield o.part
                continue
            messages = [str(p) for p in o.problems] or [o.internal_error or ""]
            yield _rows_text(
                {"proposal_file": o.path, "status": "unreadable", "message": message}
                for message in messages
            )


RENDERER = CsvRenderer()


def render_csv(reports: Sequence[Report], bundle: RuleBundle) -> str:
    """Reports as CSV (for callers holding reports)."""
    rows = [row for report in reports for row in report_rows(report, bundle)]
    return _rows_text(rows, header=True)
