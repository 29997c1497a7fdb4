"""Mongo outbox entries the broker keeps refusing are parked like SQL rows: the other documents of the
pass flow, a parked entry is kept, unflagged and replayable (docs/runbooks/alerts.md). FerretDB v1 and
real RabbitMQ."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events import EventBus, EventEnvelope
from servicekit.events.errors import PublishFailed
from servicekit.events.mongo import (
    OUTBOX_EXCLUDED,
    OUTBOX_FIELD,
    OUTBOX_PARKED_FIELD,
    OUTBOX_PENDING_FIELD,
    MongoOutboxRelay,
    outbox_entry,
    with_staged_events,
)
from servicekit.metrics import OutboxMetrics

from .conftest import SERVICE

pytestmark = pytest.mark.integration

ROUTED_TYPE = "tests.mongoparking.routed.v1"
PARK_AFTER = 3


def _event(event_type: str, n: int) -> EventEnvelope:
    return EventEnvelope.new(type=event_type, producer="gig", payload={"n": n})


async def _replay_parked(collection: AsyncCollection[Any], document_id: Any) -> None:
    """The runbook's replay (docs/runbooks/alerts.md#gigstackoutboxeventsparked), as its mongosh does it."""
    async for document in collection.find({"_id": document_id, "_outbox_has_parked": True}):
        parked = document["_outbox_parked"]
        await collection.update_one(
            {"_id": document["_id"], "_outbox_parked": parked},
            {
                "$push": {"_outbox": {"$each": [p["entry"] for p in parked]}},
                "$set": {"_outbox_pending": True},
                "$unset": {"_outbox_parked": "", "_outbox_has_parked": ""},
            },
        )


async def test_entries_the_broker_keeps_refusing_are_parked_and_the_other_documents_flow(
    database: AsyncDatabase[Any],
    bus: EventBus,
    probe: Any,
    outbox_metrics: OutboxMetrics,
    metrics_registry: CollectorRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gigs = database["gigs"]
    unbound_type = f"tests.mongoparking.unbound{uuid.uuid4().hex[:8]}.v1"
    routed_tap = await probe.tap(f"tests.mongoparking.routed.{uuid.uuid4().hex[:8]}", ROUTED_TYPE)
    # Poison first, so the pass meets it before the rest: unroutable, and an entry that cannot be serialised
    # (no type) next to a good one in the same document.
    unroutable = _event(unbound_type, 0)
    await gigs.insert_one(with_staged_events({"_id": "p1", "title": "unroutable"}, unroutable))
    unserialisable = outbox_entry(_event(ROUTED_TYPE, 1))
    del unserialisable["type"]
    sibling = _event(ROUTED_TYPE, 2)
    await gigs.insert_one(
        with_staged_events({"_id": "p2", "title": "broken", OUTBOX_FIELD: [unserialisable]}, sibling)
    )
    behind = [_event(ROUTED_TYPE, 10 + n) for n in range(5)]
    for n, envelope in enumerate(behind):
        await gigs.insert_one(with_staged_events({"_id": f"g{n}", "title": "fine"}, envelope))
    relay = MongoOutboxRelay(
        [gigs], bus, service_name="gig", metrics=outbox_metrics, park_after_attempts=PARK_AFTER
    )
    caplog.set_level(logging.ERROR, logger="servicekit.events.mongo")

    # Each pass publishes everything else, then raises so the loop backs off; the third failure parks.
    for attempt in range(PARK_AFTER):
        with pytest.raises(PublishFailed):
            await relay.relay_batch()
        if attempt == 0:
            delivered = await probe.fetch(routed_tap, len(behind) + 1, within=10)
            assert {m.message_id for m in delivered} == {str(e.id) for e in [sibling, *behind]}
    assert await relay.relay_batch() == 0, "nothing left to try: the parked entries are out of the way"

    for document_id, event_id, error in (
        ("p1", str(unroutable.id), "unroutable"),
        ("p2", unserialisable["id"], "KeyError"),
    ):
        stored = await gigs.find_one({"_id": document_id})
        assert stored is not None
        assert stored[OUTBOX_FIELD] == []
        assert OUTBOX_PENDING_FIELD not in stored, "a parked entry must not keep the poll busy"
        assert not stored.get("_outbox_attempts")
        [parked] = stored[OUTBOX_PARKED_FIELD]
        assert parked["entry"]["id"] == event_id
        assert parked["attempts"] == PARK_AFTER
        assert error in parked["last_error"]
        # Nor does it leak into what the service reads and answers with.
        projected = await gigs.find_one({"_id": document_id}, OUTBOX_EXCLUDED)
        assert projected is not None
        assert not [key for key in projected if key.startswith("_outbox")], projected
    assert await relay.pending_count() == 0
    assert await relay.parked_count() == 2  # the alert's gauge (outbox_parked_events)
    assert (
        metrics_registry.get_sample_value(
            "outbox_parked_total", {"service": SERVICE, "event_type": unbound_type}
        )
        == 1
    )
    assert (
        metrics_registry.get_sample_value("outbox_parked_total", {"service": SERVICE, "event_type": "None"})
        == 1
    )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert str(unroutable.id) in logged
    assert unserialisable["id"] in logged

    # Replay (runbook): once a queue is bound, moving the entries back publishes them.
    fixed_tap = await probe.tap(f"tests.mongoparking.fixed.{uuid.uuid4().hex[:8]}", unbound_type)
    await _replay_parked(gigs, "p1")
    assert await relay.relay_batch() == 1
    assert [m.message_id for m in await probe.fetch(fixed_tap, 1)] == [str(unroutable.id)]
    replayed = await gigs.find_one({"_id": "p1"})
    assert replayed is not None
    assert replayed[OUTBOX_FIELD] == []
    assert OUTBOX_PENDING_FIELD not in replayed
    assert OUTBOX_PARKED_FIELD not in replayed
    assert replayed["title"] == "unroutable"
    assert await relay.parked_count() == 1


async def test_a_broker_outage_parks_no_mongo_entry(
    database: AsyncDatabase[Any], bus: EventBus, outbox_metrics: OutboxMetrics
) -> None:
    gigs = database["gigs"]
    for n in range(2):
        await gigs.insert_one(with_staged_events({"_id": f"o{n}"}, _event(ROUTED_TYPE, n)))
    relay = MongoOutboxRelay([gigs], bus, service_name="gig", metrics=outbox_metrics, park_after_attempts=1)
    tried: list[str] = []
    publish = relay._publish

    async def counting(entry: dict[str, Any]) -> None:
        tried.append(entry["id"])
        await publish(entry)

    relay._publish = counting  # type: ignore[method-assign]
    await bus.close()
    for _ in range(3):
        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the closed bus raises
            await relay.relay_batch()
    assert len(tried) == 3, "with the connection down, a pass stops at its first failing document"
    async for document in gigs.find({}):
        assert len(document[OUTBOX_FIELD]) == 1
        assert document[OUTBOX_PENDING_FIELD] is True
        assert OUTBOX_PARKED_FIELD not in document
        assert not document.get("_outbox_attempts")
    assert await relay.parked_count() == 0
    assert await relay.pending_count() == 2
