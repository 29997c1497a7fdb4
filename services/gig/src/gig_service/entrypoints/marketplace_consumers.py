"""Consumers of other services' events that gigs denormalise: `gig.sellers` (users.seller.*) and
`gig.reviews` (review.review.created.v1). Parse → service-layer handler; bad payloads are dead-lettered.

Both handlers share one `KeyedLocks` (built by the composition root): one write per gig at a time.
A gig still busy after the write budget (other replicas) is handed back, not retried in place: the event goes
to the end of the queue without counting against its delivery limit (5), so a burst of ratings for one gig
never dead-letters a rating, and the queue's other gigs are not held up behind it meanwhile."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from servicekit.events import (
    DuplicateEventError,
    EventEnvelope,
    EventHandler,
    HandBackEventError,
    PermanentEventError,
    subscription,
)
from servicekit.locks import KeyedLocks

from gig_service.domain.errors import GigNotFound
from gig_service.domain.model import RATING_VALUES, SellerSummary
from gig_service.service_layer.denormalised import (
    BuyerRating,
    StoreBusyError,
    UnitOfWorkFactory,
    record_rating,
    record_seller,
)

# Declared once for the whole system (servicekit.events.subscriptions), applied by every publisher.
SELLERS_SUBSCRIPTION = subscription("gig.sellers")
REVIEWS_SUBSCRIPTION = subscription("gig.reviews")
SELLER_EVENTS = ("users.seller.created.v1", "users.seller.updated.v1")
REVIEW_CREATED = "review.review.created.v1"


def _text(payload: Mapping[str, Any], name: str, envelope: EventEnvelope) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise PermanentEventError(f"{envelope.type} {envelope.id}: {name!r} must be a non-empty string")
    return value


def _number(payload: Mapping[str, Any], name: str, envelope: EventEnvelope) -> int | float:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PermanentEventError(f"{envelope.type} {envelope.id}: {name!r} must be a number >= 0")
    return value


def seller_from(envelope: EventEnvelope) -> SellerSummary:
    seller, version = envelope.payload.get("seller"), envelope.payload.get("version")
    if (
        not isinstance(seller, dict)
        or isinstance(version, bool)
        or not isinstance(version, int)
        or version < 1
    ):
        raise PermanentEventError(f"{envelope.type} {envelope.id}: payload lacks seller or version")
    return SellerSummary(
        user_id=_text(seller, "user_id", envelope),
        username=_text(seller, "username", envelope),
        full_name=_text(seller, "full_name", envelope),
        rating_average=float(_number(seller, "rating_average", envelope)),
        rating_count=int(_number(seller, "rating_count", envelope)),
        version=version,
    )


def rating_from(envelope: EventEnvelope) -> BuyerRating | None:
    """The buyer's rating of the gig; None for a seller's review of the buyer (not a gig rating)."""
    payload = envelope.payload
    if _text(payload, "reviewer_role", envelope) != "buyer":
        return None
    rating = payload.get("rating")
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATING_VALUES:
        raise PermanentEventError(f"{envelope.type} {envelope.id}: rating must be 1 to 5")
    return BuyerRating(
        review_id=_text(payload, "review_id", envelope),
        gig_id=_text(payload, "gig_id", envelope),
        rating=rating,
    )


def seller_handler(new_uow: UnitOfWorkFactory, gig_writes: KeyedLocks) -> EventHandler:
    async def handle(envelope: EventEnvelope) -> None:
        if envelope.type not in SELLER_EVENTS:
            return  # a newer users.seller.* event this version does not read
        try:
            await record_seller(seller_from(envelope), new_uow, gig_writes=gig_writes)
        except StoreBusyError as error:
            raise HandBackEventError(str(error)) from error

    return handle


def review_handler(new_uow: UnitOfWorkFactory, gig_writes: KeyedLocks) -> EventHandler:
    async def handle(envelope: EventEnvelope) -> None:
        if envelope.type != REVIEW_CREATED:
            return
        rating = rating_from(envelope)
        if rating is None:
            return
        try:
            applied = await record_rating(rating, new_uow, gig_writes=gig_writes)
        except GigNotFound as error:
            raise PermanentEventError(error.message) from error
        except StoreBusyError as error:
            raise HandBackEventError(str(error)) from error
        if not applied:
            raise DuplicateEventError(f"review {rating.review_id} was already counted")

    return handle
