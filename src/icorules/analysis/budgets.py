"""What a bid's budget says about risk and pooling: the risk shares (GOV-014) and whether a
pooled budget with a council rests on a section 75 agreement (GOV-013).

Worked out once per check for the proposal fact (icorules.analysis.derive).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from icorules.inputs.codes import NHS_BODY_TYPES, AgreementType, BudgetModel, OrgType
from icorules.inputs.proposal import Budget, Proposal

_COUNCIL_SIDE = (OrgType.local_authority, OrgType.care_trust)
_POOLED = BudgetModel.pooled


@dataclass(frozen=True)
class Risk:
    """Who bears a risk-bearing budget's risk, and in what shares."""

    parties: tuple[str, ...]  # in order: risk_sharing.parties, then any party only in shares
    shares: dict[str, float]  # party -> percent, where stated (or by contributions)

    @property
    def stated(self) -> int:
        return sum(1 for party in self.parties if party in self.shares)

    @property
    def total(self) -> float:
        return round(math.fsum(self.shares.values()), 2)

    @property
    def without_share(self) -> list[str]:
        return [party for party in self.parties if party not in self.shares]


def risk(budget: Budget | None) -> Risk:
    """The risk-sharing parties and their shares in percent: as stated, or in proportion to
    their contributions (`basis: contributions`)."""
    sharing = budget.risk_sharing if budget else None
    if budget is None or sharing is None:
        return Risk((), {})
    parties = tuple(dict.fromkeys([*sharing.parties, *(s.party for s in sharing.shares)]))
    if sharing.basis == "contributions":  # a party that contributes nothing bears nothing
        gbp = {c.party: c.gbp for c in budget.contributions if c.gbp is not None}
        total = math.fsum(gbp.get(p) or 0.0 for p in parties)
        if total > 0:
            return Risk(parties, {p: 100 * (gbp.get(p) or 0.0) / total for p in parties})
        return Risk(parties, {})
    return Risk(parties, {s.party: s.percent for s in sharing.shares})


@dataclass(frozen=True)
class Pool:
    """A pooled budget's parties that no section 75 agreement covers."""

    missing_for: str  # "local_authority", "care_trust" or ""
    uncovered: tuple[str, ...]


def pool(
    proposal: Proposal, types: Mapping[str, OrgType], body_of: Mapping[str, str], shared: Risk
) -> Pool:
    """Who pools a pooled budget (its contributors, else its risk-sharing parties), and which
    of them would need a section 75 agreement with an NHS body of the pool and have none.

    A local authority needs one with any NHS body of the pool; a care trust (an NHS body
    itself) with another NHS body of the pool: the requirement names "a local authority or care
    trust". A unit (a PCT's provider arm) counts as the body it belongs to (`body_of`: unit ->
    body). `types` and `shared` (the budget's risk) are the partner graph's, worked out once.
    """
    budget = proposal.governance.budget
    if budget is None or budget.model != _POOLED:
        return Pool("", ())
    members = [c.party for c in budget.contributions] or list(shared.parties)
    bodies = list(dict.fromkeys(body_of.get(m, m) for m in members))
    agreements = [
        {body_of.get(p, p) for p in agreement.parties}
        for agreement in proposal.agreements
        if agreement.type is AgreementType.section_75
    ]
    uncovered: list[str] = []
    missing = ""
    for kind in _COUNCIL_SIDE:
        for party in (b for b in bodies if types.get(b) is kind):
            others = {b for b in bodies if b != party and types.get(b) in NHS_BODY_TYPES}
            if not others or any(party in a and a & others for a in agreements):
                continue
            uncovered.append(party)
            missing = missing or kind.value
    return Pool(missing, tuple(uncovered))
