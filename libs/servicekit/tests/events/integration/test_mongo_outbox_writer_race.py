"""The Mongo relay's updates of an aggregate document against a versioned writer of the same document.

FerretDB v1 applies every update as read → modify → replace by `_id`, unserialised, so a relay removal that
lands while a writer's update is in flight can replace the document with its own stale copy: the write (and
the event it staged) is gone although its commit reported success. With write claims on, the relay takes the
claim a writer of the document's next version would take, so the two are serialised. Real FerretDB v1 and
RabbitMQ; the race is run many times because one lucky interleaving proves nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent
from servicekit.events import EventBus, EventEnvelope
from servicekit.events.errors import PublishFailed
from servicekit.events.mongo import (
    OUTBOX_ATTEMPTS_FIELD,
    OUTBOX_FIELD,
    OUTBOX_PARKED_FIELD,
    OUTBOX_PENDING_FIELD,
    MongoOutboxRelay,
)
from servicekit.events.mongo_document_writes import OutboxDocumentWrites
from servicekit.metrics import OutboxMetrics
from servicekit.mongo import ConcurrentUpdateError, MongoUnitOfWork, VersionedRepository
from servicekit.write_claims import WRITE_CLAIMS_COLLECTION, WriteClaims

pytestmark = pytest.mark.integration

EVENT_TYPE = "tests.writerrace.counted.v1"
WRITES = 120


@dataclass
class Tally:
    id: str
    seen: list[int] = field(default_factory=list)


class TallyRepository(VersionedRepository[Tally]):
    collection_name = "tallies"

    def identity(self, aggregate: Tally) -> Any:
        return aggregate.id

    def to_document(self, aggregate: Tally) -> dict[str, Any]:
        return {"seen": list(aggregate.seen)}

    def from_document(self, document: Mapping[str, Any]) -> Tally:
        return Tally(document["_id"], list(document["seen"]))


class TallyUnitOfWork(MongoUnitOfWork):
    def __init__(self, database: AsyncDatabase[Any]) -> None:
        super().__init__(database)  # write claims on: the FerretDB setting
        self.tallies = TallyRepository(self)


def _counted(n: int) -> EventEnvelope:
    return EventEnvelope.new(type=EVENT_TYPE, producer="tests", payload={"n": n})


async def _record(database: AsyncDatabase[Any], n: int) -> EventEnvelope:
    """Append `n` in one versioned write staging one event; rerun on a conflict, as services do."""
    while True:
        event = _counted(n)
        async with TallyUnitOfWork(database) as uow:
            tally = await uow.tallies.get("t1")
            assert tally is not None
            tally.seen.append(n)
            uow.tallies.save(tally, event)
            try:
                await uow.commit()
            except ConcurrentUpdateError:
                await asyncio.sleep(0.001)
                continue
        return event


async def test_relaying_a_document_while_it_is_written_loses_no_write_and_no_event(
    database: AsyncDatabase[Any], bus: EventBus, probe: Any, outbox_metrics: OutboxMetrics
) -> None:
    tap = await probe.tap("tests.mongo.writerrace.tap", EVENT_TYPE)
    created = _counted(0)
    async with TallyUnitOfWork(database) as uow:
        uow.tallies.add(Tally("t1"), created)
        await uow.commit()
    relay = MongoOutboxRelay([database["tallies"]], bus, service_name="tests", metrics=outbox_metrics)
    writing = True

    async def relay_while_writing() -> None:
        while writing:
            await relay.relay_batch()  # back to back: every write meets a relay pass in flight

    relaying = asyncio.create_task(relay_while_writing())
    try:
        staged = [created] + [await _record(database, n) for n in range(1, WRITES + 1)]
    finally:
        writing = False
        await relaying
    while await relay.relay_batch():
        pass

    stored = await database["tallies"].find_one({"_id": "t1"})
    assert stored is not None
    undone = sorted(set(range(1, WRITES + 1)) - set(stored["seen"]))
    assert not undone, f"{len(undone)} of {WRITES} committed writes undone by the relay: {undone}"
    assert stored["seen"] == list(range(1, WRITES + 1))
    assert stored["version"] == WRITES + 1
    assert stored.get(OUTBOX_FIELD) == []
    messages = await probe.fetch_until_ids(tap, {str(e.id) for e in staged}, within=60)
    assert {m.message_id for m in messages} == {str(e.id) for e in staged}


async def _tally_with(database: AsyncDatabase[Any], event: EventEnvelope) -> None:
    async with TallyUnitOfWork(database) as uow:
        uow.tallies.add(Tally("t1"), event)
        await uow.commit()


async def _hold_claim(database: AsyncDatabase[Any], key: str, *, seconds: float) -> None:
    """The claim as a writer (servicekit's or gig's batched one) inserts it; negative: left by a dead one."""
    expires_at = datetime.now(UTC) + timedelta(seconds=seconds)
    await database[WRITE_CLAIMS_COLLECTION].insert_one({"_id": key, "expires_at": expires_at})


async def test_a_document_whose_next_version_is_claimed_is_left_for_a_later_pass(
    database: AsyncDatabase[Any], bus: EventBus, probe: Any, outbox_metrics: OutboxMetrics
) -> None:
    tap = await probe.tap("tests.mongo.heldclaim.tap", EVENT_TYPE)
    event = _counted(1)
    await _tally_with(database, event)
    await _hold_claim(database, "tallies:t1:2", seconds=30)  # a writer of version 2 is mid-write
    relay = MongoOutboxRelay([database["tallies"]], bus, service_name="tests", metrics=outbox_metrics)

    assert await relay.relay_batch() == 1  # published, but not removed: the writer's update may be in flight
    stored = await database["tallies"].find_one({"_id": "t1"})
    assert stored is not None
    assert [e["id"] for e in stored[OUTBOX_FIELD]] == [str(event.id)]
    assert stored[OUTBOX_PENDING_FIELD] is True
    assert await database[WRITE_CLAIMS_COLLECTION].count_documents({}) == 1, "the writer's claim is kept"

    await database[WRITE_CLAIMS_COLLECTION].delete_one({"_id": "tallies:t1:2"})
    assert await relay.relay_batch() == 1
    drained = await database["tallies"].find_one({"_id": "t1"})
    assert drained is not None
    assert (drained[OUTBOX_FIELD], drained["version"]) == ([], 1), "the relay never bumps the version"
    assert OUTBOX_PENDING_FIELD not in drained
    assert await database[WRITE_CLAIMS_COLLECTION].count_documents({}) == 0, "the relay released its claim"
    assert [m.message_id for m in await probe.fetch(tap, 2)] == [str(event.id)] * 2  # at least once


async def test_a_claim_left_by_a_dead_writer_is_taken_over_once_expired(
    database: AsyncDatabase[Any], bus: EventBus, probe: Any, outbox_metrics: OutboxMetrics
) -> None:
    await probe.tap("tests.mongo.deadclaim.tap", EVENT_TYPE)
    await _tally_with(database, _counted(1))
    await _hold_claim(database, "tallies:t1:2", seconds=-1)
    relay = MongoOutboxRelay([database["tallies"]], bus, service_name="tests", metrics=outbox_metrics)

    assert await relay.relay_batch() == 1
    stored = await database["tallies"].find_one({"_id": "t1"})
    assert stored is not None
    assert stored[OUTBOX_FIELD] == []
    assert await database[WRITE_CLAIMS_COLLECTION].count_documents({}) == 0


class Writes(CommandListener):
    """The collection of every insert, update and delete sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name in {"insert", "update", "delete"}:
            self.sent.append((event.command_name, str(event.command.get(event.command_name))))

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


@pytest.mark.parametrize(
    ("write_claims", "expected"),
    [
        # MongoDB, DocumentDB: one conditional update, as before claims.
        (False, [("update", "tallies")]),
        # FerretDB: the same update, inside the claim a writer of version 2 would take.
        (
            True,
            [("insert", WRITE_CLAIMS_COLLECTION), ("update", "tallies"), ("delete", WRITE_CLAIMS_COLLECTION)],
        ),
    ],
)
async def test_the_relay_claims_the_document_only_with_write_claims_on(
    mongodb_url: str,
    bus: EventBus,
    probe: Any,
    outbox_metrics: OutboxMetrics,
    write_claims: bool,
    expected: list[Any],
) -> None:
    await probe.tap("tests.mongo.claimcommands.tap", EVENT_TYPE)
    writes = Writes()
    client: AsyncMongoClient[Any] = AsyncMongoClient(
        mongodb_url, serverSelectionTimeoutMS=10_000, timeoutMS=10_000, event_listeners=[writes]
    )
    try:
        database = client.get_default_database()
        await _tally_with(database, _counted(1))
        relay = MongoOutboxRelay(
            [database["tallies"]],
            bus,
            service_name="tests",
            metrics=outbox_metrics,
            write_claims=write_claims,
        )
        await relay.ensure_indexes()
        writes.sent.clear()
        assert await relay.relay_batch() == 1
        assert writes.sent == expected
    finally:
        await client.close()


async def test_a_refused_entry_of_a_versioned_document_is_parked_only_while_no_writer_holds_it(
    database: AsyncDatabase[Any], bus: EventBus, outbox_metrics: OutboxMetrics
) -> None:
    unroutable = EventEnvelope.new(
        type=f"tests.writerrace.unbound{uuid.uuid4().hex[:8]}.v1", producer="tests", payload={}
    )
    await _tally_with(database, unroutable)
    relay = MongoOutboxRelay(
        [database["tallies"]], bus, service_name="tests", metrics=outbox_metrics, park_after_attempts=2
    )

    with pytest.raises(PublishFailed):
        await relay.relay_batch()  # counted: 1 attempt
    await _hold_claim(database, "tallies:t1:2", seconds=30)
    with pytest.raises(PublishFailed):
        await relay.relay_batch()  # would park, but a writer holds the document
    held = await database["tallies"].find_one({"_id": "t1"})
    assert held is not None
    assert ([e["id"] for e in held[OUTBOX_FIELD]], held[OUTBOX_ATTEMPTS_FIELD]) == (
        [str(unroutable.id)],
        {str(unroutable.id): 1},
    )

    await database[WRITE_CLAIMS_COLLECTION].delete_one({"_id": "tallies:t1:2"})
    with pytest.raises(PublishFailed):
        await relay.relay_batch()
    parked = await database["tallies"].find_one({"_id": "t1"})
    assert parked is not None
    assert parked[OUTBOX_FIELD] == []
    assert [p["entry"]["id"] for p in parked[OUTBOX_PARKED_FIELD]] == [str(unroutable.id)]
    assert (parked["version"], parked["seen"]) == (1, [])
    assert OUTBOX_PENDING_FIELD not in parked
    assert await database[WRITE_CLAIMS_COLLECTION].count_documents({}) == 0


async def test_a_document_written_since_the_relay_read_it_is_claimed_again_at_its_new_version(
    database: AsyncDatabase[Any], bus: EventBus, probe: Any, outbox_metrics: OutboxMetrics
) -> None:
    # Driven step by step: the relay reads version 1, a writer commits version 2 (pushing a second entry),
    # then the relay removes what it published. Filtered on version 1 that matches nothing; the relay reads
    # the version again, claims version 3 and removes the first entry, keeping the second for the next pass.
    await probe.tap("tests.mongo.moved.tap", EVENT_TYPE)
    first = _counted(1)
    await _tally_with(database, first)
    relay = MongoOutboxRelay([database["tallies"]], bus, service_name="tests", metrics=outbox_metrics)
    stale_read = await database["tallies"].find_one({"_id": "t1"})
    assert stale_read is not None
    second = await _record(database, 2)

    assert await relay._relay_document(database["tallies"], stale_read) == 1
    stored = await database["tallies"].find_one({"_id": "t1"})
    assert stored is not None
    assert [e["id"] for e in stored[OUTBOX_FIELD]] == [str(second.id)]
    assert (stored["version"], stored["seen"], stored[OUTBOX_PENDING_FIELD]) == (2, [2], True)
    assert await database[WRITE_CLAIMS_COLLECTION].count_documents({}) == 0


class WriterFinishingRightAfterARefusal(WriteClaims):
    """Real claims; the first refused take is followed at once by the holding writer's release, as when the
    relay meets a writer between its claim and its release (a few round trips)."""

    refusals = 0

    async def take(self, collection: Any, document_id: Any, version: int) -> Any:
        claim = await super().take(collection, document_id, version)
        if claim is None:
            self.refusals += 1
            if self.refusals == 1:
                await collection.database[WRITE_CLAIMS_COLLECTION].delete_one(
                    {"_id": f"{collection.name}:{document_id}:{version}"}
                )
        return claim


async def test_a_claim_released_within_moments_is_waited_for_not_left_to_the_next_pass(
    database: AsyncDatabase[Any],
) -> None:
    # Giving up at the first refusal would leave the entries the relay has just published for the next
    # pass, which publishes them again: the relay waits a moment for the writer instead.
    await _tally_with(database, _counted(1))
    await _hold_claim(database, "tallies:t1:2", seconds=30)  # a writer of version 2 is mid-write
    claims = WriterFinishingRightAfterARefusal()
    filters: list[Mapping[str, Any]] = []

    async def write(where: Mapping[str, Any]) -> bool:
        filters.append(dict(where))
        return True

    written = await OutboxDocumentWrites(claims).serialised(database["tallies"], "t1", 1, write)
    assert (written, claims.refusals, filters) == (True, 1, [{"_id": "t1", "version": 1}])
    assert await database[WRITE_CLAIMS_COLLECTION].count_documents({}) == 0, "its own claim released"
