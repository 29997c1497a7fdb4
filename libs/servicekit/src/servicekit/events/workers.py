"""`EventWorkers`: a service's background work on the bus, started and stopped by its lifespan.

Every service that publishes or consumes needs the same thing: connect to the broker without holding up
startup (with an outbox the API works while the broker is away, and a consumer should start as soon as the
broker answers), then run its outbox relays and consumers, and at shutdown stop them in the order that loses
nothing. Written once here instead of once per service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from servicekit.events.backoff import Backoff
from servicekit.events.bus import EventBus
from servicekit.events.consumer import EventConsumer, EventHandler
from servicekit.events.relay_loop import PollingRelay
from servicekit.metrics import ConsumerMetrics, OutboxMetrics

__all__ = ["EventWorkers"]

logger = logging.getLogger(__name__)

RelayFactory = Callable[[OutboxMetrics], PollingRelay]


class EventWorkers:
    """Connects `bus` in the background with capped, jittered backoff, then starts relays and consumers.

    Build it in `bootstrap()` and pass `workers.lifespan_hook` to `create_service_app`. Startup never
    waits for the broker; readiness says whether it is there (add `amqp_check(bus)` when the service is
    useless without it).

    Shutdown, in this order: stop connecting (an attempt in flight may finish, because a robust connection
    cancelled half-way keeps reconnecting out of reach of `bus.close()`); run the `before_stop` callbacks;
    stop the consumers (in-flight handlers get `grace_seconds`, the rest are redelivered); stop the relays
    (the batch in progress may finish, unpublished events stay in the outbox); close the bus.
    """

    def __init__(
        self,
        bus: EventBus,
        *,
        service_name: str,
        grace_seconds: float = 10.0,
        connect_backoff: Backoff | None = None,
    ) -> None:
        self.bus = bus
        self.service_name = service_name
        self._grace = grace_seconds
        self._backoff = connect_backoff or Backoff(base_seconds=0.5, cap_seconds=10.0)
        self._relay_factories: list[RelayFactory] = []
        self._consumer_specs: list[dict[str, Any]] = []
        self._before_stop: list[Callable[[], None]] = []
        self.relays: list[PollingRelay] = []
        self.consumers: list[EventConsumer] = []

    def add_sql_outbox(self, engine: Any, **relay_options: Any) -> EventWorkers:
        """Relay the `outbox` table of `engine` (`servicekit.events.sql.SqlOutboxRelay` options)."""
        from servicekit.events.sql import SqlOutboxRelay  # lazily: Mongo-only services skip SQLAlchemy

        def build(metrics: OutboxMetrics) -> PollingRelay:
            return SqlOutboxRelay(
                engine, self.bus, service_name=self.service_name, metrics=metrics, **relay_options
            )

        self._relay_factories.append(build)
        return self

    def add_mongo_outbox(self, collections: Sequence[Any], **relay_options: Any) -> EventWorkers:
        """Relay the `_outbox` arrays of `collections` (`MongoOutboxRelay` options)."""
        from servicekit.events.mongo import MongoOutboxRelay

        def build(metrics: OutboxMetrics) -> PollingRelay:
            return MongoOutboxRelay(
                collections, self.bus, service_name=self.service_name, metrics=metrics, **relay_options
            )

        self._relay_factories.append(build)
        return self

    def add_consumer(
        self,
        *,
        queue: str,
        routing_keys: Sequence[str],
        handler: EventHandler,
        before_stop: Callable[[], None] | None = None,
        **consumer_options: Any,
    ) -> EventWorkers:
        """Consume `queue` with `handler` (`EventConsumer` options: `delivery_limit`, `prefetch`, ...).

        `before_stop` runs when shutdown begins, before in-flight handlers are awaited: use it to release
        handlers parked on an outage, so their messages go back to the queue at once instead of using up the
        grace period.
        """
        self._consumer_specs.append(
            {"queue": queue, "routing_keys": tuple(routing_keys), "handler": handler, **consumer_options}
        )
        if before_stop is not None:
            self._before_stop.append(before_stop)
        return self

    @asynccontextmanager
    async def lifespan_hook(self, app: FastAPI) -> AsyncIterator[None]:
        """A `servicekit.http.LifespanHook`: start in the background, stop gracefully."""
        self._build(app.state.metrics_registry)
        stopping = asyncio.Event()
        starter = asyncio.create_task(self._connect_then_start(stopping), name=f"{self.service_name}:bus")
        try:
            yield
        finally:
            stopping.set()
            await self._stop(starter)

    def _build(self, registry: CollectorRegistry) -> None:
        outbox_metrics = OutboxMetrics(registry, service=self.service_name)
        consumer_metrics = ConsumerMetrics(registry, service=self.service_name)
        self.relays = [build(outbox_metrics) for build in self._relay_factories]
        self.consumers = [
            EventConsumer(self.bus, metrics=consumer_metrics, **spec) for spec in self._consumer_specs
        ]

    async def _connect_then_start(self, stopping: asyncio.Event) -> None:
        attempt = 0
        while not stopping.is_set():
            try:
                await self.bus.connect()
                if stopping.is_set():
                    return
                for consumer in self.consumers:
                    await consumer.start()  # idempotent: a retry skips the ones already consuming
                for relay in self.relays:
                    await relay.start()
            except Exception as error:
                attempt += 1
                delay = self._backoff.delay(attempt)
                logger.warning("broker not reachable (%r); retrying in %.1fs", error, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=delay)
                continue
            logger.info(
                "event workers started",
                extra={"relays": len(self.relays), "consumers": len(self.consumers)},
            )
            return

    async def _stop(self, starter: asyncio.Task[None]) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(starter), timeout=self.bus.connect_timeout + 1)
        except TimeoutError:
            starter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starter
        for callback in self._before_stop:
            callback()
        results = await asyncio.gather(
            *(consumer.stop(grace_seconds=self._grace) for consumer in self.consumers),
            return_exceptions=True,
        )
        results += await asyncio.gather(
            *(relay.stop(timeout_seconds=min(10.0, self._grace)) for relay in self.relays),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, Exception):
                logger.warning("stopping an event worker failed: %r", result)
        try:
            await self.bus.close()
        except Exception:
            logger.warning("closing the event bus failed", exc_info=True)
