"""A rule that did not run for a PCT area is never reported as passed there: every format says
which rules were not evaluated, for which areas, and why. --select/--ignore leave rules out,
listed as ignored, never as passed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import junitparser
import pytest
from click.testing import CliRunner

import icorules
from icorules.cli import cli
from icorules.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
MARKET_RULES = {"CHOICE-002", "MKT-001", "MKT-002", "MKT-003", "MKT-003a", "MKT-004", "MKT-004a"}


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout


@pytest.fixture
def area_market(tmp_path: Path) -> Path:
    """A market imported from the ODS sample: it covers Cumbria's neighbours, not 5NE."""
    out = tmp_path / "area.json"
    ods = ROOT / "examples" / "ods"
    code, _ = run(
        "market", "import", "--practices", ods / "epraccur.csv", "--pct-areas",
        ods / "pct-areas.csv", "-o", out,
    )  # fmt: skip
    assert code == 0
    return out


def test_a_market_file_that_misses_the_bids_area_passes_no_market_rule(area_market: Path) -> None:
    bid = ROOT / "examples" / "south-lakeland.json"
    _, out = run("check", bid, "--market", area_market, "--format", "json")
    report = json.loads(out)
    assert not MARKET_RULES & set(report["passed"])
    assert report["not_evaluated"] == [
        {"rule": rule, "pct_area": "5NE", "reason": "the market file does not cover it"}
        for rule in sorted(MARKET_RULES)
    ]
    _, text = run("check", bid, "--market", area_market, "--no-color")
    assert "Not evaluated (7)\n  for 5NE (the market file does not cover it): CHOICE-002," in text
    assert text.rstrip().endswith("7 not evaluated for 5NE (the market file does not cover it)")


def test_every_format_says_where_and_why_a_rule_was_not_evaluated(area_market: Path) -> None:
    args = ("check", ROOT / "examples" / "south-lakeland.json", "--market", area_market)
    _, sarif = run(*args, "--format", "sarif")
    skipped = [
        r for r in json.loads(sarif)["runs"][0]["results"] if r.get("kind") == "notApplicable"
    ]
    assert {r["ruleId"] for r in skipped} == MARKET_RULES
    assert all(r["properties"]["pct_area"] == "5NE" for r in skipped)
    assert "for 5NE" in skipped[0]["message"]["text"]
    _, junit = run(*args, "--format", "junit")
    [suite] = list(junitparser.JUnitXml.fromstring(junit))
    skips = {case.name: case.result[0].message for case in suite if case.result}
    assert skips["MKT-001"] == "not evaluated for 5NE: the market file does not cover it"
    _, markdown = run(*args, "--format", "markdown")
    assert (
        "Not evaluated for 5NE (the market file does not cover it): CHOICE-002, MKT-001" in markdown
    )
    _, table = run(*args, "--format", "csv")
    rows = [r for r in csv.DictReader(io.StringIO(table)) if r["status"] == "not_evaluated"]
    assert {(r["rule"], r["subject_id"], r["message"]) for r in rows} == {
        (rule, "5NE", "the market file does not cover it") for rule in MARKET_RULES
    }
    _, html = run(*args, "--format", "html")
    assert "Not evaluated for 5NE (the market file does not cover it):" in html


def test_a_market_that_covers_some_areas_evaluates_those_and_marks_the_rest(
    tmp_path: Path,
) -> None:
    market = json.loads((ROOT / "examples" / "markets" / "morecambe-bay.json").read_text())
    market["pct_areas"] = [a for a in market["pct_areas"] if a["code"] != "5NG"]
    for area in market["pct_areas"]:
        area["adjacent"] = [c for c in area.get("adjacent", []) if c != "5NG"]
    market["providers"] = [p for p in market["providers"] if p.get("pct") != "5NG"]
    path = tmp_path / "market.json"
    path.write_text(json.dumps(market))
    bid = ROOT / "examples" / "bay-cross-boundary.json"  # areas 5NF and 5NG
    report = icorules.check(bid, market=path)
    assert {(n.rule, n.pct_area) for n in report.not_evaluated} == {
        (rule, "5NG") for rule in MARKET_RULES
    }
    full = icorules.check(bid, market=ROOT / "examples" / "markets" / "morecambe-bay.json")
    assert full.not_evaluated == []
    assert {m.pct_area for m in report.markets} == {"5NF"}  # the covered area was measured


def test_without_a_market_every_area_is_listed_once_per_rule() -> None:
    report = icorules.check(ROOT / "examples" / "bay-cross-boundary.json")
    assert len(report.not_evaluated) == 2 * len(MARKET_RULES)
    assert {n.reason for n in report.not_evaluated} == {"no market file was given (--market FILE)"}
    assert report.summary.not_evaluated == len(MARKET_RULES)


def test_ignored_rules_are_listed_as_ignored_never_as_passed() -> None:
    bid = ROOT / "examples" / "church-view-defects.json"
    report = icorules.check(bid, select=["GOV"], ignore=["GOV-00"])
    assert report.ignored and all(not r.startswith("GOV-01") for r in report.ignored)
    assert not set(report.ignored) & set(report.passed)
    assert {f.rule for f in report.findings} <= {"GOV-010", "GOV-011", "GOV-012"}
    assert report.not_evaluated == []  # the market rules were not selected
    _, out = run("check", bid, "--ignore", "GOV-002,ELIG", "--format", "json")
    data = json.loads(out)
    assert "GOV-002" in data["ignored"] and "ELIG-008" in data["ignored"]
    assert data["summary"]["ignored"] == len(data["ignored"])
    assert not {f["rule"] for f in data["findings"]} & set(data["ignored"])


def test_a_prefix_that_names_no_rule_is_refused() -> None:
    with pytest.raises(InputError) as raised:
        icorules.check(ROOT / "examples" / "church-view.json", select=["GOVV"])
    assert (
        str(raised.value) == "--select: no loaded rule id starts with 'GOVV' (did you mean 'GOV'?)"
    )


def test_a_format_1_bid_without_a_market_says_its_rules_were_not_evaluated_not_where() -> None:
    """Rules a format-1 file cannot feed are not evaluated anywhere, so the summary line must
    not say "in some PCT areas"."""
    _, text = run("check", ROOT / "examples" / "format-1" / "church-view.json", "--no-color")
    assert "(the proposal is in format 1: it lacks fields the rule reads;" in text
    summary = text.rstrip().splitlines()[-1]
    assert summary.endswith("not evaluated (listed above)")
    assert "in some PCT areas" not in summary
