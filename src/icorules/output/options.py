"""The types every report format shares: how a run wants its reports written
(`RenderOptions`) and what a format provides (`Renderer`).

They live apart from the package's `__init__`, which finds each format's module by name: the
formats import these types, so with them in `__init__` each format and the package would
import each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from icorules.results.outcome import CheckResult, Outcome
    from icorules.results.report import FailOn
    from icorules.rules.loader import RuleBundle


@dataclass(frozen=True)
class RenderOptions:
    """How a run wants its reports written."""

    fail_on: FailOn = "error"
    color: bool = False  # ANSI colour in the text format
    quiet: bool = False  # the summary line only (text)
    index_link: str | None = None  # pages of a batch link back to their index (html)


class Renderer(Protocol):
    name: str
    media_type: str
    pages: bool  # a batch writes each part to a file of its own, beside the document

    def part(self, result: CheckResult, options: RenderOptions) -> str:
        """One proposal's share of the output."""
        ...

    def document(
        self, outcomes: Sequence[Outcome], bundle: RuleBundle, options: RenderOptions
    ) -> Iterable[str]:
        """The whole output of a run, from its outcomes (each with its part), in the pieces it
        is written in: a batch's output is never held as one string (the JSON of 10,000 bids
        is ~75 million characters, and joining them cost more than writing them)."""
        ...
