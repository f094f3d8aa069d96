"""Every bundled rule has a case that makes it fire and one that makes it pass.

Each case edits the clean proposal as little as possible. `test_every_rule_has_cases` fails
if a rule is added to the bundled ruleset without cases here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import icorules
from tests.proposals import (
    ALL_ORGS as ALL,
)
from tests.proposals import (
    add_partner,
    clean_market,
    clean_proposal,
    drop_organisation,
    edited,
    keep_outside_practices,
    org,
    remove_party,
    without_providers,
)

Edit = Callable[[dict[str, Any]], None]


def no_change(p: dict[str, Any]) -> None:
    pass


def setting(path: str, value: Any) -> Edit:
    """An edit that sets a dotted path (`governance.budget`) to value (None deletes it)."""

    def edit(p: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = p
        for key in parents:
            target = target[key]
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value

    return edit


def both(*edits: Edit) -> Edit:
    def edit(p: dict[str, Any]) -> None:
        for e in edits:
            e(p)

    return edit


def org_field(org_id: str, key: str, value: Any) -> Edit:
    def edit(p: dict[str, Any]) -> None:
        org(p, org_id)[key] = value

    return edit


def party_removed(arrangement: str, org_id: str) -> Edit:
    return lambda p: remove_party(p, arrangement, org_id)


def partner_added(**fields: Any) -> Edit:
    return lambda p: add_partner(p, fields)


def isolate(org_id: str) -> Edit:
    def edit(p: dict[str, Any]) -> None:
        p["agreements"][0]["parties"].remove(org_id)

    return edit


def acute_partner(p: dict[str, Any]) -> None:
    add_partner(
        p,
        {
            "id": "FT1",
            "name": "Riverside Hospitals NHS Foundation Trust",
            "type": "foundation_trust",
            "provides": ["outpatients"],
        },
    )
    p["choice_safeguards"].append(
        {"service": "outpatients", "mechanisms": ["choice_at_referral"], "description": "x"}
    )


def without_social_care(p: dict[str, Any]) -> None:
    drop_organisation(p, "LA1")
    p["agreements"][0]["services"].remove("social_care")
    p["choice_safeguards"] = [s for s in p["choice_safeguards"] if s["service"] != "social_care"]


def second_area(p: dict[str, Any]) -> None:
    """Extend the bid into Hillside PCT (5AB) with one practice and that PCT as commissioner."""
    p["pct_areas"].append(
        {
            "code": "5AB",
            "name": "Hillside PCT",
            "population": 180_000,
            "commissioner": "PCT2",
            "commissioner_support": "supports",
        }
    )
    add_partner(p, {"id": "PCT2", "name": "Hillside PCT", "type": "pct", "pct": "5AB"})
    add_partner(
        p,
        {
            "id": "GP5",
            "name": "Hill Top Surgery",
            "type": "gp_practice",
            "pct": "5AB",
            "list_size": 6000,
            "provides": ["general_practice"],
        },
    )


def cross_boundary_arrangements(p: dict[str, Any]) -> None:
    p["governance"]["lead_commissioner"] = "PCT1"
    p["agreements"].append(
        {"id": "XB1", "type": "cross_boundary_commissioning", "parties": ["PCT1", "PCT2"]}
    )


def vertical_with_referral_agreement(p: dict[str, Any]) -> None:
    acute_partner(p)
    p["agreements"].append(
        {"id": "REF1", "type": "referral", "parties": ["GP1", "FT1"], "services": ["diagnostics"]}
    )


def safeguard(service: str) -> Edit:
    def edit(p: dict[str, Any]) -> None:
        p["choice_safeguards"].append(
            {"service": service, "mechanisms": ["choice_at_referral"], "description": "x"}
        )

    return edit


def no_safeguard(service: str) -> Edit:
    def edit(p: dict[str, Any]) -> None:
        p["choice_safeguards"] = [s for s in p["choice_safeguards"] if s["service"] != service]

    return edit


def market_without(*prefixes: str) -> Edit:
    def edit(m: dict[str, Any]) -> None:
        for prefix in prefixes:
            without_providers(m, prefix)

    return edit


def outside_practices(count: int) -> Edit:
    return lambda m: keep_outside_practices(m, count)


def moved_to_next_area(prefix: str) -> Edit:
    def edit(m: dict[str, Any]) -> None:
        for provider in m["providers"]:
            if provider["id"].startswith(prefix):
                provider["pct"] = "5AB"

    return edit


@dataclass(frozen=True)
class Case:
    fire: Edit
    subject: str  # the subject id the finding must be about
    passing: Edit = no_change
    market: Edit | None = None  # market context for firing (None: no market file)
    passing_market: Edit | None = None


SHARES = [
    {"party": "PCT1", "percent": 40},
    {"party": "GP1", "percent": 10},
    {"party": "GP2", "percent": 10},
    {"party": "GP3", "percent": 10},
    {"party": "LA1", "percent": 30},
]


def pooled_with_council(p: dict[str, Any]) -> None:
    p["governance"]["budget"] = {"model": "pooled", "risk_sharing": {"shares": SHARES}}


def section_75(status: str, sign_by: str | None = None) -> Edit:
    def edit(p: dict[str, Any]) -> None:
        agreement = {"id": "S75", "type": "section_75", "parties": ["PCT1", "LA1"]}
        agreement["status"] = status
        if sign_by:
            agreement["sign_by"] = sign_by
        p["agreements"].append(agreement)

    return edit


def provider_arm(size: float | None) -> Edit:
    """PCT1's community nursing moved to its provider arm, PCT1-CS (with its own size)."""

    def edit(p: dict[str, Any]) -> None:
        org(p, "PCT1")["provides"] = []
        service: dict[str, Any] = {"service": "community_nursing"}
        if size is not None:
            service |= {"size": size, "size_measure": "capacity"}
        add_partner(
            p,
            {
                "id": "PCT1-CS",
                "name": "Riverside Community Services",
                "type": "pct",
                "part_of": "PCT1",
                "pct": "5AA",
                "provides": [service],
            },
        )

    return edit


def sized_community_nursing(m: dict[str, Any]) -> None:
    for provider in m["providers"]:
        if provider["id"].startswith("COM"):
            provider |= {"size": 100, "size_measure": "capacity"}
    m["providers"].append(
        {
            "id": "PCT1",
            "name": "Riverside PCT",
            "type": "pct",
            "pct": "5AA",
            "services": ["community_nursing"],
            "size": 400,
            "size_measure": "capacity",
        }
    )


CASES: dict[str, Case] = {
    "ELIG-001": Case(setting("population_basis", "geographic"), "clean-bid"),
    "ELIG-001a": Case(org_field("GP2", "list_size", 0), "GP2"),
    "ELIG-002": Case(
        both(
            *(lambda p, g=g: drop_organisation(p, g) for g in ("GP1", "GP2", "GP3")),
            setting("lead", "PCT1"),
            setting("governance.clinical_lead.organisation", "PCT1"),
        ),
        "clean-bid",
    ),
    "ELIG-003": Case(
        lambda p: p["pct_areas"][0].update(population=30_000),
        "5AA",
        passing=lambda p: p["pct_areas"][0].update(population=34_000),
    ),
    "ELIG-004": Case(lambda p: p["pct_areas"][0].pop("commissioner"), "5AA"),
    "ELIG-004a": Case(lambda p: p["pct_areas"][0].update(commissioner_support="pending"), "5AA"),
    "ELIG-005": Case(setting("governance.evaluation.years", 2), "clean-bid"),
    "ELIG-005a": Case(party_removed("data_submission", "LA1"), "LA1"),
    "ELIG-006": Case(setting("implementation_date", None), "clean-bid"),
    "ELIG-006a": Case(
        setting("implementation_date", "2009-06-01"),
        "clean-bid",
        passing=setting("implementation_date", "2008-12-31"),
    ),
    "ELIG-007": Case(
        setting("care_categories", []),
        "clean-bid",
        passing=both(setting("care_categories", []), setting("pathways", ["COPD"])),
    ),
    "ELIG-008": Case(
        both(
            partner_added(id="IS1", name="Assura Partners LLP", type="independent_sector"),
            setting("lead", "IS1"),
        ),
        "clean-bid",
        passing=partner_added(id="IS1", name="Assura Partners LLP", type="independent_sector"),
    ),
    "ELIG-009": Case(
        partner_added(
            id="X1", name="Acme Insurance", type="other", type_description="health insurer"
        ),
        "X1",
        passing=partner_added(id="X1", name="Riverside Schools", type="school"),
    ),
    "GOV-001": Case(setting("governance.dispute_resolution", None), "clean-bid"),
    "GOV-002": Case(party_removed("dispute_resolution", "GP3"), "GP3"),
    "GOV-003": Case(setting("governance.clinical_lead", None), "clean-bid"),
    "GOV-003a": Case(
        setting("governance.clinical_lead.profession", "manager"),
        "clean-bid",
        passing=setting("governance.clinical_lead.profession", "nurse"),
    ),
    "GOV-004": Case(setting("governance.board", None), "clean-bid"),
    "GOV-004a": Case(
        both(party_removed("board", "GP3"), isolate("GP3")),
        "GP3",
        passing=party_removed("board", "GP3"),
    ),
    "GOV-005": Case(setting("governance.risk_management", None), "clean-bid"),
    "GOV-006": Case(setting("governance.budget", None), "clean-bid"),
    "GOV-006a": Case(
        setting("governance.budget", {"model": "pooled"}),
        "clean-bid",
        passing=setting("governance.budget", {"model": "indicative_pbc"}),
    ),
    "GOV-006b": Case(
        setting(
            "governance.budget",
            {"model": "hard", "risk_sharing": {"parties": ["PCT1", "GP1", "GP2", "GP3"]}},
        ),
        "LA1",
        passing=setting(
            "governance.budget",
            {"model": "hard", "risk_sharing": {"parties": ["PCT1", "GP1", "GP2", "GP3", "LA1"]}},
        ),
    ),
    "GOV-007": Case(
        both(
            org_field("PCT1", "commissions", ["community_nursing"]),
            party_removed("conflict_of_interest", "PCT1"),
        ),
        "PCT1",
        passing=org_field("PCT1", "commissions", ["community_nursing"]),
    ),
    "GOV-008": Case(party_removed("information_sharing", "LA1"), "LA1"),
    "GOV-008a": Case(setting("governance.it_support", None), "clean-bid"),
    "GOV-009": Case(
        setting("governance.patient_engagement", None),
        "clean-bid",
        passing=both(
            setting("governance.patient_engagement", None),
            partner_added(id="PG1", name="Riverside Patients' Forum", type="patient_group"),
        ),
    ),
    "GOV-010": Case(isolate("GP3"), "GP3"),
    "GOV-011": Case(
        org_field("LA1", "type", "voluntary_organisation"), "clean-bid", passing=without_social_care
    ),
    "GOV-012": Case(setting("governance.outcome_measures", []), "clean-bid"),
    "GOV-013": Case(
        pooled_with_council, "clean-bid", passing=both(pooled_with_council, section_75("signed"))
    ),
    "GOV-014": Case(
        setting("governance.budget", {"model": "hard", "risk_sharing": {"parties": list(ALL)}}),
        "clean-bid",
        passing=setting("governance.budget", {"model": "hard", "risk_sharing": {"shares": SHARES}}),
    ),
    "ELIG-010": Case(
        section_75("draft", "2009-01-31"), "S75", passing=section_75("draft", "2008-10-31")
    ),
    "MKT-002a": Case(
        lambda p: p["pct_areas"][0].update(practice_count=3),
        "5AA",
        passing=lambda p: p["pct_areas"][0].update(practice_count=4),
    ),
    "MKT-004a": Case(
        provider_arm(50),
        "5AA/community_nursing",
        market=sized_community_nursing,
        passing=provider_arm(None),
        passing_market=sized_community_nursing,
    ),
    # Two partners nurse in 5AA and no one else does; one partner alone would join nothing.
    "MKT-001": Case(
        lambda p: org(p, "LA1")["provides"].append("community_nursing"),
        "5AA/community_nursing",
        market=market_without("COM"),
        passing=no_change,
        passing_market=market_without("COM"),
    ),
    "MKT-002": Case(no_change, "5AA", market=market_without("GPX"), passing_market=no_change),
    # Partners hold 20,000 patients; each outside practice 8,000 (see clean_market).
    "MKT-003": Case(
        no_change,
        "5AA/general_practice",
        market=outside_practices(4),
        passing_market=outside_practices(5),
    ),  # HHI 2,426 (+969) vs 2,000 (+728)
    "MKT-003a": Case(
        no_change, "5AA/general_practice", market=outside_practices(6), passing_market=no_change
    ),  # HHI 1,696 (+567) vs 868 (+194)
    "MKT-004": Case(
        no_change,
        "5AA/general_practice",
        market=outside_practices(7),
        passing_market=outside_practices(8),
    ),  # share 26.3% vs 23.8%
    "MKT-005": Case(
        second_area, "clean-bid", passing=both(second_area, cross_boundary_arrangements)
    ),
    "CHOICE-001": Case(no_safeguard("social_care"), "social_care"),
    "CHOICE-002": Case(
        no_change,
        "community_nursing",
        market=market_without("COM"),
        passing_market=moved_to_next_area("COM"),
    ),
    "CHOICE-003": Case(
        both(
            no_safeguard("social_care"),
            lambda p: p["agreements"][0].update(exclusive_referral=True),
        ),
        "A1",
        passing=lambda p: p["agreements"][0].update(exclusive_referral=True),
    ),
    "CHOICE-003a": Case(
        vertical_with_referral_agreement,
        "REF1",
        passing=both(vertical_with_referral_agreement, safeguard("diagnostics")),
    ),
    "CLASS-001": Case(no_change, "clean-bid", passing=acute_partner),
    "CLASS-002": Case(acute_partner, "clean-bid"),
    "CLASS-003": Case(org_field("GP1", "commissions", ["elective_care"]), "clean-bid"),
    "CLASS-004": Case(
        both(
            partner_added(id="SE1", name="Riverside Health CIC", type="social_enterprise"),
            setting("legal_vehicle", "SE1"),
        ),
        "clean-bid",
    ),
}


def findings_of(
    proposal: dict[str, Any], rule: str, market: Edit | None = None
) -> list[icorules.Finding]:
    return report_for(proposal, market).by_rule(rule)


def report_for(proposal: dict[str, Any], market: Edit | None) -> icorules.Report:
    context = None
    if market is not None:
        context = clean_market()
        market(context)
    return icorules.check(proposal, market=context)


def test_every_rule_has_cases() -> None:
    bundled = {r.id for r in icorules.default_rulesets().rules}
    assert bundled - set(CASES) == set(), "rules without fire/pass tests"
    assert set(CASES) - bundled == set(), "cases for rules that no longer exist"


@pytest.mark.parametrize("market", [None, no_change])
def test_clean_proposal_has_no_errors_or_warnings(market: Edit | None) -> None:
    report = report_for(clean_proposal(), market)
    assert [(f.rule, f.subject.id) for f in report.findings if f.severity != "info"] == []
    assert report.rules_not_evaluated == (
        []
        if market
        else ["CHOICE-002", "MKT-001", "MKT-002", "MKT-003", "MKT-003a", "MKT-004", "MKT-004a"]
    )


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires(rule: str) -> None:
    case = CASES[rule]
    found = findings_of(edited(case.fire), rule, case.market)
    assert [f.subject.id for f in found] == [case.subject]
    finding = found[0]
    assert finding.message and "{" not in finding.message
    assert finding.fix and "{" not in finding.fix
    # The full citation: each document the rule cites, in full.
    loaded = icorules.default_rulesets()
    assert finding.source == loaded.rule(rule).source
    ruleset = next(rs for rs in loaded.rulesets if rs.name == finding.ruleset)
    assert any(ref.text in finding.source for ref in ruleset.references.values())


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_passes(rule: str) -> None:
    case = CASES[rule]
    report = report_for(edited(case.passing), case.passing_market)
    assert report.by_rule(rule) == []
    assert rule in report.passed


def test_finding_points_into_the_proposal() -> None:
    found = findings_of(edited(party_removed("dispute_resolution", "GP3")), "GOV-002")
    assert found[0].subject.path == "organisations[3]"
    assert found[0].subject.name == "Quay Health Centre"
    assert found[0].evidence == {"in_dispute_procedure": False}
    assert (
        found[0].message
        == "Quay Health Centre (GP3) is not party to the dispute-resolution procedure."
    )


def test_parameter_override_changes_the_threshold() -> None:
    # 20,000 of 34,000 is 59%: passes at the default 60%, fails at 50%.
    p = edited(lambda p: p["pct_areas"][0].update(population=34_000))
    assert icorules.check(p).by_rule("ELIG-003") == []
    strict = icorules.check(p, params={"max_pct_population_share": 0.5})
    [finding] = strict.by_rule("ELIG-003")
    assert "59%" in finding.message and "50%" in finding.message
