"""`check --fix`: the fixes rules declare, made in place with the file's layout kept, then the
bid checked again; `--diff` shows them; a fix never invents what the bid's authors must write."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import icorules
from icorules.cli import cli
from icorules.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
DEFECTS = ROOT / "examples" / "church-view-defects.json"
VALID_YAML = ROOT / "tests" / "bad" / "proposals" / "valid.yaml"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_a_safe_fix_is_made_in_place_and_the_bid_checked_again(tmp_path: Path) -> None:
    bid = tmp_path / "bid.json"
    shutil.copy(DEFECTS, bid)
    before = bid.read_text()
    code, out, err = run("check", bid, "--fix", "--format", "json")
    report = json.loads(out)
    assert "GOV-002" not in {f["rule"] for f in report["findings"]}  # checked after the fix
    assert "CHOICE-001" in {f["rule"] for f in report["findings"]}  # unsafe: not made
    assert err.splitlines()[:2] == [
        f"icorules: fixed 1 finding in {bid}:",
        "  GOV-002 on CHS-FT: add CHS-FT to governance.dispute_resolution.parties",
    ]
    assert changed_lines(before, bid.read_text()) == [
        '-        "AGE-CONCERN"',
        '+        "AGE-CONCERN",',
        '+        "CHS-FT"',
    ]
    assert code == 1  # errors remain


def test_an_unsafe_fix_leaves_a_placeholder_that_still_fails(tmp_path: Path) -> None:
    bid = tmp_path / "bid.json"
    shutil.copy(DEFECTS, bid)
    run("check", bid, "--fix", "--unsafe-fixes")
    data = json.loads(bid.read_text())
    [stub] = [s for s in data["choice_safeguards"] if s["service"] == "diagnostics"]
    assert stub["description"].startswith("[to be written:")
    report = icorules.check(bid)
    assert [f.subject.id for f in report.by_rule("CHOICE-001")] == ["diagnostics"]
    stub_written = bid.read_text().replace(
        stub["description"], "Patients may choose any diagnostic provider at referral."
    )
    bid.write_text(stub_written)
    assert icorules.check(bid).by_rule("CHOICE-001") == []


def test_diff_shows_the_fixes_and_changes_nothing(tmp_path: Path) -> None:
    bid = tmp_path / "bid.json"
    shutil.copy(DEFECTS, bid)
    code, out, _ = run("check", bid, "--diff")
    assert code == 1
    assert out.startswith(f"--- {bid}\n+++ {bid}\n@@ ")
    assert '+        "CHS-FT"\n' in out
    assert bid.read_text() == DEFECTS.read_text()
    clean = tmp_path / "clean.json"
    shutil.copy(ROOT / "examples" / "church-view.json", clean)
    assert run("check", clean, "--diff") == (0, "", "")


def test_yaml_keeps_its_comments_and_flow_layout(tmp_path: Path) -> None:
    bid = tmp_path / "bid.yaml"
    text = VALID_YAML.read_text().replace(
        "dispute_resolution: {description: Board then mediation., parties: *everyone}",
        "dispute_resolution: {description: Board then mediation., parties: [PCT1, GP1]}",
    )
    bid.write_text(text)
    run("check", bid, "--fix")
    assert changed_lines(text, bid.read_text()) == [
        "-  dispute_resolution: {description: Board then mediation., parties: [PCT1, GP1]}",
        "+  dispute_resolution: {description: Board then mediation., parties: [PCT1, GP1, GP2]}",
    ]
    assert bid.read_text().startswith("# A small, well-formed proposal")


def test_a_list_reached_through_an_alias_is_left_with_the_reason(tmp_path: Path) -> None:
    bid = tmp_path / "bid.yaml"
    text = VALID_YAML.read_text().replace(
        "    parties: &everyone [PCT1, GP1, GP2]", "    parties: &everyone [PCT1, GP1]"
    )
    assert text != VALID_YAML.read_text()
    bid.write_text(text)
    _, _, err = run("check", bid, "--fix")
    assert bid.read_text() == text
    assert (
        f"icorules: {bid}: not fixed: GOV-002 on GP2: add GP2 to "
        "governance.dispute_resolution.parties (governance.dispute_resolution.parties is a YAML "
        "alias (*name): add to it by hand)"
    ) in err.splitlines()


def test_a_missing_arrangement_is_not_invented(tmp_path: Path) -> None:
    """GOV-008's fix adds a partner to information sharing, but a bid with none gets no new
    arrangement: its description is the bid's to write."""
    data = json.loads(DEFECTS.read_text())
    del data["governance"]["information_sharing"]
    bid = tmp_path / "bid.json"
    bid.write_text(json.dumps(data, indent=2) + "\n")
    run("check", bid, "--fix")
    assert "information_sharing" not in json.loads(bid.read_text())["governance"]


@pytest.mark.parametrize(
    ("autofix", "message"),
    [
        ("{patch: [{append: x, set: y, value: 1}]}", "exactly one of set, remove or append"),
        ("{patch: [{append: parties, value: '{nmae}'}]}", "'{nmae}' is not a field of this fact"),
        ("{patch: []}", "should have at least 1 item"),
    ],
)
def test_a_rules_fix_is_checked_when_the_ruleset_loads(
    tmp_path: Path, autofix: str, message: str
) -> None:
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(
        "ruleset: t/fix\nversion: '1'\nrules:\n  - id: T-001\n    title: t\n    severity: info\n"
        "    source: s\n    fact: partner\n    condition: on_board\n    message: m\n"
        f"    fix: f\n    autofix: {autofix}\n"
    )
    with pytest.raises(InputError) as raised:
        icorules.load_rulesets([ruleset])
    assert message in str(raised.value)
    assert str(raised.value).startswith(f"{ruleset}:")


@pytest.mark.parametrize("rule_id", ["GOV-002", "GOV-008", "ELIG-005a"])
def test_every_safe_bundled_fix_makes_its_rule_pass(tmp_path: Path, rule_id: str) -> None:
    data = json.loads((ROOT / "tests" / "bad" / "proposals" / "valid.json").read_text())
    governance = data["governance"]
    target = {
        "GOV-002": governance["dispute_resolution"]["parties"],
        "GOV-008": governance["information_sharing"]["parties"],
        "ELIG-005a": governance["evaluation"]["data_submission_parties"],
    }[rule_id]
    target.remove("GP2")
    bid = tmp_path / "bid.json"
    bid.write_text(json.dumps(data, indent=2) + "\n")
    assert [f.subject.id for f in icorules.check(bid).by_rule(rule_id)] == ["GP2"]  # it fires
    run("check", bid, "--fix")
    assert icorules.check(bid).by_rule(rule_id) == []  # and passes once fixed
