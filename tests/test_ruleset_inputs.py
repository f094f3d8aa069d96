"""Ruleset and rule-test inputs: the wrong kind of file in one line, folders that hold a pipe,
and a folder without tests that says where it looked."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from icorules.cli import cli
from icorules.rules.loader import bundled_ruleset_dir

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["rules", "check", "examples/church-view.json"],
            "is a proposal, not a ruleset: check it as a proposal",
        ),
        (
            ["test", "examples/church-view.json"],
            "is a proposal, not a ruleset test file",
        ),
        (
            ["check", "examples/church-view.json", "-r", "examples/markets/cumbria.json"],
            "is a market file, not a ruleset: give it with --market",
        ),
    ],
)
def test_another_kind_of_file_gets_one_line(
    args: list[str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = run(*args)
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert expected in line and line.startswith("icorules: examples/")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_in_a_ruleset_folder_is_never_opened(tmp_path: Path) -> None:
    shutil.copy(ROOT / "rulesets" / "prospectus-2008" / "choice.yaml", tmp_path)
    os.mkfifo(tmp_path / "pipe.yaml")  # opening it to read would wait for a writer
    os.mkfifo(tmp_path / "pipe.test.yaml")
    assert run("rules", "check", tmp_path)[:2] == (0, "4 rules in 1 ruleset: OK\n")
    code, out, _ = run("lint", tmp_path)
    assert code == 1 and "RL009" in out  # the one real file was linted
    code, _, err = run("test", "-r", tmp_path)
    assert code == 2 and "no *.test.yaml files found here" in err


def test_a_folder_without_tests_says_where_it_looked(tmp_path: Path) -> None:
    shutil.copy(ROOT / "rulesets" / "prospectus-2008" / "choice.yaml", tmp_path)
    code, _, err = run("test", "-r", tmp_path)
    assert code == 2
    assert err == (
        f"icorules: {tmp_path}: no *.test.yaml files found here (looked in {tmp_path} and the "
        "folders below); rule tests sit beside the rulesets they test, or give their folder as "
        "PATH\n"
    )


def test_a_copy_of_loaded_rules_is_one_line_not_one_per_rule(tmp_path: Path) -> None:
    copy = tmp_path / "my-copy"
    shutil.copytree(ROOT / "rulesets" / "prospectus-2008", copy)
    bid = ROOT / "examples" / "church-view.json"
    code, _, err = run("check", bid, "-r", "@bundled", "-r", copy)
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith(f"icorules: {copy}: 49 rule ids are already loaded from ")
    assert "(CHOICE-001, CHOICE-002, CHOICE-003, ...)" in line
    few = tmp_path / "few.yaml"
    few.write_text(
        "ruleset: t/few\nversion: '1'\nrules:\n  - id: GOV-001\n    title: t\n    severity: info\n"
        "    source: s\n    fact: proposal\n    condition: has_board\n    message: m\n    fix: f\n"
    )
    code, _, err = run("rules", "check", "@bundled", few)
    [line] = err.splitlines()  # a few duplicates are each reported where they are
    assert code == 2 and line.startswith(
        f"icorules: {few}:4: duplicate rule id 'GOV-001' (also at "
        f"{bundled_ruleset_dir() / 'prospectus-2008' / 'governance.yaml'}:"
    )
