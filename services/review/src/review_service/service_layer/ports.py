"""The ports the handlers use; adapters implement them on PostgreSQL, tests/unit fakes them in memory."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from review_service.domain.events import ReviewEvent
from review_service.domain.model import CompletedOrder, DirectoryEntry, Review
from review_service.domain.pagination import Position


class ReviewStore(Protocol):
    def add(self, review: Review) -> None:
        """Stage the review; the commit raises AlreadyReviewed when its side of the order has one."""

    async def exists(self, order_id: str, reviewer_role: str) -> bool: ...

    async def page_by_gig(self, gig_id: str, size: int, after: Position | None) -> Sequence[Review]: ...

    async def page_by_seller(self, seller_id: str, size: int, after: Position | None) -> Sequence[Review]: ...


class CompletedOrderStore(Protocol):
    async def get(self, order_id: str) -> CompletedOrder | None: ...

    async def record(self, order: CompletedOrder) -> None:
        """Insert the order, or set `completed_at` on the row a placed event left (parties never change)."""
        ...


class Directory(Protocol):
    async def get(self, user_id: str) -> DirectoryEntry | None: ...

    async def put(self, entry: DirectoryEntry) -> None:
        """Insert or replace the entry (an account's username and email)."""


class UnitOfWork(Protocol):
    """One transaction per command; `record`ed events are written to the outbox by the same commit."""

    @property
    def reviews(self) -> ReviewStore: ...

    @property
    def orders(self) -> CompletedOrderStore: ...

    @property
    def directory(self) -> Directory: ...

    def record(self, event: ReviewEvent) -> None: ...

    async def claim(self, consumer: str, event_id: str) -> bool:
        """Mark the event processed by `consumer` in this transaction; False if it already was."""

    async def commit(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
