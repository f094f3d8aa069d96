"""Deriving the facts of one check from the partner graph and its measures."""

from __future__ import annotations

from typing import Any

from icorules.analysis.facts import (
    ACUTE_TRUST_TYPES,
    STATUTORY_COMMISSIONERS,
    AgreementFact,
    Fact,
    MarketFact,
    PartnerFact,
    PctAreaFact,
    ProposalFact,
    ServiceLineFact,
)
from icorules.analysis.graph import PartnerGraph
from icorules.inputs.codes import SERVICE_LINES, AgreementType, OrgType, Setting


def derive_facts(partners: PartnerGraph) -> list[Fact]:
    """All facts for one check, in a stable order."""
    p = partners.proposal
    market_given = partners.market is not None
    orgs = {o.id: o for o in p.organisations}
    g = p.governance
    settings_provided = {SERVICE_LINES[s.value] for o in p.organisations for s in o.provides}
    lead_component = partners.component_of[p.lead]
    safeguards: dict[str, list[str]] = {}
    for safeguard in p.choice_safeguards:
        safeguards.setdefault(safeguard.service.value, []).extend(
            m.value for m in safeguard.mechanisms
        )
    safeguard_paths = {
        s.service.value: f"choice_safeguards[{i}]"
        for i, s in reversed(list(enumerate(p.choice_safeguards)))
    }
    acute_partners = {
        o.id
        for o in p.organisations
        if any(SERVICE_LINES[s.value] is Setting.acute for s in o.provides)
    }
    acute_trusts = {
        o.id for o in p.organisations if o.id in acute_partners and o.type in ACUTE_TRUST_TYPES
    }

    facts: list[Fact] = [
        ProposalFact.trusted(
            id=p.id,
            path="",
            name=p.name,
            population_basis=p.population_basis,
            registered_population=sum(partners.registered_population.values()),
            practice_count=sum(1 for o in p.organisations if o.type is OrgType.gp_practice),
            practices_without_list=sum(
                1 for o in p.organisations if o.type is OrgType.gp_practice and not o.list_size
            ),
            partner_count=len(p.organisations),
            lead=p.lead,
            lead_type=orgs[p.lead].type,
            legal_vehicle_type=orgs[p.legal_vehicle].type.value if p.legal_vehicle else "",
            care_category_count=len(p.care_categories) + len(p.pathways),
            has_implementation_date=p.implementation_date is not None,
            implementation_date=p.implementation_date,
            has_board=g.board is not None,
            has_clinical_lead=g.clinical_lead is not None,
            clinical_lead_name=g.clinical_lead.name if g.clinical_lead else "",
            clinical_lead_profession=g.clinical_lead.profession.value if g.clinical_lead else "",
            clinical_lead_organisation=g.clinical_lead.organisation if g.clinical_lead else "",
            has_dispute_procedure=g.dispute_resolution is not None,
            has_risk_management=g.risk_management is not None,
            budget_model=g.budget.model.value if g.budget else "none",
            risk_sharing_party_count=len(partners.members["risk_sharing"]),
            has_independent_evaluation=bool(g.evaluation and g.evaluation.independent),
            evaluation_years=g.evaluation.years if g.evaluation else 0,
            data_submission_party_count=len(partners.members["data_submission"]),
            has_it_support=g.it_support is not None,
            has_patient_engagement_plan=g.patient_engagement is not None,
            has_patient_group=any(o.type is OrgType.patient_group for o in p.organisations),
            outcome_measure_count=len(g.outcome_measures),
            component_count=len(partners.components),
            provides_primary=Setting.primary in settings_provided,
            provides_community=Setting.community in settings_provided,
            provides_acute=Setting.acute in settings_provided,
            has_acute_trust=bool(acute_trusts),
            provides_mental_health=Setting.mental_health in settings_provided,
            provides_social_care=Setting.social_care in settings_provided,
            commissions_acute=any(
                SERVICE_LINES[s.value] is Setting.acute
                for o in p.organisations
                if o.type not in STATUTORY_COMMISSIONERS
                for s in o.commissions
            ),
            has_social_care_partner=any(
                o.type in (OrgType.local_authority, OrgType.care_trust) for o in p.organisations
            ),
            pct_area_count=sum(1 for n in partners.registered_population.values() if n > 0),
            has_lead_commissioner=g.lead_commissioner is not None,
            cross_boundary_agreement=_cross_boundary_agreement(partners),
            has_market_data=market_given,
        )
    ]

    for i, org in enumerate(p.organisations):
        provided = {s.value for s in org.provides}
        conflicted = sorted(provided & {s.value for s in org.commissions})
        facts.append(
            PartnerFact.trusted(
                id=org.id,
                path=f"organisations[{i}]",
                name=org.name,
                type=org.type,
                pct=org.pct or "",
                list_size=org.list_size or 0,
                is_practice=org.type is OrgType.gp_practice,
                is_lead=org.id == p.lead,
                provides_care=bool(provided),
                provides_acute=org.id in acute_partners,
                service_count=len(provided),
                agreement_count=len(partners.agreements_of[org.id]),
                on_board=partners.is_member("board", org.id),
                agreement_with_board_member=org.id in partners.tied_to_board,
                in_dispute_procedure=partners.is_member("dispute_resolution", org.id),
                in_information_sharing=partners.is_member("information_sharing", org.id),
                in_data_submission=partners.is_member("data_submission", org.id),
                in_risk_sharing=partners.is_member("risk_sharing", org.id),
                has_conflict_cover=partners.is_member("conflict_of_interest", org.id),
                commissions_and_provides=bool(conflicted),
                conflicted_services=", ".join(conflicted),
                in_lead_component=partners.component_of[org.id] == lead_component,
            )
        )

    for i, agreement in enumerate(p.agreements):
        services = sorted({s.value for s in agreement.services})
        unsafeguarded = [s for s in services if s not in safeguards]
        facts.append(
            AgreementFact.trusted(
                id=agreement.id,
                path=f"agreements[{i}]",
                type=agreement.type,
                party_count=len(set(agreement.parties)),
                parties=", ".join(agreement.parties),
                services=", ".join(services),
                exclusive_referral=agreement.exclusive_referral,
                unsafeguarded_services=", ".join(unsafeguarded),
                unsafeguarded_count=len(unsafeguarded),
                involves_acute=any(party in acute_trusts for party in agreement.parties),
                involves_practice=any(
                    orgs[party].type is OrgType.gp_practice for party in agreement.parties
                ),
            )
        )

    for i, area in enumerate(p.pct_areas):
        registered = partners.registered_population.get(area.code, 0)
        facts.append(
            PctAreaFact.trusted(
                id=area.code,
                path=f"pct_areas[{i}]",
                name=area.name,
                population=area.population,
                registered_population=registered,
                population_share=registered / area.population,
                practice_count=partners.practices_in.get(area.code, 0),
                commissioner=area.commissioner or "",
                has_commissioner=area.commissioner is not None,
                supports_bid=area.commissioner is not None and area.supports_bid,
                **_area_market_fields(partners, area.code),
            )
        )

    providers: dict[str, list[str]] = {}
    for org in p.organisations:
        for s in org.provides:
            providers.setdefault(s.value, []).append(org.id)
    covered = _covered_areas(partners)
    where = {o.id: o.pct for o in p.organisations}
    for service in sorted(providers):
        facts.append(
            ServiceLineFact.trusted(
                id=service,
                path=safeguard_paths.get(service, "choice_safeguards"),
                setting=SERVICE_LINES[service],
                provider_count=len(providers[service]),
                providers=", ".join(providers[service]),
                has_choice_safeguard=service in safeguards,
                safeguard_mechanisms=", ".join(sorted(set(safeguards.get(service, [])))),
                # Known only where the market file lists an area the service is provided in.
                has_market_data=any(
                    where[o] in covered if where[o] else bool(covered) for o in providers[service]
                ),
                outside_providers_nearby=partners.outside_nearby.get(service, 0),
            )
        )

    area_names = {a.code: a.name for a in p.pct_areas}
    first_provider = {}
    for i, org in reversed(list(enumerate(p.organisations))):
        for s in org.provides:
            first_provider[s.value] = f"organisations[{i}]"
    for (area_code, service), m in partners.markets.items():
        c = m.concentration
        facts.append(
            MarketFact.trusted(
                id=f"{area_code}/{service}",
                path=first_provider.get(service, ""),
                name=f"{service} in {area_names.get(area_code, area_code)}",
                pct=area_code,
                pct_name=area_names.get(area_code, area_code),
                service=service,
                setting=SERVICE_LINES[service],
                provider_count=len(m.partners) + len(m.outside),
                partner_count=len(m.partners),
                outside_count=len(m.outside),
                partners=", ".join(m.partners),
                partner_share=c.partner_share,
                share_basis=c.basis,
                hhi_pre=c.hhi_pre,
                hhi_post=c.hhi_post,
                hhi_delta=c.hhi_delta,
                alternative_nearby=m.alternative_nearby,
            )
        )
    return facts


def _covered_areas(partners: PartnerGraph) -> frozenset[str]:
    """The PCT areas the market file describes (none without one)."""
    if partners.market is None:
        return frozenset()
    return frozenset(a.code for a in partners.market.pct_areas)


def _area_market_fields(partners: PartnerGraph, code: str) -> dict[str, Any]:
    practices = partners.area_practices.get(code, frozenset())
    joined = partners.practices_in.get(code, 0)
    # The partners' own practices are always counted, so knowing the area needs the file to list it.
    known = code in _covered_areas(partners) and bool(practices)
    return {
        "has_market_data": known,
        "market_practice_count": len(practices),
        "partner_practice_share": joined / len(practices) if known else 0.0,
        "all_practices_joined": known and joined >= len(practices),
    }


def _cross_boundary_agreement(partners: PartnerGraph) -> bool:
    p = partners.proposal
    commissioners = {
        a.commissioner for a in p.pct_areas if partners.registered_population.get(a.code, 0) > 0
    }
    return any(
        agreement.type is AgreementType.cross_boundary_commissioning
        and None not in commissioners
        and commissioners <= set(agreement.parties)
        for agreement in p.agreements
    )
