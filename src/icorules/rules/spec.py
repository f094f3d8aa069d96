"""The ruleset file format: what a ruleset file may say, as pydantic models (and how a
`--param` override is read). The loader (rules/loader.py) validates files against these and
compiles what they say; lint reads the same models.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

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


class DeriveSpec(_Spec):
    kind: str
    fields: dict[str, bool | int | float | str] = Field(default_factory=dict)


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


class RulesetSpec(_Spec):
    ruleset: str = Field(pattern=r"^[a-z0-9][a-z0-9_./-]*$")
    version: str = Field(min_length=1)
    description: str = ""
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    rules: list[dict[str, Any]] = Field(min_length=1)  # each validated on its own


def coerce_param(value: Any, default: Any) -> Any:
    """An override (often a CLI string) converted to the type of the parameter's default."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "1"):
            return True
        if text in ("false", "no", "0"):
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    if isinstance(default, int | float):
        try:
            number = float(value) if isinstance(default, float) else int(value)
        except (TypeError, ValueError):
            kind = "a number" if isinstance(default, float) else "a whole number"
            raise ValueError(f"expected {kind}, got {value!r}") from None
        return number
    if isinstance(default, dt.date):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"expected a date like 2008-12-31, got {value!r}") from None
    if isinstance(default, list):
        items = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
        sample = default[0] if default else ""
        return [coerce_param(v, sample) for v in items if v != ""]
    return str(value)
