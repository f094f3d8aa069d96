"""The CSV report, for spreadsheets: one row per finding, waived finding, passing or unevaluated
rule, or unreadable file.

Every cell goes through `csv_cell`, so a name such as `=HYPERLINK(...)` is shown, not run.
"""

from __future__ import annotations

import csv
import functools
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
    """Rows as CSV lines. Each distinct proposal file and id is written once, and the rest of a
    row once for every row and bid that shares it (the rules passed, not evaluated or ignored
    are the same ~50 rows in every bid): the CSV of a bid cost 0.6 ms, half of checking it.
    Fields are quoted one by one, so the pieces joined are the line written whole."""
    lines = [_line(CSV_COLUMNS)] if header else []
    heads: dict[tuple[str, str], str] = {}
    for row in rows:
        key = (row.get("proposal_file", ""), row.get("proposal_id", ""))
        head = heads.get(key)
        if head is None:
            head = heads[key] = _line(tuple(map(csv_cell, key)))[:-1]
        lines.append(f"{head},{_rest(tuple(row.get(c, '') for c in CSV_COLUMNS[2:]))}")
    return "".join(lines)


@functools.lru_cache(maxsize=4096)
def _rest(cells: tuple[str, ...]) -> str:
    return _line(tuple(map(csv_cell, cells)))


def _line(cells: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
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
