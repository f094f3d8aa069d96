"""The bundled examples: exactly which findings each produces, and that the CLI agrees.

The expected sets are literal on purpose: a change in any rule, fact or example shows up here
as a diff, to be reviewed rather than silently absorbed. Each finding below was read and
checked against the example's data before it was written down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import icorules
from icorules.cli import cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

EXPECTED: dict[str, set[tuple[str, str]]] = {
    # One practice with an acute foundation trust and the PCT's community services (the 2009
    # Church View pilot, which started on 1 April 2009).
    "church-view.json": {
        ("CLASS-002", "church-view"),
        ("ELIG-006a", "church-view"),
    },
    # The same scheme with the defects an assessor must catch (one comment per defect).
    "church-view-defects.json": {
        # Exclusive referral of diagnostics to the trust, with no choice safeguard for it.
        ("CHOICE-001", "diagnostics"),
        ("CHOICE-003", "AG-OUTREACH"),
        ("CHOICE-003a", "AG-PILOT"),
        # Only two years of independent evaluation.
        ("ELIG-005", "church-view-defects"),
        # Led by an independent-sector company.
        ("ELIG-008", "church-view-defects"),
        # The foundation trust is left out of the dispute-resolution procedure.
        ("GOV-002", "CHS-FT"),
        # The clinical lead is a manager.
        ("GOV-003a", "church-view-defects"),
        # A pooled budget with no risk-sharing agreement.
        ("GOV-006a", "church-view-defects"),
        # Home care from a voluntary organisation, and no local authority partner.
        ("GOV-011", "church-view-defects"),
        # No earliest implementation date, and a dispute procedure still in draft.
        ("ELIG-006", "church-view-defects"),
        ("ELIG-010", "governance.dispute_resolution"),
        # The PCT commissions the community nursing it provides, with no conflict cover.
        ("GOV-007", "NHS-SUNDERLAND"),
        # The voluntary organisation has no agreement with any other partner.
        ("GOV-010", "AGE-CONCERN"),
        # Still a vertical pilot.
        ("CLASS-002", "church-view-defects"),
    },
    # 32 practices and the county council in one PCT area (35% of its population).
    "norfolk-older-people.yaml": {
        ("CLASS-001", "norfolk-older-people"),
        ("ELIG-006a", "norfolk-older-people"),
    },
    "south-lakeland.json": {
        ("CLASS-001", "south-lakeland"),
        ("CLASS-003", "south-lakeland"),
        ("ELIG-006a", "south-lakeland"),
    },
}

CLEAN = ["church-view.json", "norfolk-older-people.yaml", "south-lakeland.json"]


def pairs(report: icorules.Report) -> set[tuple[str, str]]:
    return {(f.rule, f.subject.id) for f in report.findings}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_findings(name: str) -> None:
    report = icorules.check(EXAMPLES / name)
    assert pairs(report) == EXPECTED[name]
    # One finding per (rule, subject): nothing is reported twice.
    assert len(report.findings) == len(EXPECTED[name])


@pytest.mark.parametrize("name", CLEAN)
def test_clean_examples_have_only_notes(name: str) -> None:
    report = icorules.check(EXAMPLES / name)
    assert [f.rule for f in report.findings if f.severity != "info"] == []
    assert report.summary.error == report.summary.warning == 0


def test_church_view_is_vertical() -> None:
    report = icorules.check(EXAMPLES / "church-view.json")
    (finding,) = report.by_rule("CLASS-002")
    assert finding.rule == "CLASS-002"
    assert finding.severity == "info"
    assert "acute" in finding.message


def test_defects_severities_and_messages() -> None:
    report = icorules.check(EXAMPLES / "church-view-defects.json")
    by_rule = {f.rule: f for f in report.findings}
    errors = {f.rule for f in report.findings if f.severity == "error"}
    warnings = {f.rule for f in report.findings if f.severity == "warning"}
    assert errors == {
        "CHOICE-001",
        "CHOICE-003",
        "ELIG-005",
        "ELIG-008",
        "GOV-002",
        "GOV-003a",
        "GOV-006a",
        "GOV-011",
    }
    assert warnings == {"CHOICE-003a", "ELIG-006", "ELIG-010", "GOV-007", "GOV-010"}
    # The messages name what is wrong, with the figures and names from the bid.
    assert "WEARSIDE-HP" in by_rule["ELIG-008"].message
    assert "independent_sector" in by_rule["ELIG-008"].message
    assert "2-year evaluation" in by_rule["ELIG-005"].message
    assert "'manager'" in by_rule["GOV-003a"].message
    assert "pooled" in by_rule["GOV-006a"].message
    assert "City Hospitals Sunderland" in by_rule["GOV-002"].message
    assert "community_nursing" in by_rule["GOV-007"].message
    assert "Age Concern Sunderland" in by_rule["GOV-010"].message
    assert "diagnostics" in by_rule["CHOICE-003"].message
    # Partner findings point at the organisation in the file.
    assert by_rule["GOV-002"].subject.path == "organisations[3]"
    assert by_rule["GOV-010"].subject.path == "organisations[4]"
    assert by_rule["CHOICE-003"].subject.path == "agreements[1]"


def test_norfolk_stays_under_the_pct_share_limit() -> None:
    data = yaml.safe_load((EXAMPLES / "norfolk-older-people.yaml").read_text())
    practices = [o for o in data["organisations"] if o["type"] == "gp_practice"]
    (area,) = data["pct_areas"]
    registered = sum(o["list_size"] for o in practices)
    assert len(practices) == 32
    assert 290_000 <= registered <= 310_000
    assert registered / area["population"] <= 0.6
    assert "ELIG-003" in icorules.check(EXAMPLES / "norfolk-older-people.yaml").passed


def test_yaml_and_json_give_the_same_findings(tmp_path: Path) -> None:
    data = yaml.safe_load((EXAMPLES / "norfolk-older-people.yaml").read_text())
    as_json = tmp_path / "norfolk.json"
    as_json.write_text(json.dumps(data, default=str))
    from_yaml = icorules.check(EXAMPLES / "norfolk-older-people.yaml")
    from_json = icorules.check(as_json)
    assert [f.model_dump() for f in from_json.findings] == [
        f.model_dump() for f in from_yaml.findings
    ]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_exit_code_and_json_agree_with_api(name: str) -> None:
    path = str(EXAMPLES / name)
    code, out, err = run("check", path, "--format", "json")
    assert err == ""
    assert code == (0 if name in CLEAN else 1)
    report = json.loads(out)
    assert {(f["rule"], f["subject"]["id"]) for f in report["findings"]} == EXPECTED[name]


def test_defects_pass_with_fail_on_never_and_clean_fail_on_info() -> None:
    assert run("check", str(EXAMPLES / "church-view-defects.json"), "--fail-on", "never")[0] == 0
    assert run("check", str(EXAMPLES / "church-view.json"), "--fail-on", "warning")[0] == 0
    assert run("check", str(EXAMPLES / "church-view.json"), "--fail-on", "info")[0] == 1


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_output_is_deterministic(name: str, fmt: str) -> None:
    path = str(EXAMPLES / name)
    first = run("check", path, "--format", fmt)
    second = run("check", path, "--format", fmt)
    assert first == second
    assert first[1].strip()
    if fmt == "text":
        for rule, _ in EXPECTED[name]:
            assert f"  {rule}  " in first[1]


def test_cli_several_files_in_one_report() -> None:
    paths = [str(EXAMPLES / n) for n in sorted(EXPECTED)]
    code, out, _ = run("check", *paths, "--format", "json")
    assert code == 1  # the defects example has errors
    reports = json.loads(out)
    assert [r["proposal"]["file"] for r in reports] == paths
    for name, report in zip(sorted(EXPECTED), reports, strict=True):
        assert {(f["rule"], f["subject"]["id"]) for f in report["findings"]} == EXPECTED[name]


def test_pct_commissioning_does_not_make_a_pilot_hmo_style() -> None:
    """Regression (fixed in abf27d2): the PCT commissioning acute care is not HMO-style."""
    data = json.loads((EXAMPLES / "church-view.json").read_text())
    pct = next(o for o in data["organisations"] if o["id"] == "NHS-SUNDERLAND")
    pct["commissions"] = ["outpatients", "diagnostics"]  # the PCT commissions as it always did
    assert pairs(icorules.check(data)) == EXPECTED["church-view.json"]


def test_practice_diagnostics_do_not_make_a_pilot_vertical() -> None:
    """Regression (fixed in baeea54): vertical means an acute trust partner, not any partner
    providing an acute-setting service such as a practice's own near-patient testing."""
    data = yaml.safe_load((EXAMPLES / "norfolk-older-people.yaml").read_text())
    practice = next(o for o in data["organisations"] if o["id"] == "NF-GP09")
    practice["provides"].append("diagnostics")  # near-patient testing in the surgery
    data["agreements"][0]["services"].append("diagnostics")
    data["choice_safeguards"].append(
        {"service": "diagnostics", "mechanisms": ["choice_at_referral"], "description": "Any lab."}
    )
    assert pairs(icorules.check(data)) == EXPECTED["norfolk-older-people.yaml"]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_output_does_not_depend_on_hash_seed(fmt: str) -> None:
    """Two processes with different hash seeds (set and dict-of-set order) print the same bytes."""
    args = [sys.executable, "-c", "from icorules.cli import main; main()", "check"]
    args += [str(EXAMPLES / n) for n in sorted(EXPECTED)] + ["--format", fmt, "--fail-on", "never"]
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "NO_COLOR": "1"}
        proc = subprocess.run(args, capture_output=True, env=env, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0]
