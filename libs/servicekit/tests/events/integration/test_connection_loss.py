"""A broker-side connection drop must not cancel a handler half-way through its side effect.

aiormq cancels its delivery callbacks when a channel closes. If the handler ran inside that callback, a
broker restart would interrupt it between doing something irreversible (an SMTP server accepted an email)
and recording it, and the redelivered message would repeat the side effect. EventConsumer runs handlers in
tasks of its own, so they finish; the unacked message comes back and the idempotent handler recognises it.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest
from gigstack_testinfra.backends import BrokerControl
from servicekit.events import EventBus, EventConsumer, EventEnvelope
from servicekit.metrics import ConsumerMetrics

pytestmark = pytest.mark.integration

ROUTING_KEY = "auth.email.otp_requested.v1"


async def _drop_connections(rabbitmq_server: BrokerControl, amqp_url: str) -> int:
    """Close every client connection of the test's vhost from the broker side (as a broker restart does)."""
    endpoint = rabbitmq_server.endpoint
    vhost = unquote(urlsplit(amqp_url).path.lstrip("/"))
    auth = (endpoint.user, endpoint.password)
    async with httpx.AsyncClient(base_url=endpoint.management_url, auth=auth, timeout=10) as client:
        # The management API lists a connection a moment after it opens.
        for _ in range(50):
            listed = await client.get(f"/api/vhosts/{quote(vhost, safe='')}/connections")
            listed.raise_for_status()
            names = [connection["name"] for connection in listed.json()]
            if names:
                break
            await asyncio.sleep(0.1)
        for name in names:
            response = await client.delete(
                f"/api/connections/{quote(name, safe='')}", headers={"X-Reason": "test: broker-side drop"}
            )
            assert response.status_code in (204, 404), response.text
    return len(names)


async def test_handler_in_progress_survives_the_connection_being_dropped(
    bus: EventBus, consumer_metrics: ConsumerMetrics, rabbitmq_server: BrokerControl, amqp_url: str
) -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    claims: set[str] = set()
    recorded: list[str] = []
    cancelled: list[str] = []
    deliveries: list[str] = []
    recorded_event = asyncio.Event()
    redelivered = asyncio.Event()

    async def handler(envelope: EventEnvelope) -> None:
        """Claim, do the irreversible thing, record it: the shape of notification's ledger."""
        event_id = str(envelope.id)
        deliveries.append(event_id)
        if event_id in claims:
            # Another delivery holds the claim (a lease): wait for its outcome instead of redoing the work.
            redelivered.set()
            await recorded_event.wait()
            return
        claims.add(event_id)
        started.set()
        try:
            await release.wait()  # the side effect is in progress here
        except asyncio.CancelledError:
            cancelled.append(event_id)
            raise
        recorded.append(event_id)
        recorded_event.set()

    consumer = EventConsumer(
        bus,
        queue="tests.connection-loss",
        routing_keys=[ROUTING_KEY],
        handler=handler,
        metrics=consumer_metrics,
    )
    await consumer.start()
    try:
        envelope = EventEnvelope.new(type=ROUTING_KEY, producer="auth", payload={})
        await bus.publish(envelope)
        await asyncio.wait_for(started.wait(), timeout=10)

        assert await _drop_connections(rabbitmq_server, amqp_url) >= 1
        await asyncio.sleep(1.0)  # the client notices the close and tears its channel down
        assert cancelled == [], "the connection drop cancelled a handler in the middle of its side effect"
        release.set()

        # The unacked message comes back after the reconnect and is recognised, not redone.
        await asyncio.wait_for(redelivered.wait(), timeout=30)
        await asyncio.wait_for(recorded_event.wait(), timeout=30)
        assert recorded == [str(envelope.id)]
    finally:
        release.set()
        await consumer.stop(grace_seconds=5)
