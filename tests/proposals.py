"""Proposal builders for tests: one bid that breaks no error or warning rule, and edits to it."""

from __future__ import annotations

import copy
from typing import Any

PRACTICES = ("GP1", "GP2", "GP3")
ALL_ORGS = ("PCT1", *PRACTICES, "LA1")


def clean_proposal() -> dict[str, Any]:
    """A small, well-formed horizontal bid: three practices, the PCT and the council."""

    def everyone() -> list[str]:
        return list(ALL_ORGS)

    return {
        "format": "icorules/proposal/2",
        "id": "clean-bid",
        "name": "Riverside integrated care pilot",
        "lead": "GP1",
        "population_basis": "registered_list",
        "implementation_date": "2008-11-01",
        "care_categories": ["older_people"],
        "pct_areas": [
            {
                "code": "5AA",
                "name": "Riverside PCT",
                "population": 250_000,
                "commissioner": "PCT1",
                "commissioner_support": "supports",
            }
        ],
        "organisations": [
            {
                "id": "PCT1",
                "name": "Riverside PCT",
                "type": "pct",
                "pct": "5AA",
                "provides": ["community_nursing"],
                "roles": ["commissioner", "provider"],
            },
            {
                "id": "GP1",
                "name": "Bridge Street Surgery",
                "type": "gp_practice",
                "pct": "5AA",
                "list_size": 8000,
                "provides": ["general_practice"],
            },
            {
                "id": "GP2",
                "name": "Mill Lane Practice",
                "type": "gp_practice",
                "pct": "5AA",
                "list_size": 7000,
                "provides": ["general_practice"],
            },
            {
                "id": "GP3",
                "name": "Quay Health Centre",
                "type": "gp_practice",
                "pct": "5AA",
                "list_size": 5000,
                "provides": ["general_practice"],
            },
            {
                "id": "LA1",
                "name": "Riverside Borough Council",
                "type": "local_authority",
                "provides": ["social_care"],
            },
        ],
        "agreements": [
            {
                "id": "A1",
                "type": "alliance",
                "parties": everyone(),
                "services": ["general_practice", "community_nursing", "social_care"],
            },
        ],
        "governance": {
            "board": {"members": [{"organisation": o} for o in everyone()]},
            "clinical_lead": {"name": "Dr A. Shah", "organisation": "GP1", "profession": "gp"},
            "dispute_resolution": {"description": "Board, then mediation.", "parties": everyone()},
            "risk_management": "Joint risk register reviewed monthly.",
            "budget": {"model": "indicative_pbc"},
            "conflict_of_interest": {
                "description": "Declarations register.",
                "parties": everyone(),
            },
            "information_sharing": {"description": "Shared care record.", "parties": everyone()},
            "it_support": "PCT informatics team.",
            "patient_engagement": "Quarterly patient panel.",
            "evaluation": {"independent": True, "years": 3, "data_submission_parties": everyone()},
            "outcome_measures": ["Emergency admissions of people over 75"],
        },
        "choice_safeguards": [
            {"service": s, "mechanisms": ["choice_at_referral"], "description": "Choice kept."}
            for s in ("general_practice", "community_nursing", "social_care")
        ],
    }


def org(p: dict[str, Any], org_id: str) -> dict[str, Any]:
    return next(o for o in p["organisations"] if o["id"] == org_id)


def remove_party(p: dict[str, Any], arrangement: str, org_id: str) -> None:
    """Take `org_id` out of one governance arrangement's parties."""
    g = p["governance"]
    if arrangement == "board":
        g["board"]["members"] = [m for m in g["board"]["members"] if m["organisation"] != org_id]
    elif arrangement == "data_submission":
        parties = g["evaluation"]["data_submission_parties"]
        parties.remove(org_id)
    else:
        g[arrangement]["parties"].remove(org_id)


def add_partner(p: dict[str, Any], new: dict[str, Any]) -> None:
    """Add an organisation that takes part in everything, so only its own traits matter."""
    p["organisations"].append(new)
    g = p["governance"]
    g["board"]["members"].append({"organisation": new["id"]})
    for arrangement in ("dispute_resolution", "conflict_of_interest", "information_sharing"):
        g[arrangement]["parties"].append(new["id"])
    g["evaluation"]["data_submission_parties"].append(new["id"])
    p["agreements"][0]["parties"].append(new["id"])


def drop_organisation(p: dict[str, Any], org_id: str) -> None:
    """Remove an organisation and every reference to it."""
    p["organisations"] = [o for o in p["organisations"] if o["id"] != org_id]
    g = p["governance"]
    g["board"]["members"] = [m for m in g["board"]["members"] if m["organisation"] != org_id]
    for arrangement in ("dispute_resolution", "conflict_of_interest", "information_sharing"):
        g[arrangement]["parties"] = [x for x in g[arrangement]["parties"] if x != org_id]
    ev = g["evaluation"]
    ev["data_submission_parties"] = [x for x in ev["data_submission_parties"] if x != org_id]
    for agreement in p["agreements"]:
        agreement["parties"] = [x for x in agreement["parties"] if x != org_id]


def edited(edit: Any) -> dict[str, Any]:
    p = copy.deepcopy(clean_proposal())
    edit(p)
    return p


def clean_market() -> dict[str, Any]:
    """The economy around the clean bid: enough other providers that no market rule fires.

    Twelve other practices of 8,000 patients make the partners' share of general practice 17%
    (HHI 674 before, 868 after). Each other service has four outside providers of unknown
    size, so shares are by head count. Area 5AB borders 5AA.
    """
    providers: list[dict[str, Any]] = [
        {
            "id": f"GPX{i}",
            "name": f"Outside Practice {i}",
            "type": "gp_practice",
            "pct": "5AA",
            "services": ["general_practice"],
            "size": 8000,
            "size_measure": "list_size",
        }
        for i in range(OUTSIDE_PRACTICES)
    ]
    for service, kind in (
        ("community_nursing", "nhs_trust"),
        ("social_care", "voluntary_organisation"),
        ("outpatients", "foundation_trust"),
    ):
        providers += [
            {
                "id": f"{service[:3].upper()}{i}",
                "name": f"Other {service} provider {i}",
                "type": kind,
                "pct": "5AA",
                "services": [service],
            }
            for i in range(4)
        ]
    return {
        "format": "icorules/market/1",
        "name": "Riverside health economy",
        "pct_areas": [
            {"code": "5AA", "name": "Riverside PCT", "population": 250_000, "adjacent": ["5AB"]},
            {"code": "5AB", "name": "Hillside PCT", "population": 180_000, "adjacent": ["5AA"]},
        ],
        "providers": providers,
    }


OUTSIDE_PRACTICES = 12


def without_providers(market: dict[str, Any], prefix: str) -> None:
    market["providers"] = [p for p in market["providers"] if not p["id"].startswith(prefix)]


def keep_outside_practices(market: dict[str, Any], count: int) -> None:
    """Keep only the first `count` of the outside practices (each 8,000 patients)."""
    keep = {f"GPX{i}" for i in range(count)}
    market["providers"] = [
        p for p in market["providers"] if not p["id"].startswith("GPX") or p["id"] in keep
    ]
