"""A team's settings file: found by walking up, overridden by the command line, shown by
`icorules config`, and checked like any other input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from icorules.cli import cli
from icorules.config import find_config, load_config
from icorules.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
ONE_WARNING = ROOT / "examples" / "surrey-pbc.json"  # 0 errors, 1 warning


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of bids whose pyproject.toml sets a stricter gate; we work in a subfolder."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "bids"\n\n[tool.icorules]\nfail-on = "warning"\n'
        'waivers = "panel/waivers.yaml"\n\n[tool.icorules.limits]\norganisations = 2000\n'
    )
    (tmp_path / "panel").mkdir()
    (tmp_path / "panel" / "waivers.yaml").write_text(
        "waivers:\n  - rule: ELIG-006a\n    reason: start agreed with the PCT\n"
        "    approved_by: Panel\n"
    )
    work = tmp_path / "bids" / "2008"
    work.mkdir(parents=True)
    (work / "bid.json").write_text(ONE_WARNING.read_text())
    monkeypatch.chdir(work)
    return tmp_path


def test_the_nearest_settings_file_is_found_walking_up(project: Path) -> None:
    assert find_config() == project / "pyproject.toml"
    (project / "bids" / "icorules.toml").write_text('format = "json"\n')
    assert find_config() == project / "bids" / "icorules.toml"


def test_settings_apply_and_the_command_line_overrides_them(project: Path) -> None:
    code, out, _ = run("check", "bid.json", "--quiet")
    assert code == 1 and out.startswith("✗ 0 errors, 1 warning")  # fail-on from the file
    assert "1 waived" in out  # the waiver file, found relative to the settings file
    code, out, _ = run("check", "bid.json", "--quiet", "--fail-on", "error")
    assert code == 0 and out.startswith("✓")
    code, out, _ = run("--isolated", "check", "bid.json", "--quiet")
    assert code == 0 and "waived" not in out


def test_icorules_config_says_where_each_setting_comes_from(project: Path) -> None:
    code, out, _ = run("config", "--format", "json")
    assert code == 0
    data = json.loads(out)
    settings = {row["setting"]: row for row in data["settings"]}
    assert settings["fail-on"] == {
        "setting": "fail-on",
        "value": "warning",
        "from": f"{project / 'pyproject.toml'} [tool.icorules]",
    }
    assert settings["waivers"]["value"] == str(project / "panel" / "waivers.yaml")
    assert settings["format"] == {"setting": "format", "value": "text", "from": "default"}
    assert settings["limits"]["value"] == ["organisations=2000"]
    _, text, _ = run("config")
    assert "fail-on   warning" in text and "Options given on the command line override" in text


def test_a_settings_file_is_checked_like_any_input(tmp_path: Path) -> None:
    path = tmp_path / "icorules.toml"
    path.write_text('fail-on = "sometimes"\nformat = "pdf"\ncolour = "red"\n')
    with pytest.raises(InputError) as raised:
        load_config(path)
    assert [str(p) for p in raised.value.problems] == [
        f"{path}:1: fail-on: 'sometimes' is not allowed here; expected one of: error, warning, "
        "info, never",
        f"{path}:2: format: 'pdf': not a format; formats: text, json, markdown, csv, sarif, "
        "junit, github, html",
        f"{path}:3: colour: unknown field 'colour' (allowed: fail-on, format, ignore, limits, "
        "market, params, rulesets, select, waivers)",
    ]


def test_a_broken_settings_file_stops_every_command_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "icorules.toml").write_text('format = "json"\nfail-on = \n')
    monkeypatch.chdir(tmp_path)
    code, out, err = run("check", ONE_WARNING)
    assert code == 2 and out == ""
    assert err.startswith(f"icorules: {tmp_path / 'icorules.toml'}:2:")
    assert "invalid TOML" in err
