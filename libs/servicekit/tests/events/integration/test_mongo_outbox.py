"""Mongo outbox (events embedded in the aggregate document) and claim ledger on FerretDB v1."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events import EventBus, EventEnvelope
from servicekit.events.mongo import (
    OUTBOX_FIELD,
    MongoOutboxRelay,
    claim_event_mongo,
    stage_events_update,
    with_staged_events,
)
from servicekit.logging import bind_correlation_id
from servicekit.metrics import OutboxMetrics

pytestmark = pytest.mark.integration

EVENT_TYPE = "users.profile.updated.v1"


@pytest.fixture
async def database(mongodb_url: str) -> AsyncIterator[AsyncDatabase[Any]]:
    client: AsyncMongoClient[Any] = AsyncMongoClient(
        mongodb_url, serverSelectionTimeoutMS=10_000, timeoutMS=10_000
    )
    try:
        yield client.get_default_database()
    finally:
        await client.close()


def _event(user: str, n: int) -> EventEnvelope:
    return EventEnvelope.new(type=EVENT_TYPE, producer="users", payload={"user": user, "n": n})


async def test_relay_publishes_embedded_events_once_and_pulls_them(
    database: AsyncDatabase[Any], bus: EventBus, probe: Any, outbox_metrics: OutboxMetrics
) -> None:
    users = database["users"]
    tap = await probe.tap("tests.mongo.tap", EVENT_TYPE)
    staged: list[EventEnvelope] = []
    with bind_correlation_id("corr-mongo"):
        for index in range(10):
            created = _event(f"u{index}", 0)
            await users.insert_one(with_staged_events({"_id": f"u{index}", "name": "before"}, created))
            changed = [_event(f"u{index}", 1), _event(f"u{index}", 2)]
            result = await users.update_one(
                {"_id": f"u{index}"}, stage_events_update({"$set": {"name": "after"}}, *changed)
            )
            assert result.modified_count == 1
            staged += [created, *changed]
    await users.insert_one({"_id": "quiet", "name": "no events"})

    relay = MongoOutboxRelay([users], bus, service_name="users", metrics=outbox_metrics, poll_interval=0.05)
    await relay.start()
    try:
        messages = await probe.fetch(tap, 30)
        await asyncio.sleep(0.5)
        assert await probe.depth(tap) == 0, "an event was published twice"
    finally:
        await relay.stop()

    assert Counter(m.message_id for m in messages) == Counter(str(e.id) for e in staged)
    assert all(m.correlation_id == "corr-mongo" for m in messages)
    by_id = {m.message_id: m for m in messages}
    assert EventEnvelope.from_json_bytes(by_id[str(staged[0].id)].body) == staged[0]
    async for document in users.find({}):
        assert document.get(OUTBOX_FIELD, []) == []
        assert document["name"] in {"after", "no events"}, "the state change survived the relay's $pull"
    assert await relay.pending_count() == 0


async def test_an_entry_staged_after_the_relay_read_the_document_is_kept_for_the_next_round(
    database: AsyncDatabase[Any], bus: EventBus, probe: Any, outbox_metrics: OutboxMetrics
) -> None:
    # Removal is by exact value ($pullAll of what was read and confirmed), never "everything in the array",
    # so an event pushed between the relay's read and its removal is not dropped unpublished. Driven step by
    # step (no timing races): FerretDB v1 does not serialise concurrent updates of one document at all.
    carts = database["carts"]
    tap = await probe.tap("tests.mongo.stale.tap", EVENT_TYPE)
    first, second = _event("c1", 1), _event("c1", 2)
    await carts.insert_one(with_staged_events({"_id": "c1", "n": 1}, first))
    relay = MongoOutboxRelay([carts], bus, service_name="users", metrics=outbox_metrics)
    stale_read = await carts.find_one({"_id": "c1"})
    assert stale_read is not None
    await carts.update_one({"_id": "c1"}, stage_events_update({"$set": {"n": 2}}, second))

    assert await relay._relay_document(carts, stale_read) == 1
    after_first_round = await carts.find_one({"_id": "c1"})
    assert after_first_round is not None
    assert [entry["id"] for entry in after_first_round[OUTBOX_FIELD]] == [str(second.id)]
    assert after_first_round["n"] == 2

    assert await relay.relay_batch() == 1
    messages = await probe.fetch(tap, 2)
    assert [m.message_id for m in messages] == [str(first.id), str(second.id)]
    assert await relay.relay_batch() == 0
    assert await relay.pending_count() == 0


async def test_claim_event_mongo_rejects_a_duplicate(database: AsyncDatabase[Any]) -> None:
    event_id = uuid.uuid4()
    assert await claim_event_mongo(database, "notification", event_id) is True
    assert await claim_event_mongo(database, "notification", event_id) is False
    assert await claim_event_mongo(database, "search", event_id) is True
    results = await asyncio.gather(*(claim_event_mongo(database, "chat", event_id) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
