"""BatchEventConsumer and claim_events on a real RabbitMQ, PostgreSQL and MariaDB."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from servicekit.events import EventBus, EventEnvelope, PermanentEventError
from servicekit.events.batch_consumer import BatchEventConsumer
from servicekit.events.sql import claim_events, processed_events_table
from servicekit.metrics import ConsumerMetrics
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

pytestmark = pytest.mark.integration

ROUTING_KEY = "order.order.placed.v1"


@pytest.fixture(params=["postgres_url", "mariadb_url"])
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    url: str = request.getfixturevalue(request.param)
    db_engine = create_async_engine(url, pool_size=5, pool_timeout=10)
    metadata = sa.MetaData()
    processed_events_table(metadata)
    async with db_engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield db_engine
    finally:
        await db_engine.dispose()


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
