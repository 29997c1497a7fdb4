"""Reset tokens and OTPs do not stay readable in the outbox once the broker has confirmed their event."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING

import pytest
from servicekit.events import EventBus
from sqlalchemy import text

pytestmark = pytest.mark.integration

if TYPE_CHECKING:
    from services.auth.tests.integration.conftest import AuthApi

QUEUE = "test.auth_secret_events"


async def test_confirmed_email_events_keep_no_secret_in_the_outbox(
    scrubbing_auth_api: AuthApi, amqp_url: str
) -> None:
    api = scrubbing_auth_api
    bus = EventBus(amqp_url, service_name="auth-secrets-test")
    await bus.connect()
    try:
        await bus.declare_work_queue(QUEUE, ["auth.email.#"])
        assert (await api.sign_up()).status_code == 202
        forgot = await api.client.post("/api/v1/auth/forgot-password", json={"email": "alice@example.com"})
        assert forgot.status_code == 202
        deadline = time.monotonic() + 20
        while await api.scalar("SELECT COUNT(*) FROM outbox_events WHERE published_at IS NULL"):
            assert time.monotonic() < deadline, "the relay did not publish"
            await asyncio.sleep(0.1)
        async with api.engine.connect() as connection:
            rows = (await connection.execute(text("SELECT body FROM outbox_events"))).all()
        channel = await bus.open_channel(prefetch=10)
        queue = await channel.get_queue(QUEUE)
        delivered = [await queue.get(no_ack=True, timeout=5) for _ in range(2)]
        await channel.close()
    finally:
        await bus.close()

    bodies = [json.loads(row.body) for row in rows]
    stored = {body["type"]: body["payload"]["token"] for body in bodies if "token" in body["payload"]}
    assert set(stored) == {"auth.email.verification_requested.v1", "auth.email.password_reset_requested.v1"}
    assert set(stored.values()) == {"[redacted]"}
    # The consumer still got the real token, and not the list of secret fields.
    for message in delivered:
        assert message is not None
        assert len(json.loads(message.body)["payload"]["token"]) >= 43
        assert "x-gigstack-secret-fields" not in (message.headers or {})
