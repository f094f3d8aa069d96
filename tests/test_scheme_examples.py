"""One example proposal for every scheme the 2008-09 articles describe, with exactly its findings.

Each scheme's facts (partners, population, model of integration) come from the articles the
bundled rules cite; what they leave open is invented and said so in each example's
`description` and in examples/README.md, which explains every finding asserted here. The
expected sets are literal, as in test_examples.py: a change in a rule or an example shows up as
a diff to review.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import icorules
from icorules.cli import cli
from tests.test_examples import EXPECTED as BASIC_EXPECTED
from tests.test_market_examples import EXPECTED as BAY_EXPECTED
from tests.test_pilot_examples import EXPECTED as PILOT_EXPECTED

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
README = EXAMPLES / "README.md"
CUMBRIA = EXAMPLES / "markets/cumbria.json"
MORECAMBE_BAY = EXAMPLES / "markets/morecambe-bay.json"

NEEDS_MARKET = [
    "CHOICE-002",
    "MKT-001",
    "MKT-002",
    "MKT-003",
    "MKT-003a",
    "MKT-004",
    "MKT-004a",
]

# Every finding of each new example without a market file: (rule, subject id).
EXPECTED: dict[str, set[tuple[str, str]]] = {
    # Surrey PCT's bid (reported in 2008), practice-based commissioners re-engineering outpatient,
    # elective and non-elective care with the acute providers.
    "surrey-pbc.json": {
        # The consortium commissions the outpatient care it now also provides (GPwSI clinics);
        # the "anomaly" of commissioning relationships the PCT named is left open.
        ("GOV-007", "WB-PBC"),
        ("CLASS-002", "surrey-pbc"),  # two acute trusts provide acute care
        ("CLASS-003", "surrey-pbc"),  # the consortium commissions secondary care
        ("ELIG-006a", "surrey-pbc"),  # starts April 2009
    },
    # Crump (2009): NHS Cumbria's second scheme, GPs and community teams around a community
    # hospital. The article calls it vertical; with no acute trust partner the rules say horizontal.
    "cumbria-community-hospitals.json": {
        ("CLASS-001", "cumbria-community-hospitals"),
        ("ELIG-006a", "cumbria-community-hospitals"),
    },
    # 2008 reports and Panting (2009): primary, community and acute foundation trust services
    # for diabetes and end of life, 170,000+ patients, supported (not led) by the private sector.
    "diabetes-end-of-life-vertical.json": {
        ("CLASS-002", "diabetes-end-of-life-vertical"),
        ("ELIG-006a", "diabetes-end-of-life-vertical"),
    },
    # 2008 reports and Panting (2009): PBC consortium, PCT, mental health trust, local authority
    # and New Deal for Communities; the NDC partnership is none of Box 1's types.
    "working-age-mental-health.yaml": {
        ("ELIG-009", "EB-NDC"),
        ("CLASS-001", "working-age-mental-health"),
        ("ELIG-006a", "working-age-mental-health"),
    },
    # November 2008 report: PBC consortium, PCT and acute trust as a virtual urgent care
    # organisation for 150,000 people.
    "virtual-urgent-care.json": {
        ("CLASS-002", "virtual-urgent-care"),
    },
    # 2008 reports and Panting (2009): a not-for-profit CIC run as a social enterprise providing
    # HMO services.
    "community-interest-company-hmo.json": {
        ("CLASS-001", "community-interest-company-hmo"),
        ("CLASS-003", "community-interest-company-hmo"),
        ("CLASS-004", "community-interest-company-hmo"),
        ("ELIG-006a", "community-interest-company-hmo"),  # a new organisation: October 2009
    },
    # Crump (2009): the Surrey end-of-life extension run by a PBC group with Integrated Health
    # Partners, already running, funded from PBC money, outside the national programme.
    "surrey-ihp-end-of-life.json": {
        ("ELIG-005", "surrey-ihp-end-of-life"),  # a local one-year review, not the national one
        ("CLASS-001", "surrey-ihp-end-of-life"),
        ("CLASS-003", "surrey-ihp-end-of-life"),  # the PBC group commissions acute care
    },
}

# The two Cumbrian schemes checked in their health economy, examples/markets/cumbria.json.
CUMBRIA_EXPECTED: dict[str, set[tuple[str, str]]] = {
    "south-lakeland.json": {
        ("CLASS-001", "south-lakeland"),
        ("CLASS-003", "south-lakeland"),
        ("ELIG-006a", "south-lakeland"),
        # NHS Cumbria is the only provider of these services in the county, and a partner: no
        # alternative for patients (CHOICE-002), but the pilot joins nothing (no MKT-001).
        ("MKT-004", "5NE/community_nursing"),
        ("MKT-004", "5NE/community_hospital"),
        ("MKT-004", "5NE/specialist_nursing"),
        # Only NHS Cumbria's South Lakeland teams join: their own share is smaller.
        ("MKT-004a", "5NE/community_nursing"),
        ("MKT-004a", "5NE/community_hospital"),
        ("MKT-004a", "5NE/specialist_nursing"),
        ("CHOICE-002", "community_nursing"),
        ("CHOICE-002", "community_hospital"),
        ("CHOICE-002", "specialist_nursing"),
    },
    "cumbria-community-hospitals.json": {
        ("CLASS-001", "cumbria-community-hospitals"),
        ("ELIG-006a", "cumbria-community-hospitals"),
        ("MKT-004", "5NE/community_nursing"),
        ("MKT-004", "5NE/community_hospital"),
        ("MKT-004", "5NE/intermediate_care"),
        # One independent physiotherapy firm beside NHS Cumbria's therapists: 91% share.
        ("MKT-004", "5NE/therapies"),
        # Only NHS Cumbria's locality team joins: the pilot's own share is a few percent.
        ("MKT-004a", "5NE/community_nursing"),
        ("MKT-004a", "5NE/community_hospital"),
        ("MKT-004a", "5NE/intermediate_care"),
        ("MKT-004a", "5NE/therapies"),
        ("CHOICE-002", "community_nursing"),
        ("CHOICE-002", "community_hospital"),
        ("CHOICE-002", "intermediate_care"),
    },
}


def load(name: str) -> dict[str, Any]:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text) if name.endswith(".yaml") else json.loads(text)
    return data


def pairs(report: icorules.Report) -> set[tuple[str, str]]:
    return {(f.rule, f.subject.id) for f in report.findings}


def practices(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in data["organisations"] if o["type"] == "gp_practice"]


def org_types(data: dict[str, Any]) -> set[str]:
    return {o["type"] for o in data["organisations"]}


# --- findings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_findings(name: str) -> None:
    report = icorules.check(EXAMPLES / name)
    assert pairs(report) == EXPECTED[name]
    assert len(report.findings) == len(EXPECTED[name])  # nothing reported twice
    assert report.warnings == []
    assert sorted(report.rules_not_evaluated) == NEEDS_MARKET


# The two examples with errors: the NDC partner's type, and no national evaluation.
WITH_ERRORS = {"working-age-mental-health.yaml", "surrey-ihp-end-of-life.json"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_json_agrees_with_api(name: str) -> None:
    result = CliRunner().invoke(cli, ["check", str(EXAMPLES / name), "--format", "json"])
    assert result.stderr == ""
    assert result.exit_code == (1 if name in WITH_ERRORS else 0), result.output
    report = json.loads(result.stdout)
    assert {(f["rule"], f["subject"]["id"]) for f in report["findings"]} == EXPECTED[name]
    assert (report["summary"]["error"] > 0) == (name in WITH_ERRORS)
    assert report["warnings"] == []


@pytest.mark.parametrize("name", sorted(CUMBRIA_EXPECTED))
def test_cumbrian_schemes_in_their_health_economy(name: str) -> None:
    report = icorules.check(EXAMPLES / name, market=CUMBRIA)
    assert pairs(report) == CUMBRIA_EXPECTED[name]
    assert len(report.findings) == len(CUMBRIA_EXPECTED[name])
    assert report.warnings == []  # the market file agrees with both proposals
    assert report.rules_not_evaluated == []


def test_community_hospital_scheme_is_small_and_rural() -> None:
    """'Much smaller organisations' than South Lakeland's 110,000, in the same PCT area."""
    scheme = load("cumbria-community-hospitals.json")
    south_lakeland = load("south-lakeland.json")
    registered = sum(p["list_size"] for p in practices(scheme))
    assert registered == 21_600
    assert registered < sum(p["list_size"] for p in practices(south_lakeland)) / 4
    same = ("code", "name", "population", "commissioner")
    assert [{k: a[k] for k in same} for a in scheme["pct_areas"]] == [
        {k: a[k] for k in same} for a in south_lakeland["pct_areas"]
    ]
    assert not {p["id"] for p in practices(scheme)} & {p["id"] for p in practices(south_lakeland)}
    assert "nhs_trust" not in org_types(scheme) and "foundation_trust" not in org_types(scheme)


def test_cumbria_market_covers_both_schemes() -> None:
    market = json.loads(CUMBRIA.read_text(encoding="utf-8"))
    (area,) = market["pct_areas"]
    assert (area["code"], area["population"], area["adjacent"]) == ("5NE", 496_000, [])
    providers = {p["id"]: p for p in market["providers"]}
    assert len(providers) == len(market["providers"])
    for name in CUMBRIA_EXPECTED:
        for practice in practices(load(name)):
            listed = providers[practice["id"]]
            assert (listed["name"], listed["size"]) == (practice["name"], practice["list_size"])
    listed_practices = [p for p in providers.values() if p["type"] == "gp_practice"]
    assert len(listed_practices) == 80
    assert 6_000 <= sum(p["size"] for p in listed_practices) / len(listed_practices) <= 6_700
    # NHS Cumbria alone provides these, as PCT provider arms usually did in 2008.
    for service in ("community_nursing", "community_hospital", "intermediate_care"):
        assert [p["id"] for p in providers.values() if service in lines_of(p)] == ["NHS-CUMBRIA"]
    measures: dict[str, set[str]] = {}
    for p in providers.values():
        for entry in p["services"]:
            line = entry if isinstance(entry, str) else entry["service"]
            measure = p.get("size_measure") if isinstance(entry, str) else entry["size_measure"]
            measures.setdefault(line, set()).add(measure)
    assert {s: m for s, m in measures.items() if len(m) > 1} == {}
    # Format 2 gives NHS Cumbria's size in each of its lines.
    assert all(isinstance(e, dict) for e in providers["NHS-CUMBRIA"]["services"])


def lines_of(provider: dict[str, Any]) -> list[str]:
    return [e if isinstance(e, str) else e["service"] for e in provider["services"]]


# --- the articles' facts carried over ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_new_example_rests_on_registered_lists(name: str) -> None:
    data = load(name)
    assert data["population_basis"] == "registered_list"
    assert practices(data) and all(p["list_size"] > 0 for p in practices(data))
    lead = next(o for o in data["organisations"] if o["id"] == data["lead"])
    assert lead["type"] != "independent_sector"
    for area in data["pct_areas"]:
        assert re.fullmatch(r"[A-Z0-9]{3,5}", area["code"])
        in_area = sum(p["list_size"] for p in practices(data) if p["pct"] == area["code"])
        assert 0 < in_area / area["population"] <= 0.6  # "smaller than PCT areas"
        supporter = {s["id"]: s["status"] for s in data.get("stakeholders", [])}
        said = area.get("commissioner_support", supporter.get(area["commissioner"]))
        assert said == "supports"


@pytest.mark.parametrize(
    ("name", "registered", "types"),
    [
        (
            "surrey-pbc.json",
            110_800,
            {
                "pct",
                "pbc_consortium",
                "gp_practice",
                "foundation_trust",
                "nhs_trust",
                "local_authority",
                "patient_group",
            },
        ),
        ("cumbria-community-hospitals.json", 21_600, {"pct", "pbc_consortium", "gp_practice"}),
        (
            "diabetes-end-of-life-vertical.json",
            171_800,
            {"pbc_consortium", "gp_practice", "pct", "foundation_trust", "independent_sector"},
        ),
        (
            "working-age-mental-health.yaml",
            86_400,
            {
                "pbc_consortium",
                "gp_practice",
                "pct",
                "mental_health_trust",
                "local_authority",
                "other",
            },
        ),
        (
            "virtual-urgent-care.json",
            150_000,
            {"pbc_consortium", "gp_practice", "pct", "nhs_trust"},
        ),
        (
            "community-interest-company-hmo.json",
            68_400,
            {"social_enterprise", "gp_practice", "pct", "patient_group"},
        ),
        (
            "surrey-ihp-end-of-life.json",
            72_600,
            {"pbc_consortium", "gp_practice", "independent_sector", "pct"},
        ),
    ],
)
def test_partners_and_population(name: str, registered: int, types: set[str]) -> None:
    data = load(name)
    assert sum(p["list_size"] for p in practices(data)) == registered
    assert org_types(data) == types


def test_article_figures() -> None:
    diabetes = load("diabetes-end-of-life-vertical.json")
    assert sum(p["list_size"] for p in practices(diabetes)) > 170_000  # "more than 170,000"
    urgent = load("virtual-urgent-care.json")
    assert "legal_vehicle" not in urgent  # "virtual": the partners are bound by agreements only
    cic = load("community-interest-company-hmo.json")
    vehicle = next(o for o in cic["organisations"] if o["id"] == cic["legal_vehicle"])
    assert cic["lead"] == cic["legal_vehicle"] and vehicle["type"] == "social_enterprise"
    ndc = next(
        o for o in load("working-age-mental-health.yaml")["organisations"] if o["type"] == "other"
    )
    assert "New Deal for Communities" in ndc["name"]
    surrey = load("surrey-pbc.json")
    assert surrey["lead"] == "SURREY-PCT"
    assert surrey["governance"]["budget"]["model"] == "indicative_pbc"  # within PBC guidance
    ihp = load("surrey-ihp-end-of-life.json")
    assert ihp["implementation_date"] < "2009-01-01"  # "already operating for some months"
    assert {"lung disease", "heart failure"} <= set(ihp["pathways"])


# --- what the findings turn on ----------------------------------------------------------------


def check_edited(name: str, edit: Any) -> set[tuple[str, str]]:
    data = copy.deepcopy(load(name))
    edit(data)
    return pairs(icorules.check(data))


def test_integrated_health_partners_may_support_but_not_lead() -> None:
    """Reference fact R2: were IHP, a private company, recorded as the lead, ELIG-008 fires."""

    def ihp_leads(data: dict[str, Any]) -> None:
        data["lead"] = "IHP"

    name = "surrey-ihp-end-of-life.json"
    assert check_edited(name, ihp_leads) == EXPECTED[name] | {("ELIG-008", name[:-5])}


def test_the_private_supporter_of_the_vertical_scheme_may_not_lead() -> None:
    def meridian_leads(data: dict[str, Any]) -> None:
        data["lead"] = "MERIDIAN"

    name = "diabetes-end-of-life-vertical.json"
    assert check_edited(name, meridian_leads) == EXPECTED[name] | {("ELIG-008", name[:-5])}


def test_ndc_finding_is_only_about_its_type() -> None:
    """Recorded as a voluntary organisation, the NDC partnership passes every rule."""

    def as_voluntary(data: dict[str, Any]) -> None:
        ndc = next(o for o in data["organisations"] if o["id"] == "EB-NDC")
        ndc["type"] = "voluntary_organisation"
        del ndc["type_description"]

    name = "working-age-mental-health.yaml"
    assert check_edited(name, as_voluntary) == EXPECTED[name] - {("ELIG-009", "EB-NDC")}


def test_surrey_conflict_of_interest_cover_clears_gov_007() -> None:
    def covered(data: dict[str, Any]) -> None:
        data["governance"]["conflict_of_interest"] = {
            "description": "The consortium's commissioning decisions on outpatient care are "
            "taken by a PCT-chaired panel.",
            "parties": ["SURREY-PCT", "WB-PBC"],
        }

    name = "surrey-pbc.json"
    assert check_edited(name, covered) == EXPECTED[name] - {("GOV-007", "WB-PBC")}


def test_ihp_scheme_committing_to_the_national_evaluation_clears_elig_005() -> None:
    def national(data: dict[str, Any]) -> None:
        data["governance"]["evaluation"].update(independent=True, years=3)

    name = "surrey-ihp-end-of-life.json"
    assert check_edited(name, national) == EXPECTED[name] - {("ELIG-005", name[:-5])}


# --- the README -------------------------------------------------------------------------------


def example_files() -> list[str]:
    found = [
        p.relative_to(EXAMPLES).as_posix()
        for pattern in ("*.json", "*.yaml", "*.yml", "markets/*.json", "markets/*.yaml")
        for p in EXAMPLES.glob(pattern)
    ]
    return sorted(found)


def test_every_example_file_is_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    files = example_files()
    assert len(files) >= 17
    missing = [f for f in files if f"`{f}`" not in readme]
    assert missing == []
    assert "`ods/`" in readme


def readme_section(name: str) -> str:
    """The README text from the heading that names the file to the next heading."""
    readme = README.read_text(encoding="utf-8")
    match = re.search(rf"^#+ `{re.escape(name)}`.*?(?=^#+ |\Z)", readme, re.M | re.S)
    assert match, f"no README section for {name}"
    return match.group(0)


ALL_EXPECTED = {
    **{name: (None, found) for name, found in BASIC_EXPECTED.items()},
    **{f"{name}.json": (MORECAMBE_BAY, found) for name, found in BAY_EXPECTED.items()},
    **{name: (None, found) for name, found in EXPECTED.items()},
    **{name: (None, found) for name, found in PILOT_EXPECTED.items()},
}


@pytest.mark.parametrize("name", sorted(ALL_EXPECTED))
def test_readme_names_every_finding(name: str) -> None:
    """Each example's section names every rule and subject it reports, so it stays true."""
    section = readme_section(name)
    market, found = ALL_EXPECTED[name]
    if market is not None:
        assert market.relative_to(EXAMPLES).as_posix() in section
    for rule, subject in sorted(found):
        assert f"`{rule}`" in section, f"{name}: {rule} not explained"
        assert f"`{subject}`" in section, f"{name}: subject {subject} not named"


@pytest.mark.parametrize("name", sorted(CUMBRIA_EXPECTED))
def test_readme_names_every_cumbria_market_finding(name: str) -> None:
    section = readme_section(name)
    assert "markets/cumbria.json" in section
    for rule, subject in sorted(CUMBRIA_EXPECTED[name]):
        assert f"`{rule}`" in section and f"`{subject}`" in section, (rule, subject)
