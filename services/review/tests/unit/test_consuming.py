"""Consumers: completed orders and accounts are applied once per event id; bad payloads are permanent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from review_fakes import FakeUnitOfWork
from review_service.domain.errors import InvalidCursor
from review_service.domain.pagination import Position
from review_service.entrypoints.consumer import account_handler, order_handler
from servicekit.events import DuplicateEventError, EventEnvelope, PermanentEventError


def completed(type_: str = "order.order.completed.v1", **overrides: Any) -> EventEnvelope:
    payload: dict[str, Any] = {
        "order": {"id": "o1", "gig_id": "g1", "buyer_id": "b", "seller_id": "s", "status": "completed"},
        "order_id": "o1",
        "buyer_id": "b",
        "seller_id": "s",
        "seller_earnings_minor": 1000,
        "currency": "USD",
    }
    payload.update(overrides)
    return EventEnvelope.new(type=type_, producer="order", payload=payload)


async def test_completed_order_enters_the_replica_once() -> None:
    uow = FakeUnitOfWork()
    handle = order_handler(lambda: uow)
    event = completed()
    await handle(event)
    with pytest.raises(DuplicateEventError):
        await handle(event)
    order = uow.orders.rows["o1"]
    assert (order.gig_id, order.buyer_id, order.seller_id) == ("g1", "b", "s")


async def test_placed_order_records_its_parties_and_completion_marks_it_completed() -> None:
    uow = FakeUnitOfWork()
    handle = order_handler(lambda: uow)
    await handle(completed("order.order.placed.v1"))
    placed = uow.orders.rows["o1"]
    assert (placed.buyer_id, placed.seller_id, placed.is_completed) == ("b", "s", False)
    await handle(completed())
    assert uow.orders.rows["o1"].is_completed


@pytest.mark.parametrize(
    "overrides", [{"buyer_id": ""}, {"seller_id": None}, {"order_id": 7}, {"seller_id": "b"}]
)
async def test_unusable_completed_order_is_dead_lettered(overrides: dict[str, Any]) -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(PermanentEventError):
        await order_handler(lambda: uow)(completed(**overrides))
    assert uow.orders.rows == {}


async def test_account_is_kept_for_emails_once_per_event() -> None:
    uow = FakeUnitOfWork()
    handle = account_handler(lambda: uow)
    event = EventEnvelope.new(
        type="auth.account.created.v1",
        producer="auth",
        payload={"user_id": "u1", "username": "bea", "email": "bea@example.test", "country": "NL"},
    )
    await handle(event)
    with pytest.raises(DuplicateEventError):
        await handle(event)
    assert uow.directory.rows["u1"].email == "bea@example.test"


async def test_account_without_email_is_dead_lettered() -> None:
    event = EventEnvelope.new(type="auth.account.created.v1", producer="auth", payload={"user_id": "u1"})
    with pytest.raises(PermanentEventError):
        await account_handler(FakeUnitOfWork)(event)


def test_cursor_round_trips_and_garbage_is_refused() -> None:
    position = Position(datetime(2026, 12, 5, tzinfo=UTC), str(uuid.uuid4()))
    assert Position.decode(position.encode()) == position
    for garbage in ["", "!!!", "bm90IGpzb24", Position(datetime(2026, 1, 1), "x").encode()]:
        with pytest.raises(InvalidCursor):
            Position.decode(garbage)
