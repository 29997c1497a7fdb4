"""The port the handlers use; adapters.unit_of_work implements it on MongoDB, tests/unit fakes in memory."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from gig_service.domain.events import GigChanged
from gig_service.domain.model import Gig, SellerSummary


class GigStore(Protocol):
    async def get(self, gig_id: str) -> Gig | None: ...

    def version_of(self, gig: Gig) -> int | None: ...

    def create(self, gig: Gig, event: GigChanged) -> None: ...

    def update(self, gig: Gig, event: GigChanged) -> None: ...

    async def by_seller(
        self, seller_id: str, *, active: bool, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[tuple[Gig, int]]:
        """Newest first by (created_at, id); only those after `after` (the last gig of the previous page)."""
        ...

    async def behind_seller(self, seller_id: str, seller_version: int) -> list[tuple[Gig, int]]:
        """The seller's live gigs that hold an older seller summary than `seller_version`, with versions."""
        ...

    async def update_batch(self, changes: Sequence[tuple[Gig, int, GigChanged]]) -> int:
        """One batched write of many gigs, now (not on commit): each `(gig, version read, event)` written
        only if the gig is still at that version, its event in the same document's outbox; returns how many
        were written (the rest lost a race and are read again by the caller)."""
        ...


class SellerStore(Protocol):
    """The replica of seller summaries, versioned like gigs (a lost race raises ConcurrentUpdateError)."""

    async def get(self, seller_id: str) -> SellerSummary | None: ...

    def add(self, seller: SellerSummary) -> None: ...

    def save(self, seller: SellerSummary) -> None: ...


class AppliedReviewLedger(Protocol):
    """Review ids counted into a gig rating (writes immediately, not on commit; idempotent)."""

    async def contains(self, review_id: str) -> bool: ...

    async def record(self, review_id: str, gig_id: str) -> None: ...


class UnitOfWork(Protocol):
    @property
    def gigs(self) -> GigStore: ...

    @property
    def sellers(self) -> SellerStore: ...

    @property
    def applied_reviews(self) -> AppliedReviewLedger: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...
