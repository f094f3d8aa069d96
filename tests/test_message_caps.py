"""A message cannot amplify: each is cut at MAX_MESSAGE_CHARS while it is filled in, however
many placeholders its template has, so a report's size is bounded by the findings it has."""

from __future__ import annotations

import time
from pathlib import Path

import icorules
from icorules.rules.templates import CUT, MAX_MESSAGE_CHARS, Budget, ReportTooLarge, render

ROOT = Path(__file__).resolve().parent.parent


def test_a_message_of_many_placeholders_is_cut_while_it_is_filled_in() -> None:
    started = time.perf_counter()
    text = render("{name} " * 150_000, {"name": "x" * 600}, {})
    assert time.perf_counter() - started < 0.5  # it stops, rather than building 90 MB
    cut = CUT.format(limit=MAX_MESSAGE_CHARS)
    assert text.endswith(cut) and len(text) == MAX_MESSAGE_CHARS + len(cut)


def test_a_budget_counts_every_message_of_a_check() -> None:
    budget = Budget(10)
    assert render("{name}", {"name": "abcd"}, {}, budget) == "abcd"
    assert budget.left == 6
    try:
        render("{name}{name}", {"name": "abcd"}, {}, budget)
    except ReportTooLarge as exc:
        assert exc.limit == 10
    else:
        raise AssertionError("the budget did not stop the report")


def test_a_ruleset_with_an_amplifying_message_gives_bounded_findings(tmp_path: Path) -> None:
    ruleset = tmp_path / "loud.yaml"
    ruleset.write_text(
        "ruleset: t/loud\nversion: '1'\nrules:\n  - id: LOUD-001\n    title: loud\n"
        "    severity: info\n    source: s\n    fact: partner\n    condition: on_board\n"
        f'    message: "{"{name} " * 20_000}"\n    fix: f\n'
    )
    report = icorules.check(ROOT / "examples" / "church-view.json", rulesets=[ruleset])
    assert report.findings
    for finding in report.findings:
        assert len(finding.message) <= MAX_MESSAGE_CHARS + len(CUT.format(limit=MAX_MESSAGE_CHARS))
