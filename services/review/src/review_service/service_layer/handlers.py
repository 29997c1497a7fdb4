"""Handlers: one per command, each one transaction; events go to the outbox in that same transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from review_service.domain.errors import AlreadyReviewed, NotAParty, OrderNotCompleted
from review_service.domain.events import ReviewCreated, ReviewReceivedEmail
from review_service.domain.model import Review
from review_service.domain.pagination import Position
from review_service.service_layer.commands import (
    CreateReview,
    ListReviews,
    RecordAccount,
    RecordCompletedOrder,
)
from review_service.service_layer.ports import UnitOfWork

logger = logging.getLogger(__name__)

UnitOfWorkFactory = Callable[[], UnitOfWork]
Clock = Callable[[], datetime]

COMPLETED_ORDERS_CONSUMER = "review.completed-orders"
DIRECTORY_CONSUMER = "review.directory"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ReviewPage:
    items: Sequence[Review]
    next_cursor: str | None


async def create_review(command: CreateReview, new_uow: UnitOfWorkFactory, clock: Clock = utc_now) -> Review:
    """The reviewer's side of a completed order, once: 403 not a party, then 409 not completed/reviewed.

    Authorization is decided before any conflict: a 409 to a stranger would tell them the order exists.
    """
    async with new_uow() as uow:
        order = await uow.orders.get(command.order_id)
        if order is None:
            raise NotAParty()
        order.role_of(command.reviewer_id)  # NotAParty before anything else is said about the order
        if not order.is_completed:
            raise OrderNotCompleted()
        review = Review.write(order, command.reviewer_id, command.rating, command.comment, clock())
        # A friendly early answer; the unique constraint is what decides under concurrency (at commit).
        if await uow.reviews.exists(review.order_id, review.reviewer_role.value):
            raise AlreadyReviewed()
        uow.reviews.add(review)
        uow.record(ReviewCreated(review))
        reviewee = await uow.directory.get(review.reviewee_id)
        reviewer = await uow.directory.get(review.reviewer_id)
        if reviewee is None:
            # The review stands; only the courtesy email is lost. The backfill command closes this gap for
            # accounts older than the directory (docs/adr/0021-review-service.md).
            logger.warning("no directory entry for %s: review_received email not sent", review.reviewee_id)
        else:
            reviewer_name = reviewer.username if reviewer is not None else "A Gigstack user"
            uow.record(ReviewReceivedEmail(review, reviewee, reviewer_name))
        await uow.commit()
    return review


async def record_completed_order(command: RecordCompletedOrder, new_uow: UnitOfWorkFactory) -> bool:
    """Add the paid order to the replica, or mark it completed, once; False for a redelivered event."""
    async with new_uow() as uow:
        if not await uow.claim(COMPLETED_ORDERS_CONSUMER, command.event_id):
            return False
        await uow.orders.record(command.order)
        await uow.commit()
    return True


async def record_account(command: RecordAccount, new_uow: UnitOfWorkFactory) -> bool:
    """Keep the account's username and email; False for a redelivered event."""
    async with new_uow() as uow:
        if command.event_id is not None and not await uow.claim(DIRECTORY_CONSUMER, command.event_id):
            return False
        await uow.directory.put(command.entry)
        await uow.commit()
    return True


async def list_reviews(query: ListReviews, new_uow: UnitOfWorkFactory) -> ReviewPage:
    """A page of buyers' reviews of one gig or one seller, newest first, and the cursor of the next."""
    after = Position.decode(query.cursor) if query.cursor else None
    async with new_uow() as uow:
        # One more than asked: tells whether a next page exists without a count query.
        if query.gig_id is not None:
            rows = await uow.reviews.page_by_gig(query.gig_id, query.size + 1, after)
        elif query.seller_id is not None:
            rows = await uow.reviews.page_by_seller(query.seller_id, query.size + 1, after)
        else:
            raise ValueError("ListReviews needs gig_id or seller_id")
    items = list(rows[: query.size])
    more = len(rows) > query.size
    next_cursor = Position(items[-1].created_at, items[-1].id).encode() if more and items else None
    return ReviewPage(items=items, next_cursor=next_cursor)
