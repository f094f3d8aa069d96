"""durable_rules and a plain-Python evaluator agree on every rule for random proposals, and on
random rules (built by the real compiler) too. A correctness test: nothing here is timed."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import icorules
from icorules.analysis.derive import derive_facts
from icorules.analysis.facts import field_types
from icorules.analysis.graph import build_graph
from icorules.engines import durable as engine_module
from icorules.engines import fact_record
from icorules.engines.reference import evaluate
from icorules.output.json_report import render_json
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
    p["pct_areas"][0]["commissioner_support"] = draw(
        st.sampled_from(["supports", "pending", "opposed"])
    )
    # Format 2's written commitments and risk shares.
    p["agreements"][0]["status"] = draw(st.sampled_from(["signed", "in_principle", "draft"]))
    if p["agreements"][0]["status"] == "draft" and draw(st.booleans()):
        p["agreements"][0]["sign_by"] = draw(st.sampled_from(["2008-10-01", "2009-06-01"]))
    if g["budget"]["model"] == "hard" and draw(st.booleans()):
        g["budget"]["risk_sharing"]["shares"] = [
            {"party": "PCT1", "percent": draw(st.sampled_from([50, 60]))},
            {"party": "GP1", "percent": 40},
        ]
    p["population_basis"] = draw(st.sampled_from(["registered_list", "geographic"]))
    lead = draw(st.sampled_from(ALL_ORGS))
    p["lead"] = lead
    if draw(st.booleans()):
        p["legal_vehicle"] = draw(st.sampled_from(ALL_ORGS))
    return p


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proposals())
def test_engine_agrees_with_reference_evaluator(data: dict[str, Any]) -> None:
    bundle = icorules.default_rulesets()
    facts = derive_facts(build_graph(icorules.load_proposal(data)))
    expected = evaluate(bundle, [fact_record(f) for f in facts])
    report = icorules.check(data, rulesets=bundle)
    got = {(f.rule, f.subject.kind, f.subject.id) for f in report.findings}
    assert got == expected


def _assert_facts_validate(facts: list[Any]) -> None:
    """derive_facts builds facts without validation (Fact.trusted): they must validate."""
    for fact in facts:
        again = type(fact).model_validate(dict(fact))
        assert dict(again) == dict(fact)
        assert [type(v) for v in dict(again).values()] == [type(v) for v in dict(fact).values()]


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proposals())
def test_derived_facts_are_valid_facts(data: dict[str, Any]) -> None:
    _assert_facts_validate(derive_facts(build_graph(icorules.load_proposal(data))))


def test_derived_facts_are_valid_facts_on_the_examples_and_markets() -> None:
    from icorules.inputs.market import load_market

    root = Path(__file__).resolve().parents[1] / "examples"
    market = load_market(root / "markets" / "morecambe-bay.json")
    for path in sorted(root.glob("*.json")) + sorted(root.glob("*.yaml")):
        with_market = market if path.name.startswith("bay-") else None
        model = icorules.load_proposal(path)
        _assert_facts_validate(derive_facts(build_graph(model, with_market)))


def test_reference_backend_gives_the_same_reports_on_the_examples() -> None:
    from pathlib import Path

    from icorules.output.json_report import render_json

    root = Path(__file__).resolve().parents[1] / "examples"
    market = root / "markets" / "morecambe-bay.json"
    for path in sorted(root.glob("*.json")) + sorted(root.glob("*.yaml")):
        with_market = market if path.name.startswith("bay-") else None
        durable = icorules.check(path, market=with_market)
        reference = icorules.check(path, market=with_market, engine="reference")
        assert render_json([reference]) == render_json([durable]), path.name


# -- random rules -----------------------------------------------------------------------------

RULE_KINDS = ["partner", "service_line", "proposal", "agreement", "pct_area", "classification"]
NUMBERS = st.one_of(
    st.sampled_from([0, 1, 2, 3, 5, 8_000, 250_000]),
    st.integers(-10, 70_000),
    st.sampled_from([0.25, 0.5, 0.06, 1.5]),
)
CLASSES = ["alpha", "beta"]  # names rules may derive, and test for


def _fields(kind: str, *bases: type) -> list[str]:
    return sorted(n for n, t in field_types(kind).items() if t.base in bases)


@st.composite
def comparisons(draw: st.DrawFn, kind: str) -> str:
    """One comparison the compiler accepts: a flag, a number against a constant, another
    field or arithmetic, or text against a value or a list."""
    types = field_types(kind)
    numbers, flags, texts = _fields(kind, int, float), _fields(kind, bool), _fields(kind, str)
    shape = draw(st.sampled_from(["flag", "number", "field", "arith", "text", "in"]))
    if shape == "flag" and flags:
        name = draw(st.sampled_from(flags))
        return draw(st.sampled_from([name, f"not {name}", f"{name} == True", f"{name} != False"]))
    op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
    if shape in ("number", "field", "arith") and numbers:
        name = draw(st.sampled_from(numbers))
        if shape == "field" and len(numbers) > 1:
            return f"{name} {op} {draw(st.sampled_from([n for n in numbers if n != name]))}"
        if shape == "arith":
            other = draw(st.sampled_from(numbers))
            arith = draw(st.sampled_from(["+", "-", "*", "/"]))
            k = draw(st.sampled_from([1, 2, 4, 10]))
            return f"{name} {op} {other} {arith} {k}"
        return f"{name} {op} {draw(NUMBERS)!r}"
    if texts:
        name = draw(st.sampled_from(texts))
        choices = types[name].choices or ("", "GP1", "PCT1", "A1", "5AA", *CLASSES)
        if shape == "in":
            picked = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=4, unique=True))
            return f"{name} {draw(st.sampled_from(['in', 'not in']))} {picked!r}"
        return f"{name} {draw(st.sampled_from(['==', '!=']))} {draw(st.sampled_from(choices))!r}"
    name = draw(st.sampled_from(flags))
    return name


@st.composite
def conditions(draw: st.DrawFn, kind: str) -> str:
    parts = draw(st.lists(comparisons(kind), min_size=1, max_size=3))
    text = f" {draw(st.sampled_from(['and', 'or']))} ".join(f"({p})" for p in parts)
    return f"not ({text})" if draw(st.booleans()) else text


@st.composite
def rule_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A ruleset of random rules; some derive a classification that others need (`given`)."""
    rules = []
    for i in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(RULE_KINDS))
        rule: dict[str, Any] = {
            "id": f"R-{i:03d}",
            "title": "random rule",
            "severity": draw(st.sampled_from(["error", "warning", "info"])),
            "source": "hypothesis",
            "fact": kind,
            "condition": draw(conditions(kind)),
            "message": "{id}: fired",
            "fix": "none",
        }
        if kind != "classification" and draw(st.booleans()):
            name = draw(st.sampled_from(CLASSES))
            rule["derive"] = {"kind": "classification", "fields": {"name": name}}
        elif kind != "classification" and draw(st.booleans()):
            rule["given"] = {"classification": f"name == {draw(st.sampled_from(CLASSES))!r}"}
        rules.append(rule)
    return {"ruleset": "random/rules", "version": "1", "rules": rules}


def _load(document: dict[str, Any]) -> icorules.RuleBundle:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        return icorules.load_rulesets([path])


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proposals(), rule_documents(), st.sampled_from([1, 3, engine_module.CHUNK_RULES]))
def test_engine_agrees_with_reference_on_random_rules(
    data: dict[str, Any], document: dict[str, Any], chunk_rules: int
) -> None:
    bundle = _load(document)  # the real loader and compiler: a rejected condition fails here
    saved = engine_module.network.CHUNK_RULES
    engine_module.network.CHUNK_RULES = chunk_rules  # small chunks: derived facts must cross them
    try:
        durable = icorules.check(data, rulesets=bundle)
    finally:
        engine_module.network.CHUNK_RULES = saved
    reference = icorules.check(data, rulesets=bundle, engine="reference")
    assert render_json([durable]) == render_json([reference])


# -- parameters, whose values reach durable_rules with the facts ------------------------------

PARAM_CONDITIONS = [
    ("partner", "list_size > params.n * 1000"),
    ("partner", "type in params.types"),
    ("partner", "type not in params.types and list_size >= params.n"),
    ("partner", "agreement_count * params.n >= service_count or type in params.more"),
    ("partner", "list_size > agreement_count / params.n"),
    ("pct_area", "population_share > params.share or population < params.n * 100000"),
    ("proposal", "has_implementation_date and implementation_date > params.start"),
    ("proposal", "lead_type in params.types or lead_type in params.more"),
]


@st.composite
def parameter_sets(draw: st.DrawFn) -> dict[str, Any]:
    kinds = st.lists(st.sampled_from(TYPES), unique=True, min_size=1, max_size=8)
    return {
        "n": draw(st.integers(1, 9)),
        "share": draw(st.sampled_from([0.01, 0.1, 0.25, 0.5, 0.75])),
        "types": ",".join(draw(kinds)),
        "more": ",".join(draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=20))),
        "start": draw(st.sampled_from(["2008-01-01", "2008-10-31", "2008-11-01", "2009-06-30"])),
    }


PARAM_RULESET = {
    "ruleset": "random/params",
    "version": "1",
    "parameters": {
        "n": {"default": 2},
        "share": {"default": 0.5},
        "types": {"default": ["pct"]},
        "more": {"default": ["school"]},
        "start": {"default": "2008-12-31"},
    },
    "rules": [
        {
            "id": f"P-{i:03d}",
            "title": "t",
            "severity": "info",
            "source": "s",
            "fact": kind,
            "condition": condition,
            "message": "{params.n} {params.types}",
            "fix": "f",
        }
        for i, (kind, condition) in enumerate(PARAM_CONDITIONS)
    ],
}


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proposals(), parameter_sets())
def test_engine_agrees_with_reference_whatever_the_parameters(
    data: dict[str, Any], params: dict[str, Any]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "params.yaml"
        text = yaml.safe_dump(PARAM_RULESET, sort_keys=False).replace("'2008-12-31'", "2008-12-31")
        path.write_text(text, encoding="utf-8")
        bundle = icorules.load_rulesets([path], params=params)
    registered = engine_module.get_engine().registered
    durable = icorules.check(data, rulesets=bundle)
    reference = icorules.check(data, rulesets=bundle, engine="reference")
    assert render_json([durable]) == render_json([reference])
    assert engine_module.get_engine().registered <= registered + 2  # only new list sizes
