"""Waivers: an assessor accepts a finding, with a reason, so it no longer fails the check.

    waivers:
      - rule: GOV-010
        subject: AGE-CONCERN          # optional: without it, every finding of the rule
        proposal: church-view-defects # optional: without it, any proposal
        reason: Joins by letter of intent before the pilot starts; agreed at panel, 12 Feb.
        approved_by: Northern assessment panel
        expires: 2009-03-31           # optional: the last day the waiver applies

Waived findings stay in the report (under `waived`), so nothing is hidden; a waiver that
matches nothing is reported, as a stale waiver usually means the bid or the rule changed. An
accepted risk is accepted by someone, for a reason, so both are required; an expired waiver no
longer applies, and is reported so the finding's return is not a surprise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from icorules.errors import InputError
from icorules.inputs.codes import Date, Name, Text
from icorules.inputs.documents import Document, check_data, load_document
from icorules.inputs.kinds import refuse_other_kind
from icorules.inputs.references import Namespace, check_references, suggest
from icorules.inputs.validation import located, pydantic_problems
from icorules.limits import DEFAULT_LIMITS, Limits
from icorules.results.findings import Finding
from icorules.rules.loader import RuleBundle


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    rule: str
    subject: str | None = Field(None, description="Subject id; omit to waive every subject.")
    proposal: str | None = Field(None, description="Proposal id; omit for any proposal.")
    reason: Text = Field(description="Why the finding is accepted (required).")
    approved_by: Name = Field(description="Who accepted it: a person or panel (required).")
    expires: Date | None = Field(
        None, description="The last day the waiver applies; omit for no end date."
    )

    def expired(self, today: dt.date | None = None) -> bool:
        return self.expires is not None and self.expires < (today or dt.date.today())

    def describe(self) -> str:
        return f"{self.rule}{f' on {self.subject}' if self.subject else ''}"

    def matches(self, proposal_id: str, finding: Finding) -> bool:
        return (
            finding.rule == self.rule
            and self.subject in (None, finding.subject.id)
            and self.proposal in (None, proposal_id)
        )


class WaiverFile(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    waivers: list[Waiver] = Field(min_length=1)


class WaivedFinding(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    finding: Finding
    reason: str
    approved_by: str | None = None
    expires: dt.date | None = Field(None, description="The last day the waiver applies.")


def load_waivers(
    source: str | Path | dict[str, Any], bundle: RuleBundle, *, limits: Limits = DEFAULT_LIMITS
) -> list[Waiver]:
    """Waivers from a YAML/JSON file or dict; a rule id the rulesets lack is an error."""
    document: Document | None
    if isinstance(source, dict):
        check_data(source, "<waivers>", limits)
        document, data = None, source
    else:
        document = load_document(source, limits=limits)
        data = document.data
    name = document.name if document else "<waivers>"
    refuse_other_kind(data, "waivers", document, name)
    try:
        parsed = WaiverFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(pydantic_problems(exc, WaiverFile, document, name)) from None
    rules = Namespace("rule id", unknown_phrase="no loaded rule has the id '{ref}'")
    rules.first = {rule.id: () for rule in bundle.rules}
    references = [(("waivers", i, "rule"), w.rule) for i, w in enumerate(parsed.waivers)]
    problems = [
        located(document, name, loc, message)
        for loc, message in check_references(rules, references, lambda ref: True)
    ]
    if problems:
        raise InputError(problems)
    return parsed.waivers


def split_waived(
    proposal_id: str, findings: list[Finding], waivers: list[Waiver], today: dt.date | None = None
) -> tuple[list[Finding], list[WaivedFinding], set[int]]:
    """Findings still open, those waived, and the indexes of the waivers that were used.
    Expired waivers never apply (see `expired_warnings`)."""
    if not waivers:  # most checks: nothing to look for in each finding
        return list(findings), [], set()
    open_findings: list[Finding] = []
    waived: list[WaivedFinding] = []
    used: set[int] = set()
    for finding in findings:
        index = next(
            (
                i
                for i, w in enumerate(waivers)
                if not w.expired(today) and w.matches(proposal_id, finding)
            ),
            None,
        )
        if index is None:
            open_findings.append(finding)
        else:
            used.add(index)
            waiver = waivers[index]
            waived.append(
                WaivedFinding(
                    finding=finding,
                    reason=waiver.reason,
                    approved_by=waiver.approved_by,
                    expires=waiver.expires,
                )
            )
    return open_findings, waived, used


def expired_warnings(
    proposal_id: str, findings: list[Finding], waivers: list[Waiver], today: dt.date | None = None
) -> list[str]:
    """One line per expired waiver that would still match a finding of this proposal, so a
    finding that comes back after its waiver ran out says why."""
    return [
        f"waiver for {w.describe()} expired on {w.expires}; its finding is reported again"
        for w in waivers
        if w.expired(today) and any(w.matches(proposal_id, f) for f in findings)
    ]


def proposal_warnings(
    waivers: Sequence[Waiver], checked: Iterable[str], source: str | None = None
) -> list[str]:
    """One line per waiver whose `proposal` is not one of the proposals `checked` but looks like
    a misspelling of one (it differs by letter case, or by one or two letters), with a
    suggestion: such a waiver would otherwise be silently ignored. A waiver for a proposal
    quite unlike those checked is not reported, since one waiver file often serves many bids.

    `source` is the waiver file, for the command line's form of the warning; the library's
    reports (`api.check`) say "waiver for RULE on SUBJECT" as their other waiver warnings do.
    """
    ids = list(dict.fromkeys(checked))
    lines = []
    for index, waiver in enumerate(waivers):
        named = waiver.proposal
        if named is None or named in ids:
            continue
        close = [i for i in ids if _misspelling(named, i)]
        if not close:
            continue
        said = f"names proposal '{named}', which was not checked{suggest(named, close)}"
        if source is None:
            lines.append(f"waiver for {waiver.describe()} {said}")
        else:
            lines.append(f"{source}: waivers[{index}] ({waiver.describe()}) {said}")
    return lines


def _misspelling(written: str, meant: str) -> bool:
    """`written` differs from `meant` only in letter case, or by one or two letters added,
    removed, changed or swapped (one for ids of four characters or fewer)."""
    a, b = written.lower(), meant.lower()
    if a == b:
        return True
    allowed = 1 if min(len(a), len(b)) <= 4 else 2
    if abs(len(a) - len(b)) > allowed:
        return False
    # Optimal string alignment distance (Levenshtein with transpositions), in two rows.
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        above, row = row, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(above[j] + 1, row[j - 1] + 1, above[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], before[j - 2] + 1)
        before = above
    return row[len(b)] <= allowed
