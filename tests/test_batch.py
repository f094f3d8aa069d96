"""Batch checking: directories and globs, parallel workers, a summary that loses nothing, and
every report format (JSON against its published schema, CSV, Markdown)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import icorules
from icorules.batch import Settings, check_many, expand
from icorules.cli import cli
from tests.proposals import clean_proposal, edited, remove_party

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def summary_rows(out: str) -> list[str]:
    """The rows of the summary table at the end of a text report."""
    lines = out.splitlines()
    start = max(i for i, line in enumerate(lines) if line.split()[:2] == ["Proposal", "Errors"])
    return [line for line in lines[start + 2 :] if line.strip()][:-1]


def write_batch(folder: Path, n: int) -> dict[str, str]:
    """n proposals: clean, with one error, with errors and warnings, and unreadable ones.
    Returns the expected verdict per file name."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str] = {}
    for i in range(n):
        name = f"bid-{i:03d}.json"
        kind = i % 5
        if kind == 0:
            data, verdict = clean_proposal(), "pass"
        elif kind == 1:
            data, verdict = edited(lambda p: remove_party(p, "dispute_resolution", "GP3")), "fail"
        elif kind == 2:
            data, verdict = edited(lambda p: p["governance"].pop("it_support")), "pass"
        elif kind == 3:
            data, verdict = edited(lambda p: p["governance"].pop("dispute_resolution")), "fail"
        else:
            (folder / name).write_text('{"id": "broken", "organisations": [' if i % 2 else "[]")
            expected[name] = "unreadable"
            continue
        data["id"] = f"bid-{i:03d}"
        (folder / name).write_text(json.dumps(data))
        expected[name] = verdict
    return expected


@pytest.mark.slow
def test_a_directory_of_100_mixed_proposals_checks_in_one_command(tmp_path: Path) -> None:
    expected = write_batch(tmp_path / "bids", 100)
    code, out, err = run("check", str(tmp_path / "bids"), "--jobs", "2", "--progress")
    assert code == 2  # unreadable files make it an input error, after everything is reported
    rows = [line.split() for line in summary_rows(out)]
    assert {Path(r[0]).name: r[-1] for r in rows} == expected
    unreadable = sum(v == "unreadable" for v in expected.values())
    passes = sum(v == "pass" for v in expected.values())
    assert out.splitlines()[-1] == (
        f"100 proposals: {passes} pass, {100 - passes - unreadable} fail, {unreadable} unreadable"
    )
    assert err.count("bid-004.json") >= 1 and "Traceback" not in err


@pytest.mark.slow
def test_parallel_and_sequential_runs_agree(tmp_path: Path) -> None:
    write_batch(tmp_path, 20)
    paths = expand([str(tmp_path)])
    settings = Settings(rulesets=icorules.load_rulesets())
    one = check_many(paths, settings, jobs=1)
    two = check_many(paths, settings, jobs=2)
    assert [o.path for o in two] == paths
    assert [(o.report, o.problems) for o in one] == [(o.report, o.problems) for o in two]


def test_sort_worst_puts_unreadable_then_most_errors_first(tmp_path: Path) -> None:
    write_batch(tmp_path, 10)
    _, out, _ = run("check", str(tmp_path), "--sort", "worst", "--jobs", "1")
    table = [Path(line.split()[0]).name for line in summary_rows(out)]
    assert table[:2] == ["bid-004.json", "bid-009.json"]  # unreadable
    assert table[-1] in ("bid-000.json", "bid-005.json")  # clean


def test_expand_takes_globs_and_skips_market_and_test_files(tmp_path: Path) -> None:
    write_batch(tmp_path, 3)
    (tmp_path / "market.json").write_text('{"format": "icorules/market/1"}')
    (tmp_path / "cases.test.yaml").write_text("tests: []\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.json").write_text("{}")
    assert [Path(p).name for p in expand([str(tmp_path)])] == [
        "bid-000.json",
        "bid-001.json",
        "bid-002.json",
    ]
    assert [Path(p).name for p in expand([str(tmp_path / "bid-00[12].json")])] == [
        "bid-001.json",
        "bid-002.json",
    ]
    assert expand([str(tmp_path / "nothing-*.json")]) == [str(tmp_path / "nothing-*.json")]


@pytest.mark.slow
def test_json_reports_validate_against_the_published_schema(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(run("schema", "report")[1])
    market = str(ROOT / "examples/markets/morecambe-bay.json")
    for path in sorted((ROOT / "examples").glob("*.json")):
        args = ["-m", market] if path.name.startswith("bay-") else []
        report = json.loads(run("check", str(path), "--format", "json", *args)[1])
        jsonschema.validate(report, schema)
        assert report["format"] == "icorules/report/2"
    bay = json.loads(
        run("check", str(ROOT / "examples/bay-clean.json"), "-m", market, "--format", "json")[1]
    )
    assert {m["service_line"] for m in bay["markets"]} >= {"general_practice"}


def test_csv_has_a_row_per_finding_and_per_passing_rule(tmp_path: Path) -> None:
    write_batch(tmp_path, 5)
    _, out, _ = run("check", str(tmp_path), "--format", "csv", "--jobs", "1")
    rows = list(csv.DictReader(io.StringIO(out)))
    by_file: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_file.setdefault(Path(row["proposal_file"]).name, []).append(row)
    failing = by_file["bid-001.json"]
    [gov] = [r for r in failing if r["status"] == "finding" and r["rule"] == "GOV-002"]
    assert gov["severity"] == "error" and gov["subject_id"] == "GP3" and gov["source"]
    passed = [r for r in failing if r["status"] == "passed"]
    assert passed and all(r["severity"] and r["source"] for r in passed)
    [broken] = by_file["bid-004.json"]
    assert broken["status"] == "unreadable" and "bid-004.json" in broken["message"]


def test_markdown_has_a_summary_and_each_proposal(tmp_path: Path) -> None:
    write_batch(tmp_path, 5)
    _, out, _ = run("check", str(tmp_path), "--format", "markdown", "--jobs", "1")
    assert out.startswith("# icorules results\n")
    assert "| GOV-002 |" not in out.split("## ")[0]  # the summary has no findings
    assert out.count("\n## ") == 5
    assert "| error | GOV-002 |" in out
    assert "Passed:" in out


@pytest.mark.slow
def test_batch_output_is_byte_identical_across_runs(tmp_path: Path) -> None:
    write_batch(tmp_path, 10)
    for fmt in ("text", "json", "csv", "markdown", "sarif", "junit"):
        first = run("check", str(tmp_path), "--format", fmt, "--jobs", "2")[1]
        assert first == run("check", str(tmp_path), "--format", fmt, "--jobs", "1")[1], fmt
