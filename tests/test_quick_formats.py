"""The quick format-1 test (formats.says_nothing_new) vouches for a format-1 file only when the
full walk (formats.format_1_problems) finds nothing in it, and vouches for the format-1 bids we
have, so the walk's located messages are the only ones a user ever sees."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from icorules.inputs.documents import load_document
from icorules.inputs.formats import (
    _NEW_FIELDS,
    FORMAT_1,
    format_1_problems,
    format_problems,
    says_nothing_new,
)

ROOT = Path(__file__).resolve().parent.parent
FORMAT_1_BIDS = [load_document(p).data for p in sorted((ROOT / "examples" / "format-1").glob("*"))]
BIDS = [
    load_document(p).data
    for p in sorted((ROOT / "examples").glob("*.*"))
    if p.suffix in (".json", ".yaml")
]
BIDS = [d for d in BIDS if isinstance(d, dict) and "lead" in d]
ADDED = sorted({name for _, names in _NEW_FIELDS for name in names})


def _agrees(data: Any) -> bool:
    """The quick test vouches only for what the walk passes, and format_problems gives the
    walk's answer. Returns the quick test's verdict."""
    full = format_1_problems(data)
    quick = says_nothing_new(data)
    if quick:
        assert full == []
    assert format_problems(data) == full
    return quick


def test_the_format_1_bids_take_the_quick_path() -> None:
    assert FORMAT_1_BIDS
    for data in FORMAT_1_BIDS:
        assert _agrees(data)


def test_a_format_2_bid_read_as_format_1_gets_the_walks_answer() -> None:
    verdicts = []
    for data in BIDS:
        verdicts.append(_agrees({**data, "format": FORMAT_1}))
    assert False in verdicts  # the format-2 bids use format 2's fields


def _containers(value: Any) -> list[Any]:
    """Every mapping and list in a document."""
    found = []
    if isinstance(value, dict | list):
        found.append(value)
        for item in value.values() if isinstance(value, dict) else value:
            found += _containers(item)
    return found


def _agreements(data: dict[str, Any]) -> list[Any]:
    found = data.get("agreements")
    return [a for a in found if isinstance(a, dict)] if isinstance(found, list) else []


VALUES = [None, [], {}, "", "x", 0, 1, True, "section_75", "outpatients", ["outpatients"]]
ENTRIES = [{"service": "outpatients"}, {"service": "outpatients", "specialty": "diabetes"}]


@st.composite
def _changed(draw: st.DrawFn) -> Any:
    """A bid as format 1 (often with format 2's fields taken out), changed in up to four
    places: one of format 2's fields added (empty or not), a service given as an object, an
    agreement made a section 75, or a value replaced or added, of any kind."""
    data = copy.deepcopy(draw(st.sampled_from([*FORMAT_1_BIDS, *BIDS])))
    data["format"] = FORMAT_1
    if draw(st.booleans()):
        data = {k: v for k, v in data.items() if k not in ("stakeholders", "description")}
        for container in _containers(data):
            if isinstance(container, dict):
                for name in ADDED:
                    container.pop(name, None)
            else:
                container[:] = [
                    i for i in container if not isinstance(i, dict) or "service" not in i
                ]
    for _ in range(draw(st.integers(0, 4))):
        choice = draw(st.integers(0, 3))
        value = copy.deepcopy(draw(st.sampled_from([*VALUES, *ENTRIES])))
        mappings = [c for c in _containers(data) if isinstance(c, dict)]
        if choice == 0:
            draw(st.sampled_from(mappings))[draw(st.sampled_from(ADDED))] = value
        elif choice == 1:
            holder = draw(st.sampled_from([*data.get("organisations", []), *_agreements(data)]))
            key = draw(st.sampled_from(["provides", "commissions", "services"]))
            holder.setdefault(key, []).append(draw(st.sampled_from(ENTRIES)))
        elif choice == 2 and _agreements(data):
            draw(st.sampled_from(_agreements(data)))["type"] = "section_75"
        else:
            target = draw(st.sampled_from(_containers(data)))
            key = draw(st.sampled_from(list(target) or [0]))
            if isinstance(target, list):
                target.append(value)
            else:
                target[key] = value
    return json.loads(json.dumps(data, default=str))


@settings(max_examples=500, deadline=None)
@given(_changed())
def test_a_changed_format_1_bid_gets_the_walks_answer(data: Any) -> None:
    _agrees(data)


def test_the_changes_reach_both_answers() -> None:
    """The changes above make files the quick test vouches for and files it does not."""
    found: set[bool] = set()

    @settings(max_examples=200, deadline=None)
    @given(_changed())
    def collect(data: Any) -> None:
        found.add(_agrees(data))

    collect()
    assert found == {True, False}
