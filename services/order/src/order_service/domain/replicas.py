"""What the order service keeps of other services' data (docs/contracts.md, "Marketplace events").

Gig prices from `gig.gig.#` (applied by gig version), accepted offers from `chat.offer.#` (by offer version),
the directory from `auth.account.created.v1`. Parsing is strict: a malformed event is refused, not guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from order_service.domain.errors import InvalidOrderRequest

_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class GigReplica:
    gig_id: str
    seller_id: str
    price: int
    currency: str
    delivery_days: int
    active: bool
    deleted: bool
    version: int

    @property
    def orderable(self) -> bool:
        return self.active and not self.deleted


@dataclass(frozen=True)
class OfferReplica:
    offer_id: str
    gig_id: str
    seller_id: str
    buyer_id: str
    price: int
    currency: str
    delivery_days: int
    status: str
    version: int


def _str(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidOrderRequest(f"field {name!r} must be a non-empty string")
    return value


def _int(data: Mapping[str, Any], name: str, minimum: int = 0) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidOrderRequest(f"field {name!r} must be an integer >= {minimum}")
    return value


def _currency(data: Mapping[str, Any]) -> str:
    value = _str(data, "currency").upper()
    if not _CURRENCY.fullmatch(value):
        raise InvalidOrderRequest("currency must be an ISO 4217 code")
    return value


def gig_from_event(payload: Mapping[str, Any]) -> GigReplica:
    gig = payload.get("gig")
    if not isinstance(gig, Mapping):
        raise InvalidOrderRequest("gig event without a gig")
    return GigReplica(
        gig_id=_str(gig, "id"),
        seller_id=_str(gig, "seller_id"),
        price=_int(gig, "price", 1),
        currency=_currency(gig),
        delivery_days=_int(gig, "delivery_days", 1),
        active=bool(gig.get("active", True)),
        deleted=bool(gig.get("deleted", False)),
        version=_int(payload, "version", 1),
    )


def offer_from_event(payload: Mapping[str, Any]) -> OfferReplica:
    offer = payload.get("offer")
    if not isinstance(offer, Mapping):
        raise InvalidOrderRequest("offer event without an offer")
    return OfferReplica(
        offer_id=_str(offer, "id"),
        gig_id=_str(offer, "gig_id"),
        seller_id=_str(offer, "seller_id"),
        buyer_id=_str(offer, "buyer_id"),
        price=_int(offer, "price", 1),
        currency=_currency(offer),
        delivery_days=_int(offer, "delivery_days", 1),
        status=_str(offer, "status"),
        version=_int(offer, "version", 1),
    )
