"""Properties of market shares and HHI (reference fact R3), over random markets."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from icorules.analysis.markets import concentration

ids = st.text("ABCDEFGHJK0123456789", min_size=1, max_size=4)
sizes = st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False), st.integers(0, 100_000))
markets = st.dictionaries(ids, sizes, min_size=1, max_size=25)


@st.composite
def market_and_partners(draw: st.DrawFn) -> tuple[dict[str, float | None], set[str]]:
    market = draw(markets)
    partners = draw(st.sets(st.sampled_from(sorted(market))))
    return market, partners


@pytest.mark.slow
@given(market_and_partners())
def test_shares_sum_to_one(case: tuple[dict, set]) -> None:
    result = concentration(*case)
    assert math.isclose(math.fsum(result.shares.values()), 1.0, rel_tol=1e-9)
    assert all(0 <= s <= 1 for s in result.shares.values())


@pytest.mark.slow
@given(market_and_partners())
def test_hhi_within_bounds_and_never_falls(case: tuple[dict, set]) -> None:
    result = concentration(*case)
    assert 0 < result.hhi_pre <= 10_000 + 1e-6
    assert result.hhi_pre <= result.hhi_post <= 10_000 + 1e-6
    assert 0 <= result.partner_share <= 1 + 1e-9


@pytest.mark.slow
@given(market_and_partners(), st.randoms())
def test_relabelling_organisations_changes_nothing(case: tuple[dict, set], rnd) -> None:
    market, partners = case
    names = list(market)
    shuffled = names[:]
    rnd.shuffle(shuffled)
    rename = {old: f"X{new}" for old, new in zip(names, shuffled, strict=True)}
    before = concentration(market, partners)
    after = concentration({rename[k]: v for k, v in market.items()}, {rename[p] for p in partners})
    assert math.isclose(before.hhi_pre, after.hhi_pre, rel_tol=1e-9)
    assert math.isclose(before.hhi_post, after.hhi_post, rel_tol=1e-9)
    assert math.isclose(before.partner_share, after.partner_share, rel_tol=1e-9)
    assert before.basis == after.basis


def test_worked_example() -> None:
    # Four providers of 40/30/20/10; the 30 and 20 combine: HHI 3000 -> 4200, delta 1200.
    result = concentration({"A": 40, "B": 30, "C": 20, "D": 10}, {"B", "C"})
    assert result.basis == "size"
    assert result.partner_share == pytest.approx(0.5)
    assert result.hhi_pre == pytest.approx(3000)
    assert result.hhi_post == pytest.approx(4200)
    assert result.hhi_delta == pytest.approx(1200)


def test_missing_size_falls_back_to_counting_providers() -> None:
    result = concentration({"A": 900, "B": None, "C": 100}, {"A"})
    assert result.basis == "count"
    assert result.partner_share == pytest.approx(1 / 3)


def test_a_monopoly_is_10000() -> None:
    result = concentration({"A": 5}, {"A"})
    assert (result.hhi_pre, result.hhi_post, result.partner_share) == (10_000, 10_000, 1.0)
