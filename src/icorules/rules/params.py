"""Ruleset parameters with a unit and a range, as OpenFisca's parameters carry theirs.

A threshold is only as good as the number people write for it: `max_pct_population_share=50`
meant as 50% makes the rule impossible to fire, and `min_evaluation_years=3.7` is no number of
years. So each parameter says what it measures (`unit`) and may bound it (`min`, `max`); its
default is checked when the ruleset loads, and every override (`--param`, `params=`, a settings
file) goes through the same `checked_value`, so the library and the command line agree.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from icorules.errors import Problem

if TYPE_CHECKING:
    from icorules.inputs.documents import Document
    from icorules.rules.spec import ParameterSpec

Unit = Literal["share", "count", "number", "hhi", "date", "list", "text", "flag"]
UNITS: tuple[Unit, ...] = ("share", "count", "number", "hhi", "date", "list", "text", "flag")

# What each unit means, as `rules show` and `rules docs` say it.
UNIT_WORDS: dict[str, str] = {
    "share": "a share of 1 (0.6 means 60%)",
    "count": "a whole number",
    "number": "a number",
    "hhi": "HHI points, 0 to 10,000",
    "date": "a date",
    "list": "a list",
    "text": "text",
    "flag": "true or false",
}
# The range a unit implies, before any min/max of the parameter's own.
_IMPLIED: dict[str, tuple[float | None, float | None]] = {
    "share": (0, 1),
    "count": (0, None),
    "hhi": (0, 10_000),
}


@dataclass(frozen=True)
class Parameter:
    """A ruleset parameter as declared: what it measures, its bounds and its meaning."""

    name: str
    unit: Unit
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None

    def describe(self, value: Any) -> str:
        """`0.6 (a share of 1: 60%)`, `3 (a whole number, at least 1)`."""
        shown = show(value)
        words = UNIT_WORDS[self.unit] if self.unit != "share" else "a share of 1"
        if self.unit == "share" and isinstance(value, int | float):
            words += f": {value:.0%}" if float(value * 100).is_integer() else f": {value:.2%}"
        bounds = _bounds_words(self.minimum, self.maximum)
        return f"{shown} ({words}{', ' + bounds if bounds else ''})"

    @property
    def unit_words(self) -> str:
        bounds = _bounds_words(self.minimum, self.maximum)
        return UNIT_WORDS[self.unit] + (f", {bounds}" if bounds else "")


def show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(show(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _bounds_words(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"from {show(_plain(minimum))} to {show(_plain(maximum))}"
    if minimum is not None:
        return f"at least {show(_plain(minimum))}"
    if maximum is not None:
        return f"at most {show(_plain(maximum))}"
    return ""


def _plain(number: float) -> float | int:
    return int(number) if float(number).is_integer() else number


def unit_of(default: Any) -> Unit:
    """The unit a parameter without one is taken to have, from its default."""
    if isinstance(default, bool):
        return "flag"
    if isinstance(default, int):
        return "count" if default >= 0 else "number"
    if isinstance(default, float):
        return "number"
    if isinstance(default, dt.date):
        return "date"
    if isinstance(default, list):
        return "list"
    return "text"


def checked_value(parameter: Parameter, value: Any, default: Any) -> Any:
    """`value` (from a ruleset, a command line, a settings file or Python) as the parameter's
    unit requires; ValueError in plain words if it is not one."""
    unit = parameter.unit
    if unit == "flag":
        return _flag(value)
    if unit == "date":
        return _date(value)
    if unit == "list":
        items = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
        sample = default[0] if isinstance(default, list) and default else ""
        item_unit = unit_of(sample) if not isinstance(sample, list) else "text"
        item = Parameter(parameter.name, item_unit if item_unit != "list" else "text")
        return [checked_value(item, v, sample) for v in items if v != ""]
    if unit == "text":
        if isinstance(value, list | dict):
            raise ValueError(f"expected text, got {show(value)!r}")
        return str(value)
    number = _number(value, whole=unit == "count" or (isinstance(default, int) and unit != "share"))
    _in_range(parameter, number)
    return number


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError(f"expected a date like 2008-12-31, got a date and time ({value})")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"expected a date like 2008-12-31, got {value!r}") from None


def _number(value: Any, *, whole: bool) -> int | float:
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool | list | dict):
        raise ValueError(f"expected {kind}, got {show(value)!r}")
    if isinstance(value, int | float):
        number: int | float = value
    else:
        text = str(value).strip().replace("_", "")
        try:
            number = int(text) if whole else float(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise ValueError(f"expected {kind}, got {value!r}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"expected {kind}, got {value!r}")
    if abs(number) > 2**53:
        raise ValueError(f"{show(value)} is too large to compare reliably")
    if whole:
        if isinstance(number, float) and not number.is_integer():
            raise ValueError(f"expected {kind}, got {value!r}")
        return int(number)
    return float(number)


def _in_range(parameter: Parameter, number: float) -> None:
    implied_low, implied_high = _IMPLIED.get(parameter.unit, (None, None))
    low = parameter.minimum if parameter.minimum is not None else implied_low
    high = parameter.maximum if parameter.maximum is not None else implied_high
    if parameter.unit == "share" and number > 1 and (high is None or high <= 1):
        percent = _plain(number / 100)
        raise ValueError(
            f"{show(_plain(number))} is more than 1: a share is a fraction of 1, so write "
            f"{show(percent)} for {show(_plain(number))}% (0.5 means 50%)"
        )
    if low is not None and number < low:
        raise ValueError(f"{show(_plain(number))} is below the least allowed, {show(_plain(low))}")
    if high is not None and number > high:
        raise ValueError(f"{show(_plain(number))} is above the most allowed, {show(_plain(high))}")


def parameters_of(
    ruleset: str,
    declared: Mapping[str, ParameterSpec],
    overrides: Mapping[str, Any],
    document: Document,
) -> tuple[dict[str, Any], dict[str, Parameter], list[Problem]]:
    """A ruleset's parameters: the value in force for each (its default, or an override by
    NAME or RULESET/NAME), what each is, and the problems with either."""
    values: dict[str, Any] = {}
    info: dict[str, Parameter] = {}
    problems: list[Problem] = []
    for name, spec in declared.items():
        parameter, wrong = _declare(name, spec, document)
        problems.extend(wrong)
        info[name] = parameter
        values[name] = spec.default
        for key in (name, f"{ruleset}/{name}"):
            if key in overrides and not wrong:
                try:
                    values[name] = checked_value(parameter, overrides[key], spec.default)
                except ValueError as exc:
                    problems.append(Problem("--param", None, None, f"{key}: {exc}"))
    return values, info, problems


def _declare(name: str, spec: ParameterSpec, document: Document) -> tuple[Parameter, list[Problem]]:
    """The parameter as declared, and what is wrong with its declaration: a unit its default
    does not fit, bounds on what is not a number, a default outside its bounds."""
    unit = spec.unit or unit_of(spec.default)
    parameter = Parameter(name, unit, spec.description, spec.min, spec.max)
    at = ("parameters", name)
    if unit not in ("share", "count", "number", "hhi") and (
        spec.min is not None or spec.max is not None
    ):
        return parameter, [document.problem(at, f"min and max are for numbers; '{name}' is {unit}")]
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        return parameter, [document.problem(at, f"min ({spec.min:g}) is above max ({spec.max:g})")]
    try:
        checked_value(parameter, spec.default, spec.default)
    except ValueError as exc:
        message = f"the default does not fit the unit {unit} ({UNIT_WORDS[unit]}): {exc}"
        return parameter, [document.problem((*at, "default"), message)]
    return parameter, []
