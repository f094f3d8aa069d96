"""Compiled markets (`icorules market compile`): the same reports as the market file they come
from, and refused in one line, saying how to compile again, once damaged or out of date."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

import icorules
from icorules import version
from icorules.cli import cli
from icorules.compiled_market import load_compiled, trusted
from icorules.errors import InputError
from icorules.inputs.market import Market, load_market
from icorules.output.json_report import render_json

ROOT = Path(__file__).resolve().parents[1]
MARKETS = sorted((ROOT / "examples" / "markets").glob("*.json"))
BAY = ROOT / "examples" / "bay-clean.json"


def compiled(tmp_path: Path, source: Path) -> tuple[Path, Path]:
    """A copy of `source` in tmp_path, compiled beside it."""
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    target = tmp_path / "area.icm"
    result = CliRunner().invoke(cli, ["market", "compile", str(copy), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "compiled" in result.stderr
    return copy, target


@pytest.mark.parametrize("source", MARKETS, ids=lambda p: p.name)
def test_a_compiled_market_is_the_market_it_was_compiled_from(tmp_path: Path, source: Path) -> None:
    copy, target = compiled(tmp_path, source)
    fast, slow = load_compiled(target), load_market(copy)
    assert fast == slow
    assert fast.model_dump() == slow.model_dump()
    assert trusted(Market, slow.model_dump(mode="json")) == slow
    kinds = [[type(s) for s in p.services] for p in slow.providers]
    assert [[type(s) for s in p.services] for p in fast.providers] == kinds
    # The lookups it stores are those the market works out for itself.
    for name in ("provider_index", "provider_parent", "in_area", "practices_in"):
        assert getattr(fast, name) == getattr(slow, name), name
    assert fast.without_services == slow.without_services
    assert [fast.provider(p.id) for p in slow.providers] == slow.providers


def test_a_compiled_market_is_built_without_validating_it_again() -> None:
    """Every model of a market, format 2's lists of lines or sized lines included, is rebuilt
    from its JSON form: validating the national market again cost ~60 ms of each load."""
    from icorules.compiled_market import _model_builder

    assert _model_builder(Market) is not None


def test_a_rebuilt_list_of_lines_holds_enum_members_and_refuses_an_unknown_line() -> None:
    """Lines are looked up in bulk; a value that is no line (a file from a changed icorules)
    is refused as the enum refuses it, not rebuilt as None."""
    from icorules.inputs.codes import ServiceLine

    data = load_market(MARKETS[0]).model_dump(mode="json")
    data["providers"][0]["services"] = ["general_practice", {"service": "community_nursing"}]
    rebuilt = trusted(Market, data)
    first = rebuilt.providers[0].services
    assert first[0] is ServiceLine.general_practice
    assert first[1].service is ServiceLine.community_nursing
    data = load_market(MARKETS[0]).model_dump(mode="json")
    data["providers"][0]["services"] = ["general_practice", "no_such_line"]
    with pytest.raises(ValueError, match="no_such_line"):
        trusted(Market, data)


@pytest.mark.parametrize(
    "proposal",
    [BAY, ROOT / "examples" / "bay-no-alternative.json", ROOT / "examples" / "church-view.json"],
    ids=lambda p: p.name,
)
def test_checks_with_a_compiled_market_report_the_same(tmp_path: Path, proposal: Path) -> None:
    copy, target = compiled(tmp_path, ROOT / "examples" / "markets" / "morecambe-bay.json")
    with_source = icorules.check(proposal, market=copy)
    with_compiled = icorules.check(proposal, market=target)
    assert render_json([with_compiled]) == render_json([with_source])
    for fmt in ("text", "json"):
        runs = [
            CliRunner().invoke(cli, ["check", str(proposal), "--market", m, "--format", fmt])
            for m in (str(copy), str(target))
        ]
        assert runs[0].output == runs[1].output
        assert runs[0].exit_code == runs[1].exit_code


def refusal(target: Path) -> str:
    result = CliRunner().invoke(cli, ["check", str(BAY), "--market", str(target)])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert "compile it again: icorules market compile" in line
    return line


def test_a_changed_compiled_file_is_refused(tmp_path: Path) -> None:
    _, target = compiled(tmp_path, ROOT / "examples" / "markets" / "morecambe-bay.json")
    target.write_bytes(target.read_bytes().replace(b"Morecambe", b"Xorecambe", 1))
    assert "has been changed or damaged since it was compiled" in refusal(target)
    target.write_bytes(target.read_bytes()[:-10])
    assert "has been changed or damaged" in refusal(target)


def test_a_compiled_file_whose_market_file_changed_is_refused(tmp_path: Path) -> None:
    copy, target = compiled(tmp_path, ROOT / "examples" / "markets" / "morecambe-bay.json")
    copy.write_text(copy.read_text() + "\n")
    line = refusal(target)
    assert f"is out of date: {copy} has changed since it was compiled" in line
    assert line.endswith(f"icorules market compile {copy} -o {target}")
    copy.unlink()
    assert f"was compiled from {copy}, which cannot be read now" in refusal(target)


def edited(target: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """`target` with its body changed by `edit` and its digest made again to match."""
    header, _, rest = target.read_bytes().partition(b"\n")
    body = orjson.loads(rest)
    edit(body)
    rest = orjson.dumps(body)
    digest = hashlib.sha256(rest).hexdigest().encode()
    target.write_bytes(header[: header.index(b'"digest":"') + 10] + digest + b'"}\n' + rest)


def test_a_compiled_file_without_the_market_lookups_is_refused(tmp_path: Path) -> None:
    """A file compiled before the lookups were stored (the same version, during development)."""
    _, target = compiled(tmp_path, ROOT / "examples" / "markets" / "morecambe-bay.json")
    edited(target, lambda body: body.pop("lookups"))
    assert "was compiled for another form of the market model" in refusal(target)


def test_a_compiled_file_whose_lookups_name_a_provider_it_lacks_is_refused(tmp_path: Path) -> None:
    _, target = compiled(tmp_path, ROOT / "examples" / "markets" / "morecambe-bay.json")
    edited(target, lambda body: body["lookups"]["without_services"].append(10_000))
    assert "has been changed or damaged since it was compiled" in refusal(target)


@pytest.mark.parametrize(
    "field, value", [("type", "dragon"), ("services", ["not_a_line"]), ("services", 7)]
)
def test_a_compiled_file_edited_with_its_digest_made_again_is_refused_in_one_line(
    tmp_path: Path, field: str, value: Any
) -> None:
    """Values validation would refuse, in a file whose digest was made to match them."""
    _, target = compiled(tmp_path, ROOT / "examples" / "markets" / "morecambe-bay.json")
    edited(target, lambda body: body["market"]["providers"][0].update({field: value}))
    assert "has been changed or damaged since it was compiled" in refusal(target)


def test_a_file_that_is_not_a_compiled_market_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "area.icm"
    target.write_text('{"name": "not compiled"}\n')
    assert "is not a compiled market file (icorules/compiled-market/1)" in refusal(target)


def test_a_compiled_market_from_another_version_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, target = compiled(tmp_path, ROOT / "examples" / "markets" / "morecambe-bay.json")
    monkeypatch.setattr(version, "VERSION", "9.9.9")
    with pytest.raises(InputError, match=r"was compiled by icorules 0\.1\.0, this is 9\.9\.9"):
        load_compiled(target)


def test_a_market_with_problems_is_not_compiled(tmp_path: Path) -> None:
    source = tmp_path / "bad.json"
    source.write_text('{"name": "x", "pct_areas": []}\n')
    result = CliRunner().invoke(cli, ["market", "compile", str(source)])
    assert result.exit_code == 2
    assert str(source) in result.stderr and not (tmp_path / "bad.icm").exists()


def test_a_market_given_again_is_not_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check of a batch gets the same Market: its references are checked once."""
    from icorules.inputs import market as market_module

    calls: list[int] = []
    real = market_module.market_references
    monkeypatch.setattr(
        market_module, "market_references", lambda data: calls.append(1) or real(data)
    )
    area = load_market(ROOT / "examples" / "markets" / "morecambe-bay.json")
    calls.clear()
    reports = [icorules.check(BAY, market=area) for _ in range(3)]
    assert len(calls) == 1
    assert len({render_json([r]) for r in reports}) == 1
    broken = area.model_copy(update={"providers": [*area.providers, area.providers[0]]})
    for _ in range(2):  # a market whose references are wrong is refused every time
        with pytest.raises(InputError, match=r"twice"):
            icorules.check(BAY, market=broken)


@pytest.mark.parametrize("name", ["morecambe-bay.json", "morecambe-bay.icm"])
def test_a_market_the_command_line_loaded_is_not_checked_again_by_the_check(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`icorules check --market` loads the market once (file or compiled) and hands the check
    the Market: the check does not validate it a second time."""
    from icorules.api import load_market_file
    from icorules.inputs import market as market_module

    source = ROOT / "examples" / "markets" / "morecambe-bay.json"
    if name.endswith(".icm"):
        assert (
            CliRunner()
            .invoke(cli, ["market", "compile", str(source), "-o", str(tmp_path / name)])
            .exit_code
            == 0
        )
        source = tmp_path / name
    calls: list[int] = []
    real = market_module.market_references
    monkeypatch.setattr(
        market_module, "market_references", lambda data: calls.append(1) or real(data)
    )
    area = load_market_file(source)
    loaded = len(calls)
    assert icorules.check(BAY, market=area).findings is not None
    assert len(calls) == loaded


def test_a_market_file_is_never_compiled_over_itself(tmp_path: Path) -> None:
    """A market file named *.icm would be its own default output."""
    source = tmp_path / "area.icm"
    shutil.copy(ROOT / "examples" / "markets" / "morecambe-bay.json", source)
    before = source.read_bytes()
    result = CliRunner().invoke(cli, ["market", "compile", str(source)])
    assert result.exit_code == 2
    assert f"{source}: is the market file itself ({source}); give another file" in result.stderr
    assert source.read_bytes() == before
