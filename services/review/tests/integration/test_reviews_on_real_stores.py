"""Reviews end to end inside the service: events in from the broker, HTTP, PostgreSQL, events out."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from review_harness import ReviewApi, eventually, order_completed
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

pytestmark = pytest.mark.integration


async def test_both_sides_review_a_completed_order_and_the_events_go_out(review_api: ReviewApi) -> None:
    order_id = await review_api.completed_order("buyer-1", "seller-1", "gig-1")
    by_buyer = await review_api.review("buyer-1", order_id, rating=4, comment="Fast and friendly")
    by_seller = await review_api.review("seller-1", order_id, rating=5)
    assert (by_buyer.status_code, by_seller.status_code) == (201, 201), (by_buyer.text, by_seller.text)
    assert (by_buyer.json()["reviewer_role"], by_seller.json()["reviewer_role"]) == ("buyer", "seller")

    async def relayed() -> bool:
        pending = await review_api.scalar("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")
        return bool(pending == 0)

    await eventually(relayed, what="the outbox relay")
    created = [e for e in await review_api.drain("users.profiles") if e.type == "review.review.created.v1"]
    assert sorted((e.payload["reviewer_role"], e.payload["rating"]) for e in created) == [
        ("buyer", 4),
        ("seller", 5),
    ]
    buyer_event = next(e for e in created if e.payload["reviewer_role"] == "buyer")
    assert {
        k: buyer_event.payload[k] for k in ("order_id", "gig_id", "seller_id", "buyer_id", "reviewer_id")
    } == {
        "order_id": order_id,
        "gig_id": "gig-1",
        "seller_id": "seller-1",
        "buyer_id": "buyer-1",
        "reviewer_id": "buyer-1",
    }
    emails = await review_api.drain("notification.email")
    assert sorted((e.type, e.payload["to"], e.payload["template"]) for e in emails) == [
        ("review.email.review_received.v1", "ubuyer-1@example.test", "review_received"),
        ("review.email.review_received.v1", "useller-1@example.test", "review_received"),
    ]


async def test_a_side_reviews_once_even_when_requests_race(review_api: ReviewApi) -> None:
    order_id = await review_api.completed_order()
    responses = await asyncio.gather(*(review_api.review("buyer-1", order_id, rating=3) for _ in range(8)))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"already_reviewed"}
    stored = await review_api.scalar("SELECT count(*) FROM reviews WHERE order_id = :id", id=order_id)
    events = await review_api.scalar(
        "SELECT count(*) FROM outbox_events WHERE event_type = 'review.review.created.v1'"
    )
    assert (stored, events) == (1, 1)


async def test_the_database_refuses_a_second_review_of_one_side(review_api: ReviewApi) -> None:
    """The rule is a constraint, not only the handler's check: a raw second insert fails."""
    order_id = await review_api.completed_order()
    assert (await review_api.review("buyer-1", order_id)).status_code == 201
    insert = (
        "INSERT INTO reviews (id, order_id, gig_id, buyer_id, seller_id, reviewer_id, reviewer_role, rating,"
        " comment, created_at)"
        " VALUES (:id, :order, 'g', 'buyer-1', 'seller-1', 'buyer-1', 'buyer', 5, '', now())"
    )

    with pytest.raises(IntegrityError, match="uq_reviews_order_id_reviewer_role"):
        async with review_api.engine.begin() as connection:
            await connection.execute(text(insert), {"id": uuid.uuid4(), "order": order_id})


async def test_unknown_order_is_403_and_redelivered_completion_changes_nothing(
    review_api: ReviewApi,
) -> None:
    unknown = await review_api.review("buyer-1", str(uuid.uuid4()))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (403, "forbidden")
    order_id = await review_api.completed_order()
    event = order_completed(order_id, "someone-else", "seller-9")
    await review_api.bus.publish(event)
    await review_api.bus.publish(event)

    async def claimed() -> bool:
        count = await review_api.scalar(
            "SELECT count(*) FROM processed_events WHERE event_id = :id", id=event.id
        )
        return bool(count == 1)

    await eventually(claimed, what="the repeated completion to be consumed")
    buyer = await review_api.scalar("SELECT buyer_id FROM completed_orders WHERE order_id = :id", id=order_id)
    assert buyer == "buyer-1"


async def test_reviews_by_gig_and_seller_page_newest_first(review_api: ReviewApi) -> None:
    orders = [await review_api.completed_order(f"buyer-{i}", "seller-p", "gig-p") for i in range(5)]
    for index, order_id in enumerate(orders):
        assert (await review_api.review(f"buyer-{index}", order_id, rating=1 + index)).status_code == 201
        assert (await review_api.review("seller-p", order_id, rating=5)).status_code == 201
    for path in ("/api/v1/reviews/gig/gig-p", "/api/v1/reviews/seller/seller-p"):
        ratings: list[int] = []
        cursor: str | None = None
        while True:
            params = {"size": 2} | ({"cursor": cursor} if cursor else {})
            page = await review_api.client.get(path, params=params, auth=review_api.as_user(None))
            assert page.status_code == 200, page.text
            ratings += [item["rating"] for item in page.json()["items"]]
            assert {item["reviewer_role"] for item in page.json()["items"]} <= {"buyer"}
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        assert ratings == [5, 4, 3, 2, 1]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/reviews", {"order_id": "o", "rating": 6}),
        ("POST", "/api/v1/reviews", {"order_id": "o", "rating": 0}),
        ("POST", "/api/v1/reviews", {"order_id": "o", "rating": "5"}),
        ("POST", "/api/v1/reviews", {"order_id": "o", "rating": 4.5}),
        ("POST", "/api/v1/reviews", {"order_id": "", "rating": 5}),
        ("POST", "/api/v1/reviews", {"order_id": "o", "rating": 5, "comment": "x" * 2001}),
        ("GET", "/api/v1/reviews/gig/g?cursor=not-a-cursor", None),
        ("GET", "/api/v1/reviews/seller/s?size=0", None),
        ("GET", "/api/v1/reviews/seller/s?size=101", None),
        # A NUL reached PostgreSQL, which refuses it in text: a 500 (502 at the gateway) before.
        ("GET", "/api/v1/reviews/gig/a%00b", None),
        ("GET", "/api/v1/reviews/seller/a%00b", None),
    ],
)
async def test_bad_input_is_422_with_the_error_body(
    review_api: ReviewApi, method: str, path: str, body: dict[str, object] | None
) -> None:
    response = await review_api.client.request(method, path, json=body, auth=review_api.as_user("buyer-1"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"]
