"""Lifespan: create indexes, connect the bus and consume in the background; drain, then close, at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from servicekit.events import EventConsumer
from servicekit.metrics import ConsumerMetrics

from users_service.entrypoints.bootstrap import UsersDependencies
from users_service.entrypoints.consumer import PROFILES_SUBSCRIPTION, profile_event_handler

logger = logging.getLogger(__name__)

_RETRY_DELAY_CAP_SECONDS = 10.0


def profile_consumer_hook(deps: UsersDependencies) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start consuming once the store and the broker answer (readiness tells when); never block startup on
    them, so a store or broker outage at boot is a not-ready pod, not a crash loop."""

    @asynccontextmanager
    async def hook(app: FastAPI) -> AsyncIterator[None]:
        settings = deps.settings
        consumer = EventConsumer(
            deps.bus,
            queue=PROFILES_SUBSCRIPTION.queue,
            routing_keys=PROFILES_SUBSCRIPTION.routing_keys,
            handler=profile_event_handler(deps.handlers),
            metrics=ConsumerMetrics(app.state.metrics_registry, service=settings.service_name),
            delivery_limit=PROFILES_SUBSCRIPTION.delivery_limit,
            prefetch=settings.consumer_prefetch,
        )
        app.state.profile_consumer = consumer
        stopping = asyncio.Event()
        starter = asyncio.create_task(
            _prepare_then_consume(deps, consumer, stopping), name="profile-consumer"
        )
        try:
            yield
        finally:
            stopping.set()
            try:
                await asyncio.wait_for(asyncio.shield(starter), timeout=settings.mongodb_timeout_seconds + 1)
            except TimeoutError:
                starter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starter
            await consumer.stop(grace_seconds=max(1.0, settings.shutdown_grace_seconds - 2))
            with contextlib.suppress(Exception):
                await deps.bus.close()
            await deps.mongo.close()

    return hook


async def _prepare_then_consume(
    deps: UsersDependencies, consumer: EventConsumer, stopping: asyncio.Event
) -> None:
    delay = 0.5
    while not stopping.is_set():
        try:
            await deps.profiles.ensure_indexes()
            await deps.bus.connect()
            if not stopping.is_set():
                await consumer.start()
            return
        except Exception as error:
            logger.warning("store or broker not reachable (%r); retrying in %.1fs", error, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=delay)
            delay = min(delay * 2, _RETRY_DELAY_CAP_SECONDS)
