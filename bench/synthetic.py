"""A synthetic national health economy and a large bid in it, for tests and benchmarks.

Deterministic for a seed (`random.Random`, no numpy) and shaped like England in 2008 (reference
fact R5): 152 PCT areas of 150,000-500,000 people, about 8,000 GP practices averaging about
6,300 patients, and about 1,500 other providers. Not shipped data: nothing here is real.

    python bench/synthetic.py --out DIR   # writes DIR/market.json and DIR/proposal.json
"""

from __future__ import annotations

import argparse
import json
import random
from collections import deque
from pathlib import Path
from typing import Any

from icorules.inputs.codes import OrgType
from icorules.inputs.market import Market, Provider

AREAS = 152
GRID_ROWS, GRID_COLUMNS = 8, 19  # areas sit on a grid: 2-4 neighbours each, symmetric
MEAN_LIST_SIZE = 6_300
ACUTE = ["outpatients", "diagnostics", "elective_care", "acute_medicine", "emergency_care"]
COMMUNITY = ["community_nursing", "therapies", "specialist_nursing", "intermediate_care"]

# fmt: off
_STEMS = ["Ash", "Oak", "Elm", "Thorn", "Brook", "Mill", "Kings", "Queens", "Fell", "Marsh",
          "Stone", "Wood", "Hale", "Red", "White", "Black", "Green", "Long", "Broad", "High",
          "Low", "Sand", "Cold", "Bridge", "Church", "Castle", "Chester", "Hart", "Wolver",
          "Nether"]
_ENDS = ["ham", "ford", "ley", "ton", "wick", "bury", "stow", "mouth", "field", "by", "dale"]
_STREETS = ["Mill Lane", "High Street", "Church Road", "Station Road", "Park View", "The Green",
            "Market Place", "Bridge Street", "Victoria Road", "Orchard Way", "Castle Street"]
_KINDS = ["Surgery", "Medical Practice", "Health Centre", "Medical Centre", "Group Practice"]
# fmt: on


def _place(rng: random.Random, used: set[str]) -> str:
    while True:
        name = rng.choice(_STEMS) + rng.choice(_ENDS)
        if name not in used:
            used.add(name)
            return name


def _adjacency() -> list[list[int]]:
    """Grid neighbours (up, down, left, right): symmetric, connected, 2 to 4 each."""
    out: list[list[int]] = []
    for i in range(AREAS):
        r, c = divmod(i, GRID_COLUMNS)
        near = [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)]
        out.append(
            [
                rr * GRID_COLUMNS + cc
                for rr, cc in near
                if 0 <= rr < GRID_ROWS and 0 <= cc < GRID_COLUMNS
            ]
        )
    return out


def area_code(i: int) -> str:
    return f"P{i + 1:03d}"


def national_market(seed: int = 0) -> Market:
    """152 PCT areas, ~8,000 practices and ~1,500 other providers, each with a size."""
    rng = random.Random(seed)
    used: set[str] = set()
    neighbours = _adjacency()
    areas: list[dict[str, Any]] = []
    providers: list[dict[str, Any]] = []
    counters: dict[str, int] = {}

    def add(prefix: str, pct: str, **fields: Any) -> None:
        counters[prefix] = counters.get(prefix, 0) + 1
        providers.append({"id": f"{prefix}{counters[prefix]:05d}", "pct": pct, **fields})

    for i in range(AREAS):
        code, place = area_code(i), _place(rng, used)
        # Skewed towards larger areas so that ~8,000 practices of ~6,300 fit inside them.
        population = int(rng.triangular(150_000, 500_000, 425_000))
        areas.append(
            {
                "code": code,
                "name": f"{place} PCT",
                "population": population,
                "adjacent": [area_code(j) for j in neighbours[i]],
            }
        )
        listed = population * rng.uniform(0.88, 0.97)  # below the population, as R5 implies
        count = max(3, round(listed / MEAN_LIST_SIZE))
        raw = [min(max(rng.lognormvariate(0, 0.45), 0.15), 4.0) for _ in range(count)]
        scale = listed / sum(raw)
        for weight in raw:
            add(
                "G",
                code,
                name=f"{place} {rng.choice(_STREETS)} {rng.choice(_KINDS)}",
                type="gp_practice",
                services=["general_practice"],
                size=float(int(weight * scale)),
                size_measure="list_size",
            )
        _other_providers(rng, code, place, add)
    return Market.model_validate(
        {"name": "Synthetic England 2008", "pct_areas": areas, "providers": providers}
    )


def _other_providers(rng: random.Random, code: str, place: str, add: Any) -> None:
    """About ten non-practice providers per area, over every service line."""
    add(  # the PCT's own provider arm: it both commissions and provides community services
        "PCT",
        code,
        name=f"{place} PCT Provider Services",
        type="pct",
        services=[*COMMUNITY, "community_hospital"],
        size=float(rng.randint(80, 400)),
        size_measure="capacity",
    )
    add(  # and a rival, so that no PCT provider arm is a monopoly
        "CS",
        code,
        name=f"{place} Community Health CIC",
        type="social_enterprise",
        services=[*COMMUNITY, "community_hospital"],
        size=float(rng.randint(40, 200)),
        size_measure="capacity",
    )
    for _ in range(2 if rng.random() < 0.15 else 1):
        foundation = rng.random() < 0.45
        add(
            "RA",
            code,
            name=f"{place} Hospitals NHS {'Foundation ' if foundation else ''}Trust",
            type="foundation_trust" if foundation else "nhs_trust",
            services=ACUTE + (["maternity"] if rng.random() < 0.85 else []),
            size=float(rng.randint(300, 1_400)),
            size_measure="beds",
        )
    if rng.random() < 0.4:
        add(
            "RM",
            code,
            name=f"{place} Partnership NHS Foundation Trust",
            type="mental_health_trust",
            services=["mental_health", "psychological_therapies"],
            size=float(rng.randint(150, 700)),
            size_measure="beds",
        )
    if rng.random() < 0.08:
        add(
            "RX",
            code,
            name=f"{place} Ambulance Service NHS Trust",
            type="ambulance_trust",
            services=["ambulance", "urgent_care"],
            size=float(rng.randint(150_000, 600_000)),
            size_measure="activity",
        )
    add(
        "LA",
        code,
        name=f"{place} Council",
        type="local_authority",
        services=["social_care", "domiciliary_care"],
        size=float(rng.randint(5_000, 40_000)),
        size_measure="activity",
    )
    for n in range(rng.randint(1, 3)):
        services = rng.sample(
            ["diagnostics", "elective_care", "outpatients", "domiciliary_care"], 2
        )
        add(
            "IS",
            code,
            name=f"{place} Independent Treatment Centre {n + 1}",
            type="independent_sector",
            services=services,
            size=float(rng.randint(2_000, 30_000)),
            size_measure="activity",
        )
    for n in range(rng.randint(1, 2)):
        add(
            "VO",
            code,
            name=f"{place} {'Hospice' if n == 0 else 'Community Therapies Charity'}",
            type="voluntary_organisation",
            services=["palliative_care"] if n == 0 else ["psychological_therapies", "therapies"],
            size=float(rng.randint(10, 60)),
            size_measure="beds" if n == 0 else "capacity",
        )
    for _ in range(rng.randint(0, 1)):
        add(
            "SE",
            code,
            name=f"{place} Urgent Care CIC",
            type="social_enterprise",
            services=["out_of_hours", "urgent_care"],
            size=float(rng.randint(5_000, 60_000)),
            size_measure="activity",
        )
    add(
        "CP",
        code,
        name=f"{place} Pharmacies",
        type="independent_sector",
        services=["community_pharmacy"],
        size=float(rng.randint(10, 60)),
        size_measure="capacity",
    )


def large_proposal(
    market: Market, partners: int = 500, seed: int = 0, practice_share: float = 0.35
) -> dict[str, Any]:
    """A valid, fully governed bid whose partners are `partners` of the market's providers.

    It takes at most `practice_share` of the practices of each PCT area (so it never takes a
    whole area, its registered population stays well under 60% of each area's and general
    practice stays below the HHI thresholds) in neighbouring areas found
    breadth-first from a random one, plus each area's PCT as commissioner and provider and,
    in the first area, the acute trust, council and hospice (a vertical pilot). Mental health
    trusts of the areas join too, up to a tenth of the partners. Trusts and others provide in
    the pilot only the service lines someone else also offers in their area.
    """
    return ProposalFactory(market).proposal(partners, seed, practice_share)


class ProposalFactory:
    """Many proposals from one market: the market is indexed once, not once per proposal."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.by_area: dict[str, list[Provider]] = {a.code: [] for a in market.pct_areas}
        for provider in market.providers:
            self.by_area[provider.pct].append(provider)
        self.neighbours = market.adjacency()

    def proposal(
        self, partners: int = 500, seed: int = 0, practice_share: float = 0.35
    ) -> dict[str, Any]:
        """See `large_proposal`."""
        if partners < 3:
            raise ValueError("a large proposal needs at least 3 partners")
        rng = random.Random(seed)
        by_area = self.by_area
        start = rng.choice(sorted(by_area))
        order, queue, seen = [], deque([start]), {start}
        while queue:
            code = queue.popleft()
            order.append(code)
            for other in sorted(self.neighbours[code]):
                if other not in seen:
                    seen.add(other)
                    queue.append(other)

        chosen_areas: list[str] = []
        commissioners: list[Provider] = []
        others: list[Provider] = []
        pools: list[list[Provider]] = []  # per chosen area: the practices it may contribute
        for code in order:
            local = by_area[code]
            pct = next((p for p in local if p.type is OrgType.pct), None)
            if pct is None:
                continue
            chosen_areas.append(code)
            commissioners.append(pct)
            wanted = [OrgType.mental_health_trust]
            if len(chosen_areas) == 1:
                wanted += [OrgType.foundation_trust, OrgType.nhs_trust, OrgType.local_authority]
                wanted += [OrgType.voluntary_organisation]
            for p in local:
                if p.type in wanted and len(others) < partners // 10:
                    contested = _contested(p, local, {c.id for c in (*commissioners, *others)})
                    if contested:
                        others.append(p.model_copy(update={"services": contested}))
            gps = [p for p in local if p.type is OrgType.gp_practice]
            rng.shuffle(gps)
            pools.append(gps[: int(len(gps) * practice_share)])
            if len(commissioners) + len(others) + sum(map(len, pools)) >= partners:
                break
        need = partners - len(commissioners) - len(others)
        if need < len(pools) or sum(map(len, pools)) < need:
            raise ValueError(f"cannot find {partners} partners in neighbouring PCT areas")
        # Round-robin over the areas, so every chosen area has practices and none gives too many.
        practices: list[Provider] = []
        taken = 0
        while len(practices) < need:
            for pool in pools:
                if taken < len(pool) and len(practices) < need:
                    practices.append(pool[taken])
            taken += 1
        return _proposal(self.market, chosen_areas, commissioners, others, practices)

    def typical(self, seed: int) -> dict[str, Any]:
        """A bid of the usual size (5-60 partners, most near 25) with a few common defects,
        so that checks find different things."""
        rng = random.Random(seed)
        partners = max(5, min(60, round(rng.gauss(25, 10))))
        data = self.proposal(partners, seed=seed)
        data["id"] = f"synthetic-{seed}"
        return with_defects(data, rng)


def with_defects(data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Knock out a few of the things a well-prepared bid has (each independently)."""
    g = data["governance"]
    orgs = [o["id"] for o in data["organisations"]]
    if rng.random() < 0.25:
        del g["clinical_lead"]
    if rng.random() < 0.2:
        del g["dispute_resolution"]
    if rng.random() < 0.3:
        g["conflict_of_interest"]["parties"] = orgs[: len(orgs) // 2]
    if rng.random() < 0.2:
        g["information_sharing"]["parties"] = orgs[1:]
    if rng.random() < 0.2:
        data["agreements"][0]["exclusive_referral"] = True
    if rng.random() < 0.2 and data["choice_safeguards"]:
        data["choice_safeguards"].pop(rng.randrange(len(data["choice_safeguards"])))
    if rng.random() < 0.15:
        g["evaluation"]["years"] = 1
    if rng.random() < 0.1:
        g["board"]["members"] = g["board"]["members"][:2]
    for key in ("risk_management", "it_support", "patient_engagement"):
        if rng.random() < 0.1:
            del g[key]
    return data


# -- synthetic rules -----------------------------------------------------------------------

RULE_KINDS = ("partner", "service_line", "proposal", "agreement", "pct_area")
_INTS = (0, 1, 2, 3, 5, 10, 50, 100, 1_000, 5_000, 10_000, 100_000)
_FLOATS = (0.1, 0.25, 0.5, 0.6, 0.9)


RANGE_POOL = 40  # distinct range tests per kind: the loader allows 64 across a whole run


def _range_pool(kind: str) -> list[str]:
    """The range tests (< <= > >= != and field against field) rules of `kind` may use: a fixed
    few, as real rulebooks reuse a few thresholds (and the engine survives only 64 per kind)."""
    from icorules.analysis.facts import field_types

    rng = random.Random(kind)
    numbers = [n for n, t in field_types(kind).items() if t.base in (int, float)]
    pool: list[str] = []
    while numbers and len(pool) < RANGE_POOL:
        name = rng.choice(numbers)
        op = rng.choice(["<", "<=", ">", ">=", "!="])
        others = [n for n in numbers if n != name]
        if others and rng.random() < 0.15:  # against another field, scaled
            text = f"{name} {op} {rng.choice(others)} * {rng.choice((1, 2, 10, 100))}"
        else:
            base = field_types(kind)[name].base
            text = f"{name} {op} {rng.choice(_INTS if base is int else _FLOATS)}"
        if text not in pool:
            pool.append(text)
    return pool


def _comparison(rng: random.Random, kind: str) -> str:
    from icorules.analysis.facts import field_types

    usable = [(n, t) for n, t in field_types(kind).items() if t.base in (bool, int, float, str)]
    name, ftype = rng.choice(usable)
    if ftype.base is bool:
        return name if rng.random() < 0.5 else f"not {name}"
    if ftype.base in (int, float):
        if rng.random() < 0.5:
            return rng.choice(_range_pool(kind))
        return f"{name} == {rng.choice(_INTS if ftype.base is int else _FLOATS)}"
    if ftype.choices:
        if rng.random() < 0.3:
            picked = rng.sample(ftype.choices, min(len(ftype.choices), rng.randint(2, 4)))
            return f"{name} {'not in' if rng.random() < 0.3 else 'in'} {picked!r}"
        return f"{name} == {rng.choice(ftype.choices)!r}"
    return f"{name} == ''"


def synthetic_condition(rng: random.Random, kind: str) -> str:
    """One to three comparisons joined by and / or (no `not`: negation turns an equality
    into a range test, of which a run may hold only 64 per kind)."""
    parts = [_comparison(rng, kind) for _ in range(rng.randint(1, 3))]
    return f" {rng.choice(['and', 'or'])} ".join(parts)


def synthetic_rules(count: int, seed: int = 0) -> dict[str, Any]:
    """A ruleset document of `count` random rules over partner, service line, proposal,
    agreement and PCT area facts. Every 25th rule derives a classification that the next rule
    needs (`given`), so derived facts must reach rules wherever the engine puts them."""
    rng = random.Random(seed)
    rules = []
    for i in range(count):
        kind = rng.choice(RULE_KINDS)
        rule: dict[str, Any] = {
            "id": f"S{chr(ord('A') + i // 1000)}-{i % 1000:03d}",
            "title": f"Synthetic rule {i}",
            "severity": rng.choice(["error", "warning", "info"]),
            "source": "bench/synthetic.py",
            "fact": kind,
            "condition": synthetic_condition(rng, kind),
            "message": "{id}: synthetic rule " + str(i),
            "fix": "None: synthetic.",
        }
        if i % 25 == 0:
            rule["derive"] = {"kind": "classification", "fields": {"name": f"syn{i}"}}
        elif i % 25 == 1:
            rule["given"] = {"classification": f"name == 'syn{i - 1}'"}
        rules.append(rule)
    return {"ruleset": f"synthetic/r{count}", "version": "1", "rules": rules}


def _contested(provider: Provider, local: list[Provider], partners: set[str]) -> list[Any]:
    """The service lines of `provider` that someone outside the pilot also offers in its area:
    a partner that took in a local monopoly would break MKT-001, which this bid should not."""
    rivals = {s for p in local if p.id not in partners and p.id != provider.id for s in p.services}
    return [s for s in provider.services if s in rivals]


def _proposal(
    market: Market,
    areas: list[str],
    commissioners: list[Provider],
    others: list[Provider],
    practices: list[Provider],
) -> dict[str, Any]:
    everyone = [p.id for p in (*commissioners, *others, *practices)]
    organisations: list[dict[str, Any]] = []
    provided: set[str] = set()
    for p in commissioners:
        organisations.append(
            {
                "id": p.id,
                "name": p.name,
                "type": "pct",
                "pct": p.pct,
                "provides": [s.value for s in p.services],
                "roles": ["commissioner", "provider"],
                "commissions": ACUTE,
            }
        )
    for p in others:
        organisations.append(
            {
                "id": p.id,
                "name": p.name,
                "type": p.type.value,
                "pct": p.pct,
                "provides": [s.value for s in p.services],
                "roles": ["provider"],
            }
        )
    for p in practices:
        organisations.append(
            {
                "id": p.id,
                "name": p.name,
                "type": "gp_practice",
                "pct": p.pct,
                "list_size": int(p.size or 0),
                "provides": ["general_practice"],
                "roles": ["provider"],
            }
        )
    for org in organisations:
        provided.update(org["provides"])
    lead_pct = commissioners[0].id
    agreements: list[dict[str, Any]] = [
        {"id": "ALLIANCE", "type": "alliance", "parties": everyone, "services": sorted(provided)}
    ]
    if len(commissioners) > 1:
        agreements.append(
            {
                "id": "CROSS-BOUNDARY",
                "type": "cross_boundary_commissioning",
                "parties": [p.id for p in commissioners],
                "services": ["general_practice"],
                "description": f"{lead_pct} leads commissioning for the whole pilot.",
            }
        )
    acute = [p for p in others if p.type in (OrgType.foundation_trust, OrgType.nhs_trust)]
    if acute:
        agreements.append(
            {
                "id": "ACUTE-CONTRACT",
                "type": "service_contract",
                "parties": [lead_pct, acute[0].id],
                "services": [s.value for s in acute[0].services],
            }
        )
    names = {a.code: a for a in market.pct_areas}
    return {
        "format": "icorules/proposal/1",
        "id": "synthetic-large",
        "name": f"{names[areas[0]].name.removesuffix(' PCT')} and district integrated care pilot",
        "lead": practices[0].id,
        "population_basis": "registered_list",
        "implementation_date": "2009-04-01",
        "care_categories": ["long_term_conditions", "older_people"],
        "pathways": ["COPD", "diabetes"],
        "pct_areas": [
            {
                "code": code,
                "name": names[code].name,
                "population": names[code].population,
                "commissioner": c.id,
                "supports_bid": True,
            }
            for code, c in zip(areas, commissioners, strict=True)
        ],
        "organisations": organisations,
        "agreements": agreements,
        "governance": {
            "board": {"name": "Pilot board", "members": [{"organisation": o} for o in everyone]},
            "clinical_lead": {
                "name": "Dr J. Okafor",
                "organisation": practices[0].id,
                "profession": "gp",
            },
            "dispute_resolution": {
                "description": "Board, then independent mediation.",
                "parties": everyone,
            },
            "risk_management": "Joint risk register reviewed monthly by the board.",
            "budget": {"model": "indicative_pbc"},
            "conflict_of_interest": {
                "description": "Register of interests; conflicted members do not vote.",
                "parties": everyone,
            },
            "information_sharing": {
                "description": "Shared care record and data-sharing protocol.",
                "parties": everyone,
            },
            "it_support": "PCT informatics service.",
            "patient_engagement": "Patient panel in every locality, meeting quarterly.",
            "evaluation": {"independent": True, "years": 3, "data_submission_parties": everyone},
            "outcome_measures": ["Emergency admissions for ambulatory care sensitive conditions"],
            "lead_commissioner": lead_pct,
        },
        "choice_safeguards": [
            {
                "service": s,
                "mechanisms": ["choice_at_referral", "opt_out"],
                "description": "Patients may choose providers outside the pilot or opt out.",
            }
            for s in sorted(provided)
        ],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory to write into")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--partners", type=int, default=500)
    args = parser.parse_args(argv)
    market = national_market(args.seed)
    proposal = large_proposal(market, args.partners, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "market.json").write_text(
        market.model_dump_json(indent=1, exclude_none=True) + "\n", encoding="utf-8"
    )
    (args.out / "proposal.json").write_text(json.dumps(proposal, indent=1) + "\n", "utf-8")
    print(
        f"wrote {args.out / 'market.json'} ({len(market.pct_areas)} PCT areas,"
        f" {len(market.providers)} providers) and {args.out / 'proposal.json'}"
        f" ({len(proposal['organisations'])} organisations)"
    )


if __name__ == "__main__":
    main()
