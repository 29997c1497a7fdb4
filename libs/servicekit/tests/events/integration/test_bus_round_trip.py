"""Publish → broker → EventConsumer → handler on a real RabbitMQ, with the contract's message properties."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aio_pika
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from servicekit.events import EventBus, EventConsumer, EventEnvelope, PublishFailed
from servicekit.health import amqp_check
from servicekit.logging import bind_correlation_id, get_correlation_id
from servicekit.metrics import ConsumerMetrics
from servicekit.tracing import current_trace_id

pytestmark = pytest.mark.integration

QUEUE = "tests.round_trip"


@pytest.fixture(scope="module", autouse=True)
def _sdk_tracer_provider() -> None:
    # Spans need a recording provider to have ids; set once per process (OpenTelemetry allows one).
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())


async def test_published_event_reaches_the_handler_with_contract_properties(
    bus: EventBus, probe: Any, consumer_metrics: ConsumerMetrics, consumed_count: Any, eventually: Any
) -> None:
    received: list[tuple[EventEnvelope, str | None, str | None]] = []

    async def handler(envelope: EventEnvelope) -> None:
        received.append((envelope, get_correlation_id(), current_trace_id()))

    tap = await probe.tap("tests.round_trip.tap", "auth.account.created.v1")
    consumer = EventConsumer(
        bus, queue=QUEUE, routing_keys=["auth.account.created.v1"], handler=handler, metrics=consumer_metrics
    )
    await consumer.start()
    try:
        tracer = trace.get_tracer("tests")
        with tracer.start_as_current_span("request") as span:
            publishing_trace_id = format(span.get_span_context().trace_id, "032x")
            envelope = EventEnvelope.new(
                type="auth.account.created.v1",
                producer="auth",
                payload={"account_id": 42, "email": "a@example.test"},
                correlation_id="corr-round-trip",
            )
            await bus.publish(envelope)
        await eventually(lambda: len(received) == 1, what="handler call")
    finally:
        await consumer.stop(grace_seconds=5)

    handled, correlation_id, trace_id = received[0]
    assert handled == envelope
    assert correlation_id == "corr-round-trip"
    assert trace_id == publishing_trace_id, "the consumer span must continue the publisher's trace"
    assert consumed_count(QUEUE, "auth.account.created.v1", "processed") == 1

    [raw] = await probe.fetch(tap, 1)
    assert raw.message_id == str(envelope.id)
    assert raw.type == "auth.account.created.v1"
    assert raw.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert raw.content_type == "application/json"
    assert raw.app_id == "auth"
    assert raw.correlation_id == "corr-round-trip"
    assert raw.headers["traceparent"].split("-")[1] == publishing_trace_id
    assert EventEnvelope.from_json_bytes(raw.body) == envelope


async def test_correlation_id_of_the_current_request_is_used_when_the_envelope_has_none(
    bus: EventBus, probe: Any
) -> None:
    tap = await probe.tap("tests.correlation.tap", "users.profile.updated.v1")
    with bind_correlation_id("from-request"):
        await bus.publish(EventEnvelope.new(type="users.profile.updated.v1", producer="users", payload={}))
    [raw] = await probe.fetch(tap, 1)
    assert raw.correlation_id == "from-request"
    assert raw.headers["x-correlation-id"] == "from-request"


async def test_declare_work_queue_creates_quorum_queue_dlq_and_bindings(bus: EventBus, probe: Any) -> None:
    await bus.declare_work_queue("tests.declared", ["order.order.placed.v1"], delivery_limit=3)
    await bus.declare_work_queue("tests.declared", ["order.order.placed.v1"], delivery_limit=3)  # idempotent
    await bus.publish(EventEnvelope.new(type="order.order.placed.v1", producer="order", payload={}))
    await bus.publish(EventEnvelope.new(type="order.order.cancelled.v1", producer="order", payload={}))

    assert await bus.queue_depth("tests.declared") == 1
    assert await bus.queue_depth("tests.declared.dlq") == 0
    async with probe.connection.channel() as channel:
        # Re-declaring with different arguments is refused by the broker only if the queue really is quorum.
        with pytest.raises(aio_pika.exceptions.ChannelPreconditionFailed):
            await channel.declare_queue("tests.declared", durable=True, arguments={"x-queue-type": "classic"})


async def test_queue_depth_of_a_missing_queue_raises_without_breaking_the_bus(
    bus: EventBus, probe: Any
) -> None:
    tap = await probe.tap("tests.after_missing.tap", "a.b.c.v1")
    with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):
        await bus.queue_depth(f"tests.missing.{uuid.uuid4().hex}")
    await bus.publish(EventEnvelope.new(type="a.b.c.v1", producer="p", payload={}))
    assert len(await probe.fetch(tap, 1)) == 1


async def test_publish_on_a_closed_bus_raises_publish_failed(amqp_url: str) -> None:
    closed = EventBus(amqp_url, service_name="tests", publish_timeout=1)
    await closed.connect()
    await closed.close()
    with pytest.raises(PublishFailed):
        await closed.publish(EventEnvelope.new(type="a.b.c.v1", producer="p", payload={}))


async def test_many_concurrent_publishes_are_all_confirmed_and_delivered(bus: EventBus, probe: Any) -> None:
    tap = await probe.tap("tests.concurrent.tap", "bulk.#")
    envelopes = [
        EventEnvelope.new(type="bulk.item.added.v1", producer="p", payload={"n": n}) for n in range(300)
    ]
    await asyncio.gather(*(bus.publish(e) for e in envelopes))
    messages = await probe.fetch(tap, 300)
    assert {m.message_id for m in messages} == {str(e.id) for e in envelopes}


async def test_readiness_check_sees_the_bus_connected_and_answering(bus: EventBus) -> None:
    assert bus.is_connected
    await bus.ping()
    await amqp_check(bus).check()
    await bus.close()
    assert not bus.is_connected
