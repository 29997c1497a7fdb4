"""The full path: stage in the PostgreSQL outbox → SqlOutboxRelay → RabbitMQ → EventConsumer → claim row."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from servicekit.events import EventBus, EventConsumer, EventEnvelope
from servicekit.events.sql import (
    SqlOutboxRelay,
    claim_event,
    outbox_table,
    processed_events_table,
    stage_event,
)
from servicekit.metrics import ConsumerMetrics, OutboxMetrics
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

EVENT_TYPE = "bench.order.placed.v1"
CONSUMER = "bench"


@dataclass(frozen=True)
class FullPathResult:
    seconds: float
    staged_after: float
    handler_calls: int
    distinct_claimed: int
    outbox_unpublished: int


async def run_full(
    amqp_url: str,
    database_url: str,
    *,
    events: int,
    queue: str,
    prefetch: int,
    writers: int,
    relay_batch: int,
) -> FullPathResult:
    """Stage `events` events (one transaction each, `writers` at a time) and wait until all are claimed.

    The clock runs from the first staging transaction to the handler commit that claims the last distinct
    event id, so staging, relaying, broker and consumer are all inside the measurement.
    """
    engine = create_async_engine(
        database_url, pool_size=prefetch + writers + 4, max_overflow=8, pool_timeout=30
    )
    metadata = sa.MetaData()
    outbox = outbox_table(metadata)
    processed = processed_events_table(metadata)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    registry = CollectorRegistry()
    bus = EventBus(amqp_url, service_name="bench", prefetch=prefetch)
    await bus.connect()

    handler_calls = 0
    claimed = 0
    all_claimed = asyncio.Event()

    async def handler(envelope: EventEnvelope) -> None:
        nonlocal handler_calls, claimed
        handler_calls += 1
        async with sessions() as session, session.begin():
            first_time = await claim_event(session, CONSUMER, envelope.id)
        if first_time:
            claimed += 1
            if claimed == events:
                all_claimed.set()

    consumer = EventConsumer(
        bus,
        queue=queue,
        routing_keys=[EVENT_TYPE],
        handler=handler,
        metrics=ConsumerMetrics(registry, service="bench"),
        prefetch=prefetch,
    )
    relay = SqlOutboxRelay(
        engine,
        bus,
        service_name="bench",
        metrics=OutboxMetrics(registry, service="bench"),
        batch_size=relay_batch,
        poll_interval=0.02,
    )
    await consumer.start()
    await relay.start()
    try:
        pending = iter(range(events))

        async def writer() -> None:
            for n in pending:
                async with sessions() as session, session.begin():
                    envelope = EventEnvelope.new(type=EVENT_TYPE, producer="bench", payload={"n": n})
                    await stage_event(session, envelope)

        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(writers)))
        staged_after = time.perf_counter() - started
        await asyncio.wait_for(all_claimed.wait(), timeout=900)
        elapsed = time.perf_counter() - started
    finally:
        await relay.stop()
        await consumer.stop(grace_seconds=10)
        await bus.close()
    async with engine.connect() as connection:
        distinct = (
            await connection.execute(
                sa.select(sa.func.count(sa.distinct(processed.c.event_id))).where(
                    processed.c.consumer == CONSUMER
                )
            )
        ).scalar_one()
        unpublished = (
            await connection.execute(
                sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
        ).scalar_one()
    await engine.dispose()
    return FullPathResult(elapsed, staged_after, handler_calls, int(distinct), int(unpublished))
