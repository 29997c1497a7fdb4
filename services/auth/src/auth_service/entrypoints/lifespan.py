"""Lifespan hooks: dispose the database engine; connect the event bus and run the outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from servicekit.events import EventBus
from servicekit.events.sql import SqlOutboxRelay
from servicekit.metrics import OutboxMetrics
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

_RECONNECT_DELAY_CAP_SECONDS = 10.0


def database_hook(engine: AsyncEngine) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def hook(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.dispose()

    return hook


def outbox_relay_hook(
    engine: AsyncEngine,
    bus: EventBus,
    *,
    service_name: str,
    connect_timeout_seconds: float,
    stop_timeout_seconds: float,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Connect the bus and start the relay in the background.

    The API does not wait for the broker: signups keep working while it is away (events wait in the
    outbox), so a broker outage at startup must not keep the service down.
    """

    @asynccontextmanager
    async def hook(app: FastAPI) -> AsyncIterator[None]:
        metrics = OutboxMetrics(app.state.metrics_registry, service=service_name)
        relay = SqlOutboxRelay(engine, bus, service_name=service_name, metrics=metrics)
        stopping = asyncio.Event()
        starter = asyncio.create_task(_connect_then_relay(bus, relay, stopping), name="outbox-relay-starter")
        app.state.outbox_relay = relay
        try:
            yield
        finally:
            stopping.set()
            # Let a connection attempt in flight finish rather than cancel it: a robust connection cancelled
            # half-way is left reconnecting in the background, out of reach of bus.close().
            try:
                await asyncio.wait_for(asyncio.shield(starter), timeout=connect_timeout_seconds + 1)
            except TimeoutError:
                starter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starter
            await relay.stop(timeout_seconds=stop_timeout_seconds)
            try:
                await bus.close()
            except Exception:
                logger.warning("closing the event bus failed", exc_info=True)

    return hook


async def _connect_then_relay(bus: EventBus, relay: SqlOutboxRelay, stopping: asyncio.Event) -> None:
    delay = 0.5
    while not stopping.is_set():
        try:
            await bus.connect()
        except Exception as error:
            logger.warning("broker not reachable (%r); retrying in %.1fs", error, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=delay)
            delay = min(delay * 2, _RECONNECT_DELAY_CAP_SECONDS)
            continue
        if not stopping.is_set():
            await relay.start()
        return
