"""Crash the real broker (SIGKILL) and bring it back: publishing, consuming and the outbox relay recover."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from servicekit.events import EventBus, EventConsumer, EventEnvelope
from servicekit.events.sql import SqlOutboxRelay, outbox_table, stage_event
from servicekit.metrics import ConsumerMetrics, OutboxMetrics
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENT_TYPE = "order.order.placed.v1"


@pytest.fixture
async def patient_bus(amqp_url: str) -> AsyncIterator[EventBus]:
    """A bus whose publishes wait out a broker restart (RabbitMQ needs several seconds to come back)."""
    event_bus = EventBus(amqp_url, service_name="order", publish_timeout=120, reconnect_interval=0.5)
    await event_bus.connect()
    try:
        yield event_bus
    finally:
        await event_bus.close()


# RabbitMQ 3.10 (Debian bookworm) does not bring back a quorum queue declared less than about a second before
# a SIGKILL (measured: 0 s lost, 3 s recovered): its Ra registration is not yet on disk. Production queues are
# long-lived, so the tests let fresh topology settle before crashing the node.
TOPOLOGY_SETTLE_SECONDS = 5.0


async def _crash_and_restart(rabbitmq_server: Any) -> None:
    # Blocking calls go to a thread so the robust connections keep running their reconnect loop.
    await asyncio.to_thread(rabbitmq_server.kill)
    await asyncio.sleep(1.0)
    await asyncio.to_thread(rabbitmq_server.start)


async def test_publish_and_consume_resume_after_a_broker_crash(
    patient_bus: EventBus,
    rabbitmq_server: Any,
    consumer_metrics: ConsumerMetrics,
    eventually: Any,
) -> None:
    received: list[int] = []

    async def handler(envelope: EventEnvelope) -> None:
        received.append(envelope.payload["n"])

    consumer = EventConsumer(
        patient_bus,
        queue="tests.restart",
        routing_keys=[EVENT_TYPE],
        handler=handler,
        metrics=consumer_metrics,
    )
    await consumer.start()
    try:
        await patient_bus.publish(EventEnvelope.new(type=EVENT_TYPE, producer="order", payload={"n": 1}))
        await eventually(lambda: received == [1], what="the event before the crash")
        await asyncio.sleep(TOPOLOGY_SETTLE_SECONDS)

        await asyncio.to_thread(rabbitmq_server.kill)
        # Published while the broker is down: retried with backoff until the restarted broker confirms it.
        during = asyncio.create_task(
            patient_bus.publish(EventEnvelope.new(type=EVENT_TYPE, producer="order", payload={"n": 2}))
        )
        await asyncio.sleep(1.0)
        await asyncio.to_thread(rabbitmq_server.start)
        await asyncio.wait_for(during, timeout=120)
        await patient_bus.publish(EventEnvelope.new(type=EVENT_TYPE, producer="order", payload={"n": 3}))

        await eventually(lambda: {2, 3} <= set(received), within=60, what="events after the restart")
    finally:
        await consumer.stop(grace_seconds=5)
    assert set(received) == {1, 2, 3}


async def test_outbox_relay_loses_no_event_across_a_broker_crash(
    postgres_url: str,
    patient_bus: EventBus,
    probe: Any,
    rabbitmq_server: Any,
    outbox_metrics: OutboxMetrics,
    metrics_registry: CollectorRegistry,
    eventually: Any,
) -> None:
    labels = {"service": outbox_metrics.service}
    engine: AsyncEngine = create_async_engine(postgres_url, pool_size=5, pool_timeout=10)
    metadata = sa.MetaData()
    outbox = outbox_table(metadata)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    sessions = async_sessionmaker(engine)
    tap = await probe.tap("tests.restart.outbox.tap", EVENT_TYPE)
    await asyncio.sleep(TOPOLOGY_SETTLE_SECONDS)
    staged: set[str] = set()

    async def stage(count: int) -> None:
        async with sessions() as session, session.begin():
            for _ in range(count):
                envelope = EventEnvelope.new(type=EVENT_TYPE, producer="order", payload={})
                await stage_event(session, envelope)
                staged.add(str(envelope.id))

    relay = SqlOutboxRelay(
        engine, patient_bus, service_name="order", metrics=outbox_metrics, batch_size=25, poll_interval=0.05
    )
    await stage(200)
    await relay.start()
    try:
        await eventually(
            lambda: (metrics_registry.get_sample_value("outbox_published_total", labels) or 0) > 0,
            what="the relay to start publishing",
        )
        await _crash_and_restart(rabbitmq_server)
        await stage(100)  # staged after the crash: must go out too
        messages = await probe.fetch_until_ids(tap, staged, within=120)
        await eventually(_all_marked(engine, outbox), within=60, what="every row marked published")
    finally:
        await relay.stop()
        await engine.dispose()
    # At least once: a batch confirmed just before the crash may be published again; nothing may be missing.
    assert {m.message_id for m in messages} == staged


def _all_marked(engine: AsyncEngine, outbox: sa.Table) -> Any:
    async def check() -> bool:
        async with engine.connect() as connection:
            statement = sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            return int((await connection.execute(statement)).scalar_one()) == 0

    return check
