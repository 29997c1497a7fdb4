"""Mongo outbox (events embedded in the aggregate document) and claim ledger on FerretDB v1."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent
from servicekit.events import EventBus, EventEnvelope
from servicekit.events.mongo import (
    OUTBOX_FIELD,
    OUTBOX_PENDING_FIELD,
    OUTBOX_PENDING_INDEX,
    MongoOutboxRelay,
    claim_event_mongo,
    outbox_entry,
    stage_events_update,
    with_staged_events,
)
from servicekit.logging import bind_correlation_id
from servicekit.metrics import OutboxMetrics

pytestmark = pytest.mark.integration

EVENT_TYPE = "users.profile.updated.v1"


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
    assert after_first_round[OUTBOX_PENDING_FIELD] is True, "the entry pushed since the read keeps its flag"

    assert await relay.relay_batch() == 1
    messages = await probe.fetch(tap, 2)
    assert [m.message_id for m in messages] == [str(first.id), str(second.id)]
    drained = await carts.find_one({"_id": "c1"})
    assert drained is not None
    assert drained.get(OUTBOX_FIELD) == []
    assert OUTBOX_PENDING_FIELD not in drained, "the flag is cleared once the outbox is empty"
    assert await relay.relay_batch() == 0
    assert await relay.pending_count() == 0


async def test_claim_event_mongo_rejects_a_duplicate(database: AsyncDatabase[Any]) -> None:
    event_id = uuid.uuid4()
    assert await claim_event_mongo(database, "notification", event_id) is True
    assert await claim_event_mongo(database, "notification", event_id) is False
    assert await claim_event_mongo(database, "search", event_id) is True
    results = await asyncio.gather(*(claim_event_mongo(database, "chat", event_id) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]


class Finds(CommandListener):
    """The filter of every `find` and `count`/`aggregate` sent, per collection."""

    def __init__(self) -> None:
        self.filters: list[tuple[str, Any]] = []

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name == "find":
            self.filters.append(("find", event.command.get("filter")))
        elif event.command_name == "aggregate":
            self.filters.append(("aggregate", event.command.get("pipeline")))
        elif event.command_name == "count":
            self.filters.append(("count", event.command.get("query")))

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


async def test_the_regular_poll_queries_the_indexed_flag_and_the_full_scan_runs_only_at_its_interval(
    mongodb_url: str, bus: EventBus, probe: Any, outbox_metrics: OutboxMetrics
) -> None:
    finds = Finds()
    client: AsyncMongoClient[Any] = AsyncMongoClient(
        mongodb_url, serverSelectionTimeoutMS=10_000, timeoutMS=10_000, event_listeners=[finds]
    )
    try:
        gigs = client.get_default_database()["gigs"]
        tap = await probe.tap("tests.mongo.flag.tap", EVENT_TYPE)
        relay = MongoOutboxRelay(
            [gigs], bus, service_name="gig", metrics=outbox_metrics, full_scan_interval_seconds=3600
        )
        assert await relay.relay_batch() == 0  # creates the index, and the first full scan
        assert OUTBOX_PENDING_INDEX in await gigs.index_information()
        event = _event("g1", 1)
        await gigs.insert_one(with_staged_events({"_id": "g1"}, event))
        finds.filters.clear()

        assert await relay.relay_batch() == 1
        assert await relay.pending_count() == 0
        assert [m.message_id for m in await probe.fetch(tap, 1)] == [str(event.id)]
        queried = [str(f) for _, f in finds.filters]
        assert queried, "the relay read nothing"
        assert all(OUTBOX_PENDING_FIELD in q and f"{OUTBOX_FIELD}.0" not in q for q in queried), queried
    finally:
        await client.close()


async def test_the_full_scan_relays_a_legacy_document_staged_without_the_flag(
    database: AsyncDatabase[Any], bus: EventBus, probe: Any, outbox_metrics: OutboxMetrics
) -> None:
    # Staged before the flag existed (or its flag lost to a FerretDB race): only the safety-net scan sees it.
    users = database["users"]
    tap = await probe.tap("tests.mongo.legacy.tap", EVENT_TYPE)
    relay = MongoOutboxRelay(
        [users], bus, service_name="users", metrics=outbox_metrics, full_scan_interval_seconds=1.0
    )
    assert await relay.relay_batch() == 0
    legacy = _event("old", 1)
    await users.insert_one({"_id": "old", "name": "n", OUTBOX_FIELD: [outbox_entry(legacy)]})

    assert await relay.relay_batch() == 0, "the regular poll reads flagged documents only"
    await asyncio.sleep(1.1)
    assert await relay.relay_batch() == 1
    assert [m.message_id for m in await probe.fetch(tap, 1)] == [str(legacy.id)]
    stored = await users.find_one({"_id": "old"})
    assert stored is not None
    assert stored[OUTBOX_FIELD] == []
    assert stored["name"] == "n"
    assert OUTBOX_PENDING_FIELD not in stored


async def test_a_backlog_of_unflagged_documents_is_scanned_batch_after_batch(
    database: AsyncDatabase[Any], bus: EventBus, probe: Any, outbox_metrics: OutboxMetrics
) -> None:
    # After the upgrade every pending document is unflagged: waiting 30 s per batch would stall them.
    users = database["users"]
    tap = await probe.tap("tests.mongo.backlog.tap", EVENT_TYPE)
    legacy = [_event(f"b{n}", 1) for n in range(3)]
    await users.insert_many([{"_id": f"b{n}", OUTBOX_FIELD: [outbox_entry(e)]} for n, e in enumerate(legacy)])
    relay = MongoOutboxRelay(
        [users],
        bus,
        service_name="users",
        metrics=outbox_metrics,
        batch_size=2,
        full_scan_interval_seconds=3600,
    )
    assert await relay.relay_batch() == 2
    assert await relay.relay_batch() == 1, "a full batch from the scan means: scan again"
    assert await relay.relay_batch() == 0
    messages = await probe.fetch(tap, 3)
    assert sorted(m.message_id for m in messages) == sorted(str(e.id) for e in legacy)
