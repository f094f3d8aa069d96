"""The check's fast paths give what the plain code they replaced gives: services worked out
once per organisation, and the cross-reference checks walking the bid once."""

from __future__ import annotations

from pathlib import Path

import pytest

import icorules
from icorules.inputs.proposal import entries, lines

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PROPOSALS = sorted(
    p
    for p in [*EXAMPLES.glob("*.json"), *EXAMPLES.glob("*.yaml"), *EXAMPLES.glob("format-1/*")]
    if p.suffix in (".json", ".yaml")
)


@pytest.mark.parametrize("path", PROPOSALS, ids=lambda p: p.name)
def test_cached_services_equal_entries_and_lines(path: Path) -> None:
    proposal = icorules.load_proposal(path)
    for org in proposal.organisations:
        assert org.provided == tuple(entries(org.provides))
        assert org.provided_lines == tuple(lines(org.provides))
        assert org.commissioned_lines == tuple(lines(org.commissions))
        assert org.provided is org.provided  # worked out once
    for agreement in proposal.agreements:
        assert agreement.service_entries == tuple(entries(agreement.services))


def test_cached_services_leave_the_model_as_it_was() -> None:
    """A cached value is not a field: dumps and equality are as before."""
    path = EXAMPLES / "norfolk-older-people.yaml"
    read, fresh = icorules.load_proposal(path), icorules.load_proposal(path)
    before = read.model_dump_json()
    for org in read.organisations:
        _ = org.provided, org.provided_lines, org.commissioned_lines
    assert read.model_dump_json() == before
    assert read == fresh


@pytest.mark.parametrize(
    "value",
    [
        "GP1",
        "RIV-GP1",
        "a.b:c_d-e",
        "x" * 64,
        "x" * 65,
        "-GP1",
        "GP 1",
        "",
        "ÉGP",
        7,
        None,
        ["GP1"],
    ],
)
def test_org_ids_remembered_say_what_the_pattern_says(value: object) -> None:
    from icorules.inputs.codes import _ORG_ID, ORG_ID_LENGTH, is_org_id

    plain = (
        isinstance(value, str) and len(value) <= ORG_ID_LENGTH and bool(_ORG_ID.fullmatch(value))
    )
    assert is_org_id(value) is plain
    assert is_org_id(value) is plain  # the second answer is the one remembered
