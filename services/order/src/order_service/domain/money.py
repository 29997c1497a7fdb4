"""Prices, service fees and seller earnings in integer minor units (never floats).

marketplace.md: the buyer pays the price plus a service fee of 5.5% (plus a small-order surcharge of 200 minor
units, $2 in the reference, when the price is under 5000, $50); the seller earns 80% of the price; the rest
of the price (the commission) and the service fee are the platform's.

Rounding: the 5.5% is computed exactly as `price * 55 / 1000` and rounded half up to a whole minor unit
(the buyer never pays a fraction); earnings are `price * 80 / 100` rounded down, so a fraction of a minor
unit stays with the platform and `earnings + commission == price` holds exactly for every price.
"""

from __future__ import annotations

from dataclasses import dataclass

FEE_PER_MILLE = 55
SMALL_ORDER_THRESHOLD_MINOR = 5_000
SMALL_ORDER_SURCHARGE_MINOR = 200
SELLER_SHARE_PERCENT = 80
MAX_PRICE_MINOR = 100_000_000


@dataclass(frozen=True)
class PriceBreakdown:
    price: int
    service_fee: int
    seller_earnings: int

    @property
    def total(self) -> int:
        """What the buyer is charged."""
        return self.price + self.service_fee

    @property
    def commission(self) -> int:
        """The platform's share of the price."""
        return self.price - self.seller_earnings


def service_fee(price: int) -> int:
    # Half up: (x * 55 + 500) // 1000 is round(x * 0.055) with .5 going up, in integers only.
    fee = (price * FEE_PER_MILLE + 500) // 1000
    if price < SMALL_ORDER_THRESHOLD_MINOR:
        fee += SMALL_ORDER_SURCHARGE_MINOR
    return fee


def seller_earnings(price: int) -> int:
    return price * SELLER_SHARE_PERCENT // 100


def breakdown(price: int) -> PriceBreakdown:
    if isinstance(price, bool) or not isinstance(price, int) or not 1 <= price <= MAX_PRICE_MINOR:
        raise ValueError(f"price must be 1 to {MAX_PRICE_MINOR} minor units")
    return PriceBreakdown(price=price, service_fee=service_fee(price), seller_earnings=seller_earnings(price))
