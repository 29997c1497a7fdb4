"""The baseline: plain aio-pika, publisher confirms, persistent messages, a consumer process acking each."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aio_pika
import sqlalchemy as sa
from servicekit.events.bus import declare_exchanges
from sqlalchemy.ext.asyncio import create_async_engine

from bench.event_bus.worker_process import ConsumerWorker, business_table

ROUTING_KEY = "bench.raw.sent.v1"
AMQP_TIMEOUT = 30.0


@dataclass(frozen=True)
class RawPathResult:
    seconds: float
    client_cpu_seconds: float  # publisher + consumer processes


async def run_raw(
    amqp_url: str, *, events: int, queue: str, prefetch: int, publish_window: int, loop: str
) -> RawPathResult:
    """Publish `events` messages (confirmed, `publish_window` in flight) while a consumer process acks them.

    The consumer declares the same quorum work-queue topology as the full path, so the broker does the same
    work per message in both; the clock runs from the first publish to the last ack.
    """
    worker = ConsumerWorker(
        "raw",
        f"--amqp-url={amqp_url}",
        f"--queue={queue}",
        f"--routing-key={ROUTING_KEY}",
        f"--events={events}",
        f"--prefetch={prefetch}",
        f"--loop={loop}",
    )
    await worker.start()
    connection = await aio_pika.connect_robust(amqp_url, timeout=AMQP_TIMEOUT)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_exchanges(channel, timeout=AMQP_TIMEOUT)
        cpu_before = time.process_time()
        started = time.perf_counter()
        for first in range(0, events, publish_window):
            batch = range(first, min(first + publish_window, events))
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            body=b'{"n": %d}' % n,
                            message_id=str(n),
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=ROUTING_KEY,
                        timeout=AMQP_TIMEOUT,
                    )
                    for n in batch
                )
            )
        publisher_cpu = time.process_time() - cpu_before
        done = await worker.wait_done(timeout=600)
        return RawPathResult(done.finished_at - started, publisher_cpu + done.cpu_seconds)
    finally:
        await connection.close()
        await worker.stop()


async def run_direct(
    amqp_url: str,
    database_url: str,
    *,
    events: int,
    queue: str,
    prefetch: int,
    writers: int,
    loop: str,
) -> RawPathResult:
    """What the joined outbox path is compared with: the same business transactions, no outbox.

    `writers` at a time, each event commits its business row (`bench_orders`, as the joined path does) and
    is then published straight away with a confirm (the dual write a service without an outbox would do,
    which loses the event if the process dies between commit and confirm); a consumer process acks. The
    clock runs from the first transaction to the last ack.
    """
    engine = create_async_engine(database_url, pool_size=writers + 4, max_overflow=8, pool_timeout=30)
    metadata = sa.MetaData()
    orders = business_table(metadata)
    async with engine.begin() as setup:
        await setup.run_sync(metadata.create_all)
    worker = ConsumerWorker(
        "raw",
        f"--amqp-url={amqp_url}",
        f"--queue={queue}",
        f"--routing-key={ROUTING_KEY}",
        f"--events={events}",
        f"--prefetch={prefetch}",
        f"--loop={loop}",
    )
    await worker.start()
    connection = await aio_pika.connect_robust(amqp_url, timeout=AMQP_TIMEOUT)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_exchanges(channel, timeout=AMQP_TIMEOUT)
        pending = iter(range(events))

        async def writer() -> None:
            for n in pending:
                async with engine.begin() as transaction:
                    await transaction.execute(orders.insert(), {"n": n})
                await exchange.publish(
                    aio_pika.Message(
                        body=b'{"n": %d}' % n,
                        message_id=str(n),
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key=ROUTING_KEY,
                    timeout=AMQP_TIMEOUT,
                )

        cpu_before = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(writers)))
        publisher_cpu = time.process_time() - cpu_before
        done = await worker.wait_done(timeout=600)
        return RawPathResult(done.finished_at - started, publisher_cpu + done.cpu_seconds)
    finally:
        await connection.close()
        await worker.stop()
        await engine.dispose()
