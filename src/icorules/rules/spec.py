"""The ruleset file format: what a ruleset file may say, as pydantic models. The loader
(rules/loader.py) validates files against these and compiles what they say; lint reads the same
models.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from icorules.rules.params import Unit

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
RULE_ID_PATTERN = r"^[A-Z][A-Z0-9]*-[0-9]{3}[a-z]?$"  # GOV-002, MKT-003a (defined once)
RuleId = Annotated[str, StringConstraints(pattern=RULE_ID_PATTERN)]
ParamValue = bool | int | float | str | dt.date | list[bool | int | float | str]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParameterSpec(_Spec):
    default: ParamValue
    description: str = ""
    unit: Unit | None = Field(
        None,
        description="What it measures: share (of 1), count, number, hhi, date, list, text or "
        "flag; taken from the default when left out.",
    )
    min: float | None = Field(None, description="The least value allowed (numbers only).")
    max: float | None = Field(None, description="The most value allowed (numbers only).")


class DeriveSpec(_Spec):
    kind: str
    fields: dict[str, bool | int | float | str] = Field(default_factory=dict)


class AutofixSpec(_Spec):
    """A mechanical edit of the bid that makes the rule pass for this subject (`check --fix`).
    The steps are the rule tests' patch steps; text in them may use the subject's fields
    (`{id}`) and parameters, as a message does. `safe: false` for a fix that leaves something
    for the bid's authors to write (applied only with --unsafe-fixes)."""

    safe: bool = True
    patch: list[dict[str, Any]] = Field(min_length=1)


REFERENCE_KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"  # crump-2009, nhs-act-2006-s75
ReferenceKey = Annotated[str, StringConstraints(pattern=REFERENCE_KEY_PATTERN, max_length=64)]
DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"  # 2009, 2008-11 or 2009-04-01


def _as_text(value: Any) -> Any:
    """YAML reads `2009` as a number and `2009-04-01` as a date: both are meant as text here."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class ReferenceSpec(_Spec):
    """One document a ruleset's rules cite: what a reader needs to find it. Say only what the
    document itself states: no outlet is guessed (a press item without one is shown with
    "outlet not stated")."""

    kind: str = Field(
        min_length=1, description="news report, feature, article, guidance, legislation, ..."
    )
    author: str | None = Field(None, min_length=1, description="Where the document names one.")
    title: str | None = Field(None, min_length=1, description="Its title or headline.")
    opening: str | None = Field(
        None, min_length=1, description="For a document with no title: its first words, exactly."
    )
    outlet: str | None = Field(None, min_length=1, description="Where it was published.")
    publisher: str | None = Field(None, min_length=1, description="Who issued it.")
    number: str | None = Field(None, min_length=1, description="Its official number.")
    date: Annotated[str, BeforeValidator(_as_text)] = Field(
        pattern=DATE_PATTERN, description="2009, 2008-11 or 2009-04-01."
    )
    url: str | None = Field(None, pattern=r"^https?://\S+$")
    note: str | None = Field(None, min_length=1, description="What a reader should know.")

    @model_validator(mode="after")
    def _titled(self) -> ReferenceSpec:
        if (self.title is None) == (self.opening is None):
            raise ValueError("give the document's 'title', or, if it has none, its 'opening' words")
        return self


class CitationSpec(_Spec):
    """One thing a rule rests on: words quoted from a reference, a point of it (a section,
    a paragraph) with what it says, or, where no public source is known, the ruleset's own
    statement (`note`)."""

    ref: ReferenceKey | None = Field(None, description="A key of the ruleset's `references`.")
    quote: str | None = Field(None, min_length=1, description="Words copied exactly.")
    point: str | None = Field(None, min_length=1, description="section 23, paragraph 20, ...")
    says: str | None = Field(None, min_length=1, description="What that point says.")
    reports: ReferenceKey | None = Field(
        None, description="The reference whose words the quoted document reports."
    )
    note: str | None = Field(
        None, min_length=1, description="The ruleset's own statement, where no source is cited."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> CitationSpec:
        if self.ref is None:
            if self.note is None or any((self.quote, self.point, self.says, self.reports)):
                raise ValueError(
                    "a citation names a reference ('ref' with 'quote', or 'point' and 'says'), "
                    "or is a 'note' alone where no public source is known"
                )
        elif self.note is not None:
            raise ValueError("'note' stands alone: a citation with 'ref' quotes or points")
        elif not (self.quote or self.point or self.says):
            raise ValueError(f"say what '{self.ref}' is cited for: a 'quote', or 'point'/'says'")
        return self


class RuleSpec(_Spec):
    id: RuleId
    title: str = Field(min_length=1)
    severity: Severity
    cite: list[CitationSpec] | None = Field(
        None, min_length=1, description="What the rule rests on, by the ruleset's references."
    )
    source: str | None = Field(
        None, min_length=1, description="Where the rule comes from, as text (older rulesets)."
    )
    description: str = Field(
        "", description="What the rule decides and why, where its requirement leaves a choice."
    )
    needs_format: Literal[1, 2] = Field(
        1, description="2: only meaningful for a format-2 proposal (fields format 1 lacks)."
    )
    fact: str
    condition: str
    message: str = Field(min_length=1)
    fix: str = Field(min_length=1)
    given: dict[str, str] = Field(
        default_factory=dict, description="Other facts that must exist: kind -> condition."
    )
    derive: DeriveSpec | None = None
    needs_market: bool = Field(
        False, description="Only meaningful with a market context (implied for fact: market)."
    )
    autofix: AutofixSpec | None = None

    @model_validator(mode="after")
    def _cited(self) -> RuleSpec:
        if self.cite is None and self.source is None:
            raise ValueError(
                "the rule needs a citation: 'cite' (a list of {ref, quote}, with the document "
                "under the ruleset's 'references') or at least a 'source' text"
            )
        return self


class RulesetSpec(_Spec):
    ruleset: str = Field(pattern=r"^[a-z0-9][a-z0-9_./-]*$")
    version: str = Field(min_length=1)
    description: str = ""
    references: dict[ReferenceKey, ReferenceSpec] = Field(
        default_factory=dict, description="The documents the rules cite, by key."
    )
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    rules: list[dict[str, Any]] = Field(min_length=1)  # each validated on its own
