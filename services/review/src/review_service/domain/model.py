"""Reviews and the completed orders they may be written for.

An order has two sides; each side reviews the other once: the buyer rates the seller (these feed the seller's
and the gig's ratings) and the seller rates the buyer. Whether a side already reviewed is decided by the
database's unique (order_id, reviewer_role) constraint, not only by a read before the write.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from review_service.domain.errors import InvalidReview, NotAParty

RATING_MIN = 1
RATING_MAX = 5
COMMENT_MAX_LENGTH = 2000


class ReviewerRole(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"


@dataclass(frozen=True)
class CompletedOrder:
    """What the review service keeps of a paid order: its parties from `order.order.placed.v1`, so that who
    may review is known before completion, and `completed_at` once `order.order.completed.v1` arrived (None
    until then; reviews wait for it)."""

    order_id: str
    gig_id: str | None
    buyer_id: str
    seller_id: str
    completed_at: datetime | None

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None

    def role_of(self, user_id: str) -> ReviewerRole:
        """The side `user_id` is on; anyone else is refused (a buyer cannot also be the seller)."""
        if user_id == self.buyer_id:
            return ReviewerRole.BUYER
        if user_id == self.seller_id:
            return ReviewerRole.SELLER
        raise NotAParty()

    def reviewee_of(self, role: ReviewerRole) -> str:
        return self.seller_id if role is ReviewerRole.BUYER else self.buyer_id


@dataclass(frozen=True)
class Review:
    order_id: str
    gig_id: str | None
    buyer_id: str
    seller_id: str
    reviewer_id: str
    reviewer_role: ReviewerRole
    rating: int
    comment: str
    created_at: datetime
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self) -> None:
        if isinstance(self.rating, bool) or not RATING_MIN <= self.rating <= RATING_MAX:
            raise InvalidReview(f"rating must be a whole number from {RATING_MIN} to {RATING_MAX}")
        if len(self.comment) > COMMENT_MAX_LENGTH:
            raise InvalidReview(f"comment must be at most {COMMENT_MAX_LENGTH} characters")

    @property
    def reviewee_id(self) -> str:
        return self.seller_id if self.reviewer_role is ReviewerRole.BUYER else self.buyer_id

    @classmethod
    def write(
        cls, order: CompletedOrder, reviewer_id: str, rating: int, comment: str, now: datetime
    ) -> Review:
        """A party's review of the other side of `order`; NotAParty or InvalidReview refuse it."""
        return cls(
            order_id=order.order_id,
            gig_id=order.gig_id,
            buyer_id=order.buyer_id,
            seller_id=order.seller_id,
            reviewer_id=reviewer_id,
            reviewer_role=order.role_of(reviewer_id),
            rating=rating,
            comment=comment.strip(),
            created_at=now,
        )


@dataclass(frozen=True)
class DirectoryEntry:
    """Who a user id is, for emails: kept from `auth.account.created.v1` (docs/contracts.md)."""

    user_id: str
    username: str
    email: str
