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


# Sizes are bounded where they are read (at most 1,000,000,000), but the arithmetic must hold
# for any finite size: 1e308 twice once ended a check with "intermediate overflow in fsum".
huge_sizes = st.one_of(
    st.floats(min_value=1e-300, max_value=1.7e308, allow_nan=False, allow_infinity=False),
    st.integers(1, 10**300),
)


@pytest.mark.slow
@given(st.dictionaries(ids, huge_sizes, min_size=1, max_size=25), st.data())
def test_any_finite_sizes_are_safe(market: dict[str, float], data: st.DataObject) -> None:
    partners = data.draw(st.sets(st.sampled_from(sorted(market))))
    result = concentration(market, partners)
    assert result.basis == "size"
    assert math.isclose(math.fsum(result.shares.values()), 1.0, rel_tol=1e-9)
    assert 0 < result.hhi_pre <= result.hhi_post <= 10_000 + 1e-6


def test_the_largest_floats_do_not_overflow() -> None:
    result = concentration({"A": 1e308, "B": 1e308, "C": 1.7e308}, {"A", "B"})
    assert result.partner_share == pytest.approx(2 / 3.7)
    assert result.hhi_post == pytest.approx(10_000 * ((2 / 3.7) ** 2 + (1.7 / 3.7) ** 2))


@pytest.mark.parametrize("odd", [math.inf, math.nan, 0, -5, None])
def test_a_size_that_is_not_a_positive_finite_number_means_counting(odd: float | None) -> None:
    result = concentration({"A": 900, "B": odd, "C": 100}, {"A"})
    assert result.basis == "count"
    assert result.partner_share == pytest.approx(1 / 3)
