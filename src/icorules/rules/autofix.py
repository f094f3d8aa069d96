"""A rule's fix, as its ruleset declares it (`autofix:`): patch steps checked when the ruleset
loads, so a fix that names no field or breaks the patch language is refused then, located."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from icorules.analysis.facts import FieldType
from icorules.inputs.validation import pydantic_problems
from icorules.rules.patches import PatchOp
from icorules.rules.spec import RuleSpec
from icorules.rules.templates import template_problems


@dataclass(frozen=True)
class Autofix:
    """The edit that makes a rule pass for a subject: patch steps whose text is filled in
    from the subject's fields, as a message is."""

    safe: bool
    steps: tuple[PatchOp, ...]


def compile_autofix(
    spec: RuleSpec, fields: Mapping[str, FieldType], params: Mapping[str, Any], problem: Any
) -> Autofix | None:
    """The rule's fix steps, each a valid patch step whose text fills in from the subject."""
    if spec.autofix is None:
        return None
    steps = []
    for index, raw in enumerate(spec.autofix.patch):
        at = ("autofix", "patch", index)
        try:
            steps.append(PatchOp.model_validate(raw))
        except ValidationError as exc:
            for p in pydantic_problems(exc, PatchOp, None, ""):
                problem(at, p.message)
            continue
        for text in _texts(raw.get("value")):
            for message in template_problems(text, fields, params):
                problem((*at, "value"), message)
    return Autofix(spec.autofix.safe, tuple(steps))


def _texts(value: Any) -> list[str]:
    """The text values inside a patch value (each may be a template)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []
