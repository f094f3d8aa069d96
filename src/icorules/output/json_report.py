"""The JSON report, for other programs (`icorules schema report` describes it).

One proposal gives one report object; several give a list of them, so a single file stays
simple to consume. Each part is one report as it appears in the list, so the list is the parts
put together, not the reports serialised again.

orjson writes it (Python's json writes an indented document in pure Python: 0.37 ms for a
report of 13 KB, orjson 0.014 ms). The two write the same bytes except for numbers below
0.0001, which Python writes as `1e-05` and orjson as `0.00001`: where orjson's output may hold
one (or anything orjson refuses), Python's json writes the report instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import orjson

from icorules.output.options import RenderOptions
from icorules.results.outcome import CheckResult, Outcome
from icorules.results.report import Report
from icorules.rules.loader import RuleBundle


def report_json(report: Report) -> str:
    """One report as an indented JSON object (no trailing newline)."""
    return indented_json(report.model_dump(mode="json", exclude_none=True))


def indented_json(data: object) -> str:
    """`json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)`, written by orjson
    where the two agree (see the module docstring)."""
    try:
        fast = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):  # a lone surrogate, an integer past 64 bits
        fast = None
    if fast is not None and not _small_number(fast):
        return fast.decode()
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)


_DIGITS = frozenset(b"0123456789")


def _small_number(text: bytes) -> bool:
    """Whether orjson may have written a number differently from Python's json (1e-05 as
    0.00001, 1e-07 as 1e-7): a digit before `e-`, or `0.0000` that does not continue a number.
    Text that merely looks like one only costs the slower writer. (A regular expression for
    this took 0.4 ms on a 13 KB report; these searches take microseconds.)"""
    at = text.find(b"e-")
    while at != -1:
        if at and text[at - 1] in _DIGITS:
            return True
        at = text.find(b"e-", at + 2)
    at = text.find(b"0.0000")
    while at != -1:
        if not at or (text[at - 1] not in _DIGITS and text[at - 1] != ord(".")):
            return True
        at = text.find(b"0.0000", at + 6)
    return False


def render_json(reports: Sequence[Report]) -> str:
    """Reports as the JSON format writes them (for callers holding reports)."""
    return _join([report_json(r) for r in reports])


def _join(parts: Sequence[str]) -> str:
    return "".join(_pieces(parts)) if parts else "[]\n"


def _pieces(parts: Sequence[str]) -> Iterator[str]:
    """One report as it is; several as a list, each indented as an item of it; none, nothing."""
    if len(parts) == 1:
        yield parts[0] + "\n"
        return
    for i, part in enumerate(parts):
        yield ("[\n  " if i == 0 else ",\n  ") + part.replace("\n", "\n  ")
    if parts:
        yield "\n]\n"


class JsonRenderer:
    name = "json"
    media_type = "application/json"
    pages = False

    def part(self, result: CheckResult, options: RenderOptions) -> str:
        return report_json(result.report)

    def document(
        self, outcomes: Sequence[Outcome], bundle: RuleBundle, options: RenderOptions
    ) -> Iterator[str]:
        return _pieces([o.part for o in outcomes if o.part is not None])


RENDERER = JsonRenderer()
