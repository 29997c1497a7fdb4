"""Dead-lettering on a real RabbitMQ: malformed bodies, permanent errors, exhausted retries, broker limit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from servicekit.events import EventBus, EventConsumer, EventEnvelope, PermanentEventError
from servicekit.metrics import ConsumerMetrics

pytestmark = pytest.mark.integration

ROUTING_KEY = "notification.email.requested.v1"


def _envelope(n: int) -> EventEnvelope:
    return EventEnvelope.new(type=ROUTING_KEY, producer="auth", payload={"n": n})


async def test_malformed_and_permanently_failing_messages_go_to_the_dlq_while_the_queue_keeps_flowing(
    bus: EventBus, probe: Any, consumer_metrics: ConsumerMetrics, consumed_count: Any, eventually: Any
) -> None:
    queue = "tests.permanent"
    handled: list[int] = []

    async def handler(envelope: EventEnvelope) -> None:
        if envelope.payload["n"] == 2:
            raise PermanentEventError("unknown template 'nope'")
        handled.append(envelope.payload["n"])

    consumer = EventConsumer(
        bus, queue=queue, routing_keys=[ROUTING_KEY], handler=handler, metrics=consumer_metrics
    )
    await consumer.start()
    try:
        await bus.publish(_envelope(1))
        await probe.publish_raw(b"{not json", ROUTING_KEY, message_id="garbage-1", message_type=ROUTING_KEY)
        await bus.publish(_envelope(2))
        await probe.publish_raw(b'{"id": "x"}', ROUTING_KEY, message_id="garbage-2")
        for n in range(3, 8):
            await bus.publish(_envelope(n))
        await eventually(lambda: sorted(handled) == [1, 3, 4, 5, 6, 7], what="the good messages")
        dead = await probe.fetch(f"{queue}.dlq", 3)
    finally:
        await consumer.stop(grace_seconds=5)

    by_id = {m.message_id: m for m in dead}
    assert set(by_id) >= {"garbage-1", "garbage-2"}
    assert by_id["garbage-1"].body == b"{not json"
    assert by_id["garbage-1"].headers["x-dead-letter-reason"].startswith("malformed event envelope")
    assert by_id["garbage-1"].headers["x-original-routing-key"] == ROUTING_KEY
    assert by_id["garbage-1"].headers["x-original-queue"] == queue
    [permanent] = [m for m in dead if m.message_id not in {"garbage-1", "garbage-2"}]
    assert permanent.headers["x-dead-letter-reason"] == "unknown template 'nope'"
    assert permanent.headers["x-original-routing-key"] == ROUTING_KEY
    assert EventEnvelope.from_json_bytes(permanent.body).payload == {"n": 2}
    assert await probe.depth(queue) == 0, "dead-lettered messages must be acked off the work queue"
    assert consumed_count(queue, ROUTING_KEY, "dead_lettered") == 2  # malformed one without type: "unknown"
    assert consumed_count(queue, "unknown", "dead_lettered") == 1
    assert consumed_count(queue, ROUTING_KEY, "processed") == 6


async def test_a_handler_that_always_fails_is_retried_up_to_the_limit_then_dead_lettered(
    bus: EventBus, probe: Any, consumer_metrics: ConsumerMetrics, consumed_count: Any, eventually: Any
) -> None:
    queue = "tests.transient"
    attempts: list[int] = []
    healthy: list[int] = []

    async def handler(envelope: EventEnvelope) -> None:
        if envelope.payload["n"] == 0:
            attempts.append(1)
            raise ConnectionError("smtp unreachable")
        healthy.append(envelope.payload["n"])

    consumer = EventConsumer(
        bus,
        queue=queue,
        routing_keys=[ROUTING_KEY],
        handler=handler,
        metrics=consumer_metrics,
        delivery_limit=3,
        retry_delay_seconds=0.05,
    )
    await consumer.start()
    try:
        await bus.publish(_envelope(0))
        await bus.publish(_envelope(1))
        [dead] = await probe.fetch(f"{queue}.dlq", 1)
        await eventually(lambda: healthy == [1], what="the healthy message")
        await asyncio.sleep(0.5)  # a fourth attempt would show up here
    finally:
        await consumer.stop(grace_seconds=5)

    assert len(attempts) == 3
    assert dead.headers["x-dead-letter-reason"] == (
        "retries exhausted after 3 attempts: ConnectionError: smtp unreachable"
    )
    assert dead.headers["x-original-routing-key"] == ROUTING_KEY
    assert consumed_count(queue, ROUTING_KEY, "retried") == 2
    assert consumed_count(queue, ROUTING_KEY, "dead_lettered") == 1
    assert await probe.depth(queue) == 0


async def test_broker_delivery_limit_dead_letters_a_message_whose_consumer_keeps_crashing(
    bus: EventBus, probe: Any
) -> None:
    # Simulates a handler that kills its process before deciding: the message is only ever returned to the
    # queue (never acked), and the queue's own x-delivery-limit must move it to the DLQ.
    queue = "tests.crashing"
    await bus.declare_work_queue(queue, [ROUTING_KEY], delivery_limit=2)
    await bus.publish(_envelope(9))
    deliveries = 0
    async with probe.connection.channel() as channel:
        work = await channel.get_queue(queue)
        for _ in range(10):
            message = await work.get(no_ack=False, fail=False, timeout=10)
            if message is None:
                if await probe.depth(f"{queue}.dlq") == 1:
                    break
                await asyncio.sleep(0.1)
                continue
            deliveries += 1
            await message.nack(requeue=True)
    [dead] = await probe.fetch(f"{queue}.dlq", 1)
    assert deliveries == 3, "quorum x-delivery-limit=2 allows the first delivery plus two redeliveries"
    assert dead.headers["x-death"][0]["reason"] == "delivery_limit"
    assert dead.headers["x-death"][0]["queue"] == queue
    assert EventEnvelope.from_json_bytes(dead.body).payload == {"n": 9}
