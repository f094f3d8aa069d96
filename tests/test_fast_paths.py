"""The check's fast paths give what the plain code they replaced gives: services worked out
once per organisation, and the cross-reference checks walking the bid once."""

from __future__ import annotations

from pathlib import Path

import pytest

import icorules
from icorules.analysis.graph import PartnerGraph, build_graph
from icorules.inputs.services import entries, lines

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


def test_entries_made_once_are_what_making_them_gives() -> None:
    from icorules.inputs.codes import ServiceLine
    from icorules.inputs.services import ProvidedService, ServiceEntry

    line = ServiceLine("outpatients")
    entry = ServiceEntry(service=line, specialty="diabetes")
    whole = ServiceEntry(service=line)
    made = entries([line, entry, whole])
    assert made == (
        ProvidedService(service=line),
        ProvidedService(service=line, specialty="diabetes"),
        ProvidedService(service=line, specialty=None),
    )
    assert [m.model_fields_set for m in made] == [
        {"service"},
        {"service", "specialty"},
        {"service", "specialty"},
    ]
    assert entries([line])[0] is made[0]  # shared: the models are frozen


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


def _graphs() -> list[PartnerGraph]:
    from icorules.inputs.market import load_market

    market = load_market(EXAMPLES / "markets" / "morecambe-bay.json")
    return [
        build_graph(icorules.load_proposal(path), market if path.name.startswith("bay-") else None)
        for path in PROPOSALS
    ]


def test_rows_records_and_lazy_facts_equal_the_fact_objects() -> None:
    """A check sends the engine the rows' values as they are and makes fact objects on demand:
    read as a backend reads them, the same records, and the same facts (in the same field
    order), as derive_facts."""
    from icorules.analysis.derive import derive_facts, derive_rows
    from icorules.analysis.fact_base import FactsByKey, made
    from icorules.engines import fact_record, normalized, record_of

    for partners in _graphs():
        rows = derive_rows(partners)
        facts = derive_facts(partners)
        assert [made(row) for row in rows] == facts
        for (cls, values), fact in zip(rows, facts, strict=True):
            # every field given, no other, and the kind: the values are the record sent
            assert set(values) == {*type(fact).model_fields, "kind"}
            assert values["kind"] == cls.kind
            record = fact_record(fact)
            assert record_of(cls, values) == normalized(values) == record
            assert normalized(record) == record  # already normalized: unchanged
        lazy = FactsByKey(derive_rows(partners))
        assert dict(lazy) == {(f.kind, f.id): f for f in facts}
        assert [list(dict(f).items()) for f in lazy.values()] == [
            list(dict(f).items()) for f in {(f.kind, f.id): f for f in facts}.values()
        ]


def test_a_lazy_fact_is_made_once() -> None:
    from icorules.analysis.derive import derive_rows
    from icorules.analysis.fact_base import FactsByKey

    lazy = FactsByKey(derive_rows(_graphs()[0]))
    key = next(iter(lazy))
    assert lazy[key] is lazy[key]
    assert lazy.get(("partner", "no such id")) is None


def test_a_market_read_by_load_market_file_is_not_checked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The command line reads its market once (load_market_file) and hands the Market to each
    check: its cross-references are not written out and checked again (~100 ms for the
    national market in a fresh process)."""
    import icorules.inputs.market as market_module
    from icorules.api import load_market_file

    market = load_market_file(EXAMPLES / "markets" / "morecambe-bay.json")
    calls: list[object] = []
    real = market_module.market_references
    monkeypatch.setattr(market_module, "market_references", lambda *a: calls.append(a) or real(*a))
    before = icorules.check(EXAMPLES / "bay-clean.json", market=market)
    again = icorules.check(EXAMPLES / "bay-clean.json", market=market)
    assert calls == []
    assert again.model_dump(exclude={"elapsed_ms"}) == before.model_dump(exclude={"elapsed_ms"})
    # A Market made elsewhere is still checked, once.
    copy = market.model_copy()
    icorules.check(EXAMPLES / "bay-clean.json", market=copy)
    icorules.check(EXAMPLES / "bay-clean.json", market=copy)
    assert len(calls) == 1


@pytest.mark.parametrize(
    "text", ["A", "a\u200b", "\u3164", "\u3164x", "", " ", "\u200b", "1", "é", "\u2800", "_x"]
)
def test_visible_text_fast_path_says_what_the_full_test_says(text: str) -> None:
    import unicodedata

    from icorules.inputs.codes import (
        _BLANK_CHARACTERS,
        _INVISIBLE_CATEGORIES,
        has_visible_character,
    )

    full = any(
        ch not in _BLANK_CHARACTERS and unicodedata.category(ch) not in _INVISIBLE_CATEGORIES
        for ch in text
    )
    assert has_visible_character(text) is full


def test_a_copy_works_its_services_out_again() -> None:
    """What was worked out from an organisation's fields is not carried into a copy whose
    fields changed (model_copy(update=...))."""
    from icorules.inputs.codes import ServiceLine

    proposal = icorules.load_proposal(EXAMPLES / "norfolk-older-people.yaml")
    org = proposal.organisations[1]
    assert org.provided_lines  # worked out and kept
    changed = org.model_copy(update={"provides": [ServiceLine("outpatients")]})
    assert changed.provided_lines == ("outpatients",)
    assert changed.commissioned_lines == tuple(lines(changed.commissions))
    assert org.model_copy().provided_lines == org.provided_lines
    assert org.model_copy(deep=True) == org
    agreement = proposal.agreements[0]
    assert agreement.service_entries is not None
    emptied = agreement.model_copy(update={"services": []})
    assert emptied.service_entries == ()
