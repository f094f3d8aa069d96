"""The proposal format: pydantic models that validate a bid and export its JSON Schema.

The model says what a bid *is*; whether a bid is *eligible* is for the rulesets. So the model
accepts things the prospectus rules out (an organisation type that may not take part, a
geographic population basis) and leaves the rules to report them with a citation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)

from icorules.errors import InputError, did_you_mean
from icorules.inputs.codes import (
    AgreementType,
    BudgetModel,
    CareCategory,
    ChoiceMechanism,
    Date,
    Name,
    OrgId,
    OrgType,
    PctCode,
    Profession,
    Role,
    ServiceLine,
    Text,
)
from icorules.inputs.documents import Document, Loc, check_data, load_document
from icorules.inputs.validation import located, pydantic_problems
from icorules.limits import DEFAULT_LIMITS, Limits

FORMAT: Final = "icorules/proposal/1"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Organisation(Strict):
    """A partner organisation in the bid."""

    id: OrgId
    name: Name
    type: OrgType
    type_description: Name | None = Field(None, description="What an 'other' type is.")
    pct: PctCode | None = Field(None, description="PCT area the organisation sits in.")
    list_size: int | None = Field(
        None, strict=True, ge=0, le=2_000_000, description="Registered list size (GP practices)."
    )
    provides: list[ServiceLine] = Field(
        default_factory=list, description="Service lines it provides within the pilot."
    )
    commissions: list[ServiceLine] = Field(
        default_factory=list, description="Service lines it commissions within the pilot."
    )
    roles: list[Role] = Field(default_factory=list)


class Agreement(Strict):
    id: OrgId
    type: AgreementType
    parties: list[OrgId] = Field(min_length=2)
    services: list[ServiceLine] = Field(default_factory=list)
    exclusive_referral: bool = Field(
        False, description="Referrals for these services go to partners only."
    )
    description: Text | None = None


class BoardMember(Strict):
    organisation: OrgId
    name: Name | None = None
    role: Name | None = None


class Board(Strict):
    name: Name | None = None
    members: list[BoardMember] = Field(min_length=1)


class ClinicalLead(Strict):
    name: Name
    organisation: OrgId
    profession: Profession


class Arrangement(Strict):
    """A written arrangement that some partners are party to."""

    description: Text
    parties: list[OrgId] = Field(default_factory=list)


class RiskSharing(Strict):
    description: Text | None = None
    parties: list[OrgId] = Field(min_length=1)


class Budget(Strict):
    model: BudgetModel
    description: Text | None = None
    risk_sharing: RiskSharing | None = None


class Evaluation(Strict):
    independent: bool = Field(description="Commits to the national independent evaluation.")
    years: int = Field(ge=0, le=20, strict=True)
    data_submission_parties: list[OrgId] = Field(default_factory=list)


class Governance(Strict):
    board: Board | None = None
    clinical_lead: ClinicalLead | None = None
    dispute_resolution: Arrangement | None = None
    risk_management: Text | None = None
    budget: Budget | None = None
    conflict_of_interest: Arrangement | None = None
    information_sharing: Arrangement | None = None
    it_support: Text | None = None
    patient_engagement: Text | None = None
    evaluation: Evaluation | None = None
    outcome_measures: list[Name] = Field(default_factory=list)
    lead_commissioner: OrgId | None = Field(
        None, description="The PCT that leads commissioning where several are involved."
    )


class ChoiceSafeguard(Strict):
    service: ServiceLine
    mechanisms: list[ChoiceMechanism] = Field(min_length=1)
    description: Text


class PctArea(Strict):
    code: PctCode
    name: Name
    population: int = Field(gt=0, le=20_000_000, strict=True)
    commissioner: OrgId | None = Field(
        None, description="The PCT (partner organisation) that commissions for this area."
    )
    supports_bid: bool = False


class Proposal(Strict):
    """A bid to become an integrated care pilot."""

    format: Literal["icorules/proposal/1"] = FORMAT
    id: OrgId
    name: Name
    lead: OrgId = Field(description="Id of the lead organisation.")
    legal_vehicle: OrgId | None = Field(
        None, description="Organisation that is the pilot's legal vehicle, if any."
    )
    population_basis: Literal["registered_list", "geographic"]
    implementation_date: Date | None = None
    care_categories: list[CareCategory] = Field(default_factory=list)
    pathways: list[Name] = Field(
        default_factory=list, description="Other named care pathways (e.g. COPD, diabetes)."
    )
    pct_areas: list[PctArea] = Field(min_length=1)
    organisations: list[Organisation] = Field(min_length=1)
    agreements: list[Agreement] = Field(default_factory=list)
    governance: Governance = Field(default_factory=Governance)
    choice_safeguards: list[ChoiceSafeguard] = Field(default_factory=list)

    def organisation(self, org_id: str) -> Organisation:
        return next(o for o in self.organisations if o.id == org_id)


def link_problems(proposal: Proposal) -> list[tuple[Loc, str]]:
    """Cross-references that JSON Schema cannot express: ids must exist and be unique."""
    problems: list[tuple[Loc, str]] = []
    ids: dict[str, int] = {}
    for i, org in enumerate(proposal.organisations):
        if org.id in ids:
            problems.append(
                (
                    ("organisations", i, "id"),
                    f"organisation id '{org.id}' is used twice"
                    f" (first at organisations[{ids[org.id]}])",
                )
            )
        ids.setdefault(org.id, i)
    pct_codes: dict[str, int] = {}
    for i, area in enumerate(proposal.pct_areas):
        if area.code in pct_codes:
            problems.append((("pct_areas", i, "code"), f"PCT area '{area.code}' is listed twice"))
        pct_codes.setdefault(area.code, i)
    agreement_ids: set[str] = set()
    for i, agreement in enumerate(proposal.agreements):
        if agreement.id in agreement_ids:
            problems.append(
                (("agreements", i, "id"), f"agreement id '{agreement.id}' is used twice")
            )
        agreement_ids.add(agreement.id)

    hints = 20  # suggestions cost a comparison with every id: offer them for the first few
    for loc, ref in _org_references(proposal):
        if ref not in ids:
            hint = did_you_mean(ref, ids) if hints > 0 else ""
            hints -= 1
            problems.append((loc, f"unknown organisation id '{ref}'{hint}"))
    for i, org in enumerate(proposal.organisations):
        if org.pct is not None and org.pct not in pct_codes:
            problems.append(
                (
                    ("organisations", i, "pct"),
                    f"PCT area '{org.pct}' is not declared in pct_areas"
                    f"{did_you_mean(org.pct, pct_codes) or _declared(pct_codes)}",
                )
            )
        if org.type is OrgType.gp_practice and org.pct is None:
            problems.append((("organisations", i), "a GP practice needs its 'pct' area"))
        if org.type is OrgType.other and org.type_description is None:
            problems.append(
                (
                    ("organisations", i, "type_description"),
                    "say what the organisation is when its type is 'other'",
                )
            )
    for i, area in enumerate(proposal.pct_areas):
        if area.commissioner in ids:
            org = proposal.organisations[ids[area.commissioner]]
            if org.type not in (OrgType.pct, OrgType.care_trust):
                problems.append(
                    (
                        ("pct_areas", i, "commissioner"),
                        f"'{org.id}' is a {org.type.value};"
                        " an area's commissioner is a PCT or care trust",
                    )
                )
    for i, agreement in enumerate(proposal.agreements):
        if len(set(agreement.parties)) < 2:
            problems.append(
                (("agreements", i, "parties"), "an agreement needs two different parties")
            )
    return problems


def _declared(codes: dict[str, int]) -> str:
    return f" (declared: {', '.join(sorted(codes))})"


def _org_references(p: Proposal) -> Iterator[tuple[Loc, str]]:
    yield ("lead",), p.lead
    if p.legal_vehicle is not None:
        yield ("legal_vehicle",), p.legal_vehicle
    for i, area in enumerate(p.pct_areas):
        if area.commissioner is not None:
            yield ("pct_areas", i, "commissioner"), area.commissioner
    for i, agreement in enumerate(p.agreements):
        for j, party in enumerate(agreement.parties):
            yield ("agreements", i, "parties", j), party
    g = p.governance
    if g.board is not None:
        for i, member in enumerate(g.board.members):
            yield ("governance", "board", "members", i, "organisation"), member.organisation
    if g.clinical_lead is not None:
        yield ("governance", "clinical_lead", "organisation"), g.clinical_lead.organisation
    if g.lead_commissioner is not None:
        yield ("governance", "lead_commissioner"), g.lead_commissioner
    for field in ("dispute_resolution", "conflict_of_interest", "information_sharing"):
        arrangement = getattr(g, field)
        if arrangement is not None:
            for i, party in enumerate(arrangement.parties):
                yield ("governance", field, "parties", i), party
    if g.budget is not None and g.budget.risk_sharing is not None:
        for i, party in enumerate(g.budget.risk_sharing.parties):
            yield ("governance", "budget", "risk_sharing", "parties", i), party
    if g.evaluation is not None:
        for i, party in enumerate(g.evaluation.data_submission_parties):
            yield ("governance", "evaluation", "data_submission_parties", i), party


def parse_proposal(
    data: Any, document: Document | None = None, limits: Limits = DEFAULT_LIMITS
) -> Proposal:
    """Validate parsed data as a proposal; every problem is reported, each with its path."""
    name = document.name if document else "<proposal>"
    if not isinstance(data, dict):
        message = "a proposal is a JSON/YAML object (a mapping of fields)"
        raise InputError([located(document, name, (), message)])
    organisations = data.get("organisations")
    if isinstance(organisations, list) and len(organisations) > limits.organisations:
        # Checked before validating them: validation, graph and facts grow with their number.
        found = f"the proposal lists {len(organisations):,} organisations"
        message = limits.exceeded("organisations", found)
        raise InputError([located(document, name, ("organisations",), message)])
    try:
        proposal = Proposal.model_validate(data)
    except ValidationError as exc:
        raise InputError(pydantic_problems(exc, Proposal, document, name)) from None
    refs = link_problems(proposal)
    if refs:
        raise InputError([located(document, name, loc, msg) for loc, msg in refs])
    return proposal


def load_proposal(
    source: str | Path | dict[str, Any] | Proposal, *, limits: Limits = DEFAULT_LIMITS
) -> Proposal:
    """A proposal from a file path (JSON or YAML), a dict, or an existing model."""
    return read_proposal(source, limits=limits)[0]


def read_proposal(
    source: str | Path | dict[str, Any] | Proposal | Document, *, limits: Limits = DEFAULT_LIMITS
) -> tuple[Proposal, Document | None]:
    """The proposal, and the document it was read from (None for a dict or model): what
    says where each part of it sits in the file. A Document is text already read (standard
    input, a web request)."""
    if isinstance(source, Proposal):
        if len(source.organisations) > limits.organisations:
            found = f"the proposal lists {len(source.organisations):,} organisations"
            message = limits.exceeded("organisations", found)
            raise InputError([located(None, "<proposal>", ("organisations",), message)])
        refs = link_problems(source)
        if refs:
            raise InputError([located(None, "<proposal>", loc, m) for loc, m in refs])
        return source, None
    if isinstance(source, dict):
        check_data(source, "<proposal>", limits)
        return parse_proposal(source, None, limits), None
    document = source if isinstance(source, Document) else load_document(source, limits=limits)
    return parse_proposal(document.data, document, limits), document


def proposal_schema() -> dict[str, Any]:
    schema = Proposal.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"icorules proposal ({FORMAT})"
    return schema
