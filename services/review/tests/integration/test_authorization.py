"""Authorization matrix of every review operation: writes by anyone but the order's own parties are refused.

reviews.byGig and reviews.bySeller are anonymous reads by contract (marketplace.md: "anon reads"); the matrix
asserts that they stay open and that every refusal of reviews.create leaves nothing behind.
"""

from __future__ import annotations

import uuid

import pytest
from review_harness import ReviewApi, eventually, order_completed

pytestmark = pytest.mark.integration

# (who calls, expected status): another signed-in user, a party of a different order, anonymous.
REFUSALS = [("stranger", 403), ("buyer-other", 403), ("seller-other", 403), (None, 401)]


async def test_review_create_refuses_everyone_but_the_parties(review_api: ReviewApi) -> None:
    order_id = await review_api.completed_order("buyer-1", "seller-1")
    await review_api.completed_order("buyer-other", "seller-other")
    outcomes = {caller: (await review_api.review(caller, order_id)).status_code for caller, _ in REFUSALS}
    assert outcomes == dict(REFUSALS)
    assert await review_api.scalar("SELECT count(*) FROM reviews WHERE order_id = :id", id=order_id) == 0
    assert await review_api.scalar("SELECT count(*) FROM outbox_events WHERE event_type LIKE 'review.%'") == 0
    # The refusals did not use up either side's review.
    assert (await review_api.review("buyer-1", order_id)).status_code == 201
    assert (await review_api.review("seller-1", order_id)).status_code == 201


async def test_strangers_get_403_whether_the_order_is_unknown_paid_or_already_reviewed(
    review_api: ReviewApi,
) -> None:
    """Authorization is decided before any 409: a stranger cannot tell an existing order from a made-up id."""
    reviewed = await review_api.completed_order("buyer-1", "seller-1")
    assert (await review_api.review("buyer-1", reviewed)).status_code == 201
    paid = await review_api.placed_order("buyer-1", "seller-1")
    for order_id in (str(uuid.uuid4()), paid, reviewed):
        response = await review_api.review("stranger", order_id)
        assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden"), order_id
    # Only a party learns that the paid order is not completed yet, and may review once it is.
    not_yet = await review_api.review("seller-1", paid)
    assert (not_yet.status_code, not_yet.json()["error"]["code"]) == (409, "order_not_completed")
    await review_api.bus.publish(order_completed(paid, "buyer-1", "seller-1"))

    async def completed() -> bool:
        return bool((await review_api.review("seller-1", paid)).status_code != 409)

    await eventually(completed, what="the completion of the paid order to reach the replica")
    assert await review_api.scalar("SELECT count(*) FROM reviews WHERE order_id = :id", id=paid) == 1


async def test_a_party_cannot_review_again_under_another_role(review_api: ReviewApi) -> None:
    """The role is derived from who calls, never taken from the request: a buyer's second try is 409."""
    order_id = await review_api.completed_order("buyer-1", "seller-1")
    assert (await review_api.review("buyer-1", order_id)).status_code == 201
    response = await review_api.client.post(
        "/api/v1/reviews",
        json={"order_id": order_id, "rating": 1, "reviewer_role": "seller"},
        auth=review_api.as_user("buyer-1"),
    )
    assert response.status_code == 409
    assert await review_api.scalar("SELECT count(*) FROM reviews WHERE reviewer_role = 'seller'") == 0


@pytest.mark.parametrize("path", ["/api/v1/reviews/gig/gig-1", "/api/v1/reviews/seller/seller-1"])
async def test_reads_are_anonymous_but_need_the_gateway_token(review_api: ReviewApi, path: str) -> None:
    anonymous = await review_api.client.get(path, auth=review_api.as_user(None))
    assert anonymous.status_code == 200
    without_token = await review_api.client.get(path, headers={"Authorization": "Bearer nope"}, auth=None)
    assert without_token.status_code == 401
