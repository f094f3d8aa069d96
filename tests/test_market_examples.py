"""The Morecambe Bay examples: a market file and five bids, each with exactly the findings meant.

`examples/markets/morecambe-bay.json` is an invented north-west health economy of four PCT areas
(South Cumbria 5NE, North Lancashire 5NF, Blackpool 5HP, Central Lancashire 5NG; North
Lancashire borders the other three). The `examples/bay-*.json` bids are checked against it.
The shares and HHIs asserted here are worked out from the JSON files with plain arithmetic, not
with icorules' own functions.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import icorules
from icorules.cli import cli
from icorules.inputs.codes import SERVICE_LINES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
MARKET = EXAMPLES / "markets/morecambe-bay.json"

# Every finding each bid gets with the market file: (rule, subject id).
EXPECTED: dict[str, set[tuple[str, str]]] = {
    "bay-clean": {
        ("CLASS-002", "bay-clean"),
        ("MKT-004", "5NF/community_nursing"),
        ("MKT-004", "5NF/specialist_nursing"),
        ("MKT-004", "5NF/outpatients"),
        ("MKT-004", "5NF/diagnostics"),
        ("MKT-004", "5NF/social_care"),
    },
    "bay-all-providers": {
        ("MKT-001", "5NE/community_nursing"),
        ("MKT-003", "5NE/community_nursing"),
        ("MKT-004", "5NE/community_nursing"),
        ("MKT-003a", "5NE/general_practice"),
        ("MKT-004", "5NE/general_practice"),
        ("MKT-004", "5NE/social_care"),
        ("CLASS-001", "bay-all-providers"),
    },
    "bay-whole-pct": {
        ("MKT-002", "5HP"),
        ("MKT-003", "5HP/general_practice"),
        ("MKT-004", "5HP/general_practice"),
        ("MKT-004", "5HP/community_nursing"),
        ("CLASS-001", "bay-whole-pct"),
    },
    "bay-cross-boundary": {
        ("MKT-005", "bay-cross-boundary"),
        ("MKT-004", "5NF/specialist_nursing"),
        ("MKT-004", "5NG/specialist_nursing"),
        ("CLASS-001", "bay-cross-boundary"),
    },
    "bay-no-alternative": {
        ("CHOICE-002", "out_of_hours"),
        ("MKT-003a", "5HP/general_practice"),
        ("MKT-004", "5HP/out_of_hours"),
    },
}

TARGET = {
    "bay-clean": None,
    "bay-all-providers": "MKT-001",
    "bay-whole-pct": "MKT-002",
    "bay-cross-boundary": "MKT-005",
    "bay-no-alternative": "CHOICE-002",
}

MARKET_RULES = {"MKT-001", "MKT-002", "MKT-003", "MKT-003a", "MKT-004", "MKT-005"}
CHOICE_RULES = {"CHOICE-001", "CHOICE-002", "CHOICE-003", "CHOICE-003a"}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def bid_path(name: str) -> Path:
    return EXAMPLES / f"{name}.json"


@pytest.fixture(scope="module")
def reports() -> dict[str, icorules.Report]:
    return {name: icorules.check(bid_path(name), market=MARKET) for name in EXPECTED}


# --- the market file --------------------------------------------------------------------------


def test_market_file_is_a_plausible_economy() -> None:
    market = load(MARKET)
    areas = {a["code"]: a for a in market["pct_areas"]}
    providers = market["providers"]
    assert set(areas) == {"5NE", "5NF", "5HP", "5NG"}
    assert 60 <= len(providers) <= 120
    assert len({p["id"] for p in providers}) == len(providers)
    for code, area in areas.items():
        assert 150_000 <= area["population"] <= 500_000  # R5
        for other in area["adjacent"]:
            assert code in areas[other]["adjacent"], f"{code}-{other} listed one way only"
    practices = [p for p in providers if p["type"] == "gp_practice"]
    assert 6_000 <= sum(p["size"] for p in practices) / len(practices) <= 7_000  # R5
    for code, area in areas.items():
        in_area = [p for p in practices if p["pct"] == code]
        assert in_area, f"no practices in {code}"
        assert sum(p["size"] for p in in_area) < area["population"] / 2
    for p in providers:
        assert p["services"] and set(p["services"]) <= set(SERVICE_LINES)
        assert p["size"] > 0 and p["size_measure"]
    kinds = {p["type"] for p in providers}
    assert {
        "foundation_trust",
        "mental_health_trust",
        "ambulance_trust",
        "local_authority",
        "independent_sector",
        "pct",
    } <= kinds


def test_one_size_measure_per_service_line() -> None:
    """Shares add sizes up, so every provider of a service line counts the same thing."""
    measures: dict[str, set[str]] = {}
    for p in load(MARKET)["providers"]:
        for service in p["services"]:
            measures.setdefault(service, set()).add(p["size_measure"])
    assert {s: m for s, m in measures.items() if len(m) > 1} == {}


# --- the bids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bid_has_exactly_the_expected_findings(
    name: str, reports: dict[str, icorules.Report]
) -> None:
    report = reports[name]
    found = {(f.rule, f.subject.id) for f in report.findings}
    assert found == EXPECTED[name]
    assert len(report.findings) == len(found)  # no duplicates
    if TARGET[name] is not None:
        assert TARGET[name] in {rule for rule, _ in found}
    assert report.warnings == []  # the bid and the market file agree
    assert report.rules_not_evaluated == []


def test_clean_bid_passes_every_market_and_choice_rule(
    reports: dict[str, icorules.Report],
) -> None:
    report = reports["bay-clean"]
    assert {f.severity for f in report.findings} == {"info"}
    assert (MARKET_RULES - {"MKT-004"}) | CHOICE_RULES <= set(report.passed)


# --- the numbers, worked out from the files ---------------------------------------------------


def hand_market(bid: str, area: str, service: str) -> dict[str, float]:
    """Share, HHI before and after, from the JSON files: practices weigh by list size."""
    proposal = load(bid_path(bid))
    partners = {o["id"]: o for o in proposal["organisations"]}
    sizes: dict[str, float] = {}
    for p in load(MARKET)["providers"]:
        if p["pct"] == area and service in p["services"]:
            in_pilot = p["id"] in partners and service in partners[p["id"]].get("provides", [])
            if p["id"] not in partners or in_pilot:
                sizes[p["id"]] = p["size"]
    for org in partners.values():
        if org.get("pct") == area and service in org.get("provides", []):
            assert org["id"] in sizes, f"{org['id']} is not in the market file"
            if org["type"] == "gp_practice":
                sizes[org["id"]] = org["list_size"]
    total = sum(sizes.values())
    pct = {i: 100 * s / total for i, s in sizes.items()}
    joint = sum(v for i, v in pct.items() if i in partners)
    pre = sum(v * v for v in pct.values())
    post = joint * joint + sum(v * v for i, v in pct.items() if i not in partners)
    return {"share": joint / 100, "hhi_pre": pre, "hhi_post": post, "hhi_delta": post - pre}


def finding(report: icorules.Report, rule: str, subject: str) -> icorules.Finding:
    return next(f for f in report.findings if (f.rule, f.subject.id) == (rule, subject))


def test_whole_pct_concentration_matches_hand_count(reports: dict[str, icorules.Report]) -> None:
    """Nine Blackpool practices (60,400 patients) against the GP-led centre's 3,200."""
    market = load(MARKET)
    blackpool = [p for p in market["providers"] if p["pct"] == "5HP"]
    practices = [p["size"] for p in blackpool if p["type"] == "gp_practice"]
    centre = next(p["size"] for p in blackpool if p["id"] == "BP-GPLC")
    assert (len(practices), sum(practices), centre) == (9, 60_400, 3_200)
    share = 60_400 / 63_600
    pre = sum((100 * s / 63_600) ** 2 for s in [*practices, centre])
    post = (100 * share) ** 2 + (100 * centre / 63_600) ** 2
    assert hand_market("bay-whole-pct", "5HP", "general_practice") == pytest.approx(
        {"share": share, "hhi_pre": pre, "hhi_post": post, "hhi_delta": post - pre}
    )
    assert round(share, 4) == 0.9497
    assert (round(pre), round(post)) == (1101, 9044)

    report = reports["bay-whole-pct"]
    mkt3 = finding(report, "MKT-003", "5HP/general_practice")
    assert mkt3.evidence["hhi_post"] == pytest.approx(post, abs=1e-3)
    assert mkt3.evidence["hhi_delta"] == pytest.approx(post - pre, abs=1e-3)
    assert "HHI of 9,044 (up 7,944 from 1,101)" in mkt3.message
    mkt4 = finding(report, "MKT-004", "5HP/general_practice")
    assert mkt4.evidence["partner_share"] == pytest.approx(share, abs=1e-6)
    assert "95% of general_practice in Blackpool (5HP)" in mkt4.message
    mkt2 = finding(report, "MKT-002", "5HP")
    assert mkt2.message.startswith("Every GP practice in Blackpool (5HP) is a partner (9 in")


def test_all_providers_concentration_matches_hand_count(
    reports: dict[str, icorules.Report],
) -> None:
    """South Cumbria's district nursing: the PCT's 310 WTE and the CIC's 45, both partners."""
    pre = (100 * 310 / 355) ** 2 + (100 * 45 / 355) ** 2
    assert hand_market("bay-all-providers", "5NE", "community_nursing") == pytest.approx(
        {"share": 1.0, "hhi_pre": pre, "hhi_post": 10_000.0, "hhi_delta": 10_000 - pre}
    )
    report = reports["bay-all-providers"]
    mkt3 = finding(report, "MKT-003", "5NE/community_nursing")
    assert mkt3.evidence == pytest.approx({"hhi_post": 10_000.0, "hhi_delta": 10_000 - pre})
    assert "HHI of 10,000 (up 2,214 from 7,786)" in mkt3.message
    mkt1 = finding(report, "MKT-001", "5NE/community_nursing")
    assert mkt1.evidence == {"outside_count": 0, "partner_count": 2}
    assert "(NHS-SCUMBRIA, SC-CNCIC)" in mkt1.message
    # Three of South Cumbria's ten practices: 20,100 of 65,500 patients, 31%: noted; a
    # post-pilot HHI of 1,750 (up 611) is in MKT-003a's 1,000-2,000 band, not MKT-003's.
    gp = hand_market("bay-all-providers", "5NE", "general_practice")
    assert gp["share"] == pytest.approx(20_100 / 65_500)
    assert 1_000 <= gp["hhi_post"] < 2_000
    mkt3a = finding(report, "MKT-003a", "5NE/general_practice")
    assert mkt3a.evidence["hhi_post"] == pytest.approx(gp["hhi_post"], abs=1e-3)
    share = finding(report, "MKT-004", "5NE/general_practice").evidence["partner_share"]
    assert share == pytest.approx(gp["share"], abs=1e-6)


def test_clean_bid_stays_below_the_thresholds(reports: dict[str, icorules.Report]) -> None:
    """Its three practices hold 16% of North Lancashire's general practice; HHI stays < 1,000."""
    gp = hand_market("bay-clean", "5NF", "general_practice")
    assert gp["share"] == pytest.approx(16_300 / 100_900)
    assert gp["share"] < 0.25 and gp["hhi_post"] < 1_000
    # The single-partner markets: big shares (MKT-004) but no increase in HHI (no MKT-003).
    for service, share in [
        ("community_nursing", 420 / 480),
        ("specialist_nursing", 420 / 480),
        ("outpatients", 560 / 630),
        ("diagnostics", 560 / 630),
        ("social_care", 1_100 / 1_360),
    ]:
        hand = hand_market("bay-clean", "5NF", service)
        assert hand["share"] == pytest.approx(share)
        assert hand["hhi_delta"] == pytest.approx(0, abs=1e-6)
        got = finding(reports["bay-clean"], "MKT-004", f"5NF/{service}").evidence
        assert got["partner_share"] == pytest.approx(share, abs=1e-6)


def test_no_alternative_out_of_hours_nearby() -> None:
    """Out-of-hours providers sit in 5NE, 5HP and 5NG; Blackpool's only neighbour is 5NF."""
    market = load(MARKET)
    near = {"5HP", *next(a["adjacent"] for a in market["pct_areas"] if a["code"] == "5HP")}
    assert near == {"5HP", "5NF"}
    ooh = {p["id"]: p["pct"] for p in market["providers"] if "out_of_hours" in p["services"]}
    assert {i for i, pct in ooh.items() if pct in near} == {"BP-OOH"}  # the partner
    assert len(ooh) == 3


def test_cross_boundary_bid_spans_two_areas_without_lead_commissioner() -> None:
    proposal = load(bid_path("bay-cross-boundary"))
    areas = {o["pct"] for o in proposal["organisations"] if o["type"] == "gp_practice"}
    assert areas == {"5NF", "5NG"}
    assert "lead_commissioner" not in proposal["governance"]
    assert all(a["type"] != "cross_boundary_commissioning" for a in proposal["agreements"])


# --- the command line -------------------------------------------------------------------------


def test_cli_all_providers_with_and_without_market(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    bid = "examples/bay-all-providers.json"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["check", bid, "--market", "examples/markets/morecambe-bay.json", "--no-color"]
    )
    assert result.exit_code == 1, result.output
    assert "MKT-001" in result.stdout
    assert "Every provider of community_nursing in Cumbria (South) (5NE)" in result.stdout

    result = runner.invoke(cli, ["check", bid, "--no-color"])
    assert result.exit_code == 0, result.output  # only CLASS-001 is left
    assert "MKT-001" not in result.stdout
    summary = result.stdout.strip().splitlines()[-1]
    match = re.search(
        r"; (\d+) not evaluated \(they need a market context: --market FILE\)$", summary
    )
    assert match, summary
    assert int(match.group(1)) == 7  # MKT-001..004 (with MKT-003a, MKT-004a) and CHOICE-002

    result = runner.invoke(cli, ["check", bid, "--format", "json"])
    report = json.loads(result.stdout)
    assert {n["rule"] for n in report["not_evaluated"]} == {
        "MKT-001",
        "MKT-002",
        "MKT-003",
        "MKT-003a",
        "MKT-004",
        "MKT-004a",
        "CHOICE-002",
    }
