"""Property tests for every output sink: whatever text a bid's names, a waiver's reason or a file
name hold, each format stays what it claims to be.

hypothesis draws names and reasons from all of Unicode (controls, bidi overrides, U+FFFF, lone
surrogates where a Python string allows them, formula and markup characters), puts them into a
valid bid and waiver file, and checks every renderer's output against its own language's rules.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pydot
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from icorules.api import run_check
from icorules.errors import InputError
from icorules.output import RenderOptions, renderer
from icorules.output.graph_export import export_graph
from icorules.results.outcome import Outcome
from icorules.results.waivers import Waiver

pytestmark = pytest.mark.slow

VALID = Path(__file__).resolve().parent / "bad" / "proposals" / "valid.json"
DANGEROUS = "=+-@\t\r\n\x1b\x07\x9b\u202e\u2066\u2028\ufffe\uffff<>&\"'`|[]()!*_#\\:,%"
TEXT = st.text(
    alphabet=st.one_of(st.sampled_from(DANGEROUS), st.characters(codec="utf-8")),
    min_size=1,
    max_size=40,
)
# What no terminal may be shown raw: C0 and C1 controls, DEL, bidi controls, line separators.
RAW_TERMINAL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _check(name: str, reason: str) -> Any:
    """GP2 named `name` misses the dispute procedure (GOV-002) and the information sharing
    (GOV-008), whose finding a waiver with `reason` accepts."""
    data = json.loads(VALID.read_text())
    data["organisations"][2]["name"] = name
    data["governance"]["dispute_resolution"]["parties"] = ["PCT1", "GP1"]
    data["governance"]["information_sharing"]["parties"] = ["PCT1", "GP1"]
    waiver = Waiver(rule="GOV-008", reason=reason, approved_by="Panel")
    return run_check(data, waivers=[waiver])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=TEXT, reason=TEXT)
@example(name="=\u2028=", reason="=")  # a line separator reached GitHub annotations raw
def test_every_format_holds_whatever_the_names_hold(name: str, reason: str) -> None:
    try:
        result = _check(name, reason)
    except (InputError, ValueError):
        return  # a name or reason the formats refuse (a control character, nothing visible)
    for fmt in ("text", "csv", "markdown", "junit", "sarif", "json", "github", "html"):
        chosen = renderer(fmt)
        options = RenderOptions(color=fmt == "text")
        part = chosen.part(result, options)
        outcome = Outcome("bid.json", result.report.proposal, result.report.summary, part)
        out = "".join(chosen.document([outcome], result.bundle, options))
        out.encode("utf-8")  # no lone surrogate in any output
        if fmt == "text":
            assert not RAW_TERMINAL.search(out.replace("\x1b[", "").replace("\n", ""))
        elif fmt == "csv":
            for row in csv.reader(io.StringIO(out)):
                assert not any(cell.startswith(FORMULA) for cell in row), row
        elif fmt == "markdown":
            assert "<" not in out and not re.search(r"(?<!\\)\]\(", out)
        elif fmt == "junit":
            ET.fromstring(out)
        elif fmt in ("sarif", "json"):
            json.loads(out)
        elif fmt == "github":
            assert all(line.startswith("::") for line in out.splitlines())
        elif fmt == "html":
            assert name not in out or not re.search(r"[<>]", name)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=TEXT)
def test_graph_exports_stay_well_formed(name: str) -> None:
    data = json.loads(VALID.read_text())
    data["organisations"][1]["name"] = name
    try:
        result = run_check(data)
    except InputError:
        return
    ET.fromstring(export_graph(result.graph, "graphml"))
    graphs = pydot.graph_from_dot_data(export_graph(result.graph, "dot"))
    assert graphs and len(graphs) == 1
