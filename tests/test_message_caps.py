"""A message cannot amplify: each is cut at MAX_MESSAGE_CHARS while it is filled in, however
many placeholders its template has, so a report's size is bounded by the findings it has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import icorules
from icorules.errors import InputError
from icorules.limits import Limits
from icorules.rules.templates import CUT, MAX_MESSAGE_CHARS, Budget, ReportTooLarge, render

ROOT = Path(__file__).resolve().parent.parent


class CountingValues(dict[str, Any]):
    """A fact's values that count how often a template looks one up."""

    lookups = 0

    def __getitem__(self, key: str) -> Any:
        self.lookups += 1
        return super().__getitem__(key)


def test_a_message_of_many_placeholders_is_cut_while_it_is_filled_in() -> None:
    values = CountingValues(name="x" * 600)
    text = render("{name} " * 150_000, values, {})
    cut = CUT.format(limit=MAX_MESSAGE_CHARS)
    assert text.endswith(cut) and len(text) == MAX_MESSAGE_CHARS + len(cut)
    # It stopped once past the cap, rather than filling in 150,000 placeholders (90 MB) first.
    assert values.lookups == MAX_MESSAGE_CHARS // 601 + 1


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


def test_a_report_longer_than_its_limit_is_refused_before_it_is_built(tmp_path: Path) -> None:
    """Each message is within its cap, but many findings add up: the report_chars limit counts
    them all while they are filled in, and names itself in a located one-line problem."""
    ruleset = tmp_path / "wordy.yaml"
    ruleset.write_text(
        "ruleset: t/wordy\nversion: '1'\nrules:\n  - id: WORDY-001\n    title: wordy\n"
        "    severity: info\n    source: s\n    fact: partner\n    condition: on_board\n"
        f'    message: "{"{name} " * 300}"\n    fix: f\n'
    )
    bid = ROOT / "examples" / "church-view.json"
    report = icorules.check(bid, rulesets=[ruleset])
    used = sum(len(f.message) + len(f.fix) for f in report.findings)
    assert icorules.check(bid, rulesets=[ruleset], limits=Limits(report_chars=used)).findings
    with pytest.raises(InputError) as raised:
        icorules.check(bid, rulesets=[ruleset], limits=Limits(report_chars=used - 1))
    (problem,) = raised.value.problems
    assert problem.file.endswith("church-view.json")
    assert problem.message.endswith(
        f"the report_chars limit is {used - 1:,} (raise it with --limit report_chars=N)"
    )
