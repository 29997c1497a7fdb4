"""The full path: stage in the PostgreSQL outbox → SqlOutboxRelay → RabbitMQ → EventConsumer → claim row.

Producer side (staging transactions + relay) runs in this process, the consumer in its own process, as the
producing and consuming services would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from servicekit.events import EventBus, EventEnvelope
from servicekit.events import sql as outbox_sql
from servicekit.events.sql import SqlOutboxRelay, outbox_table, processed_events_table, stage_event
from servicekit.events.sql_asyncpg import driver_in_transaction
from servicekit.events.sql_deferred import deferrable_connection
from servicekit.events.sql_relay import serialized_row
from servicekit.metrics import OutboxMetrics
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bench.event_bus.worker_process import ConsumerWorker, business_table

EVENT_TYPE = "bench.order.placed.v1"
CONSUMER = "bench"


async def _publish_each(bus: EventBus, rows: Sequence[Any]) -> list[BaseException | None]:
    """The relay's publishing before batched writes: every row its own `publish_serialized`, all gathered."""

    async def publish(row: Any) -> None:
        await bus.publish_serialized(**dataclasses.asdict(serialized_row(row)))

    return await asyncio.gather(*(publish(row) for row in rows), return_exceptions=True)


@dataclass(frozen=True)
class FullPathResult:
    seconds: float
    staged_after: float
    published_after: float
    client_cpu_seconds: float  # producer + consumer processes
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
    unit_of_work: str,
    claims: str,
    loop: str,
    staging: str,
    relay_publishing: str = "batched",
    consumer_options: Sequence[str] = (),
    deferred_staging: bool = True,
) -> FullPathResult:
    """Stage `events` events (one transaction each, `writers` at a time) and wait until all are claimed.

    `staging` says what each transaction holds and whether the clock covers it:

    * `before` (the bus figure): the outbox row alone, all staged before the clock starts at the relay's
      start: outbox -> broker -> consumer -> commit, the span the raw path is compared with;
    * `own` (the staged figure): the outbox row alone, a transaction of its own per event, in the clock;
    * `joined` (the joined figure): a business row (`bench_orders`) and the outbox row in one transaction
      per event, in the clock: what a service's request does. Compared with `raw_path.run_direct`, which
      commits the same business row and then publishes directly;
    * `joined-sqlalchemy`: the same with the outbox INSERT forced through SQLAlchemy (the path before ADR
      0024's asyncpg staging), for a before/after measured side by side.

    `relay_publishing` `per-message` has the relay publish each row on its own (`publish_serialized`, one
    write and one event-loop turn per row: the relay before ADR 0024's batched writes), for a before/after
    measured side by side; `batched` is the relay as it is. `consumer_options` are passed on to the
    consumer process (`--batch-acks per-message --batch-linger-ms 0`: the consumer before the session of
    18:35, for `--ab-consumer`). `deferred_staging` False writes each outbox row when it is staged even
    when nothing else ran in its transaction yet (BEGIN, INSERT, COMMIT: staging before the session of
    21:40, ADR 0024 amendment "stagebatch"), for `--ab-deferred`.

    The clock stops at the handler commit that claims the last distinct event id. `unit_of_work` is how
    producer and handler hold their transaction: `connection` (Core `engine.begin()`) or `session` (ORM).
    """
    engine = create_async_engine(database_url, pool_size=writers + 4, max_overflow=8, pool_timeout=30)
    metadata = sa.MetaData()
    outbox = outbox_table(metadata)
    processed = processed_events_table(metadata)
    orders = business_table(metadata)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    worker = ConsumerWorker(
        "full",
        f"--amqp-url={amqp_url}",
        f"--database-url={database_url}",
        f"--queue={queue}",
        f"--routing-key={EVENT_TYPE}",
        f"--events={events}",
        f"--prefetch={prefetch}",
        f"--consumer={CONSUMER}",
        f"--unit-of-work={unit_of_work}",
        f"--claims={claims}",
        f"--loop={loop}",
        *consumer_options,
    )
    await worker.start()
    bus = EventBus(amqp_url, service_name="bench-producer")
    await bus.connect()
    registry = CollectorRegistry()
    relay = SqlOutboxRelay(
        engine,
        bus,
        service_name="bench-producer",
        metrics=OutboxMetrics(registry, service="bench-producer"),
        batch_size=relay_batch,
        poll_interval=0.02,
    )
    if relay_publishing == "per-message":
        vars(relay)["_publish_rows"] = functools.partial(_publish_each, bus)

    async def stage(n: int) -> None:
        envelope = EventEnvelope.new(type=EVENT_TYPE, producer="bench", payload={"n": n})
        if unit_of_work == "session":
            async with sessions() as session, session.begin():
                if staging.startswith("joined"):
                    await session.execute(orders.insert(), {"n": n})
                await stage_event(session, envelope)
        else:
            async with engine.begin() as connection:
                if staging.startswith("joined"):
                    await connection.execute(orders.insert(), {"n": n})
                await stage_event(connection, envelope)

    pending = iter(range(events))

    async def writer() -> None:
        for n in pending:
            await stage(n)

    async def all_published() -> float:
        # Polls the relay's own counter: the relay exposes no completion event, and 10 ms is well below the
        # resolution this figure is reported at.
        published = 0.0
        while published < events:
            await asyncio.sleep(0.01)
            published = (
                registry.get_sample_value("outbox_published_total", {"service": "bench-producer"}) or 0
            )
        return time.perf_counter() - started

    staging_in_clock = staging != "before"
    if staging == "joined-sqlalchemy":
        # What `stage_events` did before it learnt the asyncpg path: always through SQLAlchemy.
        async def no_driver(session: object) -> None:
            return None

        vars(outbox_sql)["driver_in_transaction"] = no_driver
    if not deferred_staging:
        # What `stage_events` did before it learnt to defer: write the rows at once, whatever ran before.
        async def not_deferrable(session: object) -> None:
            return None

        vars(outbox_sql)["deferrable_connection"] = not_deferrable
    try:
        if not staging_in_clock:
            await asyncio.gather(*(writer() for _ in range(writers)))
        await relay.start()
        cpu_before = time.process_time()
        started = time.perf_counter()
        published_watch = asyncio.create_task(all_published())
        if staging_in_clock:
            await asyncio.gather(*(writer() for _ in range(writers)))
        staged_after = time.perf_counter() - started
        done = await worker.wait_done(timeout=900)
        published_after = await published_watch
        producer_cpu = time.process_time() - cpu_before
    finally:
        vars(outbox_sql)["driver_in_transaction"] = driver_in_transaction
        vars(outbox_sql)["deferrable_connection"] = deferrable_connection
        await relay.stop()
        await bus.close()
        await worker.stop()
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
    return FullPathResult(
        seconds=done.finished_at - started,
        staged_after=staged_after,
        published_after=published_after,
        client_cpu_seconds=producer_cpu + done.cpu_seconds,
        handler_calls=done.handler_calls,
        distinct_claimed=int(distinct),
        outbox_unpublished=int(unpublished),
    )
