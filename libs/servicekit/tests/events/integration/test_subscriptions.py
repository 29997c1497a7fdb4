"""Publishers declare every subscription, so no event with a consumer is lost; unroutables are reported."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events import (
    EventBus,
    EventConsumer,
    EventEnvelope,
    PublishFailed,
    Subscription,
    UnroutableEvent,
)
from servicekit.events.mongo import OUTBOX_FIELD, MongoOutboxRelay, with_staged_events
from servicekit.metrics import ConsumerMetrics, OutboxMetrics

pytestmark = pytest.mark.integration

LATE = Subscription("tests.late_consumer", ("tests.thing.happened.v1",), delivery_limit=3)
AMQP_TIMEOUT = 10.0


def _event(event_type: str = "tests.thing.happened.v1") -> EventEnvelope:
    return EventEnvelope.new(type=event_type, producer="tests", payload={"n": 1})


@pytest.fixture
async def publisher(amqp_url: str) -> AsyncIterator[EventBus]:
    bus = EventBus(amqp_url, service_name="producer", subscriptions=[LATE], connect_timeout=AMQP_TIMEOUT)
    await bus.connect()
    try:
        yield bus
    finally:
        await bus.close()


async def test_an_event_published_before_its_consumer_ever_started_reaches_it(
    publisher: EventBus, amqp_url: str, consumer_metrics: ConsumerMetrics, eventually: Any
) -> None:
    early = _event()
    await publisher.publish(early)  # no consumer has ever declared anything in this vhost

    received: list[EventEnvelope] = []

    async def handler(envelope: EventEnvelope) -> None:
        received.append(envelope)

    consumer_bus = EventBus(amqp_url, service_name="consumer", subscriptions=[], prefetch=4)
    await consumer_bus.connect()
    consumer = EventConsumer(
        consumer_bus,
        queue=LATE.queue,
        routing_keys=LATE.routing_keys,
        delivery_limit=LATE.delivery_limit,
        handler=handler,
        metrics=consumer_metrics,
    )
    await consumer.start()
    try:
        await eventually(lambda: len(received) == 1, what="the early event")
    finally:
        await consumer.stop(grace_seconds=5)
        await consumer_bus.close()
    assert received == [early]


async def test_the_system_declaration_binds_account_events_to_the_users_queue(
    amqp_url: str, probe: Any
) -> None:
    bus = EventBus(amqp_url, service_name="auth", connect_timeout=AMQP_TIMEOUT)  # default: SUBSCRIPTIONS
    await bus.connect()
    try:
        await bus.publish(_event("auth.account.created.v1"))
        await bus.publish(_event("auth.email.verification_requested.v1"))
    finally:
        await bus.close()
    assert await probe.depth("users.profiles") == 1
    assert await probe.depth("notification.email") == 1


async def test_an_existing_queue_with_other_arguments_is_kept_and_bound(
    amqp_url: str, probe: Any, eventually: Any
) -> None:
    # A consumer configured with another delivery limit declared the queue first.
    consumer_bus = EventBus(amqp_url, service_name="consumer", subscriptions=[])
    await consumer_bus.connect()
    await consumer_bus.declare_work_queue(LATE.queue, ["tests.other.thing.v1"], delivery_limit=9)
    await consumer_bus.close()

    bus = EventBus(amqp_url, service_name="producer", subscriptions=[LATE], connect_timeout=AMQP_TIMEOUT)
    await bus.connect()
    try:
        await bus.publish(_event())
    finally:
        await bus.close()
    assert await probe.depth(LATE.queue) == 1


async def test_an_unroutable_publication_raises_and_is_counted(
    publisher: EventBus, metrics_registry: CollectorRegistry, outbox_metrics: OutboxMetrics
) -> None:
    publisher.add_unroutable_listener(outbox_metrics.record_unroutable)
    with pytest.raises(UnroutableEvent, match=r"tests\.nobody\.listens\.v1"):
        await publisher.publish(_event("tests.nobody.listens.v1"))
    await publisher.publish(_event())  # the channel is still usable afterwards
    labels = {"service": "servicekit-tests", "event_type": "tests.nobody.listens.v1"}
    assert metrics_registry.get_sample_value("events_unroutable_total", labels) == 1.0


async def test_the_outbox_keeps_an_unroutable_event_unpublished_and_reports_it(
    publisher: EventBus,
    database: AsyncDatabase[Any],
    metrics_registry: CollectorRegistry,
    outbox_metrics: OutboxMetrics,
) -> None:
    things = database["things"]
    orphan, routed = _event("tests.nobody.listens.v1"), _event()
    await things.insert_one(with_staged_events({"_id": "t1"}, orphan, routed))
    relay = MongoOutboxRelay([things], publisher, service_name="servicekit-tests", metrics=outbox_metrics)

    with pytest.raises(PublishFailed):
        await relay.relay_batch()

    document = await things.find_one({"_id": "t1"})
    assert document is not None
    assert [entry["id"] for entry in document[OUTBOX_FIELD]] == [str(orphan.id)], "marked as if delivered"
    labels = {"service": "servicekit-tests", "event_type": "tests.nobody.listens.v1"}
    assert metrics_registry.get_sample_value("events_unroutable_total", labels) == 1.0
