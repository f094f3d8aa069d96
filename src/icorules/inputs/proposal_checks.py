"""The checks of a proposal that JSON Schema cannot make: lists within their limits, ids that
exist, fields that must agree with each other, and what each format version may say.

They read the parsed data, not the model, so they are reported together with the schema's
problems: a part is checked wherever what it refers to is itself valid (see
icorules.inputs.references), whether or not the rest of the bid is.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from icorules.inputs.codes import (
    NHS_BODY_TYPES,
    OrgType,
    is_org_id,
    is_pct_code,
    ods_shape_problem,
)
from icorules.inputs.documents import Loc
from icorules.inputs.formats import BUDGET, RISK, WRITTEN
from icorules.inputs.references import (
    NOT_DECLARED,
    LocatedMessage,
    Namespace,
    check_references,
    declared,
    items_of,
    list_at,
    listed_twice,
    value_at,
)
from icorules.limits import DEFAULT_LIMITS, Limits


def size_problems(data: Any, limits: Limits = DEFAULT_LIMITS) -> list[LocatedMessage]:
    """The lists over their limits, checked before validation: validation, the graph, the facts
    and the engine's work all grow with them, so a legal but enormous bid is refused at once."""
    problems: list[LocatedMessage] = []

    def count(loc: Loc, limit: str, found: str) -> None:
        items = value_at(data, *loc)
        if isinstance(items, list) and len(items) > getattr(limits, limit):
            problems.append((loc, limits.exceeded(limit, found.format(f"{len(items):,}"))))

    count(("organisations",), "organisations", "the proposal lists {} organisations")
    count(("stakeholders",), "organisations", "the proposal lists {} stakeholders")
    count(("agreements",), "agreements", "the proposal lists {} agreements")
    count(("governance", "board", "members"), "board_members", "the board lists {} members")
    for i, _ in items_of(data, "agreements"):
        count(("agreements", i, "parties"), "parties", "the agreement lists {} parties")
    for loc in PARTY_LISTS:
        count(loc, "parties", "the arrangement lists {} parties")
    return problems


PARTY_LISTS: tuple[Loc, ...] = (
    ("governance", "dispute_resolution", "parties"),
    ("governance", "conflict_of_interest", "parties"),
    ("governance", "information_sharing", "parties"),
    (*RISK, "parties"),
    (*RISK, "shares"),
    (*BUDGET, "contributions"),
    ("governance", "evaluation", "data_submission_parties"),
)


# -- cross-references -----------------------------------------------------------------------


_ORG = ("organisation id", is_org_id)
_PCT = ("PCT area", is_pct_code)
_AGREEMENT = ("agreement id", is_org_id)
COMMISSIONER_TYPES = (OrgType.pct, OrgType.care_trust)


def reference_problems(
    data: Any, fields: Mapping[str, Collection[str]] | None = None
) -> list[LocatedMessage]:
    """Cross-references that JSON Schema cannot express: ids are unique and exist, areas are
    declared, and the fields that depend on others. `fields` names the organisation model's
    fields, to tell a misspelt key from a missing one."""
    if not isinstance(data, dict):
        return []
    orgs, problems = _organisations(data)
    areas, repeated = declared(
        data.get("pct_areas"),
        ("pct_areas",),
        "code",
        *_PCT,
        required=True,
        unknown_phrase=NOT_DECLARED,
    )
    problems += repeated
    agreements, twice = declared(data.get("agreements"), ("agreements",), "id", *_AGREEMENT)
    problems += twice
    partner_refs = list(_partner_references(data))  # walked once, read twice
    problems += check_references(orgs, _org_references(data, partner_refs), is_org_id)
    problems += check_references(agreements, _agreement_references(data), is_org_id)
    problems += check_references(areas, _area_references(data), is_pct_code)
    known = _Known.of(data)
    problems += _partner_only(partner_refs, known)
    problems += _organisation_problems(data, known, (fields or {}).get("organisation", ()))
    problems += _area_problems(data, known)
    problems += _agreement_problems(data, known)
    problems += _budget_problems(data, known)
    return problems


def _organisations(data: dict[str, Any]) -> tuple[Namespace, list[LocatedMessage]]:
    """Partners and stakeholders: one namespace of ids."""
    orgs, problems = declared(
        data.get("organisations"), ("organisations",), "id", *_ORG, required=True
    )
    others, twice = declared(data.get("stakeholders"), ("stakeholders",), "id", *_ORG)
    problems += twice
    for key, loc in others.first.items():
        if key in orgs.first:
            problems.append((loc, listed_twice("organisation id", key, orgs.first[key][:-1])))
        else:
            orgs.first[key] = loc
    orgs.complete = orgs.complete and others.complete
    return orgs, problems


class _Known:
    """What the cross-checks need to know of each organisation whose id and type are valid
    (the first, where an id is listed twice; so a text in `types` is a valid id): its type,
    whether it is a partner, its parent."""

    def __init__(self) -> None:
        self.types: dict[str, OrgType] = {}
        self.partners: set[str] = set()
        self.parent: dict[str, str] = {}

    @classmethod
    def of(cls, data: dict[str, Any]) -> _Known:
        known = cls()
        for key in ("organisations", "stakeholders"):
            for _, org in items_of(data, key):
                org_id, kind = org.get("id"), org.get("type")
                if not is_org_id(org_id) or org_id in known.types:
                    continue
                if isinstance(kind, str) and kind in _ORG_TYPES:
                    known.types[org_id] = OrgType(kind)
                if key == "organisations":
                    known.partners.add(org_id)
                if is_org_id(org.get("part_of")):
                    known.parent[org_id] = org["part_of"]
        return known

    def body_type(self, org_id: Any) -> OrgType | None:
        """The type of the body an organisation belongs to (a unit counts as its parent)."""
        if not is_org_id(org_id):
            return None
        return self.types.get(self.parent.get(org_id, org_id), self.types.get(org_id))


_ORG_TYPES = frozenset(t.value for t in OrgType)
_Refs = list[tuple[Loc, Any]]


def _org_references(data: dict[str, Any], partner_refs: _Refs) -> Iterator[tuple[Loc, Any]]:
    """Every place a proposal names an organisation (partner or stakeholder) by id."""
    yield from partner_refs
    for key in ("organisations", "stakeholders"):
        for i, org in items_of(data, key):
            yield (key, i, "part_of"), org.get("part_of")
    for i, area in items_of(data, "pct_areas"):
        yield ("pct_areas", i, "commissioner"), area.get("commissioner")
    for i, agreement in items_of(data, "agreements"):
        yield from list_at(agreement, ("parties",), prefix=("agreements", i))
    yield ("governance", "lead_commissioner"), value_at(data, "governance", "lead_commissioner")
    yield from list_at(data, ("governance", "conflict_of_interest", "parties"))
    for i, part in items_of(data, *BUDGET, "contributions"):
        yield (*BUDGET, "contributions", i, "party"), part.get("party")


def _partner_references(data: dict[str, Any]) -> Iterator[tuple[Loc, Any]]:
    """The places only a partner may be named: a stakeholder there would be one."""
    yield ("lead",), data.get("lead")
    yield ("legal_vehicle",), data.get("legal_vehicle")
    governance = ("governance",)
    for i, member in items_of(data, "governance", "board", "members"):
        yield (*governance, "board", "members", i, "organisation"), member.get("organisation")
    lead = value_at(data, "governance", "clinical_lead", "organisation")
    yield (*governance, "clinical_lead", "organisation"), lead
    for name in ("dispute_resolution", "information_sharing"):
        yield from list_at(data, (*governance, name, "parties"))
    yield from list_at(data, (*RISK, "parties"))
    for i, share in items_of(data, *RISK, "shares"):
        yield (*RISK, "shares", i, "party"), share.get("party")
    yield (*BUDGET, "holder"), value_at(data, *BUDGET, "holder")
    yield from list_at(data, (*governance, "evaluation", "data_submission_parties"))


def _agreement_references(data: dict[str, Any]) -> Iterator[tuple[Loc, Any]]:
    for name in (*WRITTEN, "evaluation"):
        yield ("governance", name, "agreement"), value_at(data, "governance", name, "agreement")
    yield (*RISK, "agreement"), value_at(data, *RISK, "agreement")


def _area_references(data: dict[str, Any]) -> Iterator[tuple[Loc, Any]]:
    for key in ("organisations", "stakeholders"):
        for i, org in items_of(data, key):
            yield (key, i, "pct"), org.get("pct")


def _partner_only(partner_refs: _Refs, known: _Known) -> Iterator[LocatedMessage]:
    for loc, ref in partner_refs:
        if isinstance(ref, str) and ref in known.types and ref not in known.partners:
            said = f"'{ref}' is a stakeholder; only a partner can be named here "
            yield loc, said + "(list it under organisations to make it one)"


def _misspelt(item: dict[str, Any], fields: Collection[str]) -> set[str]:
    """The fields that unknown keys of `item` look like misspellings of."""
    return {
        close
        for key in item
        if key not in fields
        for close in difflib.get_close_matches(str(key).lower(), list(fields), n=1, cutoff=0.6)
    }


def _organisation_problems(
    data: dict[str, Any], known: _Known, fields: Collection[str]
) -> Iterator[LocatedMessage]:
    for i, org in items_of(data, "organisations"):
        slips = _misspelt(org, fields) if fields else set()
        if org.get("type") == OrgType.gp_practice and org.get("pct") is None and "pct" not in slips:
            yield ("organisations", i), "a GP practice needs its 'pct' area"
        if (
            org.get("type") == OrgType.other
            and org.get("type_description") is None
            and "type_description" not in slips
        ):
            yield (
                ("organisations", i, "type_description"),
                "say what the organisation is when its type is 'other'",
            )
    for key in ("organisations", "stakeholders"):
        for i, org in items_of(data, key):
            problem = ods_shape_problem(org.get("type"), org.get("ods_code"))
            if problem is not None:
                yield (key, i, "ods_code"), problem
            yield from _unit_problems((key, i, "part_of"), org, known)


def _unit_problems(loc: Loc, org: dict[str, Any], known: _Known) -> Iterator[LocatedMessage]:
    """A unit (`part_of`) of an organisation of its own type, one level deep, not a practice."""
    parent, org_id = org.get("part_of"), org.get("id")
    if not is_org_id(parent) or parent not in known.types:
        return
    if parent == org_id:
        yield loc, "an organisation cannot be a unit of itself"
    elif parent in known.parent:
        yield (
            loc,
            (
                f"'{parent}' is itself a unit of '{known.parent[parent]}': name the body it "
                "belongs to (one level only)"
            ),
        )
    elif OrgType.gp_practice in (known.types[parent], org.get("type")):
        yield loc, "a GP practice is neither a unit of another organisation nor has units"
    elif (
        isinstance(kind := org.get("type"), str)
        and kind in _ORG_TYPES
        and kind != known.types[parent]
    ):
        yield (
            loc,
            (
                f"a unit has the type of the body it belongs to: '{parent}' is a "
                f"{known.types[parent].value}"
            ),
        )


def _area_problems(data: dict[str, Any], known: _Known) -> Iterator[LocatedMessage]:
    practices: dict[Any, int] = {}
    for _, org in items_of(data, "organisations"):
        if org.get("type") == OrgType.gp_practice and is_pct_code(org.get("pct")):
            practices[org["pct"]] = practices.get(org["pct"], 0) + 1
    status = {
        s["id"]: s.get("status")
        for _, s in items_of(data, "stakeholders")
        if is_org_id(s.get("id"))
    }
    for i, area in items_of(data, "pct_areas"):
        yield from _commissioner_problems(("pct_areas", i), area, known, status)
        code = area.get("code")
        count, listed = (
            area.get("practice_count"),
            practices.get(code, 0) if is_pct_code(code) else 0,
        )
        if isinstance(count, int) and not isinstance(count, bool) and count < listed:
            said = f"{count} GP practice" + ("s" if count != 1 else "")
            yield (
                ("pct_areas", i, "practice_count"),
                f"the area has {said} here, but the bid itself lists {listed} partner practices "
                f"in {area.get('code')}",
            )
    lead = value_at(data, "governance", "lead_commissioner")
    if is_org_id(lead) and lead in known.parent:
        yield ("governance", "lead_commissioner"), _UNIT_COMMISSIONS.format(lead)
    vehicle = data.get("legal_vehicle")
    if is_org_id(vehicle) and vehicle in known.parent:
        message = f"'{vehicle}' is a unit of '{known.parent[vehicle]}', not a body of its own"
        yield ("legal_vehicle",), message


def _commissioner_problems(
    at: Loc, area: dict[str, Any], known: _Known, status: Mapping[Any, Any]
) -> Iterator[LocatedMessage]:
    """An area's commissioner is a PCT or care trust, a body of its own, and its support is
    said once."""
    commissioner = area.get("commissioner")
    kind = known.types.get(commissioner) if is_org_id(commissioner) else None
    if kind is not None and kind not in COMMISSIONER_TYPES:
        message = (
            f"'{commissioner}' is a {kind.value}; an area's commissioner is a PCT or care trust"
        )
        yield (*at, "commissioner"), message
    elif kind is not None and commissioner in known.parent:
        yield (*at, "commissioner"), _UNIT_COMMISSIONS.format(commissioner)
    said = status.get(commissioner) if is_org_id(commissioner) else None
    support = area.get("commissioner_support")
    if isinstance(said, str) and isinstance(support, str) and said != support:
        yield (
            (*at, "commissioner_support"),
            f"'{support}' here, but stakeholder '{commissioner}' has status '{said}'",
        )


_UNIT_COMMISSIONS = "'{}' is a unit of another organisation: name the body it belongs to"


def _agreement_problems(data: dict[str, Any], known: _Known) -> Iterator[LocatedMessage]:
    parties_of: dict[str, set[str]] = {}
    for i, agreement in items_of(data, "agreements"):
        raw = agreement.get("parties")
        valid = isinstance(raw, list) and all(is_org_id(p) for p in raw)
        parties: list[str] = list(raw) if valid and isinstance(raw, list) else []
        if is_org_id(agreement.get("id")) and valid:
            parties_of.setdefault(agreement["id"], set(parties))
        if valid and len(parties) >= 2 and len(set(parties)) < 2:
            yield ("agreements", i, "parties"), "an agreement needs two different parties"
        if valid and agreement.get("type") == "section_75":
            yield from _section_75(("agreements", i, "parties"), parties, known)
        yield from _sign_by(("agreements", i), agreement)
    for name in (*WRITTEN, "evaluation"):
        written = value_at(data, "governance", name)
        yield from _sign_by(("governance", name), written)
        parties_key = "data_submission_parties" if name == "evaluation" else "parties"
        yield from _carried(("governance", name), written, parties_key, parties_of)
    yield from _sign_by(RISK, value_at(data, *RISK))
    yield from _carried(RISK, value_at(data, *RISK), "parties", parties_of)


def _section_75(loc: Loc, parties: list[str], known: _Known) -> Iterator[LocatedMessage]:
    """A section 75 agreement is between NHS bodies and a local authority (or a care trust,
    as the requirement reads it)."""
    types = [known.body_type(p) for p in parties]
    if None in types:
        return
    councils = [t for t in types if t in (OrgType.local_authority, OrgType.care_trust)]
    nhs = [t for t in types if t in NHS_BODY_TYPES]
    if not councils or len(nhs) < (1 if OrgType.local_authority in councils else 2):
        yield (
            loc,
            (
                "a section 75 agreement is between NHS bodies and local authorities: its parties "
                "need a local authority (or a care trust) and an NHS body"
            ),
        )


def _sign_by(loc: Loc, written: Any) -> Iterator[LocatedMessage]:
    if (
        isinstance(written, dict)
        and written.get("sign_by") is not None
        and written.get("status") != "draft"
    ):
        yield (*loc, "sign_by"), "'sign_by' is for a draft: set status: draft, or remove it"


def _carried(
    loc: Loc, written: Any, parties_key: str, parties_of: Mapping[str, set[str]]
) -> Iterator[LocatedMessage]:
    """An arrangement carried by an agreement binds no one that agreement does not."""
    if not isinstance(written, dict):
        return
    carrier = written.get("agreement")
    if not isinstance(carrier, str) or carrier not in parties_of:
        return
    parties = written.get(parties_key)
    outside = [p for p in parties if is_org_id(p)] if isinstance(parties, list) else []
    missing = sorted(set(outside) - parties_of[carrier])
    if missing:
        yield (
            (*loc, "agreement"),
            (f"agreement '{carrier}' does not bind {', '.join(missing)}, who are parties here"),
        )


def _budget_problems(data: dict[str, Any], known: _Known) -> Iterator[LocatedMessage]:
    risk = value_at(data, *RISK)
    if not isinstance(risk, dict):
        return
    parties = risk.get("parties")
    listed = {p for p in parties if is_org_id(p)} if isinstance(parties, list) else set()
    shares = [(i, s.get("party")) for i, s in items_of(data, *RISK, "shares")]
    if not listed and not shares:
        message = "say who bears the risk: 'parties' (or, in format 2, each party's 'shares')"
        yield ((*RISK, "parties") if "parties" in risk else RISK), message
    seen: set[str] = set()
    for i, party in shares:
        if not is_org_id(party):
            continue
        if party in seen:
            yield (*RISK, "shares", i, "party"), f"'{party}' has more than one share"
        elif listed and party not in listed:
            yield (*RISK, "shares", i, "party"), f"'{party}' is not in risk_sharing.parties"
        seen.add(party)
    if risk.get("basis") == "contributions":
        yield from _by_contributions(data, listed | seen)


def _by_contributions(data: dict[str, Any], parties: set[str]) -> Iterator[LocatedMessage]:
    """Risk in proportion to contributions needs contributions in pounds (a risk-sharing party
    that contributes nothing bears no share)."""
    given = [
        c.get("party")
        for _, c in items_of(data, *BUDGET, "contributions")
        if isinstance(c.get("gbp"), int | float)
        and is_org_id(c.get("party"))
        and c.get("party") in parties
    ]
    if parties and not given:
        yield (
            (*RISK, "basis"),
            (
                "risk in proportion to contributions needs governance.budget.contributions in gbp "
                "from the risk-sharing parties"
            ),
        )
