"""A row the broker keeps refusing is parked after bounded attempts, the rows behind it flow, and a parked row
is kept and can be replayed: real PostgreSQL and MariaDB, real RabbitMQ."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from servicekit.events import EventBus, EventEnvelope
from servicekit.events.backoff import Backoff
from servicekit.events.bus import declare_exchanges
from servicekit.events.errors import PublishFailed
from servicekit.events.sql import SqlOutboxRelay, outbox_table, stage_event
from servicekit.metrics import OutboxMetrics
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from .conftest import SERVICE

pytestmark = pytest.mark.integration

# No queue is bound for this type until the test binds one: the broker returns it unroutable.
UNBOUND_TYPE = f"tests.parking.unbound{uuid.uuid4().hex[:8]}.v1"
ROUTED_TYPE = "tests.parking.routed.v1"
PARK_AFTER = 3
BATCH = 4


async def _stage(engine: AsyncEngine, event_type: str, count: int) -> list[EventEnvelope]:
    envelopes = [EventEnvelope.new(type=event_type, producer="order", payload={"n": n}) for n in range(count)]
    async with async_sessionmaker(engine)() as session, session.begin():
        for envelope in envelopes:
            await stage_event(session, envelope)
    return envelopes


async def test_rows_the_broker_keeps_returning_are_parked_and_the_rows_behind_them_flow(
    engine: AsyncEngine,
    bus: EventBus,
    probe: Any,
    outbox_metrics: OutboxMetrics,
    metrics_registry: CollectorRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A whole batch of poison rows at the head: before parking, every batch was these rows, forever.
    poison = await _stage(engine, UNBOUND_TYPE, BATCH)
    routed_tap = await probe.tap(f"tests.parking.routed.{uuid.uuid4().hex[:8]}", ROUTED_TYPE)
    behind = await _stage(engine, ROUTED_TYPE, 10)
    relay = SqlOutboxRelay(
        engine,
        bus,
        service_name="order",
        metrics=outbox_metrics,
        batch_size=BATCH,
        poll_interval=0.05,
        park_after_attempts=PARK_AFTER,
        backoff=Backoff(base_seconds=0.05, cap_seconds=0.2),
    )
    caplog.set_level(logging.ERROR, logger="servicekit.events.sql_relay")
    await relay.start()
    try:
        delivered = await probe.fetch(routed_tap, len(behind), within=20)
    finally:
        await relay.stop()
    assert [m.message_id for m in delivered] == [str(e.id) for e in behind]

    outbox = outbox_table(sa.MetaData())
    async with engine.connect() as connection:
        parked = (
            await connection.execute(
                sa.select(outbox.c.event_id, outbox.c.attempts, outbox.c.last_error)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.seq)
            )
        ).all()
    # Nothing is lost: the parked rows are still there, with why they were set aside.
    assert [str(row.event_id) for row in parked] == [str(e.id) for e in poison]
    assert all(row.attempts == PARK_AFTER and "unroutable" in row.last_error for row in parked)
    assert await relay.pending_count() == 0
    assert await relay.parked_count() == len(poison)  # the alert's gauge (outbox_parked_events)
    sample = metrics_registry.get_sample_value(
        "outbox_parked_total", {"service": "servicekit-tests", "event_type": UNBOUND_TYPE}
    )
    assert sample == len(poison)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert all(str(e.id) in logged for e in poison)

    # Replay (docs/runbooks/alerts.md): once a queue is bound, resetting `attempts` publishes them.
    poison_tap = await probe.tap(f"tests.parking.fixed.{uuid.uuid4().hex[:8]}", UNBOUND_TYPE)
    async with engine.begin() as connection:
        await connection.execute(
            sa.update(outbox).where(outbox.c.published_at.is_(None)).values(attempts=0, last_error=None)
        )
    await relay.start()
    try:
        replayed = await probe.fetch(poison_tap, len(poison), within=20)
    finally:
        await relay.stop()
    assert [m.message_id for m in replayed] == [str(e.id) for e in poison]
    assert await relay.parked_count() == 0


async def test_a_broker_outage_parks_nothing(
    engine: AsyncEngine, bus: EventBus, outbox_metrics: OutboxMetrics
) -> None:
    """Failures of a whole batch (nothing confirmed, not unroutable) do not count against the rows."""
    await _stage(engine, ROUTED_TYPE, 2)
    relay = SqlOutboxRelay(
        engine, bus, service_name="order", metrics=outbox_metrics, park_after_attempts=1, scrub_secrets=False
    )
    await bus.close()
    for _ in range(3):
        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the closed bus raises
            await relay.relay_batch()
    outbox = outbox_table(sa.MetaData())
    async with engine.connect() as connection:
        attempts = (await connection.execute(sa.select(outbox.c.attempts))).scalars().all()
    assert attempts == [0, 0]
    assert await relay.pending_count() == 2


@pytest.fixture
async def quick_bus(amqp_url: str) -> AsyncIterator[EventBus]:
    """A bus that gives up on an event after 1.5 s (30 s by default), so each failed relay batch is short."""
    event_bus = EventBus(amqp_url, service_name=SERVICE, confirm_timeout=1.0, publish_timeout=1.5)
    await event_bus.connect()
    try:
        yield event_bus
    finally:
        await event_bus.close()


async def _attempts(engine: AsyncEngine) -> dict[str, int]:
    outbox = outbox_table(sa.MetaData())
    async with engine.connect() as connection:
        rows = await connection.execute(sa.select(outbox.c.event_id, outbox.c.attempts))
        return {str(row.event_id): row.attempts for row in rows}


async def test_a_row_that_makes_the_broker_close_the_channel_is_parked_alone(
    engine: AsyncEngine, quick_bus: EventBus, probe: Any, outbox_metrics: OutboxMetrics
) -> None:
    # A `CC` header that is not an array: RabbitMQ answers the publish with PRECONDITION_FAILED and closes
    # the channel, under every message of the batch still in flight behind it.
    tap = await probe.tap(f"tests.parking.closing.{uuid.uuid4().hex[:8]}", ROUTED_TYPE)
    [culprit] = await _stage(engine, ROUTED_TYPE, 1)
    outbox = outbox_table(sa.MetaData())
    async with engine.begin() as connection:
        await connection.execute(
            sa.update(outbox).where(outbox.c.event_id == culprit.id).values(headers={"CC": "not-an-array"})
        )
    relay = SqlOutboxRelay(
        engine, quick_bus, service_name="order", metrics=outbox_metrics, park_after_attempts=2, batch_size=50
    )
    behind: list[EventEnvelope] = []
    for _ in range(2):
        # Traffic behind it, in the same batch: what is confirmed beside it shows the broker is reachable.
        behind += await _stage(engine, ROUTED_TYPE, 10)
        with pytest.raises(PublishFailed):
            await relay.relay_batch()
    delivered = await probe.fetch(tap, len(behind), within=10)
    assert {m.message_id for m in delivered} == {str(e.id) for e in behind}
    attempts = await _attempts(engine)
    assert attempts.pop(str(culprit.id)) == 2, "the culprit alone counts, once per batch"
    assert set(attempts.values()) == {0}, "no row published beside it counts"
    assert await relay.parked_count() == 1
    assert await relay.relay_batch() == 0


async def test_a_nacked_row_alone_in_its_batch_counts_toward_parking(
    engine: AsyncEngine, quick_bus: EventBus, probe: Any, outbox_metrics: OutboxMetrics
) -> None:
    # A queue at its length limit with reject-publish: the broker (reachable) nacks every event routed to it.
    nacked_type = f"tests.parking.nacked{uuid.uuid4().hex[:8]}.v1"
    async with probe.connection.channel() as channel:
        events = await declare_exchanges(channel, timeout=10)
        queue = await channel.declare_queue(
            f"tests.parking.full.{uuid.uuid4().hex[:8]}",
            arguments={"x-max-length": 0, "x-overflow": "reject-publish", "x-expires": 60_000},
        )
        await queue.bind(events, routing_key=nacked_type)
    [row] = await _stage(engine, nacked_type, 1)
    relay = SqlOutboxRelay(
        engine, quick_bus, service_name="order", metrics=outbox_metrics, park_after_attempts=2
    )
    for expected in (1, 2):
        with pytest.raises(PublishFailed):
            await relay.relay_batch()
        assert await _attempts(engine) == {str(row.id): expected}
    assert await relay.parked_count() == 1
    assert await relay.pending_count() == 0
