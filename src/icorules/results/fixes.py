"""Fixes: the mechanical edits that make a finding go away, as `ruff --fix` makes them.

A rule may say how to fix what it finds (`autofix:` in its ruleset: patch steps, the same
language the rule tests use, whose text is filled in from the finding's subject). A fix only
ever adds what the check already knows, such as a partner to a list of parties; where a bid's
authors have something to write, a fix leaves a visible placeholder ("[to be written: ...]")
that the facts treat as absent, so the finding stays until the text is written. Such fixes are
marked unsafe and are applied only when asked (`--unsafe-fixes`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from icorules.analysis.derive import derive_facts
from icorules.inputs.documents import Document, load_document
from icorules.output.editing import EditError, edited_text
from icorules.results.findings import Finding
from icorules.results.outcome import CheckResult
from icorules.rules.patches import PatchError, PatchOp
from icorules.rules.templates import for_message, render


@dataclass(frozen=True)
class Fix:
    """One finding's fix, with its text filled in for the finding's subject."""

    finding: Finding
    steps: tuple[PatchOp, ...]
    safe: bool

    def describe(self) -> str:
        """`GOV-002 on CHS-FT: append CHS-FT to governance.dispute_resolution.parties`."""
        edits = "; ".join(_step_words(step) for step in self.steps)
        return f"{self.finding.rule} on {self.finding.subject.id}: {edits}"


@dataclass
class Fixed:
    """What fixing one file did: its new text, the fixes made and those left, with why."""

    text: str
    made: list[Fix] = field(default_factory=list)
    left: list[tuple[Fix, str]] = field(default_factory=list)


def fixes_for(result: CheckResult, *, unsafe: bool = False) -> list[Fix]:
    """The fixes the rules offer for a check's findings (safe ones only, unless `unsafe`)."""
    facts = {(f.kind, f.id): f for f in derive_facts(result.graph)}
    found = []
    for finding in result.report.findings:
        rule = result.bundle.rule(finding.rule)
        if rule.autofix is None or not (rule.autofix.safe or unsafe):
            continue
        fact = facts.get((finding.subject.kind, finding.subject.id))
        values = {n: for_message(getattr(fact, n)) for n in type(fact).model_fields} if fact else {}
        values.setdefault("id", finding.subject.id)
        steps = tuple(
            step.model_copy(update={"value": _filled(step.value, values, rule.params)})
            if "value" in step.model_fields_set
            else step
            for step in rule.autofix.steps
        )
        found.append(Fix(finding, steps, rule.autofix.safe))
    return found


def fix_document(document: Document, fixes: Iterable[Fix]) -> Fixed:
    """The document with every fix made that can be; a fix whose target is missing, or that
    cannot be made in place, is left with the reason."""
    fixed = Fixed(document.text)
    current = document
    for fix in fixes:
        try:
            text = edited_text(current, fix.steps)
        except (PatchError, EditError) as exc:
            fixed.left.append((fix, str(exc)))
            continue
        if text != current.text:
            current = load_document(document.name, text=text, limits=document.limits)
            fixed.made.append(fix)
    fixed.text = current.text
    return fixed


def _filled(value: Any, values: dict[str, Any], params: Any) -> Any:
    if isinstance(value, str):
        return render(value, values, params)
    if isinstance(value, dict):
        return {k: _filled(v, values, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, values, params) for v in value]
    return value


def _step_words(step: PatchOp) -> str:
    if step.append is not None:
        return f"add {_shown(step.value)} to {step.append}"
    if step.set is not None:
        return f"set {step.set} to {_shown(step.value)}"
    return f"remove {step.remove}"


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "an entry for " + str(value.get("service") or value.get("id") or "it")
    return str(value)
