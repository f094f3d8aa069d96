"""Waivers: accepted findings leave the exit code alone but stay visible, with their reason."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import icorules
from icorules.cli import cli
from tests.proposals import edited, remove_party

BID = edited(lambda p: remove_party(p, "dispute_resolution", "GP3"))  # GOV-002 error on GP3


def write(tmp_path: Path, waivers: list[dict]) -> Path:
    (tmp_path / "bid.json").write_text(json.dumps(BID))
    path = tmp_path / "waivers.yaml"
    path.write_text(json.dumps({"waivers": waivers}))
    return path


def test_a_waived_error_no_longer_fails_but_is_reported() -> None:
    report = icorules.check(
        BID,
        waivers={
            "waivers": [
                {
                    "rule": "GOV-002",
                    "subject": "GP3",
                    "reason": "Signs the procedure at contract award.",
                    "approved_by": "Panel",
                }
            ]
        },
    )
    assert report.by_rule("GOV-002") == []
    assert not report.fails("error")
    [waived] = report.waived
    assert (waived.finding.rule, waived.finding.subject.id) == ("GOV-002", "GP3")
    assert waived.reason == "Signs the procedure at contract award."
    assert report.summary.waived == 1
    assert "GOV-002" not in report.passed


def test_a_waiver_for_another_subject_or_proposal_does_not_apply() -> None:
    for waiver in (
        {"rule": "GOV-002", "subject": "GP1", "reason": "x"},
        {"rule": "GOV-002", "proposal": "other-bid", "reason": "x"},
    ):
        report = icorules.check(BID, waivers={"waivers": [waiver]})
        assert [f.subject.id for f in report.by_rule("GOV-002")] == ["GP3"]


def test_unused_waiver_scoped_to_this_proposal_is_a_warning() -> None:
    report = icorules.check(
        BID, waivers={"waivers": [{"rule": "GOV-005", "proposal": "clean-bid", "reason": "x"}]}
    )
    assert report.warnings == ["waiver for GOV-005 matched no finding"]


def test_cli_exit_code_text_and_unused_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            {"rule": "GOV-002", "reason": "Accepted by the panel."},
            {"rule": "ELIG-002", "reason": "Nothing to waive."},
        ],
    )
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "bid.json"), "-w", str(path)])
    assert result.exit_code == 0, result.output
    assert "Waived (1)" in result.stdout and "reason: Accepted by the panel." in result.stdout
    assert "1 waived" in result.stdout
    assert result.stderr == (
        f"icorules: warning: {path}: waivers[1] (ELIG-002) matched no finding\n"
    )


def test_unknown_rule_and_missing_reason_are_input_errors(tmp_path: Path) -> None:
    path = write(tmp_path, [{"rule": "GOV-02"}, {"rule": "GOV-0002", "reason": "x"}])
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "bid.json"), "-w", str(path)])
    assert result.exit_code == 2
    assert "waivers[0].reason: required field 'reason' is missing" in result.stderr
    path = write(tmp_path, [{"rule": "GOV-0002", "reason": "x"}])
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "bid.json"), "-w", str(path)])
    assert (
        "waivers[0].rule: no loaded rule has the id 'GOV-0002' (did you mean 'GOV-002'?)"
        in result.stderr
    )
