"""Self-contained HTML reports for assessors: one page per proposal (verdict, findings by
area, waived and passing checks, a drawing of the partnership, the market table), and an
index page for a batch. No scripts or styles are fetched from the network."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from icorules import __version__
from icorules.output.options import RenderOptions
from icorules.results.findings import Finding
from icorules.results.outcome import CheckResult, Outcome
from icorules.results.report import FailOn, Report
from icorules.rules.loader import RuleBundle


@functools.cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("icorules.output", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_page(
    result: CheckResult, fail_on: FailOn = "error", index_link: str | None = None
) -> str:
    """One proposal's page, drawn from the graph the check built."""
    from icorules.output.drawing import partnership_drawing

    report = result.report
    areas = _by_area(report.findings)
    drawing = partnership_drawing(result.graph, _markers(areas))
    rules = {rule.id: rule for rule in result.bundle.rules}
    failed = report.fails(fail_on)
    return (
        _templates()
        .get_template("report.html.j2")
        .render(
            version=__version__,
            report=report,
            s=report.summary,
            verdict="fail" if failed else "pass",
            verdict_text=_verdict_text(report, fail_on),
            areas=areas,
            passed=[rules[r] for r in report.passed if r in rules],
            not_evaluated=report.not_evaluated_groups(),
            titles={rule.id: rule.title for rule in result.bundle.rules},
            drawing=drawing,
            index_link=index_link,
        )
    )


def _verdict_text(report: Report, fail_on: FailOn) -> str:
    if not report.fails(fail_on):
        return "Passes"
    return "Does not pass" if fail_on == "error" else f"Does not pass (findings at {fail_on})"


def _by_area(findings: Sequence[Finding]) -> list[tuple[str, list[tuple[str, Finding]]]]:
    """Findings under the ruleset they came from, areas in the order their first finding
    appears (so the most severe area comes first), each with its id on the page."""
    areas: dict[str, list[Finding]] = {}
    for f in findings:
        title = f.ruleset.rsplit("/", 1)[-1].replace("_", " ").replace("-", " ").capitalize()
        areas.setdefault(title, []).append(f)
    return [
        (title, [(f"{f.rule}-{i}", f) for i, f in enumerate(found, 1)])
        for title, found in areas.items()
    ]


_MARKED_KINDS = ("partner", "agreement", "pct_area")


def _markers(areas: Sequence[tuple[str, list[tuple[str, Finding]]]]) -> dict[tuple[str, str], Any]:
    """The findings about each organisation, agreement and area, for the drawing: how many,
    the worst, and where the first (in page order) is."""
    from icorules.output.drawing import Marker

    found: dict[tuple[str, str], list[tuple[str, Finding]]] = {}
    for _, findings in areas:
        for anchor, f in findings:
            if f.subject.kind in _MARKED_KINDS:
                found.setdefault((f.subject.kind, f.subject.id), []).append((anchor, f))
    rank = {"error": 0, "warning": 1, "info": 2}
    markers = {}
    for key, items in sorted(found.items()):
        anchor, worst = min(items, key=lambda item: rank.get(item[1].severity, 3))
        counts = {s: sum(f.severity == s for _, f in items) for s in ("error", "warning", "info")}
        words = {"error": "error", "warning": "warning", "info": "note"}
        summary = ", ".join(
            f"{n} {words[s]}{'' if n == 1 else 's'}" for s, n in counts.items() if n
        )
        markers[key] = Marker(len(items), worst.severity, anchor, summary)
    return markers


@dataclass(frozen=True)
class IndexRow:
    name: str
    file: str
    link: str | None
    error: int
    warning: int
    info: int
    waived: int
    verdict: str
    verdict_class: str
    rank: int  # for sorting by verdict: unreadable, fail, pass
    problem: str = ""


def index_row(outcome: Outcome, link: str | None, fail_on: FailOn) -> IndexRow:
    verdict = outcome.verdict(fail_on)
    if outcome.summary is None or outcome.proposal is None:
        problem = str(outcome.problems[0]) if outcome.problems else outcome.internal_error or ""
        return IndexRow(
            name=Path(outcome.path).name,
            file=outcome.path,
            link=None,
            error=0,
            warning=0,
            info=0,
            waived=0,
            verdict="could not be read" if verdict == "unreadable" else verdict,
            verdict_class="unreadable" if verdict == "unreadable" else "internal",
            rank=0,
            problem=problem
            + (f" (and {len(outcome.problems) - 1} more)" if len(outcome.problems) > 1 else ""),
        )
    s = outcome.summary
    return IndexRow(
        name=outcome.proposal.name,
        file=outcome.path,
        link=link,
        error=s.error,
        warning=s.warning,
        info=s.info,
        waived=s.waived,
        verdict="fails" if verdict == "fail" else "passes",
        verdict_class=verdict,
        rank=1 if verdict == "fail" else 2,
    )


def render_index(rows: Sequence[IndexRow]) -> str:
    counts = {
        "pass": sum(r.verdict_class == "pass" for r in rows),
        "fail": sum(r.verdict_class == "fail" for r in rows),
        "unreadable": sum(r.verdict_class in ("unreadable", "internal") for r in rows),
    }
    return (
        _templates()
        .get_template("index.html.j2")
        .render(version=__version__, rows=rows, counts=counts)
    )


def page_names(outcomes: Sequence[Outcome]) -> list[str | None]:
    """A file name for each checked proposal's page in a batch: its file name's stem, made
    safe and unique (`index` is the batch's own page)."""
    taken: set[str] = {"index"}
    names: list[str | None] = []
    for outcome in outcomes:
        if outcome.part is None:
            names.append(None)
            continue
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(outcome.path).stem).strip("-.") or "proposal"
        name, n = stem, 1
        while name.lower() in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name.lower())
        names.append(f"{name}.html")
    return names


class HtmlRenderer:
    """A page per proposal; a batch is a directory of pages with an index page."""

    name = "html"
    media_type = "text/html; charset=utf-8"
    pages = True

    def part(self, result: CheckResult, options: RenderOptions) -> str:
        return render_page(result, options.fail_on, options.index_link)

    def document(
        self, outcomes: Sequence[Outcome], bundle: RuleBundle, options: RenderOptions
    ) -> tuple[str]:
        if len(outcomes) == 1:
            return (outcomes[0].part or "",)
        rows = [
            index_row(o, link, options.fail_on)
            for o, link in zip(outcomes, page_names(outcomes), strict=True)
        ]
        return (render_index(rows),)


RENDERER = HtmlRenderer()
