"""Deriving the facts of one check from the partner graph and its measures.

One function per fact kind, each taking the partner graph (`proposal_row(partners)`,
`partner_rows(partners)`, ...) and giving rows (Fact.row; `proposal_fact`, `partner_facts` ...
make the objects); `derive_rows` and `derive_facts` put them together in a stable order: the
proposal, then partners, agreements and PCT areas in file order, then service lines and markets
in sorted order, then the commitments. The fact kinds themselves are declared in
icorules.analysis.facts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from icorules.analysis.budgets import pool
from icorules.analysis.commitments import written_commitments
from icorules.analysis.fact_base import FactRow, made
from icorules.analysis.facts import (
    AgreementFact,
    CommitmentFact,
    Fact,
    MarketFact,
    PartnerFact,
    PctAreaFact,
    ProposalFact,
    ServiceLineFact,
)
from icorules.analysis.graph import ACUTE_LINES, PartnerGraph
from icorules.inputs.codes import SERVICE_LINES, AgreementType, OrgType, Setting, SupportStatus
from icorules.inputs.proposal import PctArea
from icorules.inputs.services import ProvidedService

# The statutory commissioners: a partner of another type that commissions acute care means the
# pilot itself commissions it.
STATUTORY_COMMISSIONERS = (OrgType.pct, OrgType.care_trust)
SOCIAL_CARE_PARTNER_TYPES = (OrgType.local_authority, OrgType.care_trust)
# Enum members read in loops, looked up once: each read through the class costs ~0.15 µs.
_GP_PRACTICE, _PATIENT_GROUP, _ACUTE = OrgType.gp_practice, OrgType.patient_group, Setting.acute


def derive_facts(partners: PartnerGraph) -> list[Fact]:
    """All facts for one check, in a stable order."""
    return [made(row) for row in derive_rows(partners)]


def derive_rows(partners: PartnerGraph) -> list[FactRow[Any]]:
    """derive_facts as rows (Fact.row): a check sends the engine their records and makes the
    objects only of the facts its findings show (FactsByKey)."""
    return [
        proposal_row(partners),
        *partner_rows(partners),
        *agreement_rows(partners),
        *pct_area_rows(partners),
        *service_line_rows(partners),
        *market_rows(partners),
        *commitment_rows(partners),
    ]


def proposal_row(partners: PartnerGraph) -> FactRow[ProposalFact]:
    """The bid as a whole."""
    proposal = partners.proposal
    organisations = proposal.organisations
    governance = proposal.governance
    clinical_lead = governance.clinical_lead
    evaluation = governance.evaluation
    budget = governance.budget
    practices = [org for org in organisations if org.type is _GP_PRACTICE]
    # Each line's setting looked up once: most partners provide a line another does.
    lines = set().union(*[org.provided_lines for org in organisations])
    settings = {SERVICE_LINES[line] for line in lines}
    kinds = {org.type for org in organisations}
    types = partners.types
    shares = partners.risk
    pooled = pool(proposal, types, partners.body_of, shares)
    holder = budget.holder if budget else None
    return ProposalFact.row(
        {
            "id": proposal.id,
            "path": "",
            "name": proposal.name,
            "population_basis": proposal.population_basis,
            "registered_population": sum(partners.registered_population.values()),
            "practice_count": len(practices),
            "practices_without_list": sum(1 for practice in practices if not practice.list_size),
            "partner_count": len(organisations),
            "lead": proposal.lead,
            "lead_type": types[proposal.lead],
            "legal_vehicle_type": types[proposal.legal_vehicle].value
            if proposal.legal_vehicle
            else "",
            "care_category_count": len(proposal.care_categories) + len(proposal.pathways),
            "has_implementation_date": proposal.implementation_date is not None,
            "implementation_date": proposal.implementation_date,
            "has_board": governance.board is not None,
            "has_clinical_lead": clinical_lead is not None,
            "clinical_lead_name": clinical_lead.name if clinical_lead else "",
            "clinical_lead_profession": clinical_lead.profession.value if clinical_lead else "",
            "clinical_lead_organisation": clinical_lead.organisation if clinical_lead else "",
            "has_dispute_procedure": governance.dispute_resolution is not None,
            "has_risk_management": governance.risk_management is not None,
            "budget_model": budget.model.value if budget else "none",
            "risk_sharing_party_count": len(partners.members["risk_sharing"]),
            "has_independent_evaluation": bool(evaluation and evaluation.independent),
            "evaluation_years": evaluation.years if evaluation else 0,
            "data_submission_party_count": len(partners.members["data_submission"]),
            "has_it_support": governance.it_support is not None,
            "has_patient_engagement_plan": governance.patient_engagement is not None,
            "has_patient_group": _PATIENT_GROUP in kinds,
            "outcome_measure_count": len(governance.outcome_measures),
            "component_count": len(partners.components),
            "provides_primary": Setting.primary in settings,
            "provides_community": Setting.community in settings,
            "provides_acute": Setting.acute in settings,
            "has_acute_trust": bool(partners.acute_trusts),
            "provides_mental_health": Setting.mental_health in settings,
            "provides_social_care": Setting.social_care in settings,
            "commissions_acute": any(
                SERVICE_LINES[line] is _ACUTE
                for org in organisations
                if org.commissions and org.type not in STATUTORY_COMMISSIONERS
                for line in org.commissioned_lines
            ),
            "has_social_care_partner": not kinds.isdisjoint(SOCIAL_CARE_PARTNER_TYPES),
            "pct_area_count": len(practice_areas(partners)),
            "has_lead_commissioner": governance.lead_commissioner is not None,
            "cross_boundary_agreement": has_cross_boundary_agreement(partners),
            "has_market_data": partners.market is not None,
            "format_version": proposal.format_version,
            "stakeholder_count": len(proposal.stakeholders),
            "has_budget_amount": bool(budget and budget.amount),
            "budget_gbp": budget.amount.gbp if budget and budget.amount else 0.0,
            "budget_holder_type": types[holder].value if holder else "",
            "risk_shares_stated": shares.stated,
            "risk_share_total": shares.total,
            "risk_parties_without_share": ", ".join(shares.without_share),
            "section_75_missing_for": pooled.missing_for,
            "pool_uncovered": ", ".join(pooled.uncovered),
        }
    )


def partner_rows(partners: PartnerGraph) -> Iterator[FactRow[PartnerFact]]:
    """One fact per partner organisation, in file order."""
    proposal = partners.proposal
    lead, component_of, body_of = proposal.lead, partners.component_of, partners.body_of
    lead_component = component_of[lead]
    commissioned = body_commissions(partners)
    shares = partners.risk.shares
    partner_ids = {org.id for org in proposal.organisations}
    members = partners.members  # looked up once: a partner is tested against each
    board, dispute = members["board"], members["dispute_resolution"]
    sharing, submitting = members["information_sharing"], members["data_submission"]
    risk_sharing, covered = members["risk_sharing"], members["conflict_of_interest"]
    tied, agreements_of = partners.tied_to_board, partners.agreements_of
    for index, org in enumerate(proposal.organisations):
        org_id, org_type = org.id, org.type
        provided = org.provided_lines
        body = body_of.get(org_id, org_id)
        # A unit and its body are one: what either commissions, the other is conflicted over.
        # (Sorted only when there is any: most partners commission nothing they provide.)
        both = commissioned[body].intersection(provided) if body in commissioned else ()
        conflicted = sorted(both) if both else ()
        share = shares.get(org_id)
        yield PartnerFact.row(
            {
                "id": org_id,
                "path": f"organisations[{index}]",
                "name": org.name,
                "type": org_type,
                "pct": org.pct or "",
                "list_size": org.list_size or 0,
                "is_practice": org_type is _GP_PRACTICE,
                "is_lead": org_id == lead,
                "provides_care": bool(provided),
                "provides_acute": not ACUTE_LINES.isdisjoint(provided),  # provides_acute, inline
                "service_count": len(provided),  # each line once (provided_lines)
                "agreement_count": len(agreements_of[org_id]),
                "on_board": org_id in board,
                "agreement_with_board_member": org_id in tied,
                "in_dispute_procedure": org_id in dispute,
                "in_information_sharing": org_id in sharing,
                "in_data_submission": org_id in submitting,
                "in_risk_sharing": org_id in risk_sharing,
                "has_conflict_cover": org_id in covered or body in covered,
                "commissions_and_provides": bool(conflicted),
                "conflicted_services": ", ".join(conflicted),
                "in_lead_component": component_of[org_id] == lead_component,
                "body": body,
                "is_unit": org.part_of is not None,
                "body_is_partner": body in partner_ids,
                "ods_code": org.ods_code or "",
                "has_risk_share": share is not None,
                "risk_share": 0.0 if share is None else round(share, 2),
            }
        )


def body_commissions(partners: PartnerGraph) -> dict[str, set[str]]:
    """Body -> the service lines any of its partner organisations commissions (bodies that
    commission none are left out)."""
    out: dict[str, set[str]] = {}
    body_of = partners.body_of
    for org in partners.proposal.organisations:
        if org.commissions:  # the list as given: its lines are worked out only if it has any
            out.setdefault(body_of.get(org.id, org.id), set()).update(org.commissioned_lines)
    return out


def agreement_rows(partners: PartnerGraph) -> Iterator[FactRow[AgreementFact]]:
    """One fact per agreement, in file order."""
    proposal = partners.proposal
    safeguards, trusts = partners.safeguards, partners.acute_trusts
    types, stakeholders = partners.types, partners.stakeholders
    for index, agreement in enumerate(proposal.agreements):
        services = sorted({entry.key for entry in agreement.service_entries})
        unsafeguarded = safeguards.uncovered(agreement.service_entries)
        parties = set(agreement.parties)
        named = parties & stakeholders  # most agreements name none: their list is as given
        yield AgreementFact.row(
            {
                "id": agreement.id,
                "path": f"agreements[{index}]",
                "type": agreement.type,
                "party_count": len(parties),
                "parties": ", ".join(
                    (f"{p} (stakeholder)" if p in named else p for p in agreement.parties)
                    if named
                    else agreement.parties
                ),
                "services": ", ".join(services),
                "exclusive_referral": agreement.exclusive_referral,
                "unsafeguarded_services": ", ".join(unsafeguarded),
                "unsafeguarded_count": len(unsafeguarded),
                "involves_acute": not trusts.isdisjoint(parties),
                "involves_practice": any(
                    types[party] is _GP_PRACTICE for party in agreement.parties
                ),
                "status": agreement.status.value if agreement.status else "not_stated",
                "stakeholder_count": len(named),
            }
        )


def pct_area_rows(partners: PartnerGraph) -> Iterator[FactRow[PctAreaFact]]:
    """One fact per PCT area the bid declares, in file order."""
    covered = partners.covered_areas
    stakeholders = partners.stakeholders
    for index, area in enumerate(partners.proposal.pct_areas):
        registered = partners.registered_population.get(area.code, 0)
        joined = partners.practices_in.get(area.code, 0)
        practices = partners.area_practices.get(area.code, frozenset())
        # The partners' own practices are always counted, so knowing the area needs the market
        # file to list it.
        known = area.code in covered and bool(practices)
        support = commissioner_support(partners, area)
        yield PctAreaFact.row(
            {
                "id": area.code,
                "path": f"pct_areas[{index}]",
                "name": area.name,
                "population": area.population,
                "registered_population": registered,
                "population_share": registered / area.population,
                "practice_count": joined,
                "commissioner": area.commissioner or "",
                "has_commissioner": area.commissioner is not None,
                "supports_bid": support == "supports",
                "has_market_data": known,
                "market_practice_count": len(practices),
                "partner_practice_share": joined / len(practices) if known else 0.0,
                "all_practices_joined": known and joined >= len(practices),
                "commissioner_support": support,
                "commissioner_is_partner": area.commissioner is not None
                and area.commissioner not in stakeholders,
                "has_stated_practice_count": area.practice_count is not None,
                "stated_practice_count": area.practice_count or 0,
            }
        )


def commissioner_support(partners: PartnerGraph, area: PctArea) -> str:
    """What the area's commissioner has said: as the area states it, else the stakeholder's own
    status, else (format 1) supports_bid; 'pending' if nothing says, 'none' without one."""
    if area.commissioner is None:
        return "none"
    if area.commissioner_support is not None:
        return area.commissioner_support.value
    stakeholder = next(
        (s for s in partners.proposal.stakeholders if s.id == area.commissioner), None
    )
    if stakeholder is not None:
        return stakeholder.status.value
    return SupportStatus.supports.value if area.supports_bid else SupportStatus.pending.value


def service_line_rows(partners: PartnerGraph) -> Iterator[FactRow[ServiceLineFact]]:
    """One fact per service line the partners provide, in sorted order."""
    proposal = partners.proposal
    safeguards, covered = partners.safeguards, partners.covered_areas
    area_of = {org.id: org.pct for org in proposal.organisations} if covered else {}
    providers: dict[str, list[str]] = {}
    # line -> its entries, each once: entries are shared between the partners that name the
    # same item (services.entries), so by identity; ~30 practices name one general_practice.
    given: dict[str, dict[int, ProvidedService]] = {}
    for org in proposal.organisations:
        for line in org.provided_lines:
            providers.setdefault(line, []).append(org.id)
        for entry in org.provided:
            given.setdefault(str(entry.service), {})[id(entry)] = entry
    for service in sorted(providers):
        uncovered = safeguards.uncovered(given[service].values())
        yield ServiceLineFact.row(
            {
                "id": service,
                "path": safeguards.paths.get(service, "choice_safeguards"),
                "setting": SERVICE_LINES[service],
                "provider_count": len(providers[service]),
                "providers": ", ".join(providers[service]),
                "has_choice_safeguard": not uncovered,
                "safeguard_mechanisms": ", ".join(
                    sorted(set(safeguards.mechanisms.get(service, [])))
                ),
                # Known only where the market file lists an area the service is provided in.
                "has_market_data": bool(covered)
                and any(not area_of[o] or area_of[o] in covered for o in providers[service]),
                "outside_providers_nearby": partners.outside_nearby.get(service, 0),
                "unsafeguarded_specialties": ", ".join(u for u in uncovered if "/" in u),
            }
        )


def market_rows(partners: PartnerGraph) -> Iterator[FactRow[MarketFact]]:
    """One fact per market the partners are in (needs a market file), in sorted order."""
    if not partners.markets:
        return
    proposal = partners.proposal
    area_names = {area.code: area.name for area in proposal.pct_areas}
    first_provider: dict[str, str] = {}
    for index, org in reversed(list(enumerate(proposal.organisations))):
        for line in org.provided_lines:
            first_provider[line] = f"organisations[{index}]"
    for (area, service), measure in partners.markets.items():
        measured = measure.concentration
        area_name = area_names.get(area, area)
        yield MarketFact.row(
            {
                "id": f"{area}/{service}",
                "path": first_provider.get(service, ""),
                "name": f"{service} in {area_name}",
                "pct": area,
                "pct_name": area_name,
                "service": service,
                "setting": SERVICE_LINES[service],
                "provider_count": len(measure.bodies) + len(measure.outside),
                "partner_count": len(measure.bodies),
                "outside_count": len(measure.outside),
                "partners": ", ".join(measure.partners),
                "partner_share": measured.partner_share,
                "share_basis": measured.basis,
                "hhi_pre": measured.hhi_pre,
                "hhi_post": measured.hhi_post,
                "hhi_delta": measured.hhi_delta,
                "alternative_nearby": measure.alternative_nearby,
                "pilot_share": measure.own_share,
            }
        )


def commitment_rows(partners: PartnerGraph) -> Iterator[FactRow[CommitmentFact]]:
    """One fact per agreement (in file order), then per governance arrangement stated."""
    return written_commitments(partners.proposal)


# -- the fact objects (tests, fixes, explanations; a check makes only those it shows) -------


def proposal_fact(partners: PartnerGraph) -> ProposalFact:
    return made(proposal_row(partners))


def partner_facts(partners: PartnerGraph) -> Iterator[PartnerFact]:
    return map(made, partner_rows(partners))


def agreement_facts(partners: PartnerGraph) -> Iterator[AgreementFact]:
    return map(made, agreement_rows(partners))


def pct_area_facts(partners: PartnerGraph) -> Iterator[PctAreaFact]:
    return map(made, pct_area_rows(partners))


def service_line_facts(partners: PartnerGraph) -> Iterator[ServiceLineFact]:
    return map(made, service_line_rows(partners))


def market_facts(partners: PartnerGraph) -> Iterator[MarketFact]:
    return map(made, market_rows(partners))


def commitment_facts(partners: PartnerGraph) -> Iterator[CommitmentFact]:
    return map(made, commitment_rows(partners))


# -- measures more than one kind of fact needs ----------------------------------------------


def practice_areas(partners: PartnerGraph) -> list[str]:
    """The PCT areas with a partner practice, in the bid's order: where its registered
    population lives, whether or not every practice gives its list size."""
    return [a.code for a in partners.proposal.pct_areas if partners.practices_in.get(a.code, 0)]


def has_cross_boundary_agreement(partners: PartnerGraph) -> bool:
    """A cross_boundary_commissioning agreement binds the commissioners of every PCT area
    the registered population lives in."""
    proposal = partners.proposal
    areas = set(practice_areas(partners))
    commissioners = {area.commissioner for area in proposal.pct_areas if area.code in areas}
    return any(
        agreement.type is AgreementType.cross_boundary_commissioning
        and None not in commissioners
        and commissioners <= set(agreement.parties)
        for agreement in proposal.agreements
    )
