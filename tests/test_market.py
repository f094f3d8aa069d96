"""The market file: loading, cross-references, reconciling with a proposal, synthetic data."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import icorules
from icorules.errors import InputError
from icorules.inputs.codes import SERVICE_LINES
from icorules.inputs.market import Market, load_market, market_warnings
from icorules.inputs.market_match import reconcile
from icorules.inputs.proposal import load_proposal
from tests.proposals import clean_proposal

ROOT = Path(__file__).resolve().parents[1]


def base_market() -> dict[str, Any]:
    """The clean proposal's area, a neighbour, its three practices and two outsiders."""
    return {
        "format": "icorules/market/1",
        "name": "Riverside health economy",
        "pct_areas": [
            {"code": "5AA", "name": "Riverside PCT", "population": 250_000, "adjacent": ["5AB"]},
            {"code": "5AB", "name": "Hillside PCT", "population": 180_000},
        ],
        "providers": [
            {"id": "GP1", "name": "Bridge Street Surgery", "type": "gp_practice", "pct": "5AA",
             "services": ["general_practice"], "size": 8000, "size_measure": "list_size"},
            {"id": "GP2", "name": "Mill Lane Practice", "type": "gp_practice", "pct": "5AA",
             "services": ["general_practice"], "size": 7000, "size_measure": "list_size"},
            {"id": "GP3", "name": "Quay Health Centre", "type": "gp_practice", "pct": "5AA",
             "services": ["general_practice"], "size": 5000},
            {"id": "GP9", "name": "Harbour Surgery", "type": "gp_practice", "pct": "5AA",
             "services": ["general_practice"], "size": 6500, "size_measure": "list_size"},
            {"id": "RA1", "name": "Riverside Hospitals NHS Trust", "type": "nhs_trust",
             "pct": "5AB", "services": ["outpatients", "emergency_care"], "size": 650,
             "size_measure": "beds"},
        ],
    }  # fmt: skip


def write(tmp_path: Path, data: dict[str, Any], name: str = "market.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def problems_of(source: Any) -> list[str]:
    with pytest.raises(InputError) as info:
        load_market(source)
    return [str(p) for p in info.value.problems]


def line_of(path: Path, text: str) -> str:
    """The file line a `file:line:col: ...` problem text points at."""
    match = re.match(rf"{re.escape(str(path))}:(\d+):\d+: ", text)
    assert match, text
    return path.read_text().splitlines()[int(match.group(1)) - 1]


# --- loading -----------------------------------------------------------------------------------


def test_loads_a_valid_market_from_json_yaml_dict_and_model(tmp_path: Path) -> None:
    market = load_market(write(tmp_path, base_market()))
    assert [a.code for a in market.pct_areas] == ["5AA", "5AB"]
    assert market.providers[4].services[1].value == "emergency_care"
    assert market.adjacency() == {"5AA": frozenset({"5AB"}), "5AB": frozenset({"5AA"})}
    import yaml

    yaml_path = tmp_path / "market.yaml"
    yaml_path.write_text(yaml.safe_dump(base_market()), encoding="utf-8")
    assert load_market(yaml_path) == market  # where it was read from does not matter
    assert load_market(base_market()) == market
    assert load_market(base_market() | {"name": "Elsewhere"}) != market
    assert load_market(market) is market
    assert market.area("5AB") is not None and market.area("5ZZ") is None


def test_format_is_checked(tmp_path: Path) -> None:
    data = base_market() | {"format": "icorules/proposal/1"}
    [problem] = problems_of(write(tmp_path, data))
    assert problem.startswith(f"{tmp_path / 'market.json'}:2:")
    assert "format: 'icorules/proposal/1' is not allowed here" in problem


def test_a_market_is_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "market.json"
    path.write_text("[1, 2]")
    assert problems_of(path) == [
        f"{path}:1:1: a market file is a JSON/YAML object (a mapping of fields)"
    ]


def test_duplicate_provider_ids_name_both_records(tmp_path: Path) -> None:
    data = base_market()
    data["providers"][3]["id"] = "GP2"
    path = write(tmp_path, data)
    [problem] = problems_of(path)
    assert "providers[3].id: provider id 'GP2' is listed twice (first at providers[1])" in problem
    assert '"id": "GP2"' in line_of(path, problem)


def test_duplicate_pct_codes(tmp_path: Path) -> None:
    data = base_market()
    data["pct_areas"][1]["code"] = "5AA"
    data["pct_areas"][0]["adjacent"] = []
    data["providers"][4]["pct"] = "5AA"
    path = write(tmp_path, data)
    [problem] = problems_of(path)
    assert "pct_areas[1].code: PCT area '5AA' is listed twice (first at pct_areas[0])" in problem
    assert '"code": "5AA"' in line_of(path, problem)


def test_provider_in_an_undeclared_pct_area_gets_did_you_mean(tmp_path: Path) -> None:
    data = base_market()
    data["providers"][4]["pct"] = "5AC"
    path = write(tmp_path, data)
    [problem] = problems_of(path)
    assert (
        "providers[4].pct: PCT area '5AC' is not declared in pct_areas (did you mean '5AB'?)"
        in problem
    )
    assert '"pct": "5AC"' in line_of(path, problem)


def test_provider_in_an_undeclared_area_lists_the_areas_when_nothing_is_close(
    tmp_path: Path,
) -> None:
    data = base_market()
    data["providers"][4]["pct"] = "QQQ"
    [problem] = problems_of(write(tmp_path, data))
    assert "(declared: 5AA, 5AB)" in problem


def test_unknown_and_self_adjacent_areas(tmp_path: Path) -> None:
    data = base_market()
    data["pct_areas"][0]["adjacent"] = ["5AB", "5AA", "5AX"]
    path = write(tmp_path, data)
    problems = problems_of(path)
    assert len(problems) == 2
    assert any(
        "pct_areas[0].adjacent[1]: PCT area '5AA' is listed as adjacent to itself" in p
        for p in problems
    )
    unknown = next(p for p in problems if "adjacent[2]" in p)
    assert "PCT area '5AX' is not declared in pct_areas (did you mean" in unknown
    assert '"5AX"' in line_of(path, unknown)


def test_negative_and_non_finite_sizes_are_rejected(tmp_path: Path) -> None:
    data = base_market()
    data["providers"][2]["size"] = -1
    path = write(tmp_path, data)
    [problem] = problems_of(path)
    assert "providers[2].size: -1: should be at least 0" in problem
    assert '"size": -1' in line_of(path, problem)
    data["providers"][2]["size"] = float("inf")
    assert problems_of(data) == ["<market>: providers[2].size: inf: should be a finite number"]


def test_pydantic_problems_are_located_and_explained(tmp_path: Path) -> None:
    data = base_market()
    data["providers"][0]["services"] = ["general_practise"]
    data["providers"][1]["colour"] = "blue"
    data["providers"][4]["size_measure"] = "bed"
    path = write(tmp_path, data)
    problems = problems_of(path)
    assert len(problems) == 3
    text = "\n".join(problems)
    assert "providers[0].services[0]: 'general_practise' is not allowed here (did you mean" in text
    assert "providers[1].colour: unknown field 'colour'" in text
    assert "providers[4].size_measure: 'bed' is not allowed here (did you mean 'beds'?)" in text
    assert all(re.match(rf"{re.escape(str(path))}:\d+:\d+: ", p) for p in problems)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    data = base_market()
    data["providers"][3]["id"] = "GP1"
    data["providers"][4]["pct"] = "5AX"
    data["pct_areas"][1]["adjacent"] = ["5AB"]
    assert len(problems_of(write(tmp_path, data))) == 3


def test_a_model_with_bad_references_is_rejected() -> None:
    market = Market.model_validate(base_market())
    broken = market.model_copy(update={"providers": [*market.providers, market.providers[0]]})
    assert problems_of(broken) == [
        "<market>: providers[5].id: provider id 'GP1' is listed twice (first at providers[0])"
    ]


def test_missing_and_bad_files_are_input_errors(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope.json") == [f"{tmp_path / 'nope.json'}: no such file"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x",\n  "pct_areas": [}')
    [problem] = problems_of(bad)
    assert problem.startswith(f"{bad}:2:") and "invalid JSON" in problem


def test_providers_without_service_lines_are_a_warning(tmp_path: Path) -> None:
    data = base_market()
    data["providers"][4]["services"] = []
    path = write(tmp_path, data)
    market = load_market(path)
    [warning] = market_warnings(market)
    assert warning.startswith(f"{path}:")
    assert "providers[4]: provider 'RA1' has no service lines; it is ignored for market shares" in (
        warning
    )


# --- reconcile -----------------------------------------------------------------------------------


def test_reconcile_clean_pair_has_nothing_to_say(tmp_path: Path) -> None:
    proposal = load_proposal(clean_proposal())
    market = load_market(write(tmp_path, base_market()))
    assert reconcile(proposal, market) == ([], [])


def test_reconcile_partner_in_another_pct_area_is_an_error_naming_both(tmp_path: Path) -> None:
    data = base_market()
    data["providers"][2]["pct"] = "5AB"
    path = write(tmp_path, data)
    errors, _ = reconcile(load_proposal(clean_proposal()), load_market(path))
    [error] = errors
    text = str(error)
    assert text.startswith(f"{path}:{error.line}:{error.column}: ")
    assert (
        "providers[2].pct: 'GP3' is in PCT 5AB here but in 5AA in the proposal"
        " (organisations[3].pct)" in text
    )
    assert '"pct": "5AB"' in line_of(path, text)


def test_reconcile_warnings_population_list_size_type_and_missing_area(tmp_path: Path) -> None:
    data = base_market()
    data["pct_areas"][0]["population"] = 260_000
    data["providers"][1]["size"] = 7100
    data["providers"][4]["services"] = []
    data["providers"].append({"id": "LA1", "name": "Riverside Council", "type": "other",
                              "pct": "5AA", "services": []})  # fmt: skip
    proposal = copy.deepcopy(clean_proposal())
    proposal["pct_areas"].append({"code": "5AC", "name": "Lakeside PCT", "population": 90_000})
    path = write(tmp_path, data)
    errors, warnings = reconcile(load_proposal(proposal), load_market(path))
    assert errors == []
    text = "\n".join(warnings)
    assert len(warnings) == 5, text
    assert (
        "pct_areas[0].population: PCT area '5AA' has population 260,000 here but 250,000 in the"
        " proposal (pct_areas[0].population); the proposal's is used" in text
    )
    assert (
        "providers[1].size: 'GP2' has list size 7,100 here but 7,000 in the proposal"
        " (organisations[2].list_size); the proposal's is used" in text
    )
    assert "providers[4]: provider 'RA1' has no service lines" in text
    # LA1 is a partner: its service lines come from the proposal, so no warning about them.
    assert "'LA1' has no service lines" not in text
    assert "providers[5].type: 'LA1' has type other here but local_authority" in text
    assert f"pct_areas[1]: the proposal's PCT area '5AC' is not in the market file {path}" in text
    assert all("\n" not in w for w in warnings)


def test_reconcile_ignores_sizes_that_are_not_list_sizes() -> None:
    data = base_market()
    data["providers"][0]["size_measure"] = "capacity"
    assert reconcile(load_proposal(clean_proposal()), load_market(data)) == ([], [])


def test_reconcile_without_a_file_names_the_record_by_path() -> None:
    data = base_market()
    data["providers"][0]["pct"] = "5AB"
    errors, _ = reconcile(load_proposal(clean_proposal()), load_market(data))
    assert [str(e) for e in errors] == [
        "<market>: providers[0].pct: 'GP1' is in PCT 5AB here but in 5AA in the proposal"
        " (organisations[1].pct)"
    ]


# --- the synthetic national market ----------------------------------------------------------------


def _synthetic() -> ModuleType:
    spec = importlib.util.spec_from_file_location("synthetic", ROOT / "bench" / "synthetic.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def synthetic() -> ModuleType:
    return _synthetic()


@pytest.fixture(scope="module")
def national(synthetic: ModuleType) -> Market:
    market: Market = synthetic.national_market(seed=0)
    return market


def test_national_market_has_152_areas_with_symmetric_adjacency(national: Market) -> None:
    assert len(national.pct_areas) == 152
    assert all(150_000 <= a.population <= 500_000 for a in national.pct_areas)
    adjacency = national.adjacency()
    assert all(2 <= len(n) <= 4 for n in adjacency.values())
    assert all(code in adjacency[other] for code, n in adjacency.items() for other in n)
    assert load_market(national) is national  # passes the cross-reference checks


def test_national_market_practices_look_like_england(national: Market) -> None:
    practices = [p for p in national.providers if p.type.value == "gp_practice"]
    assert 7_500 <= len(practices) <= 8_700
    mean = sum(p.size or 0 for p in practices) / len(practices)
    assert 6_000 <= mean <= 7_000
    listed: dict[str, float] = defaultdict(float)
    for p in practices:
        listed[p.pct] += p.size or 0
    population = {a.code: a.population for a in national.pct_areas}
    assert all(listed[code] < population[code] for code in population)


def test_national_market_other_providers_cover_every_service_line(national: Market) -> None:
    others = [p for p in national.providers if p.type.value != "gp_practice"]
    assert 1_300 <= len(others) <= 1_700
    assert all(p.size is not None and p.size > 0 and p.size_measure for p in national.providers)
    covered = {s.value for p in national.providers for s in p.services}
    assert covered == set(SERVICE_LINES)
    assert len({p.type for p in others}) >= 6


@pytest.mark.slow
def test_national_market_is_deterministic(synthetic: ModuleType, national: Market) -> None:
    again = synthetic.national_market(seed=0)
    assert again.providers[::500] == national.providers[::500]
    assert synthetic.national_market(seed=1).pct_areas != national.pct_areas


def test_large_proposal_is_valid_and_reconciles(synthetic: ModuleType, national: Market) -> None:
    data = synthetic.large_proposal(national, partners=500, seed=0)
    proposal = load_proposal(data)
    assert len(proposal.organisations) == 500
    ids = {p.id for p in national.providers}
    assert all(o.id in ids for o in proposal.organisations)
    kinds = {o.type.value for o in proposal.organisations}
    assert {"gp_practice", "pct"} <= kinds and len(kinds) >= 4
    assert 2 <= len(proposal.pct_areas) <= 30
    assert reconcile(proposal, national) == ([], [])


def test_large_proposal_breaks_no_error_rule(synthetic: ModuleType, national: Market) -> None:
    """Realistic: the bid is eligible and takes in no local monopoly, market context or not."""
    bid = synthetic.large_proposal(national, partners=120, seed=2)
    for market in (None, national):
        report = icorules.check(bid, market=market)
        assert [f.rule for f in report.findings if f.severity == "error"] == []


def test_cli_writes_market_and_proposal(synthetic: ModuleType, tmp_path: Path) -> None:
    synthetic.main(["--out", str(tmp_path / "out"), "--partners", "40", "--seed", "3"])
    market = load_market(tmp_path / "out" / "market.json")
    assert len(market.pct_areas) == 152
    assert len(load_proposal(tmp_path / "out" / "proposal.json").organisations) == 40


def _scanned(proposal: Any, market: Market) -> list[tuple[int, list[str]]]:
    """What _candidates finds, by a pass over every provider (as it once worked)."""
    by_id = {org.id for org in proposal.everyone()}
    by_ods: dict[str, str] = {}
    for org in proposal.everyone():
        if org.ods_code:
            by_ods.setdefault(org.ods_code, org.id)
    out = []
    for j, provider in enumerate(market.providers):
        found = [provider.id] if provider.id in by_id else []
        found += [by_ods[code] for code in (provider.id, provider.ods_code) if code in by_ods]
        if found:
            out.append((j, list(dict.fromkeys(found))))
    return out


_CODES = ["A81001", "A81002", "B81003"]  # practices' ODS codes
_IDS = ["GP1", "GP2", "LA1", "X1", "A81001", "B81003"]  # partners' ids, codes, and others
_ODS = [None, *_CODES, "C81004"]


@given(
    st.lists(st.tuples(st.sampled_from(_IDS), st.sampled_from(_ODS)), max_size=10),
    st.lists(st.sampled_from(_CODES), unique=True, max_size=3),
)
def test_providers_found_by_index_are_those_a_scan_finds(
    providers: list[tuple[str, str | None]], partner_codes: list[str]
) -> None:
    from icorules.inputs.market_match import _candidates, matches

    data = clean_proposal()
    practices = [o for o in data["organisations"] if o["type"] == "gp_practice"]
    for org, code in zip(practices, partner_codes, strict=False):
        org["ods_code"] = code
    market_data = base_market()
    market_data["format"] = "icorules/market/2"
    market_data["providers"] = [
        {"id": pid, "name": pid, "type": "gp_practice", "pct": "5AA", "ods_code": code}
        for pid, code in providers
    ]
    proposal, market = load_proposal(data), Market.model_validate(market_data)
    assert list(_candidates(proposal, market)) == _scanned(proposal, market)
    assert matches(proposal, market) == {j: ids[0] for j, ids in _scanned(proposal, market)}
    assert market == Market.model_validate(market_data)  # the index it keeps is not a field
