"""The quick cross-reference test (icorules.inputs.proposal_quick) says a bid is consistent
only when the full checks (proposal_checks.reference_problems) find nothing, and says so of
every valid bid we have, so the full checks' messages are the only ones a user ever sees."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icorules.errors import InputError
from icorules.inputs.documents import load_document
from icorules.inputs.proposal import _FIELDS
from icorules.inputs.proposal_checks import reference_problems
from icorules.inputs.proposal_quick import consistent, cross_reference_problems

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(
    p
    for p in [*(ROOT / "examples").glob("*.*"), *(ROOT / "examples" / "format-1").glob("*.*")]
    if p.suffix in (".json", ".yaml")
)
BAD = sorted((ROOT / "tests" / "bad" / "proposals").glob("*.*"))


def _data(path: Path) -> Any:
    try:
        return load_document(path).data
    except InputError:
        return None


VALID = [d for d in (_data(p) for p in EXAMPLES) if isinstance(d, dict) and "lead" in d]


def _agrees(data: Any) -> bool:
    """The quick test vouches only for what the full checks pass; the quick path's answer is
    the full checks' answer. Returns the quick test's verdict."""
    full = reference_problems(data, _FIELDS)
    quick = consistent(data)
    if quick:
        assert full == []
    assert cross_reference_problems(data, _FIELDS) == full
    return quick


def test_every_example_bid_takes_the_quick_path() -> None:
    assert len(VALID) >= 15
    for data in VALID:
        assert _agrees(data), data.get("id")


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_bids_get_the_full_checks_answer(path: Path) -> None:
    data = _data(path)
    if data is not None:
        _agrees(data)


def _places(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path in a document, containers and leaves."""
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _places(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _places(item, (*at, i))
    return found


def _ids(data: dict[str, Any]) -> list[Any]:
    """The ids, codes and words a bid's references and checks are made of."""
    named = [
        item.get(key)
        for field, key in (
            ("organisations", "id"),
            ("stakeholders", "id"),
            ("agreements", "id"),
            ("pct_areas", "code"),
        )
        for item in _list(data.get(field))
        if isinstance(item, dict)
    ]
    return named[:40]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


WORDS = [
    None,
    "UNKNOWN-1",
    "not an id!",
    "5ZZ",
    5,
    True,
    [],
    {},
    "draft",
    "signed",
    "supports",
    "opposed",
    "section_75",
    "gp_practice",
    "pct",
    "care_trust",
    "local_authority",
    "other",
    "contributions",
    "shares",
    "2009-01-01",
    "P81001",
    "RX1",
    0,
    1,
    500,
]
KEYS = [
    "part_of",
    "sign_by",
    "agreement",
    "status",
    "type",
    "type_description",
    "pct",
    "ods_code",
    "shares",
    "party",
    "basis",
    "parties",
    "practice_count",
    "commissioner",
    "commissioner_support",
    "stakeholders",
    "lead_commissioner",
    "holder",
    "gbp",
]


@st.composite
def _mutated(draw: st.DrawFn) -> Any:
    """A valid bid changed in one to four places: a value replaced (by one of its own ids, a
    stakeholder's, an unknown one, a word a check reads, or a value of another kind), a key
    removed, a key added, or an item copied within its list."""
    data = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        places = [p for p in _places(data) if p]
        at = draw(st.sampled_from(places))
        parent = data
        for step in at[:-1]:
            parent = parent[step]
        ids = _ids(data)
        choice = draw(st.integers(0, 4))
        if choice == 0:
            parent[at[-1]] = copy.deepcopy(draw(st.sampled_from([*WORDS, *ids])))
        elif choice == 1 and isinstance(parent, dict):
            del parent[at[-1]]
        elif choice == 2 and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[at[-1]]))
        elif choice == 3:
            target = parent[at[-1]]
            if isinstance(target, dict):
                word = draw(st.sampled_from([*WORDS, *ids]))
                target[draw(st.sampled_from(KEYS))] = copy.deepcopy(word)
        elif choice == 4 and ids:
            parent[at[-1]] = draw(st.lists(st.sampled_from(ids), max_size=4))
    return json.loads(json.dumps(data, default=str))


@settings(max_examples=600, deadline=None)
@given(_mutated())
def test_a_changed_bid_gets_the_full_checks_answer(data: Any) -> None:
    _agrees(data)


def test_the_changes_reach_both_answers() -> None:
    """The mutations above make both consistent and inconsistent bids (else the property test
    shows nothing)."""
    verdicts = {_agrees(d) for d in _samples()}
    assert verdicts == {True, False}


def _samples() -> list[Any]:
    found: list[Any] = []

    @settings(max_examples=200, deadline=None)
    @given(_mutated())
    def collect(data: Any) -> None:
        found.append(data)

    collect()
    return found


def test_a_unit_whose_type_is_not_text_is_a_schema_problem_not_a_crash() -> None:
    """Found by the property test above: a unit (`part_of`) whose type was a list made the
    full checks raise TypeError (an internal error, exit 3) instead of reporting the type."""
    from icorules.inputs.proposal import parse_proposal

    data = copy.deepcopy(next(d for d in VALID if d.get("id") == "norfolk-older-people"))
    unit = next(o for o in data["organisations"] if o.get("part_of"))
    unit["type"] = []
    assert reference_problems(data, _FIELDS) == []
    with pytest.raises(InputError) as caught:
        parse_proposal(data)
    assert [p.message for p in caught.value.problems] == [
        "organisations[1].type: '[]' is not allowed here; expected one of: gp_practice, pct, "
        "nhs_trust, foundation_trust, mental_health_trust, care_trust, ambulance_trust, "
        "health_professionals_group, pbc_consortium, local_authority, social_enterprise, "
        "independent_sector, voluntary_organisation, patient_group, school, other"
    ]
