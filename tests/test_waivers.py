"""Waivers: accepted findings leave the exit code alone but stay visible, with their reason,
approver and expiry; expired and unused waivers are reported; incomplete ones are rejected."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

import icorules
from icorules.cli import cli
from icorules.output.json_report import render_json
from icorules.output.text import render_text
from icorules.results.waivers import Waiver
from tests.proposals import edited, remove_party

BID = edited(lambda p: remove_party(p, "dispute_resolution", "GP3"))  # GOV-002 error on GP3
PANEL = "Northern assessment panel"


def write(tmp_path: Path, waivers: list[dict]) -> Path:
    (tmp_path / "bid.json").write_text(json.dumps(BID))
    path = tmp_path / "waivers.yaml"
    path.write_text(json.dumps({"waivers": waivers}))
    return path


def test_a_waived_error_no_longer_fails_but_is_reported_separately() -> None:
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
    assert waived.approved_by == "Panel"
    assert report.summary.waived == 1
    assert "GOV-002" not in report.passed
    data = json.loads(render_json([report]))
    assert data["waived"][0]["finding"]["rule"] == "GOV-002"
    assert "expires" not in data["waived"][0]
    assert all(f["rule"] != "GOV-002" for f in data["findings"])


def test_a_waiver_for_another_subject_or_proposal_does_not_apply() -> None:
    for waiver in (
        {"rule": "GOV-002", "subject": "GP1", "reason": "x", "approved_by": PANEL},
        {"rule": "GOV-002", "proposal": "other-bid", "reason": "x", "approved_by": PANEL},
    ):
        report = icorules.check(BID, waivers={"waivers": [waiver]})
        assert [f.subject.id for f in report.by_rule("GOV-002")] == ["GP3"]


def test_unused_waiver_scoped_to_this_proposal_is_a_warning() -> None:
    waiver = {"rule": "GOV-005", "proposal": "clean-bid", "reason": "x", "approved_by": PANEL}
    report = icorules.check(BID, waivers={"waivers": [waiver]})
    assert report.warnings == ["waiver for GOV-005 matched no finding"]


def test_an_expired_waiver_no_longer_applies_and_is_reported() -> None:
    waiver = {
        "rule": "GOV-002",
        "subject": "GP3",
        "proposal": "clean-bid",
        "reason": "Until the procedure is signed.",
        "approved_by": PANEL,
        "expires": "2009-01-31",
    }
    report = icorules.check(BID, waivers={"waivers": [waiver]})
    assert [f.subject.id for f in report.by_rule("GOV-002")] == ["GP3"]
    assert report.waived == [] and report.fails("error")
    assert report.warnings == [
        "waiver for GOV-002 on GP3 expired on 2009-01-31; its finding is reported again"
    ]


def test_a_waiver_applies_up_to_and_including_its_expiry_date() -> None:
    waiver = Waiver(rule="GOV-002", reason="x", approved_by=PANEL, expires=dt.date(2009, 1, 31))
    assert not waiver.expired(dt.date(2009, 1, 31))
    assert waiver.expired(dt.date(2009, 2, 1))
    future = {**waiver.model_dump(mode="json"), "expires": "2999-12-31"}
    report = icorules.check(BID, waivers={"waivers": [future]})
    [waived] = report.waived
    assert waived.expires == dt.date(2999, 12, 31)
    assert f"(approved by {PANEL}, until 2999-12-31)" in render_text([report])


def test_cli_exit_code_text_and_unused_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            {"rule": "GOV-002", "reason": "Accepted by the panel.", "approved_by": PANEL},
            {"rule": "ELIG-002", "reason": "Nothing to waive.", "approved_by": PANEL},
        ],
    )
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "bid.json"), "-w", str(path)])
    assert result.exit_code == 0, result.output
    assert "Waived (1)" in result.stdout
    assert f"reason: Accepted by the panel. (approved by {PANEL})" in result.stdout
    assert "1 waived" in result.stdout
    assert result.stderr == (
        f"icorules: warning: {path}: waivers[1] (ELIG-002) matched no finding\n"
    )


def test_cli_reports_an_expired_waiver_and_fails_again(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            {"rule": "GOV-002", "reason": "x", "approved_by": PANEL, "expires": "2009-01-31"},
            {"rule": "GOV-005", "reason": "y", "approved_by": PANEL, "expires": "2999-01-31"},
        ],
    )
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "bid.json"), "-w", str(path)])
    assert result.exit_code == 1
    assert "GOV-002  Quay Health Centre (GP3)" in result.stdout
    assert result.stderr.splitlines() == [
        f"icorules: warning: {path}: waivers[0] (GOV-002) expired on 2009-01-31 and no longer "
        "applies",
        f"icorules: warning: {path}: waivers[1] (GOV-005) matched no finding",
    ]


def test_a_waiver_without_reason_or_approver_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            {"rule": "GOV-002", "approved_by": PANEL},
            {"rule": "GOV-002", "reason": "Accepted."},
            {"rule": "GOV-002", "reason": "   ", "approved_by": PANEL},
        ],
    )
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "bid.json"), "-w", str(path)])
    assert result.exit_code == 2
    assert "waivers[0].reason: required field 'reason' is missing" in result.stderr
    assert "waivers[1].approved_by: required field 'approved_by' is missing" in result.stderr
    assert "waivers[2].reason:" in result.stderr


def test_an_unknown_rule_id_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, [{"rule": "GOV-0002", "reason": "x", "approved_by": PANEL}])
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "bid.json"), "-w", str(path)])
    assert result.exit_code == 2
    assert (
        "waivers[0].rule: no loaded rule has the id 'GOV-0002' (did you mean 'GOV-002'?)"
        in result.stderr
    )


# -- a waiver names its proposal by id: a misspelt one is reported, not silently ignored --------


def _waiver(**fields: object) -> dict[str, object]:
    return {"rule": "GOV-002", "reason": "Accepted.", "approved_by": PANEL, **fields}


def test_a_misspelt_proposal_id_gives_a_warning_with_a_suggestion() -> None:
    for written in ("clean-bdi", "CLEAN-BID", "clean-bi", "clean_bid"):
        report = icorules.check(BID, waivers={"waivers": [_waiver(proposal=written)]})
        assert report.warnings == [
            f"waiver for GOV-002 names proposal '{written}', which was not checked"
            " (did you mean 'clean-bid'?)"
        ], written
        assert [f.subject.id for f in report.by_rule("GOV-002")] == ["GP3"]  # still not waived


def test_a_waiver_for_a_quite_different_proposal_is_not_reported() -> None:
    """One waiver file often serves many bids: a waiver for another bid is not a mistake."""
    for other in ("other-bid", "church-view", "clean-bid-2009-resubmission"):
        report = icorules.check(BID, waivers={"waivers": [_waiver(proposal=other)]})
        assert report.warnings == [], other


def test_a_list_of_waivers_is_left_to_the_caller_who_knows_every_proposal() -> None:
    """A batch passes waivers as a list to each check: only the caller knows every proposal
    checked, so it calls proposal_warnings itself."""
    from icorules.results.waivers import proposal_warnings

    waivers = [Waiver(**_waiver(proposal="clean-bdi")), Waiver(**_waiver(proposal="bay-claen"))]
    report = icorules.check(BID, waivers=waivers)
    assert report.warnings == []
    assert proposal_warnings(waivers, ["clean-bid", "bay-clean", "bay-whole-pct"], "w.yaml") == [
        "w.yaml: waivers[0] (GOV-002) names proposal 'clean-bdi', which was not checked (did you"
        " mean 'clean-bid'?)",
        "w.yaml: waivers[1] (GOV-002) names proposal 'bay-claen', which was not checked (did you"
        " mean 'bay-clean'?)",
    ]
    assert proposal_warnings(waivers, ["clean-bdi", "bay-claen"]) == []


# -- an expiry is a date, and a reason says something ---------------------------------------------


def _refused(waiver: dict[str, object]) -> list[str]:
    import pytest

    from icorules.errors import InputError

    with pytest.raises(InputError) as raised:
        icorules.check(BID, waivers={"waivers": [waiver]})
    return [str(p) for p in raised.value.problems]


def test_an_expiry_written_as_a_number_is_refused_like_other_dates() -> None:
    for number in (4102444800, -86400, 0, 20091231, 1.5):
        assert _refused(_waiver(expires=number)) == [
            f"<waivers>: waivers[0].expires: {number!r}: a date is written like 2008-12-31,"
            " not as a number"
        ], number
    assert _refused(_waiver(expires=True)) == [
        "<waivers>: waivers[0].expires: a date is written like 2008-12-31, not as true/false"
    ]


def test_a_reason_or_approver_with_nothing_visible_is_refused() -> None:
    invisible = [
        "\u200b",  # zero-width space
        "\u200b\u200c\u200d",  # and non-joiner, joiner
        "\u2060\ufeff",  # word joiner, byte-order mark
        "\u3164",  # Hangul filler (a letter drawn blank)
        "\u2800",  # blank Braille pattern
        "\u0301",  # a combining accent on nothing
        "\u202e",  # right-to-left override
    ]
    for text in invisible:
        for field in ("reason", "approved_by"):
            [problem] = _refused(_waiver(**{field: text}))
            assert problem.startswith(f"<waivers>: waivers[0].{field}: "), problem
            assert problem.endswith("has no visible character; write the text"), problem
    [spaces] = _refused(_waiver(reason="\u00a0\u2003"))  # spaces of any kind are trimmed
    assert spaces == "<waivers>: waivers[0].reason: '\\xa0\\u2003': should not be empty"
    report = icorules.check(BID, waivers={"waivers": [_waiver(reason="\u200bOK\u200b")]})
    assert report.waived and report.waived[0].reason == "\u200bOK\u200b"
