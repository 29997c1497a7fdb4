"""Commands: imperative, one handler each."""

from __future__ import annotations

from dataclasses import dataclass

from review_service.domain.model import CompletedOrder, DirectoryEntry


@dataclass(frozen=True)
class CreateReview:
    order_id: str
    reviewer_id: str
    rating: int
    comment: str


@dataclass(frozen=True)
class RecordCompletedOrder:
    event_id: str
    order: CompletedOrder


@dataclass(frozen=True)
class RecordAccount:
    """From the consumer (event_id set, deduplicated) or from the backfill (event_id None, upsert only)."""

    event_id: str | None
    entry: DirectoryEntry


@dataclass(frozen=True)
class ListReviews:
    """Reviews of a gig (`gig_id`) or of a seller (`seller_id`) written by buyers, newest first."""

    size: int
    cursor: str | None = None
    gig_id: str | None = None
    seller_id: str | None = None
