"""The command line: exit codes, formats, rule listing, schema, generated docs, output files."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from icorules.analysis.facts import fact_catalogue_markdown
from icorules.cli import cli
from tests.proposals import clean_proposal, edited

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def bid(tmp_path: Path) -> Path:
    path = tmp_path / "bid.json"
    path.write_text(json.dumps(clean_proposal()))
    return path


@pytest.fixture
def bad_bid(tmp_path: Path) -> Path:
    """One error (no dispute procedure) and one warning (no IT support)."""

    def edit(p: dict) -> None:
        del p["governance"]["dispute_resolution"]
        del p["governance"]["it_support"]

    path = tmp_path / "bad.json"
    path.write_text(json.dumps(edited(edit)))
    return path


def test_clean_bid_exits_0(bid: Path) -> None:
    code, out, _ = run("check", str(bid))
    assert code == 0
    assert "0 errors, 0 warnings" in out


def test_error_finding_exits_1_and_is_grouped(bad_bid: Path) -> None:
    code, out, _ = run("check", str(bad_bid))
    assert code == 1
    errors_at, warnings_at = out.index("Errors (1)"), out.index("Warnings (1)")
    assert errors_at < out.index("GOV-001") < warnings_at < out.index("GOV-008a")


@pytest.mark.parametrize(
    ("fail_on", "code"), [("error", 1), ("warning", 1), ("info", 1), ("never", 0)]
)
def test_fail_on(bad_bid: Path, fail_on: str, code: int) -> None:
    assert run("check", str(bad_bid), "--fail-on", fail_on)[0] == code


def test_warning_only_bid_passes_unless_fail_on_warning(tmp_path: Path) -> None:
    path = tmp_path / "warn.json"
    path.write_text(json.dumps(edited(lambda p: p["governance"].pop("it_support"))))
    assert run("check", str(path))[0] == 0
    assert run("check", str(path), "--fail-on", "warning")[0] == 1


def test_json_report(bad_bid: Path) -> None:
    code, out, _ = run("check", str(bad_bid), "--format", "json")
    report = json.loads(out)
    assert code == 1
    assert report["proposal"]["id"] == "clean-bid"
    assert [f["rule"] for f in report["findings"]] == ["GOV-001", "GOV-008a", "CLASS-001"]
    first = report["findings"][0]
    assert set(first) >= {
        "rule",
        "severity",
        "title",
        "message",
        "source",
        "fix",
        "subject",
        "evidence",
    }
    assert first["evidence"] == {"has_dispute_procedure": False}
    assert "GOV-002" in report["passed"]
    assert "elapsed_ms" not in report


def test_several_proposals_give_a_list(bid: Path, bad_bid: Path) -> None:
    code, out, _ = run("check", str(bid), str(bad_bid), "--format", "json")
    assert code == 1
    assert [r["summary"]["error"] for r in json.loads(out)] == [0, 1]


def test_output_is_byte_identical_across_runs(bad_bid: Path) -> None:
    for fmt in ("text", "json"):
        assert (
            run("check", str(bad_bid), "--format", fmt)[1]
            == run("check", str(bad_bid), "--format", fmt)[1]
        )


def test_text_has_no_colour_codes_off_a_terminal(bad_bid: Path) -> None:
    assert "\x1b[" not in run("check", str(bad_bid))[1]
    assert "\x1b[" in run("check", str(bad_bid), "--color")[1]


def test_output_file_is_written_whole(bad_bid: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old contents")
    code, out, _ = run("check", str(bad_bid), "--format", "json", "-o", str(target))
    assert code == 1 and out == ""
    assert json.loads(target.read_text())["proposal"]["id"] == "clean-bid"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_param_override(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(edited(lambda p: p["pct_areas"][0].update(population=34_000))))
    assert run("check", str(path))[0] == 0
    code, out, _ = run("check", str(path), "--param", "max_pct_population_share=0.5")
    assert code == 1 and "ELIG-003" in out


def test_rules_list() -> None:
    code, out, _ = run("rules", "list", "--format", "json")
    rules = json.loads(out)
    assert code == 0
    assert {"id": "GOV-002", "severity": "error"}.items() <= next(
        r for r in rules if r["id"] == "GOV-002"
    ).items()
    text = run("rules", "list")[1]
    assert re.search(
        r"^GOV-002 +error +Every partner is party to the dispute-resolution", text, re.MULTILINE
    )


def test_rules_check_accepts_the_bundled_rulesets() -> None:
    code, out, _ = run("rules", "check", str(ROOT / "rulesets"))
    assert code == 0 and "OK" in out


def test_schema_describes_the_proposal() -> None:
    code, out, _ = run("schema")
    schema = json.loads(out)
    assert code == 0
    assert {"organisations", "governance", "pct_areas"} <= set(schema["properties"])
    assert "gp_practice" in json.dumps(schema)


def test_fact_catalogue_in_docs_is_up_to_date() -> None:
    """docs/facts.md is generated: regenerate with `icorules facts -o docs/facts.md`."""
    assert (ROOT / "docs" / "facts.md").read_text() == fact_catalogue_markdown() + "\n"


def test_graph_export(bid: Path) -> None:
    code, out, _ = run("graph", str(bid))
    data = json.loads(out)
    kinds = {e["kind"] for e in data["edges"]}
    assert code == 0
    assert kinds == {"party_to", "member_of", "located_in", "commissions"}
    assert "<graphml" in run("graph", str(bid), "--format", "graphml")[1]


def test_graph_export_for_graphviz_and_gephi(bid: Path) -> None:
    import xml.etree.ElementTree as ET

    import pydot

    nodes = {n["id"] for n in json.loads(run("graph", str(bid))[1])["nodes"]}
    [dot] = pydot.graph_from_dot_data(run("graph", str(bid), "--format", "dot")[1])
    drawn = {n.get_name().strip('"') for n in dot.get_nodes()}
    drawn |= {n.get_name().strip('"') for c in dot.get_subgraphs() for n in c.get_nodes()}
    assert drawn - {"node", "edge", "graph"} == nodes
    graphml = ET.fromstring(run("graph", str(bid), "--format", "graphml")[1])
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    assert {n.get("id") for n in graphml.iterfind(".//g:node", ns)} == nodes


def test_output_file_keeps_its_permissions(bad_bid: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    target.chmod(0o640)
    run("check", str(bad_bid), "--format", "json", "-o", str(target))
    assert target.stat().st_mode & 0o777 == 0o640
    fresh = tmp_path / "fresh.json"
    run("check", str(bad_bid), "--format", "json", "-o", str(fresh))
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_own_rules_can_be_added_to_the_bundled_ones(bid: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "local.yaml").write_text(
        "ruleset: local\nversion: '1'\nrules:\n"
        "  - id: LOCAL-001\n    title: Practices are named\n    severity: info\n"
        "    source: local policy\n    fact: partner\n    condition: is_practice\n"
        "    message: '{name} is a practice'\n    fix: nothing to fix\n"
    )
    code, out, _ = run("rules", "check", "@bundled", str(extra))
    assert code == 0 and "in 6 rulesets: OK" in out
    code, out, _ = run("check", str(bid), "-r", "@bundled", "-r", str(extra), "--format", "json")
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert "LOCAL-001" in rules and "GOV-001" in json.loads(out)["passed"]


def test_timing_is_shown_only_when_asked(bid: Path) -> None:
    assert "checked in" not in run("check", str(bid))[1]
    assert re.search(r"checked in \d+\.\d ms", run("check", str(bid), "--timing")[1])


def test_findings_follow_the_order_of_the_proposal(tmp_path: Path) -> None:
    def many_practices(p: dict) -> None:
        template = next(o for o in p["organisations"] if o["id"] == "GP1")
        for i in range(4, 13):
            p["organisations"].append({**template, "id": f"GP{i}", "name": f"Practice {i}"})

    path = tmp_path / "many.json"
    path.write_text(json.dumps(edited(many_practices)))
    report = json.loads(run("check", str(path), "--format", "json")[1])
    paths = [f["subject"]["path"] for f in report["findings"] if f["rule"] == "GOV-002"]
    indexes = [int(re.search(r"\[(\d+)\]", p).group(1)) for p in paths]
    assert len(indexes) == 9 and indexes == sorted(indexes)


def test_python_dash_m_icorules_runs_the_command_line() -> None:
    """Where the `icorules` script is not on PATH, `python -m icorules` is the same program."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "icorules", "check", "examples/church-view.json", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert "rules passed" in done.stdout
