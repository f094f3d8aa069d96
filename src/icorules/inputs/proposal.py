"""The proposal format: pydantic models that validate a bid and export its JSON Schema.

The model says what a bid *is*; whether a bid is *eligible* is for the rulesets. So the model
accepts things the prospectus rules out (an organisation type that may not take part, a
geographic population basis) and leaves the rules to report them with a citation.

Format 2 (`icorules/proposal/2`) is what a bid is written in now; format 1 files (the `format`
line `icorules/proposal/1`, or none) still load, into the same model: they cannot use the
fields format 2 added, and their `supports_bid: true` means `commissioner_support: supports`.
`icorules upgrade` rewrites them (icorules.inputs.upgrade).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final, Literal

from pydantic import (
    Field,
    ValidationError,
)

from icorules.errors import InputError
from icorules.inputs.codes import (
    MAX_LIST_SIZE,
    MAX_POPULATION,
    MAX_SIZE,
    MAX_YEARS,
    AgreementStatus,
    AgreementType,
    BudgetModel,
    CareCategory,
    ChoiceMechanism,
    Date,
    Name,
    OdsCode,
    OrgId,
    OrgType,
    PctCode,
    Profession,
    Role,
    ServiceLine,
    Specialty,
    SupportStatus,
    Text,
)
from icorules.inputs.documents import Document, check_data, load_document
from icorules.inputs.formats import FORMAT_1, FORMAT_2, format_problems
from icorules.inputs.kinds import refuse_other_kind
from icorules.inputs.proposal_checks import size_problems
from icorules.inputs.proposal_quick import cross_reference_problems
from icorules.inputs.services import (
    Provided,
    ProvidedService,
    Service,
    Strict,
    entries,
    lines,
)
from icorules.inputs.validation import located, pydantic_problems
from icorules.limits import DEFAULT_LIMITS, Limits
from icorules.memo import once

__all__ = ["FORMAT", "FORMAT_1", "FORMAT_2", "Proposal", "load_proposal", "read_proposal"]

FORMAT: Final = FORMAT_2  # what new files are written in


class Organisation(Strict):
    """A partner organisation in the bid."""

    id: OrgId
    name: Name
    type: OrgType
    type_description: Name | None = Field(None, description="What an 'other' type is.")
    part_of: OrgId | None = Field(
        None,
        description="The organisation (partner or stakeholder) this one is a unit of, such as "
        "a PCT's provider arm: not a separate body (format 2).",
    )
    ods_code: OdsCode | None = Field(None, description="Its NHS ODS code (format 2).")
    pct: PctCode | None = Field(None, description="PCT area the organisation sits in.")
    list_size: int | None = Field(
        None,
        strict=True,
        ge=0,
        le=MAX_LIST_SIZE,
        description="Registered list size (GP practices).",
    )
    provides: list[Provided] = Field(
        default_factory=list,
        description="Services it provides within the pilot: a service line, or (format 2) "
        "{service, specialty, size, size_measure}.",
    )
    commissions: list[Service] = Field(
        default_factory=list, description="Services it commissions within the pilot."
    )
    roles: list[Role] = Field(default_factory=list)

    # Worked out once (frozen model, icorules.memo): the facts read them ~250 times a check.
    @once
    def provided(self) -> tuple[ProvidedService, ...]:
        return entries(self.provides)

    @once
    def provided_lines(self) -> tuple[str, ...]:
        """The lines it provides, each once, in order (lines())."""
        return lines(self.provides)

    @once
    def commissioned_lines(self) -> tuple[str, ...]:
        return lines(self.commissions)


class Stakeholder(Strict):
    """A named organisation that is not a partner: a PCT that commissions for an area without
    joining, a neighbouring PCT whose board has not yet decided, a supporter (format 2)."""

    id: OrgId
    name: Name
    type: OrgType
    type_description: Name | None = None
    part_of: OrgId | None = None
    ods_code: OdsCode | None = None
    pct: PctCode | None = None
    status: SupportStatus = Field(description="What it has said about the bid.")
    statement: Text | None = Field(None, description="What it said and where.")
    date: Date | None = Field(None, description="The date of that statement.")


class Agreement(Strict):
    id: OrgId
    type: AgreementType
    parties: list[OrgId] = Field(min_length=2)
    services: list[Service] = Field(default_factory=list)
    exclusive_referral: bool = Field(
        False, description="Referrals for these services go to the agreement's parties only."
    )
    status: AgreementStatus | None = Field(
        None, description="signed, in_principle or draft (format 2); absent: not stated."
    )
    sign_by: Date | None = Field(None, description="When a draft is to be signed (format 2).")
    description: Text | None = None

    @once
    def service_entries(self) -> tuple[ProvidedService, ...]:
        return entries(self.services)


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


class Written(Strict):
    """What a written arrangement may say of itself (format 2)."""

    status: AgreementStatus | None = None
    sign_by: Date | None = None
    agreement: OrgId | None = Field(
        None, description="The agreement that carries this arrangement (format 2)."
    )


class Arrangement(Written):
    """A written arrangement that some partners are party to."""

    description: Text
    parties: list[OrgId] = Field(default_factory=list)


class RiskShare(Strict):
    party: OrgId
    percent: float = Field(ge=0, le=100, allow_inf_nan=False, multiple_of=0.01)


class RiskSharing(Written):
    description: Text | None = None
    parties: list[OrgId] = Field(default_factory=list)
    shares: list[RiskShare] = Field(
        default_factory=list, description="Each party's share of the risk, in % (format 2)."
    )
    basis: Literal["shares", "contributions"] | None = Field(
        None, description="Risk in the stated shares, or in proportion to contributions."
    )


class Amount(Strict):
    gbp: float = Field(ge=0, le=MAX_SIZE * 100, allow_inf_nan=False)
    period: Literal["annual", "pilot"]
    year: Name | None = Field(None, description="e.g. 2009/10")


class Contribution(Strict):
    party: OrgId
    gbp: float | None = Field(None, ge=0, le=MAX_SIZE * 100, allow_inf_nan=False)


class Budget(Strict):
    model: BudgetModel
    description: Text | None = None
    amount: Amount | None = Field(None, description="How much (format 2).")
    holder: OrgId | None = Field(None, description="The partner that holds it (format 2).")
    contributions: list[Contribution] = Field(
        default_factory=list, description="Who puts money into a pooled budget (format 2)."
    )
    risk_sharing: RiskSharing | None = None


class Evaluation(Written):
    independent: bool = Field(description="Commits to the national independent evaluation.")
    years: int = Field(ge=0, le=MAX_YEARS, strict=True)
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
    specialty: Specialty | None = Field(
        None, description="Only this specialty of the line (format 2); absent: the whole line."
    )
    mechanisms: list[ChoiceMechanism] = Field(min_length=1)
    description: Text


class PctArea(Strict):
    code: PctCode
    name: Name
    population: int = Field(gt=0, le=MAX_POPULATION, strict=True)
    commissioner: OrgId | None = Field(
        None, description="The PCT or care trust (partner or stakeholder) that commissions here."
    )
    commissioner_support: SupportStatus | None = Field(
        None,
        description="What the commissioner has said about the bid (format 2); absent: a "
        "stakeholder's status, or pending.",
    )
    practice_count: int | None = Field(
        None,
        strict=True,
        ge=1,
        le=2_000,
        description="GP practices in the area, partners or not (format 2).",
    )
    practice_count_source: Name | None = Field(None, description="Where that count comes from.")
    supports_bid: bool = Field(False, description="Format 1 only.")


class Proposal(Strict):
    """A bid to become an integrated care pilot."""

    format: Literal["icorules/proposal/1", "icorules/proposal/2"] = Field(
        FORMAT_1, description="The format version; a file without one is format 1."
    )
    id: OrgId
    name: Name
    description: Text | None = Field(
        None,
        description="What the bid is, for its readers: where its facts come from (format 2).",
    )
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
    stakeholders: list[Stakeholder] = Field(
        default_factory=list, description="Named organisations that are not partners (format 2)."
    )
    agreements: list[Agreement] = Field(default_factory=list)
    governance: Governance = Field(default_factory=Governance)
    choice_safeguards: list[ChoiceSafeguard] = Field(default_factory=list)

    def organisation(self, org_id: str) -> Organisation:
        return next(o for o in self.organisations if o.id == org_id)

    @property
    def format_version(self) -> int:
        return 2 if self.format == FORMAT_2 else 1

    def everyone(self) -> tuple[Organisation | Stakeholder, ...]:
        """Partners, then stakeholders: every organisation the bid names."""
        found: tuple[Organisation | Stakeholder, ...] = self._everyone
        return found

    # Made once (frozen model): the graph and the markets go through it ~8 times a check, and
    # as a generator it was ~130 resumptions of Python code per batch bid.
    @once
    def _everyone(self) -> tuple[Organisation | Stakeholder, ...]:
        return (*self.organisations, *self.stakeholders)


def parse_proposal(
    data: Any, document: Document | None = None, limits: Limits = DEFAULT_LIMITS
) -> Proposal:
    """Validate parsed data as a proposal; every problem is reported, each with its path."""
    name = document.name if document else "<proposal>"
    if not isinstance(data, dict):
        message = "a proposal is a JSON/YAML object (a mapping of fields)"
        raise InputError([located(document, name, (), message)])
    refuse_other_kind(data, "proposal", document, name)
    if too_many := size_problems(data, limits):
        raise InputError([located(document, name, loc, m) for loc, m in too_many])
    found = format_problems(data) + cross_reference_problems(data, _FIELDS)
    problems = [located(document, name, loc, m) for loc, m in found]
    try:
        proposal = Proposal.model_validate(data)
    except ValidationError as exc:
        problems = pydantic_problems(exc, Proposal, document, name) + problems
    if problems:
        raise InputError(problems)
    return proposal


# The fields of the models the cross-reference checks look misspellings up in.
_FIELDS = {"organisation": tuple(Organisation.model_fields)}


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
        data = source.model_dump(mode="json")
        refs = size_problems(data, limits) or cross_reference_problems(data, _FIELDS)
        if refs:
            raise InputError([located(None, "<proposal>", loc, m) for loc, m in refs])
        return source, None
    if isinstance(source, dict):
        check_data(source, "<proposal>", limits)
        return parse_proposal(source, None, limits), None
    document = source if isinstance(source, Document) else load_document(source, limits=limits)
    return parse_proposal(document.data, document, limits), document
