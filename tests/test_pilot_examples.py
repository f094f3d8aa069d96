"""The 2009 pilots as example bids in format 2, each with exactly its findings.

Seven of the sixteen integrated care pilots the Department of Health announced on 1 April 2009:
Cambridge (Assura LLP), Nene CIC, Norfolk, Durham Dales, Church View, Northumbria (COPD) and
South Lakeland (NHS Cumbria). Each file's `description` says which of its facts are public and
which are illustrative; examples/README.md explains every finding asserted here, and the edits
below show what each finding turns on.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import icorules

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CUMBRIA = EXAMPLES / "markets" / "cumbria.json"

MARKET_RULES = ["CHOICE-002", "MKT-001", "MKT-002", "MKT-003", "MKT-003a", "MKT-004", "MKT-004a"]

EXPECTED: dict[str, set[tuple[str, str]]] = {
    # End of life care: the practices' partnership, NHS Cambridgeshire's community team (a unit
    # of the PCT) and a hospice. Horizontal; every pilot started on 1 April 2009 (ELIG-006a).
    "cambridge-assura-end-of-life.json": {
        ("CLASS-001", "cambridge-assura-end-of-life"),
        ("ELIG-006a", "cambridge-assura-end-of-life"),
    },
    # 75 practices and 652,000 patients: far more than 60% of any PCT under 1,086,667 people,
    # so ELIG-003 reports a pilot that was chosen (an open policy question).
    "nene-commissioning-cic.json": {
        ("ELIG-003", "5PD"),
        ("CLASS-004", "nene-commissioning-cic"),
        ("ELIG-006a", "nene-commissioning-cic"),
    },
    # NHS Norfolk and the county council, with a signed section 75 pooled budget.
    "norfolk-older-people.yaml": {
        ("CLASS-001", "norfolk-older-people"),
        ("ELIG-006a", "norfolk-older-people"),
    },
    # 12 practices and 6 organisations; 12 of County Durham's 73 practices (MKT-002a passes).
    "durham-dales.json": {
        ("CLASS-001", "durham-dales"),
        ("ELIG-006a", "durham-dales"),
    },
    # One practice and an acute foundation trust's clinics by specialty.
    "church-view.json": {
        ("CLASS-002", "church-view"),
        ("ELIG-006a", "church-view"),
    },
    # The foundation trust's respiratory clinics in the practices make it vertical.
    "northumbria-copd.json": {
        ("CLASS-002", "northumbria-copd"),
        ("ELIG-006a", "northumbria-copd"),
    },
    # Horizontal and HMO-style, as the source says.
    "south-lakeland.json": {
        ("CLASS-001", "south-lakeland"),
        ("CLASS-003", "south-lakeland"),
        ("ELIG-006a", "south-lakeland"),
    },
}


def load(name: str) -> dict[str, Any]:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text) if name.endswith(".yaml") else json.loads(text)
    return copy.deepcopy(data)


def pairs(report: icorules.Report) -> set[tuple[str, str]]:
    return {(f.rule, f.subject.id) for f in report.findings}


def org(data: dict[str, Any], org_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(o for o in data["organisations"] if o["id"] == org_id)
    return found


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_findings(name: str) -> None:
    report = icorules.check(EXAMPLES / name)
    assert pairs(report) == EXPECTED[name]
    assert len(report.findings) == len(EXPECTED[name])
    assert report.warnings == []
    assert report.rules_not_evaluated == MARKET_RULES


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_pilot_says_what_is_public_and_what_is_illustrative(name: str) -> None:
    data = load(name)
    assert data["format"] == "icorules/proposal/2"
    assert "Public" in data["description"] and "llustrative" in data["description"]
    assert "1 April 2009" in data["description"]
    # Public for every pilot: the start, and the three-year independent evaluation.
    assert str(data["implementation_date"]) == "2009-04-01"
    evaluation = data["governance"]["evaluation"]
    assert evaluation["independent"] is True and evaluation["years"] == 3


@pytest.mark.parametrize(
    ("name", "practice_count", "registered"),
    [
        ("cambridge-assura-end-of-life.json", 17, 172_000),
        ("nene-commissioning-cic.json", 75, 652_000),
        ("norfolk-older-people.yaml", 32, None),
        ("durham-dales.json", 12, None),
        ("northumbria-copd.json", 15, None),
        ("south-lakeland.json", 20, 110_000),
    ],
)
def test_the_public_figures(name: str, practice_count: int, registered: int | None) -> None:
    practices = [o for o in load(name)["organisations"] if o["type"] == "gp_practice"]
    assert len(practices) == practice_count
    if registered is not None:
        assert sum(p["list_size"] for p in practices) == registered


def check(data: dict[str, Any], **options: Any) -> set[tuple[str, str]]:
    return pairs(icorules.check(data, **options))


# --- Cambridge: who leads a limited liability partnership ------------------------------------


def test_cambridge_partnership_typed_as_the_private_sector_would_be_ineligible() -> None:
    """Who owned the LLP is not public: typed as an independent-sector body, ELIG-008 would
    report a pilot that was chosen (open policy question)."""
    name = "cambridge-assura-end-of-life.json"
    data = load(name)
    org(data, "CAM-LLP")["type"] = "independent_sector"
    assert check(data) == EXPECTED[name] | {("ELIG-008", "cambridge-assura-end-of-life")}
    data = load(name)
    data["lead"] = "ASSURA"
    assert ("ELIG-008", "cambridge-assura-end-of-life") in check(data)


# --- Nene: the 60% share against a chosen pilot ------------------------------------------------


def test_nene_passes_elig_003_when_the_limit_only_says_smaller_than_the_pct() -> None:
    name = "nene-commissioning-cic.json"
    report = icorules.check(EXAMPLES / name, params={"max_pct_population_share": 0.99})
    assert pairs(report) == EXPECTED[name] - {("ELIG-003", "5PD")}


def test_nene_is_judged_against_its_stated_practice_count() -> None:
    data = load("nene-commissioning-cic.json")
    data["pct_areas"][0]["practice_count"] = 75  # every practice of the PCT
    assert ("MKT-002a", "5PD") in check(data)


# --- Norfolk: section 75, risk shares, signed agreements ---------------------------------------


def test_norfolk_section_75_agreement_typed_as_a_joint_venture_is_caught() -> None:
    name = "norfolk-older-people.yaml"
    data = load(name)
    next(a for a in data["agreements"] if a["id"] == "AG-S75")["type"] = "joint_venture"
    assert check(data) == EXPECTED[name] | {("GOV-013", "norfolk-older-people")}


def test_norfolk_section_75_still_a_draft_at_the_start_is_warned() -> None:
    name = "norfolk-older-people.yaml"
    data = load(name)
    next(a for a in data["agreements"] if a["id"] == "AG-S75")["status"] = "draft"
    assert check(data) == EXPECTED[name] | {("ELIG-010", "AG-S75")}


def test_norfolk_risk_shares_adding_up_to_90_percent_are_warned() -> None:
    name = "norfolk-older-people.yaml"
    data = load(name)
    sharing = data["governance"]["budget"]["risk_sharing"]
    del sharing["basis"]
    sharing["shares"] = [
        {"party": party, "percent": {"NHS-NORFOLK": 60, "NCC": 30}.get(party, 0)}
        for party in sharing["parties"]
    ]
    assert check(data) == EXPECTED[name] | {("GOV-014", "norfolk-older-people")}


def test_norfolk_provider_arm_is_covered_through_its_pct() -> None:
    """NHS Norfolk commissions what its community services arm provides: GOV-007 judges the
    body, and the conflict-of-interest cover names both."""
    name = "norfolk-older-people.yaml"
    data = load(name)
    cover = data["governance"]["conflict_of_interest"]
    cover["parties"] = [p for p in cover["parties"] if p not in ("NHS-NORFOLK", "NHS-NORFOLK-CS")]
    assert check(data) == EXPECTED[name] | {("GOV-007", "NHS-NORFOLK-CS")}


# --- Durham Dales: the whole-PCT test without a market file ------------------------------------


def test_durham_dales_would_be_the_whole_pct_if_county_durham_had_12_practices() -> None:
    name = "durham-dales.json"
    data = load(name)
    assert data["pct_areas"][0]["practice_count"] == 73  # public: 2006-07
    data["pct_areas"][0]["practice_count"] = 12
    assert check(data) == EXPECTED[name] | {("MKT-002a", "5ND")}


# --- Church View: specialties ------------------------------------------------------------------


def test_a_safeguard_for_one_specialty_does_not_cover_the_others() -> None:
    name = "church-view.json"
    data = load(name)
    data["choice_safeguards"] = [
        s for s in data["choice_safeguards"] if s["service"] != "outpatients"
    ] + [
        {
            "service": "outpatients",
            "specialty": "diabetes",
            "mechanisms": ["choice_at_referral"],
            "description": "Other diabetes clinics are offered at referral.",
        }
    ]
    report = icorules.check(data)
    assert pairs(report) == EXPECTED[name] | {
        ("CHOICE-001", "outpatients"),
        ("CHOICE-003a", "AG-PILOT"),
        ("CHOICE-003a", "AG-OUTREACH"),
    }
    [outreach] = [f for f in report.by_rule("CHOICE-003a") if f.subject.id == "AG-OUTREACH"]
    assert "outpatients/elderly_care, outpatients/respiratory" in outreach.message


# --- Northumbria: vertical, and a care trust that only supports ---------------------------------


def test_northumbria_is_horizontal_if_the_trust_sends_only_its_community_nurses() -> None:
    name = "northumbria-copd.json"
    data = load(name)
    org(data, "NHCT")["provides"] = ["specialist_nursing"]
    assert check(data) == {
        ("CLASS-001", "northumbria-copd"),
        ("ELIG-006a", "northumbria-copd"),
    }


def test_a_care_trust_that_is_only_a_stakeholder_is_no_social_care_partner() -> None:
    name = "northumbria-copd.json"
    data = load(name)
    org(data, "NCC")["type"] = "voluntary_organisation"
    assert check(data) == EXPECTED[name] | {("GOV-011", "northumbria-copd")}


# --- South Lakeland: the provider arm in its health economy -------------------------------------


def test_south_lakeland_teams_count_as_all_of_nhs_cumbria_in_the_market_shares() -> None:
    report = icorules.check(EXAMPLES / "south-lakeland.json", market=CUMBRIA)
    shares = {m.service_line: m.partner_share for m in report.markets}
    assert shares["community_nursing"] == 1.0  # NHS Cumbria is one body with its arm
    [nursing] = [f for f in report.by_rule("MKT-004a") if f.subject.id == "5NE/community_nursing"]
    assert "supply 100% of community_nursing" in nursing.message
    assert "supply 23%" in nursing.message  # the South Lakeland teams: 140 of 620
