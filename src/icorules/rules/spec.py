"""The ruleset file format: what a ruleset file may say, as pydantic models. The loader
(rules/loader.py) validates files against these and compiles what they say; lint reads the same
models.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

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


class RuleSpec(_Spec):
    id: RuleId
    title: str = Field(min_length=1)
    severity: Severity
    source: str = Field(min_length=1, description="Citation: seed article and quote.")
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


class RulesetSpec(_Spec):
    ruleset: str = Field(pattern=r"^[a-z0-9][a-z0-9_./-]*$")
    version: str = Field(min_length=1)
    description: str = ""
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    rules: list[dict[str, Any]] = Field(min_length=1)  # each validated on its own
