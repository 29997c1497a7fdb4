"""Request and response bodies of /api/v1/reviews (snake_case JSON, constraints in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from servicekit.public_api import JsonInteger

from review_service.domain.model import COMMENT_MAX_LENGTH, RATING_MAX, RATING_MIN, Review
from review_service.service_layer.handlers import ReviewPage

ID_MAX_LENGTH = 64


class ReviewIn(BaseModel):
    order_id: str = Field(min_length=1, max_length=ID_MAX_LENGTH)
    rating: JsonInteger = Field(ge=RATING_MIN, le=RATING_MAX)
    comment: str = Field(default="", max_length=COMMENT_MAX_LENGTH)


class ReviewOut(BaseModel):
    id: str
    order_id: str
    gig_id: str | None
    seller_id: str
    buyer_id: str
    reviewer_id: str
    reviewer_role: Literal["buyer", "seller"]
    rating: int = Field(ge=RATING_MIN, le=RATING_MAX)
    comment: str
    created_at: datetime

    @classmethod
    def of(cls, review: Review) -> ReviewOut:
        return cls(
            id=review.id,
            order_id=review.order_id,
            gig_id=review.gig_id,
            seller_id=review.seller_id,
            buyer_id=review.buyer_id,
            reviewer_id=review.reviewer_id,
            reviewer_role=review.reviewer_role.value,
            rating=review.rating,
            comment=review.comment,
            created_at=review.created_at,
        )


class ReviewPageOut(BaseModel):
    items: list[ReviewOut]
    next_cursor: str | None = Field(description="Opaque; pass back as `cursor` for the next page")

    @classmethod
    def of(cls, page: ReviewPage) -> ReviewPageOut:
        return cls(items=[ReviewOut.of(review) for review in page.items], next_cursor=page.next_cursor)
