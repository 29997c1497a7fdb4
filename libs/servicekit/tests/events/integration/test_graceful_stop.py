"""EventConsumer.stop(): in-flight handlers finish and are acked; overdue ones are cancelled, redelivered."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from servicekit.events import EventBus, EventConsumer, EventEnvelope
from servicekit.metrics import ConsumerMetrics

pytestmark = pytest.mark.integration

ROUTING_KEY = "gig.gig.published.v1"


async def test_stop_waits_for_the_in_flight_handler_and_acks_it(
    bus: EventBus, probe: Any, consumer_metrics: ConsumerMetrics, consumed_count: Any
) -> None:
    queue = "tests.graceful"
    started = asyncio.Event()
    finished: list[str] = []

    async def slow_handler(envelope: EventEnvelope) -> None:
        started.set()
        await asyncio.sleep(1.0)
        finished.append(str(envelope.id))

    consumer = EventConsumer(
        bus, queue=queue, routing_keys=[ROUTING_KEY], handler=slow_handler, metrics=consumer_metrics
    )
    await consumer.start()
    envelope = EventEnvelope.new(type=ROUTING_KEY, producer="gig", payload={})
    await bus.publish(envelope)
    await asyncio.wait_for(started.wait(), timeout=10)
    assert consumer.in_flight == 1

    await consumer.stop(grace_seconds=10)

    assert finished == [str(envelope.id)], "stop() returned before the in-flight handler finished"
    assert consumed_count(queue, ROUTING_KEY, "processed") == 1
    assert await probe.depth(queue) == 0, "the finished message must have been acked, not requeued"
    # No new deliveries after stop: a message published now stays in the queue.
    await bus.publish(EventEnvelope.new(type=ROUTING_KEY, producer="gig", payload={}))
    await asyncio.sleep(0.3)
    assert await probe.depth(queue) == 1
    assert len(finished) == 1


async def test_a_handler_overrunning_the_grace_period_is_cancelled_and_its_message_redelivered(
    bus: EventBus, consumer_metrics: ConsumerMetrics, eventually: Any
) -> None:
    queue = "tests.overrun"
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def stuck_handler(envelope: EventEnvelope) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    first = EventConsumer(
        bus, queue=queue, routing_keys=[ROUTING_KEY], handler=stuck_handler, metrics=consumer_metrics
    )
    await first.start()
    envelope = EventEnvelope.new(type=ROUTING_KEY, producer="gig", payload={})
    await bus.publish(envelope)
    await asyncio.wait_for(started.wait(), timeout=10)
    await first.stop(grace_seconds=0.5)
    assert cancelled == [True]

    redelivered: list[EventEnvelope] = []

    async def quick_handler(event: EventEnvelope) -> None:
        redelivered.append(event)

    second = EventConsumer(
        bus, queue=queue, routing_keys=[ROUTING_KEY], handler=quick_handler, metrics=consumer_metrics
    )
    await second.start()
    try:
        await eventually(lambda: len(redelivered) == 1, what="redelivery to the next consumer")
    finally:
        await second.stop(grace_seconds=5)
    assert redelivered[0].id == envelope.id
