"""Lifespan: connect the bus and consume in the background; at shutdown finish in-flight sends, then close."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from servicekit.events import EventBus, EventConsumer
from servicekit.metrics import ConsumerMetrics

from notification_service.entrypoints.bootstrap import NotificationComponents
from notification_service.entrypoints.consumer import EMAIL_QUEUE, EMAIL_ROUTING_KEYS, email_event_handler
from notification_service.settings import NotificationSettings

logger = logging.getLogger(__name__)

_RECONNECT_DELAY_CAP_SECONDS = 10.0


def email_consumer_hook(
    settings: NotificationSettings, components: NotificationComponents
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start consuming once the broker answers (readiness says when); stop gracefully.

    Shutdown order: messages still waiting for SMTP are handed back at once (another replica or the next
    start sends them), sends already talking to SMTP finish within the grace period and are acked, then the
    channel, the connection and Redis are closed.
    """

    @asynccontextmanager
    async def hook(app: FastAPI) -> AsyncIterator[None]:
        consumer = EventConsumer(
            components.bus,
            queue=EMAIL_QUEUE,
            routing_keys=EMAIL_ROUTING_KEYS,
            handler=email_event_handler(components.delivery),
            metrics=ConsumerMetrics(app.state.metrics_registry, service=settings.service_name),
            delivery_limit=settings.email_delivery_limit,
            prefetch=settings.consumer_prefetch,
            handler_timeout_seconds=settings.handler_timeout_seconds,
        )
        app.state.email_consumer = consumer
        starter = asyncio.create_task(_connect_then_consume(components.bus, consumer), name="email-consumer")
        try:
            yield
        finally:
            starter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starter
            components.delivery.stop_waiting()
            await consumer.stop(grace_seconds=max(1.0, settings.shutdown_grace_seconds - 2))
            await components.availability.close()
            with contextlib.suppress(Exception):
                await components.bus.close()
            await components.redis.aclose()

    return hook


async def _connect_then_consume(bus: EventBus, consumer: EventConsumer) -> None:
    delay = 0.5
    while True:
        try:
            await bus.connect()
            await consumer.start()
            return
        except Exception as error:
            logger.warning("broker not reachable (%r); retrying in %.1fs", error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_DELAY_CAP_SECONDS)
