"""Integration events the review service publishes; it owns their payloads (docs/contracts.md).

`review.review.created.v1` is read by users (seller rating buckets), gig (gig rating, search too) and order
(the order's review fields); `review.email.review_received.v1` by notification (template `review_received`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from review_service.domain.model import DirectoryEntry, Review


@dataclass(frozen=True)
class ReviewCreated:
    type: ClassVar[str] = "review.review.created.v1"
    review: Review

    def payload(self) -> dict[str, Any]:
        review = self.review
        return {
            "review_id": review.id,
            "order_id": review.order_id,
            "gig_id": review.gig_id,
            "seller_id": review.seller_id,
            "buyer_id": review.buyer_id,
            "reviewer_id": review.reviewer_id,
            "reviewer_role": review.reviewer_role.value,
            "rating": review.rating,
            "comment": review.comment,
            "created_at": review.created_at.isoformat(),
        }


@dataclass(frozen=True)
class ReviewReceivedEmail:
    """Tells the reviewed party; sent only to the address the directory holds for them."""

    type: ClassVar[str] = "review.email.review_received.v1"
    template: ClassVar[str] = "review_received"
    review: Review
    reviewee: DirectoryEntry
    reviewer_username: str

    def payload(self) -> dict[str, Any]:
        return {
            "to": self.reviewee.email,
            "template": self.template,
            "username": self.reviewee.username,
            "reviewer_username": self.reviewer_username,
            "reviewer_role": self.review.reviewer_role.value,
            "rating": self.review.rating,
            "comment": self.review.comment,
            "order_id": self.review.order_id,
            "gig_id": self.review.gig_id,
            "review_id": self.review.id,
        }


ReviewEvent = ReviewCreated | ReviewReceivedEmail
