"""The verdict every format shows agrees with the exit code, for every --fail-on."""

from __future__ import annotations

import json
from pathlib import Path

import junitparser
import pytest
from click.testing import CliRunner

from icorules.cli import cli

ROOT = Path(__file__).resolve().parent.parent
ONE_WARNING = ROOT / "examples" / "surrey-pbc.json"  # 0 errors, 1 warning


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout


@pytest.mark.parametrize(
    ("fail_on", "fails"), [("error", False), ("warning", True), ("never", False)]
)
def test_every_format_says_what_the_exit_code_says(fail_on: str, fails: bool) -> None:
    args = ("check", ONE_WARNING, "--fail-on", fail_on, "--no-color")
    code, text = run(*args)
    assert code == (1 if fails else 0)
    assert text.splitlines()[-1].startswith("✗" if fails else "✓")
    _, quiet = run(*args, "--quiet")
    assert quiet.startswith("✗" if fails else "✓")
    _, markdown = run(*args, "--format", "markdown")
    assert ("Verdict: **fails**" if fails else "Verdict: **passes**") in markdown
    _, html = run(*args, "--format", "html")
    assert ("Does not pass" if fails else "Passes") in html
    _, junit = run(*args, "--format", "junit")
    [suite] = list(junitparser.JUnitXml.fromstring(junit))
    assert (suite.failures > 0) == fails


@pytest.mark.slow
def test_a_raised_limit_holds_for_every_format(tmp_path: Path) -> None:
    """The HTML page once rebuilt the graph with the default limits and failed (exit 3)."""
    data = json.loads((ROOT / "tests" / "bad" / "proposals" / "valid.json").read_text())
    data["organisations"] += [
        {"id": f"V{i}", "name": f"Volunteers {i}", "type": "voluntary_organisation"}
        for i in range(998)
    ]
    bid = tmp_path / "many.json"
    bid.write_text(json.dumps(data))
    for fmt in ("text", "html", "sarif", "github"):
        code, out = run(
            "check", bid, "--limit", "organisations=1001", "--format", fmt, "--fail-on", "never"
        )
        assert code == 0, (fmt, out)
