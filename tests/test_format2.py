"""Proposal format 2 and market format 2: what each new field means to the facts rules read.

Provider arms (`part_of`) are one body with their organisation; specialties sit under their
service line; stakeholders are named without being partners; agreements and arrangements say
how far they have got; a budget has an amount, contributions and risk shares; an area states
its practice count; ODS codes match partners to market providers.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from click.testing import CliRunner

import icorules
from icorules.analysis.derive import derive_facts
from icorules.analysis.facts import Fact
from icorules.analysis.graph import build_graph
from icorules.cli import cli
from icorules.inputs.market import load_market
from icorules.output.drawing import partnership_svg
from icorules.output.graph_export import export_graph
from tests.proposals import ALL_ORGS, clean_market, clean_proposal, org


def facts(proposal: dict[str, Any], market: dict[str, Any] | None = None) -> dict[str, Fact]:
    model = icorules.load_proposal(proposal)
    graph = build_graph(model, load_market(market) if market is not None else None)
    return {f"{f.kind}:{f.id}": f for f in derive_facts(graph)}


def with_arm(p: dict[str, Any], **service: Any) -> dict[str, Any]:
    """PCT1's community nursing provided by its arm, PCT1-CS; PCT1 commissions it."""
    p = copy.deepcopy(p)
    org(p, "PCT1")["provides"] = []
    org(p, "PCT1")["commissions"] = ["community_nursing"]
    p["organisations"].append(
        {
            "id": "PCT1-CS",
            "name": "Riverside Community Services",
            "type": "pct",
            "part_of": "PCT1",
            "pct": "5AA",
            "provides": [{"service": "community_nursing", **service}],
        }
    )
    return p


# --- provider arms -----------------------------------------------------------------------------


def test_an_arm_is_one_body_with_its_pct() -> None:
    found = facts(with_arm(clean_proposal()))
    arm, pct = found["partner:PCT1-CS"], found["partner:PCT1"]
    assert (arm.body, arm.is_unit, arm.body_is_partner) == ("PCT1", True, True)  # type: ignore[attr-defined]
    assert (pct.body, pct.is_unit) == ("PCT1", False)  # type: ignore[attr-defined]
    # The arm provides what its PCT commissions: the body both commissions and provides it,
    # and the PCT's conflict-of-interest cover covers its arm.
    assert arm.commissions_and_provides and arm.conflicted_services == "community_nursing"  # type: ignore[attr-defined]
    assert arm.has_conflict_cover  # type: ignore[attr-defined]
    assert not pct.commissions_and_provides  # type: ignore[attr-defined]
    # A unit and its body are connected, and the arm is inside governance through its PCT.
    assert arm.in_lead_component and arm.agreement_with_board_member  # type: ignore[attr-defined]


def test_market_shares_count_the_body_and_the_arms_own_size() -> None:
    market = clean_market()
    for provider in market["providers"]:
        if provider["id"].startswith("COM"):
            provider |= {"size": 100, "size_measure": "capacity"}
    market["providers"].append(
        {
            "id": "RIVERSIDE-PCT",
            "name": "Riverside PCT",
            "type": "pct",
            "ods_code": "5AA",
            "pct": "5AA",
            "services": [{"service": "community_nursing", "size": 400, "size_measure": "capacity"}],
        }
    )
    market["format"] = "icorules/market/2"
    p = with_arm(clean_proposal(), size=50, size_measure="capacity")
    org(p, "PCT1")["ods_code"] = "5AA"  # matched to the market's RIVERSIDE-PCT by its code
    nursing = facts(p, market)["market:5AA/community_nursing"]
    assert nursing.partner_share == 0.5  # type: ignore[attr-defined]  # 400 of 800
    assert nursing.pilot_share == 0.0625  # type: ignore[attr-defined]  # 50 of 800
    assert nursing.partner_count == 1  # type: ignore[attr-defined]  # one body
    assert nursing.provider_count == 5  # type: ignore[attr-defined]


def test_a_partner_listed_under_its_ods_code_is_that_partner() -> None:
    market = clean_market()
    market["format"] = "icorules/market/2"
    market["providers"].append(
        {
            "id": "P81001",
            "name": "Bridge Street Surgery",
            "type": "gp_practice",
            "pct": "5AA",
            "services": ["general_practice"],
            "size": 8000,
            "size_measure": "list_size",
        }
    )
    p = clean_proposal()
    org(p, "GP1")["ods_code"] = "P81001"
    report = icorules.check(p, market=market)
    [practice] = [m for m in report.markets if m.service_line == "general_practice"]
    assert practice.other_providers == 12  # GP1 is not counted twice
    assert report.warnings == []


# --- specialties -------------------------------------------------------------------------------


def test_a_safeguard_for_the_line_covers_its_specialties_but_not_the_reverse() -> None:
    p = clean_proposal()
    org(p, "PCT1")["provides"] = [
        {"service": "community_nursing", "specialty": "diabetes"},
        {"service": "community_nursing", "specialty": "respiratory"},
    ]
    assert facts(p)["service_line:community_nursing"].has_choice_safeguard  # type: ignore[attr-defined]
    p["choice_safeguards"] = [
        s for s in p["choice_safeguards"] if s["service"] != "community_nursing"
    ] + [
        {
            "service": "community_nursing",
            "specialty": "diabetes",
            "mechanisms": ["opt_out"],
            "description": "Patients may decline the diabetes nurses.",
        }
    ]
    line = facts(p)["service_line:community_nursing"]
    assert not line.has_choice_safeguard  # type: ignore[attr-defined]
    assert line.unsafeguarded_specialties == "community_nursing/respiratory"  # type: ignore[attr-defined]
    agreement = facts(p)["agreement:A1"]
    assert agreement.unsafeguarded_services == "community_nursing"  # type: ignore[attr-defined]


# --- stakeholders ------------------------------------------------------------------------------


def test_a_stakeholder_commissioner_supports_by_its_status() -> None:
    p = clean_proposal()
    p["stakeholders"] = [{"id": "PCT9", "name": "Hillside PCT", "type": "pct", "status": "opposed"}]
    p["pct_areas"][0]["commissioner"] = "PCT9"
    del p["pct_areas"][0]["commissioner_support"]
    area = facts(p)["pct_area:5AA"]
    assert area.commissioner_support == "opposed"  # type: ignore[attr-defined]
    assert not area.supports_bid and not area.commissioner_is_partner  # type: ignore[attr-defined]
    p["agreements"].append({"id": "A2", "type": "referral", "parties": ["GP1", "PCT9"]})
    assert facts(p)["agreement:A2"].parties == "GP1, PCT9 (stakeholder)"  # type: ignore[attr-defined]
    assert facts(p)["proposal:clean-bid"].stakeholder_count == 1  # type: ignore[attr-defined]


def test_a_partner_commissioner_that_says_nothing_is_pending() -> None:
    p = clean_proposal()
    del p["pct_areas"][0]["commissioner_support"]
    assert facts(p)["pct_area:5AA"].commissioner_support == "pending"  # type: ignore[attr-defined]


def test_stakeholders_are_drawn_and_exported_outside_the_partnership() -> None:
    p = clean_proposal()
    p["stakeholders"] = [
        {"id": "PCT9", "name": "Hillside PCT", "type": "pct", "pct": "5AA", "status": "supports"}
    ]
    p["agreements"].append({"id": "A2", "type": "referral", "parties": ["GP1", "PCT9"]})
    partners = build_graph(icorules.load_proposal(p))
    node = partners.graph.nodes["org:PCT9"]
    assert node["partner"] is False and node["stakeholder"] == "supports"
    svg, _ = partnership_svg(partners)
    assert svg.startswith("<svg") and "Bridge Street Surgery" in svg
    assert "Hillside PCT (PCT9), PCT: a stakeholder, not a partner (its support: supports)" in svg
    assert "<graphml" in export_graph(partners, "graphml")


# --- written commitments, budgets and practice counts --------------------------------------------


def test_commitments_say_whether_they_are_in_time() -> None:
    p = clean_proposal()
    p["governance"]["dispute_resolution"] |= {"status": "draft", "sign_by": "2008-12-01"}
    p["agreements"][0]["status"] = "in_principle"
    found = facts(p)
    dispute = found["commitment:governance.dispute_resolution"]
    assert (dispute.status, dispute.in_time) == ("draft", False)  # type: ignore[attr-defined]
    assert "after the start, 2008-11-01" in dispute.timing  # type: ignore[attr-defined]
    assert found["commitment:A1"].in_time  # type: ignore[attr-defined]
    evaluation = found["commitment:governance.evaluation"]
    assert (evaluation.type, evaluation.status) == ("data_submission", "not_stated")  # type: ignore[attr-defined]


def test_risk_in_proportion_to_contributions() -> None:
    p = clean_proposal()
    p["governance"]["budget"] = {
        "model": "pooled",
        "amount": {"gbp": 1_000_000, "period": "annual"},
        "holder": "PCT1",
        "contributions": [{"party": "PCT1", "gbp": 750_000}, {"party": "LA1", "gbp": 250_000}],
        "risk_sharing": {"parties": list(ALL_ORGS), "basis": "contributions"},
    }
    found = facts(p)
    bid = found["proposal:clean-bid"]
    assert (bid.budget_gbp, bid.budget_holder_type) == (1_000_000, "pct")  # type: ignore[attr-defined]
    assert (bid.risk_shares_stated, bid.risk_share_total) == (5, 100.0)  # type: ignore[attr-defined]
    assert found["partner:LA1"].risk_share == 25.0  # type: ignore[attr-defined]
    assert found["partner:GP1"].has_risk_share and found["partner:GP1"].risk_share == 0  # type: ignore[attr-defined]
    # The council pools with the PCT and no section 75 agreement covers them.
    assert (bid.section_75_missing_for, bid.pool_uncovered) == ("local_authority", "LA1")  # type: ignore[attr-defined]


def test_a_stated_practice_count_the_market_file_disagrees_with_gives_a_warning() -> None:
    p = clean_proposal()
    p["pct_areas"][0]["practice_count"] = 30
    report = icorules.check(p, market=clean_market())
    assert report.warnings == [
        "pct_areas[0].practice_count: 30 practices in 5AA, but the market file lists 15; the "
        "market file's are used"
    ]


def test_a_pct_whose_ods_code_is_not_its_areas_gets_a_warning() -> None:
    p = clean_proposal()
    org(p, "PCT1")["ods_code"] = "5AB"
    [warning] = icorules.check(p).warnings
    assert warning.startswith("organisations[0].ods_code: PCT1 has ODS code 5AB but commissions")


# --- the schemas -------------------------------------------------------------------------------


def test_the_schemas_show_format_2() -> None:
    proposal = json.loads(CliRunner().invoke(cli, ["schema"]).stdout)
    assert proposal["title"] == "icorules proposal (icorules/proposal/2)"
    assert proposal["properties"]["format"]["const"] == "icorules/proposal/2"
    assert {"stakeholders", "description"} <= set(proposal["properties"])
    defs = proposal["$defs"]
    assert {"part_of", "ods_code"} <= set(defs["Organisation"]["properties"])
    assert {"status", "sign_by"} <= set(defs["Agreement"]["properties"])
    assert "section_75" in defs["AgreementType"]["enum"]
    assert {"amount", "holder", "contributions"} <= set(defs["Budget"]["properties"])
    assert {"shares", "basis"} <= set(defs["RiskSharing"]["properties"])
    area = defs["PctArea"]["properties"]
    assert {"commissioner_support", "practice_count"} <= set(area) and "supports_bid" not in area
    assert "specialty" in defs["ServiceEntry"]["properties"]
    market = json.loads(CliRunner().invoke(cli, ["schema", "market"]).stdout)
    assert market["properties"]["format"]["const"] == "icorules/market/2"
    assert {"size", "size_measure"} <= set(market["$defs"]["LineSize"]["properties"])
