"""The proposal format: pydantic models that validate a bid and export its JSON Schema.

The model says what a bid *is*; whether a bid is *eligible* is for the rulesets. So the model
accepts things the prospectus rules out (an organisation type that may not take part, a
geographic population basis) and leaves the rules to report them with a citation.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)

from icorules.errors import InputError
from icorules.inputs.codes import (
    MAX_LIST_SIZE,
    MAX_POPULATION,
    MAX_YEARS,
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
    is_org_id,
    is_pct_code,
)
from icorules.inputs.documents import Document, Loc, check_data, load_document
from icorules.inputs.kinds import refuse_other_kind
from icorules.inputs.references import (
    NOT_DECLARED,
    LocatedMessage,
    check_references,
    declared,
    items_of,
    list_at,
    value_at,
)
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
        None,
        strict=True,
        ge=0,
        le=MAX_LIST_SIZE,
        description="Registered list size (GP practices).",
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
    mechanisms: list[ChoiceMechanism] = Field(min_length=1)
    description: Text


class PctArea(Strict):
    code: PctCode
    name: Name
    population: int = Field(gt=0, le=MAX_POPULATION, strict=True)
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


def size_problems(data: Any, limits: Limits = DEFAULT_LIMITS) -> list[LocatedMessage]:
    """The lists over their limits, checked before validation: validation, the graph, the facts
    and the engine's work all grow with them, so a legal but enormous bid is refused at once."""
    problems: list[LocatedMessage] = []

    def count(loc: Loc, limit: str, found: str) -> None:
        items = value_at(data, *loc)
        if isinstance(items, list) and len(items) > getattr(limits, limit):
            problems.append((loc, limits.exceeded(limit, found.format(f"{len(items):,}"))))

    count(("organisations",), "organisations", "the proposal lists {} organisations")
    count(("agreements",), "agreements", "the proposal lists {} agreements")
    count(("governance", "board", "members"), "board_members", "the board lists {} members")
    for i, _ in items_of(data, "agreements"):
        count(("agreements", i, "parties"), "parties", "the agreement lists {} parties")
    for loc in _PARTY_LISTS:
        count(loc, "parties", "the arrangement lists {} parties")
    return problems


_PARTY_LISTS: tuple[Loc, ...] = (
    ("governance", "dispute_resolution", "parties"),
    ("governance", "conflict_of_interest", "parties"),
    ("governance", "information_sharing", "parties"),
    ("governance", "budget", "risk_sharing", "parties"),
    ("governance", "evaluation", "data_submission_parties"),
)


def reference_problems(data: Any) -> list[LocatedMessage]:
    """Cross-references that JSON Schema cannot express: ids are unique and exist, areas are
    declared, and a few fields that depend on others.

    Read from the parsed data, not the model, so they are reported together with the schema's
    problems: a part is checked wherever what it refers to is itself valid (see
    icorules.inputs.references), whether or not the rest of the bid is.
    """
    if not isinstance(data, dict):
        return []
    orgs, problems = declared(
        data.get("organisations"), ("organisations",), "id", *_ORG, required=True
    )
    areas, repeated = declared(
        data.get("pct_areas"),
        ("pct_areas",),
        "code",
        *_PCT,
        required=True,
        unknown_phrase=NOT_DECLARED,
    )
    problems += repeated
    problems += declared(data.get("agreements"), ("agreements",), "id", *_AGREEMENT)[1]
    problems += check_references(orgs, _org_references(data), is_org_id)
    problems += check_references(
        areas,
        (
            (("organisations", i, "pct"), org.get("pct"))
            for i, org in items_of(data, "organisations")
        ),
        is_pct_code,
    )
    types = _org_types(data)
    for i, org in items_of(data, "organisations"):
        slips = _misspelt(org, Organisation)  # reported as unknown fields: not also as missing
        if org.get("type") == OrgType.gp_practice and org.get("pct") is None and "pct" not in slips:
            problems.append((("organisations", i), "a GP practice needs its 'pct' area"))
        if (
            org.get("type") == OrgType.other
            and org.get("type_description") is None
            and "type_description" not in slips
        ):
            problems.append(
                (
                    ("organisations", i, "type_description"),
                    "say what the organisation is when its type is 'other'",
                )
            )
    for i, area in items_of(data, "pct_areas"):
        commissioner = area.get("commissioner")
        kind = types.get(commissioner) if is_org_id(commissioner) else None
        if kind is not None and kind not in (OrgType.pct, OrgType.care_trust):
            problems.append(
                (
                    ("pct_areas", i, "commissioner"),
                    f"'{commissioner}' is a {kind.value};"
                    " an area's commissioner is a PCT or care trust",
                )
            )
    for i, agreement in items_of(data, "agreements"):
        parties = agreement.get("parties")
        if (
            isinstance(parties, list)
            and len(parties) >= 2
            and all(is_org_id(p) for p in parties)
            and len(set(parties)) < 2
        ):
            problems.append(
                (("agreements", i, "parties"), "an agreement needs two different parties")
            )
    return problems


_ORG = ("organisation id", is_org_id)
_PCT = ("PCT area", is_pct_code)
_AGREEMENT = ("agreement id", is_org_id)
_ARRANGEMENTS = ("dispute_resolution", "conflict_of_interest", "information_sharing")


def _misspelt(item: dict[str, Any], model: type[BaseModel]) -> set[str]:
    """The fields of `model` that unknown keys of `item` look like misspellings of."""
    fields = list(model.model_fields)
    return {
        close
        for key in item
        if key not in model.model_fields
        for close in difflib.get_close_matches(str(key).lower(), fields, n=1, cutoff=0.6)
    }


def _org_types(data: dict[str, Any]) -> dict[str, OrgType]:
    """Each organisation's type where its id and type are valid (the first, if listed twice)."""
    types: dict[str, OrgType] = {}
    for _, org in items_of(data, "organisations"):
        org_id, kind = org.get("id"), org.get("type")
        if is_org_id(org_id) and isinstance(kind, str) and kind in _ORG_TYPES:
            types.setdefault(org_id, OrgType(kind))
    return types


_ORG_TYPES = frozenset(t.value for t in OrgType)


def _org_references(data: dict[str, Any]) -> Iterator[tuple[Loc, Any]]:
    """Every place a proposal names an organisation by id, with what it says there."""
    yield ("lead",), data.get("lead")
    yield ("legal_vehicle",), data.get("legal_vehicle")
    for i, area in items_of(data, "pct_areas"):
        yield ("pct_areas", i, "commissioner"), area.get("commissioner")
    for i, agreement in items_of(data, "agreements"):
        yield from list_at(agreement, ("parties",), prefix=("agreements", i))
    governance = ("governance",)
    for i, member in items_of(data, "governance", "board", "members"):
        yield (*governance, "board", "members", i, "organisation"), member.get("organisation")
    lead = value_at(data, "governance", "clinical_lead", "organisation")
    yield (*governance, "clinical_lead", "organisation"), lead
    yield (*governance, "lead_commissioner"), value_at(data, "governance", "lead_commissioner")
    for name in _ARRANGEMENTS:
        yield from list_at(data, (*governance, name, "parties"))
    yield from list_at(data, (*governance, "budget", "risk_sharing", "parties"))
    yield from list_at(data, (*governance, "evaluation", "data_submission_parties"))


def parse_proposal(
    data: Any, document: Document | None = None, limits: Limits = DEFAULT_LIMITS
) -> Proposal:
    """Validate parsed data as a proposal; every problem is reported, each with its path."""
    name = document.name if document else "<proposal>"
    if not isinstance(data, dict):
        message = "a proposal is a JSON/YAML object (a mapping of fields)"
        raise InputError([located(document, name, (), message)])
    refuse_other_kind(data, "proposal", document, name)
    too_many = size_problems(data, limits)
    if too_many:
        raise InputError([located(document, name, loc, m) for loc, m in too_many])
    problems = [located(document, name, loc, m) for loc, m in reference_problems(data)]
    try:
        proposal = Proposal.model_validate(data)
    except ValidationError as exc:
        problems = pydantic_problems(exc, Proposal, document, name) + problems
    if problems:
        raise InputError(problems)
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
        data = source.model_dump(mode="json")
        refs = size_problems(data, limits) or reference_problems(data)
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
