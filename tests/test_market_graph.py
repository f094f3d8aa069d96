"""How the market context feeds the measures: regressions for supply outside the pilot,
mixed size units and adjacency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import icorules
from icorules.analysis.graph import build_graph
from icorules.inputs.market import load_market
from tests.proposals import clean_market, edited, org


def hospice_pilot(p: dict[str, Any]) -> None:
    """GP1 provides palliative care inside the pilot."""
    org(p, "GP1")["provides"].append("palliative_care")
    p["choice_safeguards"].append(
        {"service": "palliative_care", "mechanisms": ["opt_out"], "description": "x"}
    )


def test_a_partners_supply_outside_the_pilot_is_outside_supply() -> None:
    market = clean_market()
    # The PCT is a partner for community nursing only; its hospice beds stay outside the pilot.
    market["providers"].append(
        {
            "id": "PCT1",
            "name": "Riverside PCT",
            "type": "pct",
            "pct": "5AA",
            "services": ["community_nursing", "palliative_care"],
            "size": 30,
            "size_measure": "beds",
        }
    )
    report = icorules.check(edited(hospice_pilot), market=market)
    assert report.by_rule("MKT-001") == []
    assert report.by_rule("CHOICE-002") == []
    partners = build_graph(icorules.load_proposal(edited(hospice_pilot)), load_market(market))
    measure = partners.markets[("5AA", "palliative_care")]
    assert measure.partners == ("GP1",)
    assert measure.outside == ("PCT1 (outside the pilot)",)


def test_without_that_supply_the_partner_is_the_only_provider() -> None:
    report = icorules.check(edited(hospice_pilot), market=clean_market())
    assert [f.subject.id for f in report.by_rule("CHOICE-002")] == ["palliative_care"]
    assert report.by_rule("MKT-001") == []  # one partner alone joins nothing into a monopoly


def test_sizes_in_different_units_fall_back_to_counting_and_warn() -> None:
    market = clean_market()
    for provider in market["providers"]:
        if provider["id"].startswith("OUT"):
            provider.update(size=100, size_measure="beds")
    market["providers"][-1].update(size=50_000, size_measure="activity")

    def with_outpatients(p: dict[str, Any]) -> None:
        p["organisations"].append(
            {
                "id": "FT1",
                "name": "Riverside FT",
                "type": "foundation_trust",
                "pct": "5AA",
                "provides": ["outpatients"],
            }
        )
        p["choice_safeguards"].append(
            {"service": "outpatients", "mechanisms": ["choice_at_referral"], "description": "x"}
        )

    market["providers"].append(
        {
            "id": "FT1",
            "name": "Riverside FT",
            "type": "foundation_trust",
            "pct": "5AA",
            "services": ["outpatients"],
            "size": 400,
            "size_measure": "beds",
        }
    )
    report = icorules.check(edited(with_outpatients), market=market)
    assert report.warnings == [
        "outpatients in 5AA: provider sizes are in different units (activity, beds), "
        "so shares there are by number of providers"
    ]
    partners = build_graph(icorules.load_proposal(edited(with_outpatients)), load_market(market))
    counted = partners.markets[("5AA", "outpatients")].concentration
    assert (counted.basis, counted.partner_share) == ("count", 0.2)  # 1 of 5 providers


def test_an_alternative_in_an_adjacent_area_counts() -> None:
    market = clean_market()
    for provider in market["providers"]:
        if provider["id"].startswith("COM"):
            provider["pct"] = "5AB"
    market["pct_areas"][1]["adjacent"] = []  # listed one way only: still adjacent
    two_nursing_partners = edited(lambda p: org(p, "LA1")["provides"].append("community_nursing"))
    report = icorules.check(two_nursing_partners, market=market)
    assert report.by_rule("CHOICE-002") == []
    assert [f.subject.id for f in report.by_rule("MKT-001")] == ["5AA/community_nursing"]


def test_a_market_file_that_does_not_cover_the_bid_reports_nothing_about_it() -> None:
    """The Morecambe Bay file knows nothing of Sunderland: no market or choice findings there."""
    root = Path(__file__).resolve().parents[1] / "examples"
    report = icorules.check(
        root / "church-view-defects.json", market=root / "markets/morecambe-bay.json"
    )
    assert [f for f in report.findings if f.rule.startswith(("MKT-00", "CHOICE-002"))] == []
    assert report.markets == []
    assert any("'5KL' is not in the market file" in w for w in report.warnings)
