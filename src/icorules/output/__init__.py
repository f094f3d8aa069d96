"""Output: each report format behind one seam.

A format is a `Renderer` with one signature in two steps. `part` renders one check's result
where the check ran: in a batch that is a worker process, which still holds the partner graph,
the rules and the parsed proposal file, so nothing is read or built again and only text travels
back. `document` puts a run's parts together with what only the whole run knows (files that
could not be read, the verdicts, the rules described once). The CLI's `--format` choices are
the names in `FORMATS`; each module is imported only when its format is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
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
    ) -> str:
        """The whole output of a run, from its outcomes (each with its part)."""
        ...


_MODULES = {
    "text": "icorules.output.text",
    "json": "icorules.output.json_report",
    "markdown": "icorules.output.markdown",
    "csv": "icorules.output.tabular",
    "sarif": "icorules.output.sarif",
    "junit": "icorules.output.junit",
    "github": "icorules.output.github",
    "html": "icorules.output.html",
}
FORMATS = tuple(_MODULES)


def renderer(name: str) -> Renderer:
    """The renderer of a format (see FORMATS)."""
    module = _MODULES.get(name)
    if module is None:
        raise ValueError(f"unknown format {name!r}; formats: {', '.join(FORMATS)}")
    found: Renderer = importlib.import_module(module).RENDERER
    return found
