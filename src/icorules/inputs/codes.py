"""The words of the proposal format: organisation types, service lines and their settings,
and the shapes of ids, codes, names and dates.

Shared by the proposal and market formats and by the fact vocabulary, which must not import
the proposal model itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeGuard

from pydantic import AfterValidator, BeforeValidator, StringConstraints


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
    section_75 = "section_75"
    other = "other"


class AgreementStatus(StrEnum):
    """How far a written agreement has got (format 2); absent means the bid does not say."""

    signed = "signed"
    in_principle = "in_principle"
    draft = "draft"


class SupportStatus(StrEnum):
    """What an organisation has said about the bid (format 2)."""

    supports = "supports"
    pending = "pending"
    opposed = "opposed"


# The NHS bodies (a care trust is one too); a section 75 agreement is between NHS bodies and
# local authorities.
NHS_BODY_TYPES = frozenset(
    {
        OrgType.pct,
        OrgType.care_trust,
        OrgType.nhs_trust,
        OrgType.foundation_trust,
        OrgType.mental_health_trust,
        OrgType.ambulance_trust,
    }
)


class BudgetModel(StrEnum):
    indicative_pbc = "indicative_pbc"
    pooled = "pooled"
    hard = "hard"


class ChoiceMechanism(StrEnum):
    choice_at_referral = "choice_at_referral"
    opt_out = "opt_out"
    any_willing_provider = "any_willing_provider"
    other = "other"


SizeMeasure = Literal["list_size", "capacity", "activity", "beds"]

SPECIALTY_FORM = r"^[a-z][a-z0-9_]{0,63}$"
Specialty = Annotated[str, StringConstraints(pattern=SPECIALTY_FORM)]

# ODS codes: the general shape, then the shapes each organisation type's codes take (a shape
# only: the format cannot know whether a code exists).
ODS_CODE_FORM = r"^[A-Z0-9]{3,6}$"
OdsCode = Annotated[str, StringConstraints(pattern=ODS_CODE_FORM)]
_TRUST = (r"R[A-Z0-9]{2}", r"R[A-Z0-9]{4}")
ODS_SHAPES: dict[OrgType, tuple[tuple[str, ...], str]] = {
    OrgType.gp_practice: ((r"[A-Z][0-9]{5}",), "a letter and five digits, e.g. P81001"),
    OrgType.nhs_trust: (_TRUST, "R and two letters or digits (a site: four), e.g. RNL"),
    OrgType.foundation_trust: (_TRUST, "R and two letters or digits (a site: four), e.g. RNL"),
    OrgType.ambulance_trust: (_TRUST, "R and two letters or digits (a site: four), e.g. RX7"),
    OrgType.mental_health_trust: (
        (*_TRUST, r"T[A-Z0-9]{2}"),
        "R or T and two letters or digits, e.g. RX4",
    ),
    OrgType.pct: ((r"5[A-Z0-9]{2}",), "5 and two letters or digits, e.g. 5NE"),
    OrgType.care_trust: (
        (r"T[A-Z0-9]{2}", r"5[A-Z0-9]{2}"),
        "T or 5 and two letters or digits, e.g. TAC",
    ),
}


def ods_shape_problem(org_type: object, code: object) -> str | None:
    """Why `code` is not the shape of an ODS code of an organisation of `org_type`, or None."""
    if not isinstance(code, str) or not isinstance(org_type, str) or org_type not in _ORG_TYPES:
        return None
    shapes, words = ODS_SHAPES.get(OrgType(org_type), ((), ""))
    if not shapes or any(_compiled(shape).fullmatch(code) for shape in shapes):
        return None
    return f"'{code}' is not the shape of a {org_type}'s ODS code: {words}"


_ORG_TYPES = frozenset(t.value for t in OrgType)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


ORG_ID_FORM = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
ORG_ID_LENGTH = 64
PCT_CODE_FORM = r"^[A-Z0-9]{3,5}$"
OrgId = Annotated[str, StringConstraints(pattern=ORG_ID_FORM, max_length=ORG_ID_LENGTH)]
PctCode = Annotated[str, StringConstraints(pattern=PCT_CODE_FORM)]

_ORG_ID = re.compile(ORG_ID_FORM.strip("^$"))
_PCT_CODE = re.compile(PCT_CODE_FORM.strip("^$"))


def is_org_id(value: object) -> TypeGuard[str]:
    """`value` is an id the formats accept (OrgId): what a reference check may look up."""
    return isinstance(value, str) and len(value) <= ORG_ID_LENGTH and _org_id_form(value)


# A check asks of each id a dozen times (declared, referred to, its type, its parent): the
# answers are kept, for the few thousand most recent texts.
@functools.lru_cache(maxsize=4096)
def _org_id_form(value: str) -> bool:
    return _ORG_ID.fullmatch(value) is not None


def is_pct_code(value: object) -> TypeGuard[str]:
    """`value` is a PCT code the formats accept (PctCode)."""
    return isinstance(value, str) and _PCT_CODE.fullmatch(value) is not None


# Characters that show nothing: spaces and separators, controls and formatting characters
# (zero-width spaces and joiners, direction marks, byte-order marks), combining marks with
# nothing to combine with, unassigned code points, and the few letters and symbols that are
# drawn blank (Hangul fillers, the blank Braille pattern).
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Cn", "Mn", "Me"})
_BLANK_CHARACTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


PLACEHOLDER = "[to be written"  # how a fix marks text only the bid's authors can write


def is_placeholder(text: str | None) -> bool:
    """Text a fix left for the bid's authors ("[to be written: ...]"): it counts as absent."""
    return text is not None and text.strip().lower().startswith(PLACEHOLDER)


def has_visible_character(text: str) -> bool:
    """`text` shows something: one character that is neither blank nor invisible."""
    if text[:1].isascii() and text[:1].isalnum():
        return True  # most texts: an ASCII letter or digit shows, whatever follows it
    return any(
        ch not in _BLANK_CHARACTERS and unicodedata.category(ch) not in _INVISIBLE_CATEGORIES
        for ch in text
    )


# Most texts start with an ASCII letter or digit, which shows: one C call says so.
_SHOWS = re.compile("[A-Za-z0-9]").match


def _visible(text: str) -> str:
    """A text that is given must say something: zero-width spaces alone are not a reason."""
    if _SHOWS(text) is None and text and not has_visible_character(text):
        raise ValueError("has no visible character; write the text")
    return text


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000),
    AfterValidator(_visible),
]
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=300, pattern=r"^[^\x00-\x1f]*$"
    ),
    AfterValidator(_visible),
]


# Upper bounds on every number an input gives, far above any real one: a PCT's population,
# a practice's registered list, years of evaluation, and a market provider's size (list size,
# beds, capacity or activity). Above them arithmetic on the values (shares, HHI) could overflow.
MAX_POPULATION = 20_000_000
MAX_LIST_SIZE = 2_000_000
MAX_YEARS = 20
MAX_SIZE = 1_000_000_000


def _not_too_large(limit: int) -> Any:
    """An integer above `limit` is refused in the bound's words before pydantic converts it
    (a 400-digit size is not a float pydantic can make; it would say only 'not a number'), and
    infinity and NaN as what they are (pydantic tests the bound first)."""

    def check(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and value > limit:
            raise ValueError(f"should be at most {limit:,}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("should be a finite number")
        return value

    return BeforeValidator(check)


Size = Annotated[float, _not_too_large(MAX_SIZE)]


def _not_a_number(value: Any) -> Any:
    """Dates are written as dates: pydantic would read 4102444800 as a Unix time."""
    if isinstance(value, bool):
        raise ValueError("a date is written like 2008-12-31, not as true/false")
    if isinstance(value, int | float):
        raise ValueError("a date is written like 2008-12-31, not as a number")
    return value


Date = Annotated[dt.date, BeforeValidator(_not_a_number)]
