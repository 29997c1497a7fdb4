"""In-memory fakes of the review service's own ports (service_layer.ports), for unit tests only.

The fake review store enforces the same one-review-per-side rule at commit that the database's unique
constraint enforces, so handler tests see the same AlreadyReviewed a concurrent duplicate would get.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Self

from review_service.domain.errors import AlreadyReviewed
from review_service.domain.events import ReviewEvent
from review_service.domain.model import CompletedOrder, DirectoryEntry, Review, ReviewerRole
from review_service.domain.pagination import Position


class FakeReviewStore:
    def __init__(self) -> None:
        self.rows: list[Review] = []
        self.staged: list[Review] = []

    def add(self, review: Review) -> None:
        self.staged.append(review)

    async def exists(self, order_id: str, reviewer_role: str) -> bool:
        return any(r.order_id == order_id and r.reviewer_role.value == reviewer_role for r in self.rows)

    async def page_by_gig(self, gig_id: str, size: int, after: Position | None) -> Sequence[Review]:
        return self._page([r for r in self.rows if r.gig_id == gig_id], size, after)

    async def page_by_seller(self, seller_id: str, size: int, after: Position | None) -> Sequence[Review]:
        return self._page([r for r in self.rows if r.seller_id == seller_id], size, after)

    def _page(self, rows: list[Review], size: int, after: Position | None) -> list[Review]:
        rows = [r for r in rows if r.reviewer_role is ReviewerRole.BUYER]
        rows.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        if after is not None:
            rows = [r for r in rows if (r.created_at, r.id) < (after.created_at, after.review_id)]
        return rows[:size]


class FakeCompletedOrders:
    def __init__(self) -> None:
        self.rows: dict[str, CompletedOrder] = {}

    async def get(self, order_id: str) -> CompletedOrder | None:
        return self.rows.get(order_id)

    async def record(self, order: CompletedOrder) -> None:
        known = self.rows.get(order.order_id)
        if known is None:
            self.rows[order.order_id] = order
        elif order.completed_at is not None and known.completed_at is None:
            self.rows[order.order_id] = dataclasses.replace(known, completed_at=order.completed_at)


class FakeDirectory:
    def __init__(self) -> None:
        self.rows: dict[str, DirectoryEntry] = {}

    async def get(self, user_id: str) -> DirectoryEntry | None:
        return self.rows.get(user_id)

    async def put(self, entry: DirectoryEntry) -> None:
        self.rows[entry.user_id] = entry


class FakeUnitOfWork:
    """Writes to the stores directly (they are plain dicts); events reach `published` only on commit."""

    def __init__(self) -> None:
        self.reviews = FakeReviewStore()
        self.orders = FakeCompletedOrders()
        self.directory = FakeDirectory()
        self.claimed: set[tuple[str, str]] = set()
        self.pending: list[ReviewEvent] = []
        self.published: list[ReviewEvent] = []
        self.commits = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.pending.clear()
        self.reviews.staged.clear()

    def record(self, event: ReviewEvent) -> None:
        self.pending.append(event)

    async def claim(self, consumer: str, event_id: str) -> bool:
        if (consumer, event_id) in self.claimed:
            return False
        self.claimed.add((consumer, event_id))
        return True

    async def commit(self) -> None:
        for review in self.reviews.staged:
            # The unique constraint's rule, checked on the rows themselves (not through `exists`).
            if any(
                (r.order_id, r.reviewer_role) == (review.order_id, review.reviewer_role)
                for r in self.reviews.rows
            ):
                raise AlreadyReviewed()
            self.reviews.rows.append(review)
        self.reviews.staged.clear()
        self.published += self.pending
        self.pending = []
        self.commits += 1
