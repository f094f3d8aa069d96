"""Every output is a sink: text from bids, waivers and file names is escaped for each format,
and no output is ever written over an input.

One hostile bid drives every format: an organisation whose name starts a spreadsheet formula,
carries a bidi override, a C1 control sequence, a character XML forbids and a trailing
backslash; a waiver reason with an OSC terminal title, a bell and a carriage return.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pydot
import pytest
from click.testing import CliRunner

from icorules.cli import cli

HERE = Path(__file__).resolve().parent
VALID = HERE / "bad" / "proposals" / "valid.json"
HOSTILE_NAME = (
    '=HYPERLINK("http://x.example","y")\u202e\u009b[2J\uffff\x7f<img src=x onerror=a()>\\'
)
HOSTILE_REASON = (
    "agreed\x1b]0;pwned\x07 at panel\r![](http://track.example/p.png) [x](javascript:a())"
)


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    data = json.loads(VALID.read_text())
    data["organisations"][2]["name"] = HOSTILE_NAME  # GP2
    data["governance"]["dispute_resolution"]["parties"] = ["PCT1", "GP1"]  # GOV-002 on GP2
    data["governance"]["information_sharing"] = {"description": "x", "parties": ["PCT1"]}
    bid = tmp_path / "bid.json"
    bid.write_text(json.dumps(data, indent=1, ensure_ascii=False))
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - rule: GOV-008\n    subject: GP1\n"
        f"    reason: {json.dumps(HOSTILE_REASON)}\n    approved_by: A. Assessor\n"
    )
    return bid, waivers


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_the_text_report_shows_control_and_bidi_characters_escaped(
    hostile: tuple[Path, Path],
) -> None:
    bid, waivers = hostile
    for color in ("--color", "--no-color"):
        _, out, _ = run("check", bid, "-w", waivers, color)
        assert "\u202e" not in out and "\u009b" not in out and "\x07" not in out
        assert "\r" not in out and "\x7f" not in out
        assert "\\u202e" in out and "\\x9b" in out and "\\x1b]0;pwned\\x07" in out
        without_sgr = out.replace("\x1b[", "")
        assert "\x1b" not in without_sgr  # the only escapes are our own colours


def test_file_names_in_the_batch_summary_are_text_not_markup(tmp_path: Path) -> None:
    folder = tmp_path / "bids"
    folder.mkdir()
    for name in ("a[@click=(].json", "b\u202e.json"):
        (folder / name).write_text(VALID.read_text())
    _, out, _ = run("check", folder, "--no-color", "--jobs", "1")
    assert "a[@click=(].json" in out
    assert "b\\u202e.json" in out


def test_csv_cells_never_start_a_formula(hostile: tuple[Path, Path]) -> None:
    bid, waivers = hostile
    _, out, _ = run("check", bid, "-w", waivers, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    messages = [r["message"] for r in rows if r["rule"] == "GOV-002"]
    assert messages and all(m.startswith("'=HYPERLINK(") for m in messages)
    for row in rows:
        for cell in row.values():
            assert not (cell or "").startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_markdown_carries_no_live_html_images_or_links(hostile: tuple[Path, Path]) -> None:
    bid, waivers = hostile
    _, out, _ = run("check", bid, "-w", waivers, "--format", "markdown")
    assert "<img" not in out and "&lt;img src=x onerror=a()&gt;" in out
    assert not re.search(r"(?<!\\)\]\(", out)  # no link or image target is live
    assert "!\\[\\](http://track.example/p.png)" in out


def test_markdown_code_spans_hold_backticks(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "we`ird.json").write_text(VALID.read_text())
    _, out, _ = run("check", folder / "we`ird.json", "--format", "markdown")
    assert f"File: ``{folder / 'we`ird.json'}``" in out


def test_junit_and_graphml_are_well_formed_xml(hostile: tuple[Path, Path]) -> None:
    bid, waivers = hostile
    _, junit, _ = run("check", bid, "-w", waivers, "--format", "junit")
    ET.fromstring(junit)  # raises on anything XML 1.0 forbids
    assert "\\uffff" in junit
    _, graphml, _ = run("graph", bid, "--format", "graphml")
    ET.fromstring(graphml)


def test_dot_strings_are_quoted_whatever_they_end_with(hostile: tuple[Path, Path]) -> None:
    bid, _ = hostile
    _, dot, _ = run("graph", bid, "--format", "dot")
    [graph] = pydot.graph_from_dot_data(dot)
    labels = [n.get("label") for c in graph.get_subgraphs() for n in c.get_nodes()]
    assert any(label and label.endswith('\\\\"') for label in labels)


def test_json_and_sarif_stay_valid_json(hostile: tuple[Path, Path]) -> None:
    bid, waivers = hostile
    for fmt in ("json", "sarif"):
        _, out, _ = run("check", bid, "-w", waivers, "--format", fmt)
        json.loads(out)
        out.encode("utf-8")  # no lone surrogate can be written


def test_github_annotations_cannot_be_ended_early(hostile: tuple[Path, Path]) -> None:
    bid, waivers = hostile
    code, out, _ = run("check", bid, "-w", waivers, "--format", "github")
    assert code == 1
    lines = out.splitlines()
    assert lines and all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    [gov] = [line for line in lines if "GOV-002" in line]
    assert gov.startswith(f"::error file={bid},line=")
    assert "title=GOV-002 " in gov
    assert "%0D" not in gov or "\r" not in gov


def test_github_annotations_escape_properties_and_data() -> None:
    from icorules.output.github import command

    line = command("error", "50% done\r\nnext", file="a,b:c.json", line=3, title="T: x")
    assert line == "::error file=a%2Cb%3Ac.json,line=3,title=T%3A x::50%25 done%0D%0Anext"
    line = command("notice", "a\u2028b\u202ec\x1bd")
    assert line == "::notice::a\\u2028b\\u202ec\\x1bd"  # shown, never acted on


def test_an_output_over_an_input_is_refused(tmp_path: Path) -> None:
    bid = tmp_path / "victim.json"
    bid.write_text(VALID.read_text())
    link = tmp_path / "link.json"
    link.symlink_to(bid)
    hard = tmp_path / "hard.json"
    os.link(bid, hard)
    for target in (bid, link, hard):
        code, _, err = run("check", bid, "--format", "json", "-o", target)
        assert code == 2
        assert "is one of the inputs" in err
    assert bid.read_text() == VALID.read_text()
    code, _, err = run("graph", bid, "-o", bid)
    assert code == 2 and bid.read_text() == VALID.read_text()


def test_quiet_prints_the_summary_line_only() -> None:
    code, out, _ = run("check", VALID, "--quiet")
    assert code == 0
    assert out.splitlines() == [out.strip()] and out.startswith("✓ 0 errors")
