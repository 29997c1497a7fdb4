"""Fees and earnings in integer minor units, rounded as documented (domain/money.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from order_service.domain.money import MAX_PRICE_MINOR, breakdown


@pytest.mark.parametrize(
    ("price", "fee", "earnings"),
    [
        (1, 200, 0),  # 0.055 rounds to 0, plus the small-order surcharge
        (9, 200, 7),  # 0.495 rounds down
        (10, 201, 8),  # 0.55 rounds up (half up)
        (4_999, 475, 3_999),  # 274.945 -> 275, + 200
        (5_000, 275, 4_000),  # no surcharge from 5000 on
        (10_000, 550, 8_000),
        (12_345, 679, 9_876),  # 678.975 -> 679; 9876 = floor(9876.0)
    ],
)
def test_fee_and_earnings(price: int, fee: int, earnings: int) -> None:
    prices = breakdown(price)
    assert (prices.service_fee, prices.seller_earnings) == (fee, earnings)
    assert prices.total == price + fee


@given(st.integers(min_value=1, max_value=MAX_PRICE_MINOR))
def test_every_minor_unit_is_accounted_for(price: int) -> None:
    prices = breakdown(price)
    assert prices.seller_earnings + prices.commission == price
    assert prices.total == prices.seller_earnings + prices.commission + prices.service_fee
    assert all(isinstance(v, int) for v in (prices.service_fee, prices.seller_earnings, prices.total))
    # Half-up rounding of exactly 5.5%: never off by more than half a minor unit.
    exact_twice = price * 55 * 2 // 1000
    assert abs(2 * (prices.service_fee - (200 if price < 5_000 else 0)) - exact_twice) <= 1


@pytest.mark.parametrize("price", [0, -1, MAX_PRICE_MINOR + 1, True, 1.5])
def test_bad_prices_are_refused(price: object) -> None:
    with pytest.raises(ValueError, match="price must be"):
        breakdown(price)  # type: ignore[arg-type]
