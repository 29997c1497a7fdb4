"""The baseline: plain aio-pika, publisher confirms on, persistent messages, consumer acks each message."""

from __future__ import annotations

import asyncio
import time

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from servicekit.events.bus import declare_exchanges, declare_work_queue

ROUTING_KEY = "bench.raw.sent.v1"
AMQP_TIMEOUT = 30.0


async def run_raw(amqp_url: str, *, events: int, queue: str, prefetch: int, publish_window: int) -> float:
    """Publish `events` messages (confirmed, `publish_window` in flight) while a consumer acks them.

    Uses the same quorum work-queue topology as the full path, so the broker does the same work per
    message in both; returns the seconds from the first publish to the last ack.
    """
    connection = await aio_pika.connect_robust(amqp_url, timeout=AMQP_TIMEOUT)
    try:
        consume_channel = await connection.channel()
        await consume_channel.set_qos(prefetch_count=prefetch)
        work = await declare_work_queue(
            consume_channel, queue, [ROUTING_KEY], delivery_limit=5, timeout=AMQP_TIMEOUT
        )
        publish_channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_exchanges(publish_channel, timeout=AMQP_TIMEOUT)

        acked = 0
        all_acked = asyncio.Event()

        async def on_message(message: AbstractIncomingMessage) -> None:
            nonlocal acked
            await message.ack()
            acked += 1
            if acked == events:
                all_acked.set()

        tag = await work.consume(on_message)
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
        await asyncio.wait_for(all_acked.wait(), timeout=600)
        elapsed = time.perf_counter() - started
        await work.cancel(tag)
        return elapsed
    finally:
        await connection.close()
