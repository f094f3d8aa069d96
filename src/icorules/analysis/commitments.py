"""The written commitments a bid states, and whether each is signed in time (ELIG-010).

One `commitment` fact for each agreement and each governance arrangement the bid states. An
arrangement carried by an agreement (`agreement: AG-1`) and stating no status of its own has
that agreement's. Signed and agreed-in-principle commitments are in time; a draft is in time
if the date it is to be signed by is on or before the implementation date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import NamedTuple

from icorules.analysis.fact_base import FactRow
from icorules.analysis.facts import CommitmentFact
from icorules.inputs.codes import AgreementStatus
from icorules.inputs.proposal import Proposal, Written


class _Stated(NamedTuple):  # a tuple: a frozen dataclass took ~1 µs to make
    id: str
    path: str
    source: str
    type: str
    status: AgreementStatus | None
    sign_by: dt.date | None


def written_commitments(proposal: Proposal) -> Iterator[FactRow[CommitmentFact]]:
    """One fact (a row: Fact.row) per agreement (in file order), then per arrangement."""
    start = proposal.implementation_date
    for stated in _stated(proposal):
        status = str(stated.status) if stated.status else "not_stated"  # str(): the value
        yield CommitmentFact.row(
            {
                "id": stated.id,
                "path": stated.path,
                "source": stated.source,
                "type": stated.type,
                "status": status,
                "has_sign_by": stated.sign_by is not None,
                "sign_by": stated.sign_by,
                "in_time": _in_time(status, stated.sign_by, start),
                "timing": _timing(status, stated.sign_by, start),
            }
        )


def _in_time(status: str, sign_by: dt.date | None, start: dt.date | None) -> bool:
    if status in ("signed", "in_principle"):
        return True
    return status == "draft" and sign_by is not None and start is not None and sign_by <= start


def _timing(status: str, sign_by: dt.date | None, start: dt.date | None) -> str:
    if status != "draft":
        return _SETTLED.get(status, "the bid does not say how far it has got")
    if sign_by is None:
        return "the bid gives no date for signing it"
    if start is None:
        return f"it is to be signed by {sign_by.isoformat()}, and the bid states no start date"
    when = "on or before" if sign_by <= start else "after"
    return f"it is to be signed by {sign_by.isoformat()}, {when} the start, {start.isoformat()}"


_SETTLED = {"signed": "it is signed", "in_principle": "it is agreed in principle"}
_ARRANGEMENTS = (
    ("dispute_resolution", "dispute_resolution"),
    ("conflict_of_interest", "conflict_of_interest"),
    ("information_sharing", "information_sharing"),
)


def _stated(proposal: Proposal) -> Iterator[_Stated]:
    agreements = {a.id: a for a in proposal.agreements}
    for index, agreement in enumerate(proposal.agreements):
        yield _Stated(
            agreement.id,
            f"agreements[{index}]",
            "agreement",
            str(agreement.type),
            agreement.status,
            agreement.sign_by,
        )
    governance = proposal.governance
    budget = governance.budget
    written: list[tuple[str, str, Written | None]] = [
        (f"governance.{name}", kind, getattr(governance, name)) for name, kind in _ARRANGEMENTS
    ]
    written.append(
        ("governance.budget.risk_sharing", "risk_sharing", budget.risk_sharing if budget else None)
    )
    written.append(("governance.evaluation", "data_submission", governance.evaluation))
    for path, kind, arrangement in written:
        if arrangement is None:
            continue
        status, sign_by = arrangement.status, arrangement.sign_by
        carrier = agreements.get(arrangement.agreement or "")
        if status is None and carrier is not None:
            status, sign_by = carrier.status, carrier.sign_by
        yield _Stated(path, path, "arrangement", kind, status, sign_by)
