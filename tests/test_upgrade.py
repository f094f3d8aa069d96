"""Proposal format 1 and `icorules upgrade`.

Format-1 files still load, with one input warning, and the rules that need format 2's fields
are not evaluated for them. `icorules upgrade` rewrites a file in format 2 in place: lossless
(every format-1 example gives the same findings after it), keeping the file's layout, and
writing only over the file itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import icorules
from icorules.cli import cli
from icorules.errors import InputError
from icorules.inputs.documents import load_document
from icorules.inputs.formats import FORMAT_1_WARNING
from icorules.inputs.upgrade import upgrade
from icorules.output.editing import EditError, Remove, Rename, SetFirst, rewritten_text
from tests.proposals import clean_proposal

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FORMAT_1_EXAMPLE = EXAMPLES / "format-1" / "church-view.json"
# The commit before the examples moved to format 2: every example there is in format 1.
FORMAT_1_COMMIT = "732770c"


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def format_1(data: dict[str, Any]) -> dict[str, Any]:
    """The clean proposal as a format-1 file would say it."""
    data = dict(data, format="icorules/proposal/1")
    data["pct_areas"] = [dict(a) for a in data["pct_areas"]]
    for area in data["pct_areas"]:
        area["supports_bid"] = area.pop("commissioner_support", None) == "supports"
    return data


# --- format 1 still loads ----------------------------------------------------------------------


def test_a_format_1_file_loads_with_one_warning_and_two_rules_not_evaluated() -> None:
    report = icorules.check(FORMAT_1_EXAMPLE)
    assert report.warnings == [FORMAT_1_WARNING]
    assert FORMAT_1_WARNING.startswith("the proposal is in format 1 (icorules/proposal/1)")
    assert "`icorules upgrade FILE` brings it to format 2" in FORMAT_1_WARNING
    older = [n for n in report.not_evaluated if n.pct_area is None]
    assert [n.rule for n in older] == ["ELIG-010", "MKT-002a"]
    assert all("format 1" in n.reason and "icorules upgrade" in n.reason for n in older)
    assert "ELIG-010" not in report.passed and "GOV-013" in report.passed


def test_a_file_without_a_format_line_is_format_1() -> None:
    data = format_1(clean_proposal())
    del data["format"]
    assert icorules.load_proposal(data).format_version == 1


def test_format_2_fields_in_a_format_1_file_are_refused_with_the_way_out() -> None:
    data = format_1(clean_proposal())
    data["organisations"][0]["part_of"] = "GP1"
    data["pct_areas"][0]["practice_count"] = 40
    data["organisations"][1]["provides"] = [{"service": "general_practice"}]
    with pytest.raises(InputError) as caught:
        icorules.load_proposal(data)
    messages = [p.message for p in caught.value.problems]
    assert (
        "organisations[0].part_of: 'part_of' is new in format 2, but the file is in format 1: "
        "run `icorules upgrade` on the file, or set format: icorules/proposal/2"
    ) in messages
    assert any(
        m.startswith("pct_areas[0].practice_count: 'practice_count' is new") for m in messages
    )
    assert any("organisations[1].provides[0]: a service with a specialty" in m for m in messages)


def test_supports_bid_in_a_format_2_file_says_what_format_2_writes() -> None:
    data = clean_proposal()
    data["pct_areas"][0]["supports_bid"] = True
    with pytest.raises(InputError) as caught:
        icorules.load_proposal(data)
    [problem] = caught.value.problems
    assert problem.message == (
        "pct_areas[0].supports_bid: 'supports_bid' is format 1's: format 2 says "
        "commissioner_support: supports"
    )


# --- upgrade: lossless on every format-1 example -----------------------------------------------


def _git(*args: str) -> str | None:
    if shutil.which("git") is None:
        return None
    done = subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    )
    return done.stdout if done.returncode == 0 else None


def format_1_examples() -> list[str]:
    listed = _git("ls-tree", "-r", "--name-only", FORMAT_1_COMMIT, "examples")
    if listed is None:
        return []
    return [
        line
        for line in listed.splitlines()
        if line.endswith((".json", ".yaml")) and "/ods/" not in line and "/markets/" not in line
    ]


@pytest.fixture(scope="module")
def old_examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples as they were in format 1, with their market files, from git history."""
    if not format_1_examples():
        pytest.skip("the format-1 examples are read from git history, which is not here")
    folder = tmp_path_factory.mktemp("format-1")
    listed = _git("ls-tree", "-r", "--name-only", FORMAT_1_COMMIT, "examples")
    assert listed is not None
    for path in listed.splitlines():
        if path.endswith((".json", ".yaml")):
            text = _git("show", f"{FORMAT_1_COMMIT}:{path}")
            assert text is not None
            target = folder / Path(path).relative_to("examples")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return folder


def market_for(name: str, folder: Path) -> Path | None:
    return folder / "markets" / "morecambe-bay.json" if name.startswith("bay-") else None


@pytest.mark.parametrize("path", format_1_examples() or ["(no git history)"])
def test_upgrade_round_trips_every_format_1_example_to_the_same_findings(
    path: str, old_examples: Path, tmp_path: Path
) -> None:
    name = Path(path).name
    source = old_examples / name
    market = market_for(name, old_examples)
    before = icorules.check(source, market=market)
    assert before.warnings == [FORMAT_1_WARNING]
    result = upgrade(load_document(source))
    assert result.needed and result.before == "icorules/proposal/1"
    upgraded = tmp_path / name
    upgraded.write_text(result.text, encoding="utf-8")
    after = icorules.check(upgraded, market=market)
    assert after.warnings == []
    assert [f.model_dump() for f in after.findings] == [f.model_dump() for f in before.findings]
    assert after.passed == sorted([*before.passed, "ELIG-010", "MKT-002a"])
    # The upgrade changes only what it must: the format line and supports_bid.
    old_data = load_document(source).data
    new_data = load_document(upgraded).data
    assert new_data["format"] == "icorules/proposal/2"
    for old_area, new_area in zip(old_data["pct_areas"], new_data["pct_areas"], strict=True):
        support = old_area.pop("supports_bid", False)
        assert new_area.pop("commissioner_support", None) == ("supports" if support else None)
        assert old_area == new_area
    for key in set(old_data) - {"format", "pct_areas"}:
        assert old_data[key] == new_data[key]
    # Upgraded again, it is already format 2.
    assert not upgrade(load_document(upgraded)).needed


def test_the_kept_format_1_example_is_church_view_as_it_was() -> None:
    data = json.loads(FORMAT_1_EXAMPLE.read_text(encoding="utf-8"))
    assert data["format"] == "icorules/proposal/1"
    assert data["pct_areas"][0]["supports_bid"] is True
    report = icorules.check(FORMAT_1_EXAMPLE)
    assert {(f.rule, f.subject.id) for f in report.findings} == {("CLASS-002", "church-view")}


def test_upgrade_keeps_yaml_comments_key_order_and_anchors(tmp_path: Path) -> None:
    text = (
        "# A bid kept in YAML.\n"
        "id: riverside  # the bid's id\n"
        "name: Riverside\n"
        "pct_areas:\n"
        "  - code: 5AA\n"
        "    name: Riverside PCT   # its board met in May\n"
        "    population: 250000\n"
        "    commissioner: PCT1\n"
        "    supports_bid: true   # letter of 12 May\n"
        "  - {code: 5AB, name: Hillside PCT, population: 180000, supports_bid: false}\n"
    )
    data = clean_proposal()
    rest = yaml.safe_dump(
        {k: v for k, v in data.items() if k not in ("format", "id", "name", "pct_areas")},
        sort_keys=False,
    )
    source = tmp_path / "bid.yaml"
    source.write_text(text + rest, encoding="utf-8")
    result = upgrade(load_document(source))
    assert result.text.startswith(
        "# A bid kept in YAML.\nformat: icorules/proposal/2\nid: riverside  # the bid's id\n"
    )
    assert "    commissioner_support: supports   # letter of 12 May\n" in result.text
    assert "  - {code: 5AB, name: Hillside PCT, population: 180000}\n" in result.text
    assert result.text.endswith(rest)


def test_upgrade_keeps_json_indentation(tmp_path: Path) -> None:
    source = tmp_path / "bid.json"
    data = format_1(clean_proposal())
    del data["format"]
    source.write_text(json.dumps(data, indent=4), encoding="utf-8")
    result = upgrade(load_document(source))
    assert result.text.startswith('{\n    "format": "icorules/proposal/2",\n    "id": "clean-bid",')
    assert '"commissioner_support": "supports"\n' in result.text
    assert json.loads(result.text) == {**clean_proposal(), "format": "icorules/proposal/2"}


def test_rewrites_in_place_keep_layout_and_refuse_what_an_alias_shares(tmp_path: Path) -> None:
    """The splices the upgrade makes: a key renamed, removed (first, middle or last; block,
    flow or JSON), set first; a mapping an alias shares is never changed in place."""
    source = tmp_path / "doc.yaml"
    source.write_text(
        "top: 1\nitems:\n  - gone: 1\n    kept: 2\n  - {kept: 3, gone: 4}\n"
        "shared: &x {k: 1, j: 2}\nagain: *x\n"
    )
    document = load_document(source)
    expected = {
        "first": True,
        "top": 1,
        "items": [{"kept": 2}, {"kept": 3}],
        "shared": {"k": 1, "j": 2},
        "again": {"k": 1, "j": 2},
    }
    edits = [
        SetFirst(("first",), True),
        Remove(("items", 0, "gone")),
        Remove(("items", 1, "gone")),
    ]
    assert rewritten_text(document, edits, expected) == (
        "first: true\ntop: 1\nitems:\n  - kept: 2\n  - {kept: 3}\n"
        "shared: &x {k: 1, j: 2}\nagain: *x\n"
    )
    with pytest.raises(EditError, match="alias"):
        rewritten_text(document, [Rename(("shared", "k"), "key", 5)], expected)
    as_json = tmp_path / "doc.json"
    as_json.write_text('{\n  "a": 1,\n  "b": {"c": 2, "d": 3}\n}')
    renamed = rewritten_text(
        load_document(as_json),
        [Rename(("b", "c"), "e", "x"), Remove(("b", "d"))],
        {"a": 1, "b": {"e": "x"}},
    )
    assert renamed == '{\n  "a": 1,\n  "b": {"e": "x"}\n}'


def test_a_file_that_does_not_load_is_not_upgraded(tmp_path: Path) -> None:
    data = format_1(clean_proposal())
    data["lead"] = "NOBODY"
    source = tmp_path / "bid.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        upgrade(load_document(source))
    assert "unknown organisation id 'NOBODY'" in str(caught.value)


def test_a_market_file_gets_its_format_line(tmp_path: Path) -> None:
    source = tmp_path / "market.json"
    source.write_text(
        '{"format": "icorules/market/1", "name": "M", '
        '"pct_areas": [{"code": "5AA", "name": "A", "population": 1000}]}',
        encoding="utf-8",
    )
    result = upgrade(load_document(source))
    assert result.kind == "market"
    assert result.text.startswith('{"format": "icorules/market/2", "name": "M"')


# --- the command -------------------------------------------------------------------------------


def copy_of(tmp_path: Path, path: Path = FORMAT_1_EXAMPLE) -> Path:
    target = tmp_path / path.name
    shutil.copy(path, target)
    return target


def test_check_names_the_files_that_need_it_and_exits_1(tmp_path: Path) -> None:
    old = copy_of(tmp_path)
    new = EXAMPLES / "church-view.json"
    result = run("upgrade", "--check", str(old), str(new))
    assert result.exit_code == 1
    assert result.stdout == f"{old}: proposal in icorules/proposal/1: needs upgrading\n"
    assert run("upgrade", "--check", str(new)).exit_code == 0
    assert old.read_text() == FORMAT_1_EXAMPLE.read_text()  # nothing written


def test_diff_shows_the_change_and_writes_nothing(tmp_path: Path) -> None:
    old = copy_of(tmp_path)
    result = run("upgrade", "--diff", str(old))
    assert result.exit_code == 0
    assert '-  "format": "icorules/proposal/1",\n+  "format": "icorules/proposal/2",\n' in (
        result.stdout
    )
    assert '-      "supports_bid": true\n+      "commissioner_support": "supports"\n' in (
        result.stdout
    )
    assert old.read_text() == FORMAT_1_EXAMPLE.read_text()


def test_upgrade_in_place_then_again_changes_nothing(tmp_path: Path) -> None:
    old = copy_of(tmp_path)
    result = run("upgrade", str(old))
    assert result.exit_code == 0
    assert result.stderr == f"icorules: {old}: upgraded from icorules/proposal/1 to format 2\n"
    upgraded = old.read_text()
    assert json.loads(upgraded)["format"] == "icorules/proposal/2"
    again = run("upgrade", str(old))
    assert again.stderr == f"icorules: {old}: already in format 2\n"
    assert old.read_text() == upgraded


def test_output_goes_to_a_new_file_but_never_over_another(tmp_path: Path) -> None:
    old = copy_of(tmp_path)
    new = tmp_path / "new.json"
    assert run("upgrade", str(old), "-o", str(new)).exit_code == 0
    assert json.loads(new.read_text())["format"] == "icorules/proposal/2"
    assert json.loads(old.read_text())["format"] == "icorules/proposal/1"
    other = tmp_path / "other.json"
    other.write_text("{}")
    refused = run("upgrade", str(old), "-o", str(other))
    assert refused.exit_code == 2
    assert "other.json: already exists: give a new file" in refused.stderr
    assert other.read_text() == "{}"
    assert run("upgrade", str(old), "-o", str(old)).exit_code == 0  # its own file
    two = run("upgrade", str(old), str(new), "-o", str(tmp_path / "x.json"))
    assert two.exit_code == 2 and "give one file to upgrade with --output" in two.stderr


def test_a_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers: []\n")
    result = run("upgrade", str(waivers))
    assert result.exit_code == 2
    assert "is not a proposal or market file" in result.stderr
