"""Run the notification service in-process for integration tests, publish to it and read its DLQ."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aio_pika
import httpx
from fastapi import FastAPI
from notification_service.entrypoints.app import create_app
from notification_service.entrypoints.consumer import EMAIL_QUEUE
from notification_service.settings import NotificationSettings
from servicekit.events import EventBus, EventEnvelope

PUBLIC_URL = "https://app.gigstack.test"
MAIL_DOMAIN = "gigstack.test"


@dataclass
class RunningNotification:
    app: FastAPI
    settings: NotificationSettings
    publisher: EventBus
    amqp_url: str

    async def publish(self, event_type: str, payload: Mapping[str, Any]) -> EventEnvelope:
        envelope = EventEnvelope.new(type=event_type, producer="auth", payload=payload)
        await self.publisher.publish(envelope)
        return envelope

    async def republish(self, envelope: EventEnvelope) -> None:
        await self.publisher.publish(envelope)

    async def publish_raw(self, body: bytes, routing_key: str) -> None:
        await self.publisher.publish_serialized(
            body=body, event_type=routing_key, event_id="raw-test-message"
        )

    def consumed(self, outcome: str) -> float:
        """``events_consumed_total`` summed over event types for one outcome."""
        registry = self.app.state.metrics_registry
        total = 0.0
        for metric in registry.collect():
            for sample in metric.samples:
                if sample.name == "events_consumed_total" and sample.labels.get("outcome") == outcome:
                    total += sample.value
        return total

    async def wait_for_outcome(self, outcome: str, count: float, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while self.consumed(outcome) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} {outcome!r} events, saw {self.consumed(outcome)}")
            await asyncio.sleep(0.1)

    async def dead_letters(
        self,
        expected: int,
        timeout: float = 15.0,  # noqa: ASYNC109 - a polling deadline
    ) -> list[aio_pika.abc.AbstractIncomingMessage]:
        """Take (and ack) ``expected`` messages from ``notification.email.dlq``."""
        found: list[aio_pika.abc.AbstractIncomingMessage] = []
        connection = await aio_pika.connect(self.amqp_url, timeout=10)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(f"{EMAIL_QUEUE}.dlq", passive=True)
            deadline = time.monotonic() + timeout
            while len(found) < expected and time.monotonic() < deadline:
                message = await queue.get(no_ack=False, fail=False, timeout=5)
                if message is None:
                    await asyncio.sleep(0.2)
                    continue
                await message.ack()
                found.append(message)
        return found


async def readiness(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notification") as client:
        return await client.get("/health/ready")


async def _wait_until_ready(app: FastAPI, timeout: float) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    last = "no answer"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notification") as client:
        while time.monotonic() < deadline:
            response = await client.get("/health/ready")
            if response.status_code == 200:
                return
            last = response.text
            await asyncio.sleep(0.2)
    raise TimeoutError(f"notification not ready: {last}")


async def _wait_for_queue(bus: EventBus, timeout: float) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while True:
        try:
            await bus.queue_depth(EMAIL_QUEUE)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


@asynccontextmanager
async def start_notification(
    *,
    amqp_url: str,
    redis_url: str,
    smtp_host: str,
    smtp_port: int,
    public_key_pem: str,
    wait_ready: bool = True,
    **overrides: Any,
) -> AsyncIterator[RunningNotification]:
    options: dict[str, Any] = {
        "environment": "test",
        "amqp_url": amqp_url,
        "redis_url": redis_url,
        "smtp_host": smtp_host,
        "smtp_port": smtp_port,
        "smtp_timeout_seconds": 2.0,
        "delivery_claim_seconds": 10,
        "mail_from": f"Gigstack <no-reply@{MAIL_DOMAIN}>",
        "public_url": PUBLIC_URL,
        "internal_token_public_key": public_key_pem,
        "shutdown_grace_seconds": 5,
    }
    options.update(overrides)
    settings = NotificationSettings(**options)
    app = create_app(settings)
    publisher = EventBus(amqp_url, service_name="auth")
    async with app.router.lifespan_context(app):
        if wait_ready:
            await _wait_until_ready(app, timeout=30)
        await publisher.connect()
        try:
            await _wait_for_queue(publisher, timeout=15)
            yield RunningNotification(app=app, settings=settings, publisher=publisher, amqp_url=amqp_url)
        finally:
            await publisher.close()
