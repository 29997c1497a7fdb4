"""BatchEventConsumer and claim_events on a real RabbitMQ, PostgreSQL and MariaDB."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from pamqp import commands as spec
from pamqp.frame import marshal
from servicekit.events import EventBus, EventEnvelope, PermanentEventError
from servicekit.events.batch_consumer import BatchEventConsumer
from servicekit.events.bus import SerializedEvent
from servicekit.events.sql import claim_events, processed_events_table
from servicekit.metrics import ConsumerMetrics
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.integration

ROUTING_KEY = "order.order.placed.v1"


async def test_claim_events_returns_only_the_ids_not_claimed_before_and_a_rollback_releases_them(
    engine: AsyncEngine,
) -> None:
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as connection:
        assert await claim_events(connection, "search", [first, second, first]) == {first, second}
    async with engine.begin() as connection:
        assert await claim_events(connection, "search", [first, second, third]) == {third}
        assert await claim_events(connection, "review", [first]) == {first}, "claims are per consumer"
    async with engine.connect() as connection, connection.begin() as transaction:
        fresh = uuid.uuid4()
        assert await claim_events(connection, "search", [fresh]) == {fresh}
        await transaction.rollback()
    async with engine.begin() as connection:
        assert await claim_events(connection, "search", [fresh]) == {fresh}
        assert await claim_events(connection, "search", []) == set()


def _envelope(n: int) -> EventEnvelope:
    return EventEnvelope.new(type=ROUTING_KEY, producer="order", payload={"n": n})


async def test_messages_that_arrive_together_are_handled_in_one_call_and_each_claimed_once(
    bus: EventBus,
    engine: AsyncEngine,
    probe: Any,
    consumer_metrics: ConsumerMetrics,
    consumed_count: Any,
    eventually: Any,
) -> None:
    queue = "tests.batches"
    await bus.declare_work_queue(queue, [ROUTING_KEY])
    envelopes = [_envelope(n) for n in range(40)]
    for envelope in envelopes:
        await bus.publish(envelope)
    await bus.publish(envelopes[7])  # a duplicate delivery: claimed once, applied once
    batch_sizes: list[int] = []
    applied: list[int] = []

    async def handler(batch: Sequence[EventEnvelope]) -> None:
        batch_sizes.append(len(batch))
        async with engine.begin() as connection:
            fresh = await claim_events(connection, "tests", [envelope.id for envelope in batch])
        applied.extend(envelope.payload["n"] for envelope in batch if envelope.id in fresh)

    consumer = BatchEventConsumer(
        bus,
        queue=queue,
        routing_keys=[ROUTING_KEY],
        batch_handler=handler,
        metrics=consumer_metrics,
        prefetch=16,
        max_batch=16,
    )
    await consumer.start()
    try:
        await eventually(lambda: sum(batch_sizes) == 41, what="every message handled")
    finally:
        await consumer.stop(grace_seconds=5)
    assert sorted(applied) == list(range(40))
    assert max(batch_sizes) > 1, "messages waiting in the queue are handled together"
    assert max(batch_sizes) <= 16
    assert await probe.depth(queue) == 0, "every message of a batch is acked after the handler returned"
    assert consumed_count(queue, ROUTING_KEY, "processed") == 41


async def test_a_failing_batch_is_handled_event_by_event_so_only_the_poison_event_is_dead_lettered(
    bus: EventBus, probe: Any, consumer_metrics: ConsumerMetrics, consumed_count: Any, eventually: Any
) -> None:
    queue = "tests.batch-poison"
    await bus.declare_work_queue(queue, [ROUTING_KEY])
    for n in range(20):
        await bus.publish(_envelope(n))
    await probe.publish_raw(b"{not json", ROUTING_KEY, message_id="garbage", message_type=ROUTING_KEY)
    calls: list[list[int]] = []
    handled: set[int] = set()

    async def handler(batch: Sequence[EventEnvelope]) -> None:
        numbers = [envelope.payload["n"] for envelope in batch]
        calls.append(numbers)
        if 13 in numbers:
            raise PermanentEventError("order 13 cannot be applied")
        handled.update(numbers)

    consumer = BatchEventConsumer(
        bus,
        queue=queue,
        routing_keys=[ROUTING_KEY],
        batch_handler=handler,
        metrics=consumer_metrics,
        prefetch=32,
    )
    await consumer.start()
    try:
        await eventually(lambda: handled == set(range(20)) - {13}, what="every healthy event")
        dead = await probe.fetch(f"{queue}.dlq", 2)
    finally:
        await consumer.stop(grace_seconds=5)
    assert any(len(call) > 1 and 13 in call for call in calls), "the poison event first came in a batch"
    assert [13] in calls, "then it was handled on its own"
    reasons = {message.message_id: message.headers["x-dead-letter-reason"] for message in dead}
    assert reasons["garbage"].startswith("malformed event envelope")
    assert "order 13 cannot be applied" in reasons.values()
    assert consumed_count(queue, ROUTING_KEY, "processed") == 19
    assert consumed_count(queue, ROUTING_KEY, "dead_lettered") == 2
    assert await probe.depth(queue) == 0


def _serialized(envelope: EventEnvelope) -> SerializedEvent:
    return SerializedEvent(
        body=envelope.to_json_bytes(),
        event_type=envelope.type,
        event_id=str(envelope.id),
        occurred_at=envelope.occurred_at,
        producer=envelope.producer,
    )


async def test_a_burst_written_at_once_is_one_batch_and_its_acks_are_one_write(
    bus: EventBus, probe: Any, consumer_metrics: ConsumerMetrics, consumed_count: Any, eventually: Any
) -> None:
    # What a relay batch looks like to the consumer: 24 events published in one write. Without the linger the
    # first delivery would start a batch of its own (and the second another); without acks together every
    # message of the batch would be one write of its own on the connection.
    queue = "tests.batch-burst"
    await bus.declare_work_queue(queue, [ROUTING_KEY])
    batch_sizes: list[int] = []
    ack_writes: list[int] = []

    async def handler(batch: Sequence[EventEnvelope]) -> None:
        batch_sizes.append(len(batch))

    consumer = BatchEventConsumer(
        bus,
        queue=queue,
        routing_keys=[ROUTING_KEY],
        batch_handler=handler,
        metrics=consumer_metrics,
        prefetch=32,
        max_batch=32,
        linger_seconds=0.1,  # generous: the broker's deliveries must all land on a loaded test machine
    )
    await consumer.start()
    writes = _count_writes(bus, ack_writes)
    try:
        results = await bus.publish_serialized_many([_serialized(_envelope(n)) for n in range(24)])
        assert results == [None] * 24
        await eventually(lambda: consumed_count(queue, ROUTING_KEY, "processed") == 24, what="all acked")
    finally:
        writes.undo()
        await consumer.stop(grace_seconds=5)
    assert batch_sizes == [24], "the burst is one batch"
    assert ack_writes == [24], "its 24 acks are one write"
    assert await probe.depth(queue) == 0


class _WriteSpy:
    def __init__(self, queue: Any, original: Any) -> None:
        self._queue, self._original = queue, original

    def undo(self) -> None:
        self._queue.put = self._original


def _count_writes(bus: EventBus, ack_writes: list[int]) -> _WriteSpy:
    """Record how many Basic.Ack frames each payload the connection's writer gets holds (nothing changed)."""
    write_queue = bus.connection.transport.connection.write_queue  # type: ignore[union-attr]
    original = write_queue.put
    ack = spec.Basic.Ack(delivery_tag=1)
    ack_frame = marshal(ack, 1)
    method_id = ack_frame[7:11]  # class and method id of Basic.Ack after the frame header

    async def put(frame: Any) -> None:
        payload = getattr(frame, "payload", b"")
        acks = payload.count(method_id)
        if acks:
            ack_writes.append(acks)
        await original(frame)

    write_queue.put = put  # type: ignore[method-assign]
    return _WriteSpy(write_queue, original)


async def test_a_crash_between_the_claim_commit_and_the_acks_redelivers_the_batch_and_applies_it_once(
    amqp_url: str,
    bus: EventBus,
    engine: AsyncEngine,
    probe: Any,
    consumer_metrics: ConsumerMetrics,
    eventually: Any,
) -> None:
    # The first consumer's connection dies right after its batch's claims committed and before the acks go
    # out: the broker requeues the unacked messages, a second consumer gets them, and the claim table tells
    # it they were applied. Every event is applied exactly once and nothing is left in the queue.
    queue = "tests.batch-crash"
    await bus.declare_work_queue(queue, [ROUTING_KEY])
    crashing = EventBus(amqp_url, service_name="crashing-consumer")
    await crashing.connect()
    applied: list[int] = []
    redelivered: list[int] = []
    hold = asyncio.Event()

    async def apply(batch: Sequence[EventEnvelope], *, crash: bool) -> None:
        async with engine.begin() as connection:
            fresh = await claim_events(connection, "tests-crash", [envelope.id for envelope in batch])
        applied.extend(envelope.payload["n"] for envelope in batch if envelope.id in fresh)
        redelivered.extend(envelope.payload["n"] for envelope in batch if envelope.id not in fresh)
        if crash:
            await hold.wait()  # committed, not acked: the connection dies meanwhile

    first = BatchEventConsumer(
        crashing,
        queue=queue,
        routing_keys=[ROUTING_KEY],
        batch_handler=lambda batch: apply(batch, crash=True),
        metrics=consumer_metrics,
        prefetch=32,
        max_batch=32,
        linger_seconds=0.1,
    )
    async with asyncio.timeout(60):
        await first.start()
        published = await bus.publish_serialized_many([_serialized(_envelope(n)) for n in range(20)])
        assert published == [None] * 20
        await eventually(lambda: len(applied) == 20, what="the first consumer committed the batch")
        await crashing.close()
        hold.set()
        # A crashed process stops nothing: only the first consumer's queue-depth sampler is ended here.
        await eventually(lambda: first.in_flight == 0, what="the first consumer's acks failed")
        await first._stop_depth_sampler()
    assert redelivered == [], "the first consumer saw each event once"
    second = BatchEventConsumer(
        bus,
        queue=queue,
        routing_keys=[ROUTING_KEY],
        batch_handler=lambda batch: apply(batch, crash=False),
        metrics=consumer_metrics,
        prefetch=32,
        max_batch=32,
    )
    await second.start()
    try:
        await eventually(lambda: sorted(redelivered) == list(range(20)), what="the batch redelivered")

        async def drained() -> bool:
            return bool(await probe.depth(queue) == 0)

        await eventually(drained, what="acked by the second consumer")
    finally:
        await second.stop(grace_seconds=5)
    assert sorted(applied) == list(range(20)), "each event applied exactly once"
    processed = processed_events_table(sa.MetaData())
    async with engine.connect() as connection:
        claimed = await connection.scalar(
            sa.select(sa.func.count()).select_from(processed).where(processed.c.consumer == "tests-crash")
        )
    assert claimed == 20
