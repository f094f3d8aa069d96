"""The JSON report, for other programs (`icorules schema report` describes it).

One proposal gives one report object; several give a list of them, so a single file stays
simple to consume. Each part is one report as it appears in the list, so the list is the parts
put together, not the reports serialised again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from icorules.output.options import RenderOptions
from icorules.results.outcome import CheckResult, Outcome
from icorules.results.report import Report
from icorules.rules.loader import RuleBundle


def report_json(report: Report) -> str:
    """One report as an indented JSON object (no trailing newline)."""
    data = report.model_dump(mode="json", exclude_none=True)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)


def render_json(reports: Sequence[Report]) -> str:
    """Reports as the JSON format writes them (for callers holding reports)."""
    return _join([report_json(r) for r in reports])


def _join(parts: Sequence[str]) -> str:
    if len(parts) == 1:
        return parts[0] + "\n"
    if not parts:
        return "[]\n"
    items = ",\n".join("  " + part.replace("\n", "\n  ") for part in parts)
    return f"[\n{items}\n]\n"


class JsonRenderer:
    name = "json"
    media_type = "application/json"
    pages = False

    def part(self, result: CheckResult, options: RenderOptions) -> str:
        return report_json(result.report)

    def document(
        self, outcomes: Sequence[Outcome], bundle: RuleBundle, options: RenderOptions
    ) -> str:
        parts = [o.part for o in outcomes if o.part is not None]
        return _join(parts) if parts else ""


RENDERER = JsonRenderer()
