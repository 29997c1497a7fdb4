"""The Mongo relay's updates of an aggregate document against a versioned writer of the same document.

FerretDB v1 applies every update as read → modify → replace by `_id`, unserialised, so a relay removal that
lands while a writer's update is in flight can replace the document with its own stale copy: the write (and
the event it staged) is gone although its commit reported success. With write claims on, the relay takes the
claim a writer of the document's next version would take, so the two are serialised. Real FerretDB v1 and
RabbitMQ; the race is run many times because one lucky interleaving proves nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events import EventBus, EventEnvelope
from servicekit.events.mongo import OUTBOX_FIELD, MongoOutboxRelay
from servicekit.metrics import OutboxMetrics
from servicekit.mongo import ConcurrentUpdateError, MongoUnitOfWork, VersionedRepository

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
