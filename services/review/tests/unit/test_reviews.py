"""The review use cases against in-memory fakes of the service's own ports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from review_fakes import FakeUnitOfWork
from review_service.domain.errors import AlreadyReviewed, InvalidReview, NotAParty, OrderNotCompleted
from review_service.domain.events import ReviewCreated, ReviewReceivedEmail
from review_service.domain.model import CompletedOrder, DirectoryEntry
from review_service.service_layer import handlers
from review_service.service_layer.commands import CreateReview, ListReviews

NOW = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
ORDER = CompletedOrder("o1", "g1", buyer_id="buyer", seller_id="seller", completed_at=NOW)
PAID_NOT_COMPLETED = CompletedOrder("o2", "g1", buyer_id="buyer", seller_id="seller", completed_at=None)


def completed_uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.orders.rows[ORDER.order_id] = ORDER
    uow.directory.rows["buyer"] = DirectoryEntry("buyer", "bea", "bea@example.test")
    uow.directory.rows["seller"] = DirectoryEntry("seller", "sam", "sam@example.test")
    return uow


async def review(uow: FakeUnitOfWork, reviewer: str, rating: int = 5, order: str = "o1") -> object:
    command = CreateReview(order_id=order, reviewer_id=reviewer, rating=rating, comment="  Great work  ")
    return await handlers.create_review(command, lambda: uow, clock=lambda: NOW)


async def test_buyer_review_publishes_the_rating_and_emails_only_the_seller() -> None:
    uow = completed_uow()
    await review(uow, "buyer", rating=4)
    created, email = uow.published
    assert isinstance(created, ReviewCreated)
    assert isinstance(email, ReviewReceivedEmail)
    payload = created.payload()
    assert {k: payload[k] for k in ("order_id", "gig_id", "seller_id", "buyer_id", "reviewer_id")} == {
        "order_id": "o1",
        "gig_id": "g1",
        "seller_id": "seller",
        "buyer_id": "buyer",
        "reviewer_id": "buyer",
    }
    assert (payload["reviewer_role"], payload["rating"], payload["comment"]) == ("buyer", 4, "Great work")
    mail = email.payload()
    assert (mail["to"], mail["template"], mail["username"], mail["reviewer_username"]) == (
        "sam@example.test",
        "review_received",
        "sam",
        "bea",
    )


async def test_seller_review_goes_to_the_buyer() -> None:
    uow = completed_uow()
    await review(uow, "seller", rating=5)
    created, email = uow.published
    assert isinstance(created, ReviewCreated)
    assert created.payload()["reviewer_role"] == "seller"
    assert isinstance(email, ReviewReceivedEmail)
    assert email.payload()["to"] == "bea@example.test"


async def test_each_side_reviews_once() -> None:
    uow = completed_uow()
    await review(uow, "buyer")
    await review(uow, "seller")
    for side in ("buyer", "seller"):
        with pytest.raises(AlreadyReviewed):
            await review(uow, side)
    assert len(uow.reviews.rows) == 2
    assert len(uow.published) == 4


async def test_a_duplicate_that_passes_the_early_check_is_refused_at_commit() -> None:
    uow = completed_uow()
    await review(uow, "buyer")

    async def never_seen(order_id: str, reviewer_role: str) -> bool:
        return False

    uow.reviews.exists = never_seen
    with pytest.raises(AlreadyReviewed):
        await review(uow, "buyer")
    assert len(uow.reviews.rows) == 1


@pytest.mark.parametrize("outsider", ["stranger", "", "BUYER"])
async def test_only_parties_may_review(outsider: str) -> None:
    uow = completed_uow()
    with pytest.raises(NotAParty):
        await review(uow, outsider)
    assert uow.published == []
    assert uow.commits == 0


async def test_a_party_of_a_paid_order_not_completed_yet_is_told_not_now() -> None:
    uow = completed_uow()
    uow.orders.rows["o2"] = PAID_NOT_COMPLETED
    with pytest.raises(OrderNotCompleted):
        await review(uow, "buyer", order="o2")
    assert uow.commits == 0


@pytest.mark.parametrize("order", ["o2", "no-such-order"])
async def test_strangers_are_refused_before_anything_is_said_about_the_order(order: str) -> None:
    """A paid but not completed order and an unknown one give a stranger the same 403 as a completed one."""
    uow = completed_uow()
    uow.orders.rows["o2"] = PAID_NOT_COMPLETED
    with pytest.raises(NotAParty):
        await review(uow, "stranger", order=order)
    assert uow.commits == 0


@pytest.mark.parametrize("rating", [0, 6, -1])
async def test_rating_outside_one_to_five_is_refused(rating: int) -> None:
    uow = completed_uow()
    with pytest.raises(InvalidReview):
        await review(uow, "buyer", rating=rating)
    assert uow.commits == 0


async def test_review_without_a_directory_entry_stands_without_an_email() -> None:
    uow = completed_uow()
    uow.directory.rows.clear()
    await review(uow, "buyer")
    assert [type(event) for event in uow.published] == [ReviewCreated]


async def test_reviews_page_newest_first_and_only_buyers_reviews() -> None:
    uow = FakeUnitOfWork()
    for index in range(5):
        order = CompletedOrder(f"o{index}", "g1", "buyer", "seller", NOW)
        uow.orders.rows[order.order_id] = order
        at = NOW + timedelta(minutes=index)
        for side, rating in (("buyer", 5), ("seller", 3)):
            command = CreateReview(order.order_id, side, rating, "")
            await handlers.create_review(command, lambda: uow, clock=lambda: at)  # noqa: B023
    seen: list[str] = []
    cursor = None
    while True:
        page = await handlers.list_reviews(ListReviews(size=2, cursor=cursor, gig_id="g1"), lambda: uow)
        seen += [item.order_id for item in page.items]
        assert all(item.reviewer_role.value == "buyer" for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["o4", "o3", "o2", "o1", "o0"]
    by_seller = await handlers.list_reviews(ListReviews(size=10, seller_id="seller"), lambda: uow)
    assert len(by_seller.items) == 5
    assert by_seller.next_cursor is None
