"""What one check leaves behind: the report, and what writing it in any format needs.

A `Report` is the typed, serialisable verdict. The renderers need a little more than the
verdict: the partner graph (HTML drawing, graph export), the rules that ran (SARIF's rule
descriptions, citations) and the parsed proposal file (a finding's line and column). The check
has all of these in hand, so it passes them on in a `CheckResult` and no renderer reads or
builds anything again. `Outcome` is one file of a batch: a result, or why there is none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from icorules.analysis.graph import PartnerGraph
from icorules.errors import Problem
from icorules.inputs.documents import Document, Loc
from icorules.results.findings import construct
from icorules.results.report import FailOn, ProposalInfo, Report, Summary
from icorules.rules.loader import RuleBundle


@dataclass(frozen=True, eq=False)
class CheckResult:
    """A report with the graph, rules and document it came from."""

    report: Report
    bundle: RuleBundle
    graph: PartnerGraph
    document: Document | None = None  # None when the proposal was given as data
    waivers_used: frozenset[int] = frozenset()  # indices of the waivers that matched a finding

    def position(self, path: str) -> tuple[int | None, int | None]:
        """Line and column (1-based) of a JSON path such as `organisations[3].pct` in the
        proposal file, or of its nearest ancestor there; (None, None) without a file."""
        if self.document is None:
            return None, None
        return self.document.position(path_parts(path))


def path_parts(path: str) -> Loc:
    """`organisations[3].pct` -> ('organisations', 3, 'pct')."""
    return tuple(
        int(part) if part.isdigit() else part for part in re.split(r"[.\[\]]+", path) if part
    )


@dataclass(frozen=True)
class Outcome:
    """One proposal of a run: its verdict and its rendered part, or why it has none.

    A worker process sends back this, not the report: the part is already written in the
    run's format, and the verdict needs only the counts.
    """

    path: str
    proposal: ProposalInfo | None = None
    summary: Summary | None = None
    part: str | None = None  # the run's format's rendering of this proposal
    report: Report | None = None  # kept only when asked for (library use)
    waivers_used: frozenset[int] = frozenset()  # indices into the run's waivers
    problems: tuple[Problem, ...] = ()
    internal_error: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Sent from a worker process with its two models as their fields' values: pickling
        them as pydantic does cost ~10 us a bid in the worker and ~10 more in the parent."""
        return (
            _outcome,
            (
                self.path,
                None if self.proposal is None else self.proposal.__dict__,
                None if self.summary is None else self.summary.__dict__,
                self.part,
                self.report,
                self.waivers_used,
                self.problems,
                self.internal_error,
            ),
        )

    @property
    def checked(self) -> bool:
        return self.summary is not None

    def verdict(self, fail_on: FailOn) -> str:
        if self.internal_error is not None:
            return "internal error"
        if self.summary is None:
            return "unreadable"
        return "fail" if self.summary.fails(fail_on) else "pass"

    def worst_key(self) -> tuple[int, int, int, int, str]:
        """Unreadable first, then most errors, warnings and notes."""
        if self.summary is None:
            return (0, 0, 0, 0, self.path)
        s = self.summary
        return (1, -s.error, -s.warning, -s.info, self.path)


def _outcome(
    path: str,
    proposal: dict[str, Any] | None,
    summary: dict[str, Any] | None,
    *rest: Any,
) -> Outcome:
    """An Outcome as a worker process sent it (Outcome.__reduce__)."""
    return Outcome(
        path,
        None if proposal is None else construct(ProposalInfo, **proposal),
        None if summary is None else construct(Summary, **summary),
        *rest,
    )
