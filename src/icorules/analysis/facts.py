"""The rule vocabulary: flat, typed facts derived from the partner graph (the schema only).

Rules never see the proposal or the graph, only these facts. Each kind is a pydantic model, so
the ruleset loader can check every field a condition names, and `docs/facts.md` is generated
from the same definitions. Absent values are written as "" or 0 with a `has_*` flag beside them,
because the engine treats a comparison on a missing field as false.

This module declares the kinds and how the engine sees their values; it imports no part of the
proposal, market or graph, so rule tooling can read the vocabulary alone. Working out the facts
of a check is icorules.analysis.derive.
"""

import datetime as dt
import enum
import functools
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from icorules.analysis.fact_base import META_FIELDS as META_FIELDS
from icorules.analysis.fact_base import Fact as Fact
from icorules.inputs.codes import (
    AgreementType,
    OrgType,
    Setting,
)


class ProposalFact(Fact):
    """The bid as a whole (one per check)."""

    kind: ClassVar[str] = "proposal"
    name: str = Field(description="Name of the pilot.")
    population_basis: Literal["registered_list", "geographic"] = Field(
        description="How the pilot's population is defined."
    )
    registered_population: int = Field(description="Sum of partner practices' list sizes.")
    practice_count: int = Field(description="Number of partner GP practices.")
    practices_without_list: int = Field(
        description="Partner GP practices that give no list size, or zero."
    )
    partner_count: int = Field(description="Number of partner organisations.")
    lead: str = Field(description="Id of the lead organisation.")
    lead_type: OrgType = Field(description="Type of the lead organisation.")
    legal_vehicle_type: str = Field(description="Type of the legal vehicle, or '' if none.")
    care_category_count: int = Field(description="Care categories plus named pathways.")
    has_implementation_date: bool = Field(description="An earliest implementation date is given.")
    implementation_date: dt.date | None = Field(description="Earliest implementation date.")
    has_board: bool = Field(description="A governance board is described.")
    has_clinical_lead: bool = Field(description="A clinical lead is named.")
    clinical_lead_name: str = Field(description="The clinical lead's name, or ''.")
    clinical_lead_profession: str = Field(description="The clinical lead's profession, or ''.")
    clinical_lead_organisation: str = Field(description="The clinical lead's organisation, or ''.")
    has_dispute_procedure: bool = Field(description="A dispute-resolution procedure is stated.")
    has_risk_management: bool = Field(description="Risk management arrangements are stated.")
    budget_model: Literal["indicative_pbc", "pooled", "hard", "none"] = Field(
        description="The budget model, or 'none' if not stated."
    )
    risk_sharing_party_count: int = Field(
        description="Partners named in the risk-sharing agreement."
    )
    has_independent_evaluation: bool = Field(description="Commits to the independent evaluation.")
    evaluation_years: int = Field(description="Years of evaluation committed to (0 if none).")
    data_submission_party_count: int = Field(description="Partners that will submit data.")
    has_it_support: bool = Field(description="IT support is stated.")
    has_patient_engagement_plan: bool = Field(description="A patient-engagement plan is stated.")
    has_patient_group: bool = Field(description="A patient group is a partner.")
    outcome_measure_count: int = Field(description="Number of outcome measures stated.")
    component_count: int = Field(
        description="Groups of partners connected by agreements (1 means one connected whole)."
    )
    provides_primary: bool = Field(description="A partner provides a primary-care service line.")
    provides_community: bool = Field(description="A partner provides a community service line.")
    provides_acute: bool = Field(description="A partner provides an acute service line.")
    has_acute_trust: bool = Field(
        description="An NHS trust or foundation trust partner provides acute services."
    )
    provides_mental_health: bool = Field(description="A partner provides mental-health services.")
    provides_social_care: bool = Field(description="A partner provides social care.")
    commissions_acute: bool = Field(
        description="The pilot itself commissions an acute service line: a partner other than a "
        "PCT or care trust (the statutory commissioners) commissions it."
    )
    has_social_care_partner: bool = Field(
        description="A local authority or care trust is a partner."
    )
    pct_area_count: int = Field(description="PCT areas in which the registered population lives.")
    has_lead_commissioner: bool = Field(description="A lead commissioner is named.")
    cross_boundary_agreement: bool = Field(
        description="A cross_boundary_commissioning agreement binds the commissioners of every "
        "PCT area the registered population lives in."
    )
    has_market_data: bool = Field(description="A market context file was given.")
    format_version: int = Field(description="The proposal format the bid is written in (1 or 2).")
    stakeholder_count: int = Field(description="Named organisations that are not partners.")
    has_budget_amount: bool = Field(description="The budget's amount is stated.")
    budget_gbp: float = Field(description="The budget's amount in pounds (0 if not stated).")
    budget_holder_type: str = Field(
        description="Type of the partner that holds the budget, or '' if none is named."
    )
    risk_shares_stated: int = Field(
        description="Risk-sharing parties with a share stated (all of them when risk follows "
        "contributions that are all stated)."
    )
    risk_share_total: float = Field(description="The stated risk shares added up, in percent.")
    risk_parties_without_share: str = Field(
        description="Risk-sharing parties with no share stated, comma-separated."
    )
    section_75_missing_for: Literal["", "local_authority", "care_trust"] = Field(
        description="A pooled budget's party that would need a section 75 agreement with an NHS "
        "body of the pool and has none: 'local_authority' if a council lacks one, else "
        "'care_trust' if a care trust (with another NHS body in the pool) lacks one, else ''."
    )
    pool_uncovered: str = Field(
        description="The parties of the pool that no section 75 agreement covers, comma-separated."
    )


class PartnerFact(Fact):
    """One partner organisation."""

    kind: ClassVar[str] = "partner"
    name: str = Field(description="Organisation name.")
    type: OrgType = Field(description="Organisation type.")
    pct: str = Field(description="PCT area code, or ''.")
    list_size: int = Field(description="Registered list size (0 unless a practice gives one).")
    is_practice: bool = Field(description="The partner is a GP practice.")
    is_lead: bool = Field(description="The partner leads the bid.")
    provides_care: bool = Field(description="The partner provides at least one service line.")
    provides_acute: bool = Field(description="The partner provides an acute service line.")
    service_count: int = Field(description="Service lines the partner provides.")
    agreement_count: int = Field(description="Agreements it is a party to.")
    on_board: bool = Field(description="Represented on the governance board.")
    agreement_with_board_member: bool = Field(
        description="Is party to an agreement that a board member is also party to."
    )
    in_dispute_procedure: bool = Field(description="Party to the dispute-resolution procedure.")
    in_information_sharing: bool = Field(description="Party to information sharing.")
    in_data_submission: bool = Field(description="Named to submit evaluation data.")
    in_risk_sharing: bool = Field(description="Named in the risk-sharing agreement.")
    has_conflict_cover: bool = Field(description="Covered by the conflict-of-interest arrangement.")
    commissions_and_provides: bool = Field(
        description="Commissions and provides at least one same service line."
    )
    conflicted_services: str = Field(description="Service lines it both commissions and provides.")
    in_lead_component: bool = Field(
        description="Connected to the lead organisation through agreements."
    )
    body: str = Field(
        description="Id of the body it belongs to: itself, or the organisation it is a unit of."
    )
    is_unit: bool = Field(description="It is a unit of another organisation (`part_of`).")
    body_is_partner: bool = Field(description="The body it belongs to is a partner.")
    ods_code: str = Field(description="Its ODS code, or ''.")
    has_risk_share: bool = Field(description="A share of the risk is stated for it.")
    risk_share: float = Field(description="Its share of the risk in percent (0 if none).")


class AgreementFact(Fact):
    """One agreement between partners."""

    kind: ClassVar[str] = "agreement"
    type: AgreementType = Field(description="Agreement type.")
    party_count: int = Field(description="Number of parties.")
    parties: str = Field(description="Party ids, comma-separated.")
    services: str = Field(description="Service lines covered, comma-separated.")
    exclusive_referral: bool = Field(description="Restricts referrals to partners only.")
    unsafeguarded_services: str = Field(
        description="Covered service lines with no choice safeguard, comma-separated."
    )
    unsafeguarded_count: int = Field(description="How many covered services lack a safeguard.")
    involves_acute: bool = Field(
        description="A party is an NHS or foundation trust that provides acute services."
    )
    involves_practice: bool = Field(description="A party is a GP practice.")
    status: Literal["signed", "in_principle", "draft", "not_stated"] = Field(
        description="How far the agreement has got."
    )
    stakeholder_count: int = Field(description="Parties that are stakeholders, not partners.")


class PctAreaFact(Fact):
    """One PCT area declared in the bid."""

    kind: ClassVar[str] = "pct_area"
    name: str = Field(description="PCT area name.")
    population: int = Field(description="The PCT's population.")
    registered_population: int = Field(description="The pilot's registered patients in this area.")
    population_share: float = Field(description="registered_population / population (0.6 is 60%).")
    practice_count: int = Field(description="Partner practices in this area.")
    commissioner: str = Field(description="Id of the commissioning PCT, or ''.")
    has_commissioner: bool = Field(description="A commissioning PCT is named.")
    supports_bid: bool = Field(
        description="The named commissioner supports the bid (commissioner_support is 'supports')."
    )
    has_market_data: bool = Field(description="The market context file lists this area.")
    market_practice_count: int = Field(
        description="GP practices in the area, partners or not (0 without market data)."
    )
    partner_practice_share: float = Field(
        description="Share of the area's GP practices that are partners (0 without market data)."
    )
    all_practices_joined: bool = Field(
        description="Every GP practice in the area is a partner (needs market data)."
    )
    commissioner_support: Literal["supports", "pending", "opposed", "none"] = Field(
        description="What the commissioner has said about the bid ('none': no commissioner)."
    )
    commissioner_is_partner: bool = Field(description="The commissioner is a partner.")
    has_stated_practice_count: bool = Field(
        description="The bid states how many GP practices the area has (practice_count)."
    )
    stated_practice_count: int = Field(
        description="The GP practices the bid says the area has, partners or not (0 if not stated)."
    )


class ServiceLineFact(Fact):
    """One service line that partners provide within the pilot."""

    kind: ClassVar[str] = "service_line"
    setting: Setting = Field(description="Care setting of the service line.")
    provider_count: int = Field(description="Partners that provide it.")
    providers: str = Field(description="Ids of partners that provide it, comma-separated.")
    has_choice_safeguard: bool = Field(
        description="A choice safeguard covers it: the whole line, or each specialty of it the "
        "partners provide."
    )
    unsafeguarded_specialties: str = Field(
        description="Its specialties (line/specialty) no safeguard covers, comma-separated."
    )
    safeguard_mechanisms: str = Field(description="Safeguard mechanisms, comma-separated.")
    has_market_data: bool = Field(
        description="The market context file lists a PCT area where a partner provides it."
    )
    outside_providers_nearby: int = Field(
        description="Non-partner providers of it in the pilot's PCT areas or adjacent ones "
        "(0 without market data)."
    )


class MarketFact(Fact):
    """One market: a service line in a PCT area that partners provide. Needs --market."""

    kind: ClassVar[str] = "market"
    name: str = Field(description="'<service> in <PCT area name>'.")
    pct: str = Field(description="PCT area code.")
    pct_name: str = Field(description="PCT area name.")
    service: str = Field(description="Service line.")
    setting: Setting = Field(description="Care setting of the service line.")
    provider_count: int = Field(description="All providers in this market.")
    partner_count: int = Field(
        description="Partner bodies among them: a unit (a PCT's provider arm) and the "
        "organisation it is part of count once."
    )
    outside_count: int = Field(description="Providers in this market that are not partners.")
    partners: str = Field(description="Partner ids in this market, comma-separated.")
    partner_share: float = Field(description="The partners' combined share of supply (0-1).")
    share_basis: Literal["size", "count"] = Field(
        description="'size' if every provider has a size, else shares are by head count."
    )
    hhi_pre: float = Field(description="HHI before the pilot (0-10000).")
    hhi_post: float = Field(description="HHI treating all partners as one provider.")
    hhi_delta: float = Field(description="hhi_post - hhi_pre.")
    alternative_nearby: bool = Field(
        description="A non-partner provides it in this area or an adjacent one."
    )
    pilot_share: float = Field(
        description="The partners' own share of supply (0-1): a unit's own size, not its "
        "body's; equal to partner_share where the bid gives no unit its own size."
    )


class CommitmentFact(Fact):
    """A written commitment the bid states: each agreement, and each governance arrangement
    (dispute resolution, conflict of interest, information sharing, risk sharing, data
    submission)."""

    kind: ClassVar[str] = "commitment"
    source: Literal["agreement", "arrangement"] = Field(description="What it is in the bid.")
    type: str = Field(
        description="The agreement's type, or the arrangement: dispute_resolution, "
        "conflict_of_interest, information_sharing, risk_sharing or data_submission."
    )
    status: Literal["signed", "in_principle", "draft", "not_stated"] = Field(
        description="How far it has got (an arrangement carried by an agreement and stating "
        "none has the agreement's)."
    )
    has_sign_by: bool = Field(description="A draft gives the date it is to be signed by.")
    sign_by: dt.date | None = Field(description="The date a draft is to be signed by.")
    in_time: bool = Field(
        description="Signed or agreed in principle, or a draft to be signed on or before the "
        "implementation date."
    )
    timing: str = Field(description="When it is to be signed, in words, for messages.")


class ClassificationFact(Fact):
    """Derived by rules: what model of integration the pilot follows."""

    kind: ClassVar[str] = "classification"
    derived: ClassVar[bool] = True
    name: str = Field(description="'horizontal', 'vertical', 'hmo', 'social_enterprise', ...")


_FACT_CLASSES: tuple[type[Fact], ...] = (
    ProposalFact,
    PartnerFact,
    AgreementFact,
    PctAreaFact,
    ServiceLineFact,
    MarketFact,
    CommitmentFact,
    ClassificationFact,
)
FACT_KINDS: dict[str, type[Fact]] = {cls.kind: cls for cls in _FACT_CLASSES}


@dataclass(frozen=True)
class FieldType:
    """What the rule compiler needs to know about a fact field."""

    base: type  # bool, int, float, str or dt.date
    choices: tuple[str, ...] = ()
    nullable: bool = False

    @property
    def label(self) -> str:
        if self.choices:
            return f"text (one of: {', '.join(self.choices)})"
        return {
            bool: "true/false",
            int: "whole number",
            float: "number",
            str: "text",
            dt.date: "date",
        }[self.base]


def field_types(kind: str) -> dict[str, FieldType]:
    """The fields a rule may read on a fact kind (a fresh dict: callers may change it)."""
    return dict(_field_types(kind))


@functools.cache
def _field_types(kind: str) -> dict[str, FieldType]:
    """Worked out once per kind (the loader asks once per rule), from the annotations pydantic
    has already resolved: typing.get_type_hints would compile every annotation string again
    (~2 ms at the start of every check)."""
    fields = FACT_KINDS[kind].model_fields
    return {
        name: _field_type(info.annotation)
        for name, info in fields.items()
        if name not in META_FIELDS
    }


def _field_type(annotation: Any) -> FieldType:
    args = typing.get_args(annotation)
    nullable = type(None) in args
    if nullable:
        annotation = next(a for a in args if a is not type(None))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return FieldType(str, tuple(m.value for m in annotation), nullable)
    if typing.get_origin(annotation) is Literal:
        return FieldType(str, tuple(str(a) for a in typing.get_args(annotation)), nullable)
    return FieldType(annotation, (), nullable)


def fact_catalogue_markdown() -> str:
    """The generated reference page `docs/facts.md`."""
    lines = [
        "# Fact catalogue",
        "",
        "<!-- Generated by `icorules facts --format markdown`; do not edit by hand. -->",
        "",
        "Rules read facts, never the proposal itself. Each fact has a *kind*; a rule names the",
        "kind it is about (`fact: partner`) and its condition may use the fields listed here.",
        "Every fact also has `id`, the id of its subject (an organisation id, agreement id,",
        "PCT code, service line or, for `proposal`, the bid's id).",
        "",
    ]
    for kind, cls in FACT_KINDS.items():
        lines += [f"## `{kind}`", "", (cls.__doc__ or "").strip()]
        if cls.derived:
            lines += ["", "Only rules create these facts (with `derive:`)."]
        lines += ["", "| field | type | meaning |", "|---|---|---|"]
        types = field_types(kind)
        for name, info in cls.model_fields.items():
            if name in META_FIELDS:
                continue
            label = types[name].label + (" or absent" if types[name].nullable else "")
            lines.append(f"| `{name}` | {label} | {info.description or ''} |")
        lines.append("")
    return "\n".join(lines)
