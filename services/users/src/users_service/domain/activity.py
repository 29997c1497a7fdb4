"""What other services' events mean for profile counters: event type + payload → per-user deltas.

The payload fields read here are the consumer side of the contracts in docs/contracts.md (Events); unknown
fields are ignored (newer producers), missing or wrong ones make the event unusable (`InvalidActivityEvent`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from users_service.domain.errors import InvalidActivityEvent
from users_service.domain.profile import ProfileDelta

ORDER_PLACED = "order.order.placed.v1"  # paid: the order is in progress
ORDER_COMPLETED = "order.order.completed.v1"  # the buyer approved the delivery
ORDER_CANCELLED = "order.order.cancelled.v1"  # cancelled (and refunded) while in progress or delivered
GIG_CREATED = "gig.gig.created.v1"
GIG_DELETED = "gig.gig.deleted.v1"
REVIEW_CREATED = "review.review.created.v1"

UserDeltas = list[tuple[str, ProfileDelta]]
Payload = Mapping[str, Any]


def _text(payload: Payload, name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidActivityEvent(f"payload field {name!r} must be a non-empty string")
    return value


def _whole(payload: Payload, name: str, *, minimum: int = 0) -> int:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidActivityEvent(f"payload field {name!r} must be an integer >= {minimum}")
    return value


def _order_placed(payload: Payload) -> UserDeltas:
    return [
        (_text(payload, "buyer_id"), ProfileDelta(purchased_gigs=1)),
        (_text(payload, "seller_id"), ProfileDelta(ongoing_jobs=1)),
    ]


def _order_completed(payload: Payload) -> UserDeltas:
    currency = _text(payload, "currency").upper()
    earnings = _whole(payload, "seller_earnings_minor")
    delta = ProfileDelta(ongoing_jobs=-1, completed_jobs=1, earnings_minor=((currency, earnings),))
    return [(_text(payload, "seller_id"), delta)]


def _order_cancelled(payload: Payload) -> UserDeltas:
    return [
        (_text(payload, "buyer_id"), ProfileDelta(cancelled_gigs=1)),
        (_text(payload, "seller_id"), ProfileDelta(ongoing_jobs=-1, cancelled_jobs=1)),
    ]


def _gig_created(payload: Payload) -> UserDeltas:
    return [(_text(payload, "seller_id"), ProfileDelta(gig_count=1))]


def _gig_deleted(payload: Payload) -> UserDeltas:
    return [(_text(payload, "seller_id"), ProfileDelta(gig_count=-1))]


def _review_created(payload: Payload) -> UserDeltas:
    # Only a buyer's review of the seller feeds the seller's rating buckets; the seller's review of the
    # buyer is kept by the review service alone.
    if _text(payload, "reviewer_role") != "buyer":
        return []
    star = _whole(payload, "rating", minimum=1)
    return [(_text(payload, "seller_id"), ProfileDelta(star_rating=star))]


DELTAS_BY_EVENT: dict[str, Callable[[Payload], UserDeltas]] = {
    ORDER_PLACED: _order_placed,
    ORDER_COMPLETED: _order_completed,
    ORDER_CANCELLED: _order_cancelled,
    GIG_CREATED: _gig_created,
    GIG_DELETED: _gig_deleted,
    REVIEW_CREATED: _review_created,
}


def deltas_for(event_type: str, payload: Payload) -> UserDeltas:
    """Per-user deltas of one event; raises `InvalidActivityEvent` for an unknown type or a bad payload."""
    reader = DELTAS_BY_EVENT.get(event_type)
    if reader is None:
        raise InvalidActivityEvent(f"the users service does not consume {event_type}")
    deltas = reader(payload)
    users = [user for user, _ in deltas]
    if len(set(users)) != len(users):
        raise InvalidActivityEvent("buyer and seller of one order must be different users")
    return deltas
