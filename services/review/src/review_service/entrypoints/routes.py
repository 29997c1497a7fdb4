"""HTTP routes under /api/v1/reviews: thin, parse -> command -> handler -> response.

Reads are anonymous (reviews are public); writing needs a session and is allowed to the order's parties
only, once per side, after completion.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from servicekit.public_api import NO_CONTROL_CHARACTERS, error_responses, public_operation
from servicekit.security import CurrentUserIdDep

from review_service.entrypoints.dependencies import ReviewDeps
from review_service.entrypoints.schemas import ID_MAX_LENGTH, ReviewIn, ReviewOut, ReviewPageOut
from review_service.service_layer import handlers
from review_service.service_layer.commands import CreateReview, ListReviews

router = APIRouter(prefix="/api/v1/reviews", tags=["reviews"])
PageSize = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous page")]
Id = Annotated[str, Path(min_length=1, max_length=ID_MAX_LENGTH, pattern=NO_CONTROL_CHARACTERS)]


@router.post(
    "",
    status_code=201,
    responses=error_responses(401, 403, 409, 422, 503),
    **public_operation("reviews.create", session="required"),
)
async def create_review(body: ReviewIn, user_id: CurrentUserIdDep, deps: ReviewDeps) -> ReviewOut:
    """Review the other side of a completed order you were party to (one review per side per order)."""
    command = CreateReview(
        order_id=body.order_id, reviewer_id=user_id, rating=body.rating, comment=body.comment
    )
    return ReviewOut.of(await handlers.create_review(command, deps.new_uow))


@router.get(
    "/gig/{gig_id}", responses=error_responses(422, 503), **public_operation("reviews.byGig", session="none")
)
async def reviews_by_gig(
    gig_id: Id, deps: ReviewDeps, size: PageSize = 20, cursor: Cursor = None
) -> ReviewPageOut:
    """Buyers' reviews of one gig, newest first."""
    page = await handlers.list_reviews(ListReviews(size=size, cursor=cursor, gig_id=gig_id), deps.new_uow)
    return ReviewPageOut.of(page)


@router.get(
    "/seller/{seller_id}",
    responses=error_responses(422, 503),
    **public_operation("reviews.bySeller", session="none"),
)
async def reviews_by_seller(
    seller_id: Id, deps: ReviewDeps, size: PageSize = 20, cursor: Cursor = None
) -> ReviewPageOut:
    """Buyers' reviews of one seller (across their gigs), newest first."""
    page = await handlers.list_reviews(
        ListReviews(size=size, cursor=cursor, seller_id=seller_id), deps.new_uow
    )
    return ReviewPageOut.of(page)
