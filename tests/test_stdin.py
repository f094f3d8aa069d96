"""`icorules check -`: a proposal on standard input, named by --stdin-filename."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from icorules.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, text: str | bytes) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=text)
    return result.exit_code, result.stdout, result.stderr


def test_a_proposal_on_standard_input_is_checked() -> None:
    text = (ROOT / "examples" / "church-view-defects.json").read_text()
    code, out, _ = run("check", "-", "--format", "json", text=text)
    report = json.loads(out)
    assert code == 1 and report["proposal"]["file"] == "<stdin>"
    assert report["summary"]["error"] == 8


def test_yaml_on_standard_input_is_named_for_messages() -> None:
    text = (ROOT / "examples" / "norfolk-older-people.yaml").read_text()
    code, out, _ = run("check", "-", "--stdin-filename", "bids/norfolk.yaml", "-q", text=text)
    assert code == 0 and out.startswith("✓")
    bad = text.replace("population_basis:", "population_basis: [", 1)
    code, out, err = run("check", "-", "--stdin-filename", "bids/norfolk.yaml", text=bad)
    assert code == 2 and out == ""
    assert err.startswith("icorules: bids/norfolk.yaml:")


def test_standard_input_is_read_only_up_to_the_limit() -> None:
    code, _, err = run("check", "-", "--limit", "input_bytes=1K", text="{" + " " * 2000 + "}")
    assert code == 2
    assert err == (
        "icorules: <stdin>: the input is more than 1,024 bytes; the input_bytes limit is 1,024 "
        "(raise it with --limit input_bytes=N)\n"
    )


def test_standard_input_goes_with_files_in_one_run() -> None:
    text = (ROOT / "examples" / "church-view.json").read_text()
    code, out, _ = run(
        "check", "-", str(ROOT / "examples" / "surrey-pbc.json"), "--no-color", text=text
    )
    assert code == 0
    assert "<stdin>" in out and "2 proposals: 2 pass, 0 fail" in out
