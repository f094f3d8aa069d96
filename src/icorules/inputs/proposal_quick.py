"""A quick answer to "are a bid's cross-references in order?", for the common case of a valid bid.

The full checks (icorules.inputs.proposal_checks) walk the data through generic helpers and
pair every reference with its location, so that a problem can say where it is: ~0.4 ms of a
typical check, spent on bids that have no problem. `consistent(data)` asks the same questions
with sets over the data as it is, and says True only when `reference_problems(data)` would find
nothing. Whatever it cannot vouch for (a field of an unexpected kind, an id it does not know, a
list with a repeated id, anything one of the checks would report) makes it say False, and the
full checks then run as before: every message, its location, and the one round in which
schema and cross-reference problems are reported together stay theirs.

Each part below answers for the check of the same name in proposal_checks; the rare checks
(units of an organisation, section 75 agreements) are the full checks' own functions.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from icorules.inputs.codes import OrgType, is_org_id, is_pct_code, ods_shape_problem
from icorules.inputs.formats import WRITTEN
from icorules.inputs.proposal_checks import (
    COMMISSIONER_TYPES,
    _Known,
    _section_75,
    _unit_problems,
    reference_problems,
)
from icorules.inputs.references import LocatedMessage

__all__ = ["consistent", "cross_reference_problems"]


class _Unsure(Exception):
    """Something the quick test does not vouch for: the full checks decide."""


_TYPE_OF: dict[Any, OrgType] = {t.value: t for t in OrgType}
_NOT_GIVEN: dict[str, Any] = {}  # an absent mapping: nothing in it (never written to)


def cross_reference_problems(
    data: Any, fields: Mapping[str, Collection[str]] | None = None
) -> list[LocatedMessage]:
    """What `reference_problems(data, fields)` says: nothing, at once, for a consistent bid."""
    return [] if consistent(data) else reference_problems(data, fields)


def consistent(data: Any) -> bool:
    """True only if `reference_problems(data)` is empty (False: it may not be; ask it)."""
    if data.__class__ is not dict:
        return False
    try:
        _Bid(data).check()
    except (_Unsure, TypeError):  # TypeError: an unhashable value where an id should be
        return False
    return True


def _mapping(value: Any) -> dict[str, Any]:
    """A mapping the bid gives (absent: an empty one); anything else is left to the full checks."""
    if value is None:
        return _NOT_GIVEN
    if value.__class__ is not dict:
        raise _Unsure
    return value


def _items(value: Any) -> list[dict[str, Any]]:
    """A list of mappings the bid gives (absent: none)."""
    if value is None:
        return []
    if value.__class__ is not list or any(item.__class__ is not dict for item in value):
        raise _Unsure
    return value


def _ids(value: Any) -> list[Any]:
    """A list of ids the bid gives (absent: none); whether they are known is asked later."""
    if value is None:
        return []
    if value.__class__ is not list:
        raise _Unsure
    return value


def _declared(
    value: Any, key: str, well_formed: Callable[[Any], bool], required: bool = False
) -> tuple[list[dict[str, Any]], set[Any]]:
    """A list of mappings each with a well-formed id under `key`, none repeated (what makes a
    namespace complete and its declarations free of problems), and the set of those ids."""
    items = _items(value)
    if required and not items:
        raise _Unsure
    ids = {item.get(key) for item in items}
    if len(ids) != len(items) or not all(well_formed(i) for i in ids):
        raise _Unsure
    return items, ids


def _within(refs: Iterable[Any], known: set[Any]) -> None:
    """Every reference is absent (None) or one of `known`."""
    named = set(refs)
    named.discard(None)
    if not named <= known:
        raise _Unsure


class _Bid:
    """The parts of the bid the checks read, each found once."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.orgs, partners = _declared(data.get("organisations"), "id", is_org_id, True)
        self.others, others = _declared(data.get("stakeholders"), "id", is_org_id)
        if not partners.isdisjoint(others):
            raise _Unsure
        self.partners, self.everyone = partners, partners | others
        self.areas, self.codes = _declared(data.get("pct_areas"), "code", is_pct_code, True)
        self.agreements, self.agreement_ids = _declared(data.get("agreements"), "id", is_org_id)
        self.governance = gov = _mapping(data.get("governance"))
        self.budget = _mapping(gov.get("budget"))
        self.risk = self.budget.get("risk_sharing")
        self.written = {name: _mapping(gov.get(name)) for name in (*WRITTEN, "evaluation")}
        self.known = _Known()  # what _Known.of finds: here every id is well formed, and once
        self.known.partners = partners
        self.practices: dict[str, int] = {}  # partner practices by PCT area

    def check(self) -> None:
        """Raise _Unsure unless every check of reference_problems would pass."""
        self._references()
        self._organisations()
        self._areas()
        self._agreements()
        if self.risk is not None:
            self._budget(_mapping(self.risk))

    def _references(self) -> None:
        """check_references and _partner_only (organisations' own in _organisations): each id
        named is declared, and where only a partner may be named, is a partner's."""
        data, gov, risk = self.data, self.governance, _mapping(self.risk)
        members = _items(_mapping(gov.get("board")).get("members"))
        shares = _items(risk.get("shares"))
        lead = _mapping(gov.get("clinical_lead")).get("organisation")
        singles = [data.get("lead"), data.get("legal_vehicle"), lead, self.budget.get("holder")]
        singles += [m.get("organisation") for m in members]
        singles += [s.get("party") for s in shares]
        _within(singles, self.partners)
        evaluation = self.written["evaluation"].get("data_submission_parties")
        for parties in (
            self.written["dispute_resolution"].get("parties"),
            self.written["information_sharing"].get("parties"),
            risk.get("parties"),
            evaluation,
        ):
            _within(_ids(parties), self.partners)
        contributions = _items(self.budget.get("contributions"))
        singles = [area.get("commissioner") for area in self.areas]
        singles += [c.get("party") for c in contributions]
        singles.append(gov.get("lead_commissioner"))
        _within(singles, self.everyone)
        for agreement in self.agreements:
            _within(_ids(agreement.get("parties")), self.everyone)
        _within(_ids(self.written["conflict_of_interest"].get("parties")), self.everyone)
        carriers = [w.get("agreement") for w in (*self.written.values(), risk)]
        _within(carriers, self.agreement_ids)

    def _organisations(self) -> None:
        """The organisations' own references (part_of, pct), what _Known.of finds of them, and
        _organisation_problems: a practice's area, an 'other' said, ODS shapes, units."""
        known, units = self.known, []
        for key, orgs in (("organisations", self.orgs), ("stakeholders", self.others)):
            for i, org in enumerate(orgs):
                org_id, kind, pct = org["id"], org.get("type"), org.get("pct")
                if pct is not None and pct not in self.codes:
                    raise _Unsure
                if org.get("part_of") is not None:
                    if org["part_of"] not in self.everyone:
                        raise _Unsure
                    known.parent[org_id] = org["part_of"]
                    units.append(((key, i, "part_of"), org))
                if kind in _TYPE_OF:
                    known.types[org_id] = _TYPE_OF[kind]
                code = org.get("ods_code")
                if code is not None and ods_shape_problem(kind, code) is not None:
                    raise _Unsure
                if key == "organisations":
                    self._partner(org, kind, pct)
        for loc, org in units:
            _none(_unit_problems(loc, org, known))

    def _partner(self, org: dict[str, Any], kind: Any, pct: Any) -> None:
        """A practice names its area (and is counted in it); an 'other' says what it is."""
        if kind == OrgType.gp_practice:
            if pct is None:
                raise _Unsure
            self.practices[pct] = self.practices.get(pct, 0) + 1
        elif kind == OrgType.other and org.get("type_description") is None:
            raise _Unsure

    def _areas(self) -> None:
        """_area_problems and _commissioner_problems."""
        known, practices = self.known, self.practices
        status = {s["id"]: s.get("status") for s in self.others}
        for area in self.areas:
            commissioner = area.get("commissioner")  # None, or an id the bid declares
            kind = known.types.get(commissioner) if commissioner is not None else None
            if kind is not None and (
                kind not in COMMISSIONER_TYPES or commissioner in known.parent
            ):
                raise _Unsure
            said, support = status.get(commissioner), area.get("commissioner_support")
            if isinstance(said, str) and isinstance(support, str) and said != support:
                raise _Unsure
            count = area.get("practice_count")
            listed = practices.get(area["code"], 0)
            if isinstance(count, int) and not isinstance(count, bool) and count < listed:
                raise _Unsure
        lead = self.governance.get("lead_commissioner")
        if lead in known.parent or self.data.get("legal_vehicle") in known.parent:
            raise _Unsure

    def _agreements(self) -> None:
        """_agreement_problems: two different parties, section 75's, sign_by, and what an
        arrangement carried by an agreement binds."""
        parties_of: dict[str, set[str]] = {}
        for i, agreement in enumerate(self.agreements):
            raw = agreement.get("parties")
            _not_signed_by(agreement)
            if raw is None:
                continue
            parties_of[agreement["id"]] = set(raw)
            if len(raw) >= 2 and len(parties_of[agreement["id"]]) < 2:
                raise _Unsure
            if agreement.get("type") == "section_75":
                _none(_section_75(("agreements", i, "parties"), raw, self.known))
        for name, written in self.written.items():
            key = "data_submission_parties" if name == "evaluation" else "parties"
            _carried(written, key, parties_of)
        if self.risk is not None:
            _carried(_mapping(self.risk), "parties", parties_of)

    def _budget(self, risk: dict[str, Any]) -> None:
        """_budget_problems and _by_contributions: who bears the risk, and in what shares."""
        listed = set(_ids(risk.get("parties")))
        shares = [s.get("party") for s in _items(risk.get("shares"))]
        if not listed and not shares:
            raise _Unsure
        seen: set[str] = set()
        for party in shares:
            if party is None:
                continue
            if party in seen or (listed and party not in listed):
                raise _Unsure
            seen.add(party)
        if risk.get("basis") == "contributions":
            parties = listed | seen
            given = [
                c
                for c in _items(self.budget.get("contributions"))
                if isinstance(c.get("gbp"), int | float) and c.get("party") in parties
            ]
            if parties and not given:
                raise _Unsure


def _none(problems: Iterable[object]) -> None:
    """A full check's own function found nothing."""
    if any(True for _ in problems):
        raise _Unsure


def _not_signed_by(written: dict[str, Any]) -> None:
    """_sign_by: a date to sign by is for a draft."""
    if written.get("sign_by") is not None and written.get("status") != "draft":
        raise _Unsure


def _carried(written: dict[str, Any], key: str, parties_of: dict[str, set[str]]) -> None:
    """_sign_by and _carried for one arrangement."""
    _not_signed_by(written)
    carrier = written.get("agreement")
    bound = parties_of.get(carrier) if isinstance(carrier, str) else None
    if bound is not None and not bound.issuperset(_ids(written.get(key))):
        raise _Unsure
