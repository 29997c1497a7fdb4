"""Events staged with a sign-up reach RabbitMQ through the running app's outbox relay (real broker)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest
from aio_pika.abc import AbstractIncomingMessage
from servicekit.events import EventBus, EventEnvelope

pytestmark = pytest.mark.integration

if TYPE_CHECKING:
    from services.auth.tests.integration.conftest import AuthApi

QUEUE = "test.auth_events"


async def _receive(bus: EventBus, count: int, within_seconds: float = 20.0) -> list[AbstractIncomingMessage]:
    channel = await bus.open_channel(prefetch=count)
    try:
        queue = await channel.get_queue(QUEUE)
        received: list[AbstractIncomingMessage] = []
        deadline = time.monotonic() + within_seconds
        while len(received) < count and time.monotonic() < deadline:
            message = await queue.get(no_ack=True, fail=False, timeout=5)
            if message is None:
                await asyncio.sleep(0.1)
            else:
                received.append(message)
        return received
    finally:
        await channel.close()


async def test_signup_events_are_published_with_their_envelope(auth_api: AuthApi, amqp_url: str) -> None:
    bus = EventBus(amqp_url, service_name="auth-test")
    await bus.connect()
    try:
        await bus.declare_work_queue(QUEUE, ["auth.#"])

        assert (await auth_api.sign_up()).status_code == 202
        messages = await _receive(bus, count=2)
    finally:
        await bus.close()

    staged = await auth_api.outbox()
    assert (
        [m.routing_key for m in messages]
        == [e.type for e in staged]
        == [
            "auth.account.created.v1",
            "auth.email.verification_requested.v1",
        ]
    )
    for message, envelope in zip(messages, staged, strict=True):
        published = EventEnvelope.from_json_bytes(message.body)
        assert published == envelope
        assert message.message_id == str(envelope.id)
        assert message.type == envelope.type
        assert message.delivery_mode is not None
        assert message.delivery_mode.value == 2
    unpublished = await auth_api.scalar("SELECT COUNT(*) FROM outbox_events WHERE published_at IS NULL")
    assert unpublished == 0
