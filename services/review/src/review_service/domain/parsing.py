"""The consumer side of the events the review service reads (docs/contracts.md); unknown fields are ignored.

`order.order.placed.v1` and `order.order.completed.v1` carry the order state under `order` plus top-level
`order_id`, `buyer_id`, `seller_id`; `auth.account.created.v1` carries `user_id`, `username`, `email`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from review_service.domain.errors import InvalidEvent
from review_service.domain.model import CompletedOrder, DirectoryEntry


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidEvent(f"payload field {name!r} must be a non-empty string")
    return value


def completed_order(payload: Mapping[str, Any], completed_at: datetime | None) -> CompletedOrder:
    state = payload.get("order")
    order: Mapping[str, Any] = state if isinstance(state, Mapping) else {}
    gig_id = order.get("gig_id")
    if gig_id is not None and (not isinstance(gig_id, str) or not gig_id):
        raise InvalidEvent("order.gig_id must be a string or null")
    buyer_id, seller_id = _text(payload, "buyer_id"), _text(payload, "seller_id")
    if buyer_id == seller_id:
        raise InvalidEvent("buyer and seller of one order must be different users")
    return CompletedOrder(
        order_id=_text(payload, "order_id"),
        gig_id=gig_id,
        buyer_id=buyer_id,
        seller_id=seller_id,
        completed_at=completed_at,
    )


def directory_entry(payload: Mapping[str, Any]) -> DirectoryEntry:
    return DirectoryEntry(
        user_id=_text(payload, "user_id"), username=_text(payload, "username"), email=_text(payload, "email")
    )
