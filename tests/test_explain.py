"""`check --explain`: each finding's condition with the values it read, and passing rules on
request, in words an analyst can follow."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import icorules
from icorules.cli import cli
from icorules.output.json_report import render_json
from icorules.rules.explain import condition_lines, format_value
from tests.proposals import clean_market, edited, keep_outside_practices, remove_party

GAP = edited(lambda p: remove_party(p, "dispute_resolution", "GP3"))  # GOV-002 on GP3


def test_explanations_are_absent_unless_asked() -> None:
    report = icorules.check(GAP)
    assert all(f.explanation is None for f in report.findings)
    assert report.explained is None
    data = json.loads(render_json([report]))
    assert "explanation" not in data["findings"][0] and "explained" not in data


def test_a_finding_shows_its_given_and_condition_with_values() -> None:
    report = icorules.check(GAP, explain=True)
    [finding] = report.by_rule("GOV-002")
    assert finding.explanation == [
        "given proposal clean-bid: has_dispute_procedure (true) ✓",
        "not in_dispute_procedure (false) ✓",
    ]
    [horizontal] = report.by_rule("CLASS-001")
    assert horizontal.explanation == [
        "all of these hold: ✓",
        "  provides_primary (true) ✓",
        "  not has_acute_trust (false) ✓",
        "  at least one of these holds: ✓",
        "    provides_community (true) ✓",
        "    provides_mental_health (false) ✗",
        "    provides_social_care (true) ✓",
    ]


def test_market_share_reads_like_the_issue_asks() -> None:
    market = clean_market()
    keep_outside_practices(market, 7)
    report = icorules.check(edited(lambda p: None), market=market, explain=True)
    [share] = report.by_rule("MKT-004")
    assert share.explanation == ["partner_share (0.2632) >= params.share_of_supply (0.25) ✓"]


def test_a_passing_rule_shows_which_part_failed() -> None:
    bid = edited(lambda p: p["pct_areas"][0].update(population=34_000))
    report = icorules.check(bid, explain_rules=["ELIG-003"])
    [explained] = report.explained or []
    assert explained.rule == "ELIG-003" and explained.subject is not None
    assert explained.subject.id == "5AA" and explained.subject.path == "pct_areas[0]"
    assert explained.lines == [
        "all of these hold: ✗",
        "  registered_population (20000) > 0 ✓",
        "  population_share (0.5882) > params.max_pct_population_share (0.60) ✗",
    ]


def test_a_given_that_does_not_hold_is_shown() -> None:
    report = icorules.check(GAP, explain_rules=["CHOICE-003a"])
    [explained] = report.explained or []
    assert explained.lines == [
        "given a 'classification' fact with name == 'vertical': none has it ✗",
        "  given classification CLASS-001/clean-bid: name ('horizontal') == 'vertical' ✗",
        "so the condition was not tested",
    ]


def test_explain_rule_covers_its_findings_and_other_subjects() -> None:
    report = icorules.check(GAP, explain_rules=["GOV-002"])
    [finding] = report.by_rule("GOV-002")
    assert finding.explanation is not None
    assert [e.subject.id for e in report.explained or [] if e.subject] == [
        "PCT1",
        "GP1",
        "GP2",
        "LA1",
    ]
    assert all(f.explanation is None for f in report.by_rule("CLASS-001"))


def test_absent_values_and_market_rules_without_a_market() -> None:
    bid = edited(lambda p: p.pop("implementation_date"))
    report = icorules.check(bid, explain_rules=["ELIG-006a", "MKT-004"])
    by_rule = {e.rule: e.lines for e in report.explained or []}
    assert by_rule["ELIG-006a"][-1] == (
        "  implementation_date (absent) > params.expected_start_by (2008-12-31) ✗ "
        "(absent: any test of a missing value is false)"
    )
    assert by_rule["MKT-004"] == ["not evaluated: this rule needs a market context (--market FILE)"]


def test_arithmetic_and_chains_show_worked_values() -> None:
    fact = {"kind": "pct_area", "population": 30000, "registered_population": 3000}
    assert condition_lines("population < registered_population * 10", "pct_area", {}, fact) == [
        "population (30000) < registered_population (3000) * 10 = 30000 ✗"
    ]
    market = {"kind": "market", "hhi_post": 1500.0, "hhi_delta": 300.0}
    params = {"lo": 1000, "hi": 2000}
    assert condition_lines("params.lo <= hhi_post <= params.hi", "market", params, market) == [
        "params.lo (1000) <= hhi_post (1500.00) <= params.hi (2000) ✓"
    ]


def test_values_are_formatted_for_people() -> None:
    assert format_value(True) == "true"
    assert format_value(1.0) == "1.00"
    assert format_value(0.2218) == "0.2218"
    assert format_value("pct") == "'pct'"
    assert format_value(["a", "b"]) == "['a', 'b']"


def test_cli_explain_text_and_json(tmp_path: Path) -> None:
    path = tmp_path / "bid.json"
    path.write_text(json.dumps(GAP))
    result = CliRunner().invoke(cli, ["check", str(path), "--explain"])
    assert result.exit_code == 1
    assert "      why:\n        given proposal clean-bid: has_dispute_procedure (true) ✓\n" in (
        result.stdout
    )
    result = CliRunner().invoke(
        cli, ["check", str(path), "--explain-rule", "GOV-003", "--format", "json"]
    )
    data = json.loads(result.stdout)
    assert data["explained"] == [
        {
            "rule": "GOV-003",
            "subject": {
                "kind": "proposal",
                "id": "clean-bid",
                "name": "Riverside integrated care pilot",
                "path": "",
            },
            "lines": ["not has_clinical_lead (true) ✗"],
        }
    ]
    assert all("explanation" not in f for f in data["findings"])
    result = CliRunner().invoke(cli, ["check", str(path), "--explain-rule", "GOV-02"])
    assert result.exit_code == 2
    assert "--explain-rule: no loaded rule has the id 'GOV-02'" in result.stderr


def test_cli_text_lists_rules_that_did_not_fire(tmp_path: Path) -> None:
    path = tmp_path / "bid.json"
    path.write_text(json.dumps(GAP))
    result = CliRunner().invoke(cli, ["check", str(path), "--explain-rule", "GOV-001"])
    assert "Did not fire (1)\n  GOV-001 on clean-bid\n      why:\n" in result.stdout
    assert "        not has_dispute_procedure (true) ✗\n" in result.stdout


def test_explanations_agree_with_the_engine_on_every_bundled_rule() -> None:
    """Every top-level line of a finding's explanation holds; some top-level line of a
    passing subject's does not."""
    market = clean_market()
    keep_outside_practices(market, 4)
    every = [r.id for r in icorules.default_rulesets().rules]
    report = icorules.check(GAP, market=market, explain=True, explain_rules=every)
    assert len(report.findings) > 3 and len(report.explained or []) > 40
    for finding in report.findings:
        top = [line for line in finding.explanation or [] if not line.startswith(" ")]
        assert top and all(line.endswith("✓") for line in top), finding
    for explained in report.explained or []:
        top = [line for line in explained.lines if not line.startswith(" ")]
        assert any("✗" in line for line in top), explained


def test_explain_one_subject_of_a_rule() -> None:
    report = icorules.check(GAP, explain_rules=["GOV-002:GP1", "GOV-002:NOPE"])
    assert [(e.subject.id if e.subject else None, e.lines) for e in report.explained or []] == [
        (
            "GP1",
            [
                "given proposal clean-bid: has_dispute_procedure (true) ✓",
                "not in_dispute_procedure (true) ✗",
            ],
        ),
        (
            None,
            ["there is no 'partner' fact with id 'NOPE' in this proposal, so nothing was tested"],
        ),
    ]
