"""Account and activity events through the real broker into FerretDB: each applied exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events import EventBus
from users_harness import (
    account_created,
    eventually,
    new_id,
    order_event,
    publisher,
    start_users,
    store,
)
from users_service.adapters.applied_events import MongoAppliedEventLedger
from users_service.entrypoints.bootstrap import handler_dependencies
from users_service.service_layer.activity import apply_activity
from users_service.service_layer.commands import ApplyActivity

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(mongodb_url: str) -> AsyncIterator[AsyncDatabase[Any]]:
    async with store(mongodb_url) as db:
        yield db


@pytest.fixture
async def bus(amqp_url: str) -> AsyncIterator[EventBus]:
    async with publisher(amqp_url) as producer:
        yield producer


async def test_an_account_event_published_before_the_service_ever_ran_creates_one_profile(
    mongodb_url: str, amqp_url: str, internal_keypair: tuple[str, str], database: Any, bus: EventBus
) -> None:
    user = new_id()
    created = account_created(user, "early_bird")
    await bus.publish(created)  # users has never started in this vhost
    await bus.publish(created)  # the outbox relay may publish twice
    await bus.publish(account_created(user, "early_bird"))  # a new event id for the same account

    async with start_users(mongodb_url=mongodb_url, amqp_url=amqp_url, public_key_pem=internal_keypair[1]):
        profiles = database["profiles"]

        async def stored() -> bool:
            return bool(await profiles.count_documents({"_id": user}) == 1)

        await eventually(stored, what="the profile")
        await eventually(lambda: _drained(bus), what="users.profiles drained")
    documents = await profiles.find({"username": "early_bird"}).to_list()
    assert len(documents) == 1
    assert documents[0]["version"] == 1, "the repeated account events wrote again"


async def test_counters_are_exact_after_redelivery_and_out_of_order_events(
    mongodb_url: str, amqp_url: str, internal_keypair: tuple[str, str], database: Any, bus: EventBus
) -> None:
    buyer, seller = new_id(), new_id()
    events = []
    for n in range(10):
        events += [
            order_event("placed", f"o{n}", buyer, seller),
            order_event("completed", f"o{n}", buyer, seller, earnings=1000 + n),
        ]
    cancelled = order_event("cancelled", "o-x", buyer, seller)
    placed_x = order_event("placed", "o-x", buyer, seller)
    ordered = [*reversed(events), cancelled, placed_x]  # completions before placements
    async with start_users(mongodb_url=mongodb_url, amqp_url=amqp_url, public_key_pem=internal_keypair[1]):
        await asyncio.gather(*(bus.publish(e) for e in ordered))
        await asyncio.gather(*(bus.publish(e) for e in ordered))  # every event redelivered
        await eventually(lambda: _drained(bus), what="users.profiles drained")
        await eventually(lambda: _ledger_size(database, 3 * 10 + 2 + 2), what="all events applied")

    buyer_doc = await database["profiles"].find_one({"_id": buyer})
    seller_doc = await database["profiles"].find_one({"_id": seller})
    assert buyer_doc is not None
    assert seller_doc is not None
    assert buyer_doc["counters"]["purchased_gigs"] == 11
    assert buyer_doc["counters"]["cancelled_gigs"] == 1
    assert seller_doc["counters"]["ongoing_jobs"] == 0
    assert seller_doc["counters"]["completed_jobs"] == 10
    assert seller_doc["counters"]["cancelled_jobs"] == 1
    assert seller_doc["counters"]["earnings_minor"] == {"USD": sum(1000 + n for n in range(10))}


class _CrashingLedger(MongoAppliedEventLedger):
    """The process dies after the profile write and before the ledger write."""

    crash = True

    async def record(self, event_id: str, user_id: str) -> None:
        if self.crash:
            raise ConnectionError("killed between the two writes")
        await super().record(event_id, user_id)


async def test_a_crash_between_the_profile_write_and_the_ledger_write_is_not_double_counted(
    database: AsyncDatabase[Any],
) -> None:
    ledger = _CrashingLedger(database)
    deps = handler_dependencies(database, store_timeout_seconds=5)
    deps.applied_events = ledger
    buyer, seller = new_id(), new_id()
    placed = order_event("placed", "o1", buyer, seller)
    command = ApplyActivity(str(placed.id), placed.type, placed.payload)
    with pytest.raises(ConnectionError):
        await apply_activity(command, deps)
    ledger.crash = False
    await apply_activity(command, deps)  # the redelivery
    await apply_activity(command, deps)  # and another one, now answered by the ledger

    buyer_doc = await database["profiles"].find_one({"_id": buyer})
    seller_doc = await database["profiles"].find_one({"_id": seller})
    assert buyer_doc is not None
    assert seller_doc is not None
    assert buyer_doc["counters"]["purchased_gigs"] == 1
    assert seller_doc["counters"]["ongoing_jobs"] == 1
    assert await database["applied_events"].count_documents({}) == 2


async def _drained(bus: EventBus) -> bool:
    return await bus.queue_depth("users.profiles") == 0


async def _ledger_size(database: AsyncDatabase[Any], expected: int) -> bool:
    return await database["applied_events"].count_documents({}) >= expected
