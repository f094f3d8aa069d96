"""durable_rules and a plain-Python evaluator agree on every rule for random proposals."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import icorules
from icorules.facts import derive_facts
from icorules.graph import build_graph
from icorules.reference_engine import evaluate
from tests.proposals import ALL_ORGS, clean_proposal

SERVICES = [
    "general_practice",
    "community_nursing",
    "outpatients",
    "social_care",
    "mental_health",
    "elective_care",
]
TYPES = [
    "gp_practice",
    "pct",
    "foundation_trust",
    "local_authority",
    "independent_sector",
    "social_enterprise",
    "other",
    "patient_group",
]
ARRANGEMENTS = ["dispute_resolution", "conflict_of_interest", "information_sharing"]


@st.composite
def proposals(draw: st.DrawFn) -> dict[str, Any]:
    p = clean_proposal()
    subset = st.lists(st.sampled_from(ALL_ORGS), unique=True)
    for o in p["organisations"]:
        if o["type"] != "gp_practice" and o["id"] != "PCT1":
            o["type"] = draw(st.sampled_from([t for t in TYPES if t != "gp_practice"]))
            if o["type"] == "other":
                o["type_description"] = "something else"
        else:
            o["list_size"] = draw(st.integers(0, 60_000))
        o["provides"] = draw(st.lists(st.sampled_from(SERVICES), unique=True))
        o["commissions"] = draw(st.lists(st.sampled_from(SERVICES), unique=True, max_size=2))
    g = p["governance"]
    for name in ARRANGEMENTS:
        if draw(st.booleans()):
            g[name]["parties"] = draw(subset)
        elif draw(st.booleans()):
            del g[name]
    g["board"]["members"] = [{"organisation": o} for o in draw(subset.filter(bool))]
    g["evaluation"]["data_submission_parties"] = draw(subset)
    g["evaluation"]["years"] = draw(st.integers(0, 5))
    g["budget"] = draw(
        st.sampled_from(
            [
                {"model": "indicative_pbc"},
                {"model": "pooled"},
                {"model": "hard", "risk_sharing": {"parties": ["PCT1", "GP1"]}},
            ]
        )
    )
    for key in ("risk_management", "it_support", "patient_engagement", "clinical_lead"):
        if draw(st.booleans()):
            del g[key]
    p["agreements"][0]["parties"] = draw(subset.filter(lambda s: len(s) >= 2))
    p["agreements"][0]["exclusive_referral"] = draw(st.booleans())
    p["pct_areas"][0]["population"] = draw(st.integers(1, 400_000))
    p["pct_areas"][0]["supports_bid"] = draw(st.booleans())
    p["population_basis"] = draw(st.sampled_from(["registered_list", "geographic"]))
    lead = draw(st.sampled_from(ALL_ORGS))
    p["lead"] = lead
    if draw(st.booleans()):
        p["legal_vehicle"] = draw(st.sampled_from(ALL_ORGS))
    return p


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proposals())
def test_engine_agrees_with_reference_evaluator(data: dict[str, Any]) -> None:
    bundle = icorules.default_rulesets()
    facts = derive_facts(build_graph(icorules.load_proposal(data)))
    expected = evaluate(bundle, [f.engine_dict() for f in facts])
    report = icorules.check(data, rulesets=bundle)
    got = {(f.rule, f"{f.subject.kind}:{f.subject.id}") for f in report.findings}
    assert got == expected


def test_reference_backend_gives_the_same_reports_on_the_examples() -> None:
    from pathlib import Path

    from icorules.report import render_json

    root = Path(__file__).resolve().parents[1] / "examples"
    market = root / "markets" / "morecambe-bay.json"
    for path in sorted(root.glob("*.json")) + sorted(root.glob("*.yaml")):
        with_market = market if path.name.startswith("bay-") else None
        durable = icorules.check(path, market=with_market)
        reference = icorules.check(path, market=with_market, engine="reference")
        assert render_json([reference]) == render_json([durable]), path.name
