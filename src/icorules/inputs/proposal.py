"""The proposal format: pydantic models that validate a bid and export its JSON Schema.

The model says what a bid *is*; whether a bid is *eligible* is for the rulesets. So the model
accepts things the prospectus rules out (an organisation type that may not take part, a
geographic population basis) and leaves the rules to report them with a citation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from icorules.documents import Document, Loc, check_data, load_document
from icorules.errors import InputError, Problem, did_you_mean
from icorules.limits import DEFAULT_LIMITS, Limits

FORMAT: Final = "icorules/proposal/1"


class OrgType(StrEnum):
    """Kinds of organisation; Box 1 of the 2008 prospectus plus those named in bids."""

    gp_practice = "gp_practice"
    pct = "pct"
    nhs_trust = "nhs_trust"
    foundation_trust = "foundation_trust"
    mental_health_trust = "mental_health_trust"
    care_trust = "care_trust"
    ambulance_trust = "ambulance_trust"
    health_professionals_group = "health_professionals_group"
    pbc_consortium = "pbc_consortium"
    local_authority = "local_authority"
    social_enterprise = "social_enterprise"
    independent_sector = "independent_sector"
    voluntary_organisation = "voluntary_organisation"
    patient_group = "patient_group"
    school = "school"
    other = "other"


class Setting(StrEnum):
    """Where in the system a service line sits; classification rules reason about these."""

    primary = "primary"
    community = "community"
    acute = "acute"
    mental_health = "mental_health"
    social_care = "social_care"
    ambulance = "ambulance"


SERVICE_LINES: dict[str, Setting] = {
    "general_practice": Setting.primary,
    "out_of_hours": Setting.primary,
    "community_pharmacy": Setting.primary,
    "community_nursing": Setting.community,
    "community_hospital": Setting.community,
    "intermediate_care": Setting.community,
    "therapies": Setting.community,
    "specialist_nursing": Setting.community,
    "palliative_care": Setting.community,
    "urgent_care": Setting.community,
    "outpatients": Setting.acute,
    "diagnostics": Setting.acute,
    "elective_care": Setting.acute,
    "acute_medicine": Setting.acute,
    "emergency_care": Setting.acute,
    "maternity": Setting.acute,
    "mental_health": Setting.mental_health,
    "psychological_therapies": Setting.mental_health,
    "social_care": Setting.social_care,
    "domiciliary_care": Setting.social_care,
    "ambulance": Setting.ambulance,
}

ServiceLine = StrEnum("ServiceLine", {name: name for name in SERVICE_LINES})  # type: ignore[misc]
ServiceLine.__doc__ = "A service line; each belongs to one care setting (see SERVICE_LINES)."


class Role(StrEnum):
    commissioner = "commissioner"
    provider = "provider"
    supporter = "supporter"
    host = "host"


class CareCategory(StrEnum):
    long_term_conditions = "long_term_conditions"
    older_people = "older_people"
    urgent_care = "urgent_care"
    mental_health = "mental_health"
    childrens_services = "childrens_services"
    end_of_life = "end_of_life"


class Profession(StrEnum):
    gp = "gp"
    hospital_doctor = "hospital_doctor"
    nurse = "nurse"
    allied_health_professional = "allied_health_professional"
    pharmacist = "pharmacist"
    psychologist = "psychologist"
    social_worker = "social_worker"
    manager = "manager"
    other = "other"


class AgreementType(StrEnum):
    service_contract = "service_contract"
    subcontract = "subcontract"
    referral = "referral"
    alliance = "alliance"
    joint_venture = "joint_venture"
    memorandum_of_understanding = "memorandum_of_understanding"
    cross_boundary_commissioning = "cross_boundary_commissioning"
    other = "other"


class BudgetModel(StrEnum):
    indicative_pbc = "indicative_pbc"
    pooled = "pooled"
    hard = "hard"


class ChoiceMechanism(StrEnum):
    choice_at_referral = "choice_at_referral"
    opt_out = "opt_out"
    any_willing_provider = "any_willing_provider"
    other = "other"


OrgId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=64)]
PctCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{3,5}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=300, pattern=r"^[^\x00-\x1f]*$"
    ),
]


def _not_a_number(value: Any) -> Any:
    if isinstance(value, int | float):
        raise ValueError("a date is written like 2008-12-31, not as a number")
    return value


Date = Annotated[dt.date, BeforeValidator(_not_a_number)]


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


def reference_problems(proposal: Proposal) -> list[tuple[Loc, str]]:
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
        raise InputError([_problem(document, name, (), message)])
    organisations = data.get("organisations")
    if isinstance(organisations, list) and len(organisations) > limits.organisations:
        # Checked before validating them: validation, graph and facts grow with their number.
        found = f"the proposal lists {len(organisations):,} organisations"
        message = limits.exceeded("organisations", found)
        raise InputError([_problem(document, name, ("organisations",), message)])
    try:
        proposal = Proposal.model_validate(data)
    except ValidationError as exc:
        raise InputError(pydantic_problems(exc, Proposal, document, name)) from None
    refs = reference_problems(proposal)
    if refs:
        raise InputError([_problem(document, name, loc, msg) for loc, msg in refs])
    return proposal


def load_proposal(
    source: str | Path | dict[str, Any] | Proposal, *, limits: Limits = DEFAULT_LIMITS
) -> Proposal:
    """A proposal from a file path (JSON or YAML), a dict, or an existing model."""
    if isinstance(source, Proposal):
        if len(source.organisations) > limits.organisations:
            found = f"the proposal lists {len(source.organisations):,} organisations"
            message = limits.exceeded("organisations", found)
            raise InputError([_problem(None, "<proposal>", ("organisations",), message)])
        refs = reference_problems(source)
        if refs:
            raise InputError([_problem(None, "<proposal>", loc, m) for loc, m in refs])
        return source
    if isinstance(source, dict):
        check_data(source, "<proposal>", limits)
        return parse_proposal(source, None, limits)
    document = load_document(source, limits=limits)
    return parse_proposal(document.data, document, limits)


def _problem(document: Document | None, name: str, loc: Loc, message: str) -> Problem:
    if document is not None:
        return document.problem(loc, message)
    from icorules.documents import json_path

    return Problem(name, None, None, f"{json_path(loc)}: {message}")


def pydantic_problems(
    exc: ValidationError,
    root: type[BaseModel],
    document: Document | None,
    name: str,
    prefix: Loc = (),
) -> list[Problem]:
    """Turn pydantic's errors into one plain-language line each, located in the file.

    `prefix` is where `root` sits in the document when it validated only a part of it.
    """
    errors = exc.errors(include_url=False)
    # 'organisatons' unknown and 'organisations' missing are one slip: report only the first.
    misspelt = {
        (tuple(e["loc"][:-1]), m)
        for e in errors
        if e["type"] == "extra_forbidden"
        for m in [_closest_field(root, tuple(e["loc"]))]
        if m
    }
    problems = []
    for error in errors:
        loc = tuple(p for p in error["loc"] if isinstance(p, int | str))
        if error["type"] == "missing" and (loc[:-1], loc[-1]) in misspelt:
            continue
        problems.append(_problem(document, name, (*prefix, *loc), _explain(error, root, loc)))
    return problems


def _closest_field(root: type[BaseModel], loc: Loc) -> str | None:
    import difflib

    model = _model_at(root, loc[:-1])
    if model is None or not loc:
        return None
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return close[0] if close else None


def _explain(error: Any, root: type[BaseModel], loc: Loc) -> str:
    kind = error["type"]
    field = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        model = _model_at(root, loc[:-1])
        known = sorted(model.model_fields) if model else []
        hint = did_you_mean(str(field), known) or (
            f" (allowed: {', '.join(known)})" if known else ""
        )
        return f"unknown field '{field}'{hint}"
    if kind == "missing":
        return f"required field '{field}' is missing"
    if kind in ("enum", "literal_error"):
        expected = error.get("ctx", {}).get("expected", "")
        import re

        choices = re.findall(r"'([^']*)'", expected)
        got = error.get("input")
        hint = did_you_mean(str(got), choices)
        return f"'{got}' is not allowed here{hint}; expected one of: {', '.join(choices)}"
    got = error.get("input")
    if kind == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        form = _FORMS.get(pattern, f"the pattern {pattern}")
        return f"{got!r} is not in the right form: use {form}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"should be an object (a mapping of fields), not {_kind_of(got)}"
    if kind == "list_type":
        return f"should be a list, not {_kind_of(got)}"
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_from_datetime_inexact"):
        return f"{got!r} is not a date: write it like 2008-12-31"
    if kind == "string_type" and isinstance(got, dt.date):
        return f"YAML read {got.isoformat()} as a date; put it in quotes to make it text"
    if kind == "string_type" and isinstance(got, int | float) and not isinstance(got, bool):
        return f'{got!r}: should be text; put it in quotes (e.g. "{got}")'
    message = _message_for(kind, error.get("ctx") or {}, error)
    if isinstance(got, str | int | float | bool) and len(str(got)) <= 60:
        message = f"{got!r}: {message}"
    return message


# Our words for pydantic's error types (stable codes with their context values), so that a
# message does not change with pydantic's own wording.
_MESSAGES = {
    "greater_than": "should be greater than {gt}",
    "greater_than_equal": "should be greater than or equal to {ge}",
    "less_than": "should be less than {lt}",
    "less_than_equal": "should be less than or equal to {le}",
    "string_too_long": "should have at most {max_length} characters",
    "string_too_short": "should have at least {min_length} characters",
    "too_short": "should have at least {min_length} {min_length_items}, not {actual_length}",
    "too_long": "should have at most {max_length} {max_length_items}, not {actual_length}",
    "string_type": "should be text",
    "int_type": "should be a whole number",
    "int_parsing": "should be a whole number",
    "int_from_float": "should be a whole number",
    "float_type": "should be a number",
    "float_parsing": "should be a number",
    "finite_number": "should be a finite number",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
    "date_type": "should be a date, written like 2008-12-31",
    "list_type": "should be a list",
    "multiple_of": "should be a multiple of {multiple_of}",
}


def _number(value: Any) -> Any:
    """0.0 -> 0 (a bound written as a float is still shown as the number people wrote)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _message_for(kind: str, ctx: dict[str, Any], error: Any) -> str:
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])  # raised by our own validators, in our words
    template = _MESSAGES.get(kind)
    if template is not None:
        try:
            values = {k: _number(v) for k, v in ctx.items()}
            values |= {f"{k}_items": "item" if v == 1 else "items" for k, v in values.items()}
            return template.format(**values)
        except (KeyError, IndexError):
            pass
    message = str(error["msg"])  # a type icorules has no words for: pydantic's own
    return message[0].lower() + message[1:] if message else kind


_FORMS = {
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$": "letters, digits and _ . : - (starting with a letter or "
    "digit, at most 64 characters), e.g. GP-P81001",
    r"^[A-Z0-9]{3,5}$": "3 to 5 capital letters or digits, e.g. 5NE",
    r"^[^\x00-\x1f]*$": "text on one line (no line breaks or tabs)",
    r"^[A-Z][A-Z0-9]*-[0-9]{3}[a-z]?$": "capital letters, a hyphen and three digits, with an "
    "optional lower-case suffix, e.g. GOV-002 or MKT-003a",
    r"^[a-z0-9][a-z0-9_./-]*$": "lower-case letters, digits and _ . / -, e.g. "
    "prospectus-2008/governance",
}


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty (null)"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class found at a path, following list and optional annotations."""
    import typing

    model: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        info = model.model_fields.get(str(part))
        if info is None:
            return None
        model = info.annotation
        while typing.get_origin(model) is not None:
            args = [a for a in typing.get_args(model) if a is not type(None)]
            model = args[0] if args else None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def proposal_schema() -> dict[str, Any]:
    schema = Proposal.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"icorules proposal ({FORMAT})"
    return schema
