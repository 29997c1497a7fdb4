"""`EventBus.publish_serialized_many`: a batch in one write, in order, confirmed per event like one by one."""

from __future__ import annotations

import uuid
from typing import Any

import aio_pika
import pytest
from prometheus_client import CollectorRegistry
from servicekit.events import EventBus, UnroutableEvent
from servicekit.events import bus as bus_module
from servicekit.events.batch_publish import write_publications
from servicekit.events.bus import SerializedEvent
from servicekit.events.topology import EVENTS_EXCHANGE
from servicekit.metrics import OutboxMetrics

pytestmark = pytest.mark.integration

ROUTED = "tests.batch.happened.v1"


async def _underlay(bus: EventBus) -> Any:
    """The aiormq channel under the bus's publishing channel (its confirm bookkeeping is what is checked)."""
    assert bus._publish_channel is not None
    return await bus._publish_channel.get_underlay_channel()


def _event(n: int, event_type: str = ROUTED) -> SerializedEvent:
    return SerializedEvent(
        body=b'{"n": %d}' % n,
        event_type=event_type,
        event_id=str(uuid.uuid4()),
        producer="tests",
        correlation_id=f"corr-{n}",
        headers={"x-n": str(n)},
    )


async def test_a_batch_goes_out_in_one_write_in_order_with_the_single_publish_properties(
    bus: EventBus, probe: Any
) -> None:
    tap = await probe.tap("tests.batch.tap", ROUTED)
    events = [_event(n) for n in range(50)]
    channel = await _underlay(bus)
    writes: list[Any] = []
    put = channel.write_queue.put

    async def counting_put(frame: Any) -> None:
        writes.append(frame)
        await put(frame)

    channel.write_queue.put = counting_put
    try:
        results = await bus.publish_serialized_many(events)
    finally:
        del channel.write_queue.put

    assert results == [None] * 50, "every event confirmed"
    assert len(writes) == 1, "the whole batch is one frame payload for the connection's writer"
    received = await probe.fetch(tap, 50)
    assert [m.message_id for m in received] == [e.event_id for e in events], "publication order kept"
    first = received[0]
    assert first.body == b'{"n": 0}'
    assert first.type == ROUTED
    assert first.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert first.content_type == "application/json"
    assert first.app_id == "tests"
    assert first.correlation_id == "corr-0"
    assert first.headers["x-n"] == "0"
    assert not channel.confirmations, "no bookkeeping left behind"
    assert not channel.message_id_delivery_tag


async def test_an_unroutable_event_fails_alone_and_the_channel_stays_usable(
    bus: EventBus, probe: Any, metrics_registry: CollectorRegistry, outbox_metrics: OutboxMetrics
) -> None:
    tap = await probe.tap("tests.batch.unroutable.tap", ROUTED)
    bus.add_unroutable_listener(outbox_metrics.record_unroutable)
    events = [_event(0), _event(1, "tests.batch.nobody.listens.v1"), _event(2)]

    results = await bus.publish_serialized_many(events)

    assert results[0] is None
    assert results[2] is None
    assert isinstance(results[1], UnroutableEvent)
    assert [m.message_id for m in await probe.fetch(tap, 2)] == [events[0].event_id, events[2].event_id]
    labels = {"service": "servicekit-tests", "event_type": "tests.batch.nobody.listens.v1"}
    assert metrics_registry.get_sample_value("events_unroutable_total", labels) == 1.0
    assert await bus.publish_serialized_many([_event(3)]) == [None]


async def test_a_failed_write_gives_the_delivery_tags_back(bus: EventBus, probe: Any) -> None:
    tap = await probe.tap("tests.batch.tags.tap", ROUTED)
    channel = await _underlay(bus)
    tag_before = channel.delivery_tag

    async def stuck_put(frame: Any) -> None:
        raise TimeoutError("writer stuck")

    channel.write_queue.put = stuck_put
    try:
        messages = [(bus._message(_event(n)), ROUTED) for n in range(3)]
        with pytest.raises(TimeoutError):
            await write_publications(channel, exchange=EVENTS_EXCHANGE, publications=messages, timeout=5)
    finally:
        del channel.write_queue.put
    assert channel.delivery_tag == tag_before, "the broker saw nothing, so its sequence numbers are reused"
    assert not channel.confirmations
    assert not channel.message_id_delivery_tag
    later = _event(9)
    assert await bus.publish_serialized_many([later]) == [None], "later confirms still line up"
    assert [m.message_id for m in await probe.fetch(tap, 1)] == [later.event_id]


async def test_a_batch_that_cannot_be_written_is_published_one_by_one(
    bus: EventBus, probe: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tap = await probe.tap("tests.batch.fallback.tap", ROUTED)

    async def failing_write(*args: Any, **kwargs: Any) -> Any:
        raise TimeoutError("writer stuck")

    monkeypatch.setattr(bus_module, "write_publications", failing_write)
    events = [_event(n) for n in range(5)]

    assert await bus.publish_serialized_many(events) == [None] * 5
    assert [m.message_id for m in await probe.fetch(tap, 5)] == [e.event_id for e in events]
