"""Fixtures for the event-bus integration tests: a connected bus, metrics, and a probe that reads the broker.

Everything runs against the real RabbitMQ, PostgreSQL, MariaDB and FerretDB servers of the
`gigstack_testinfra` plugin; the probe uses its own AMQP connection, independent of the code under test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aio_pika
import pytest
import sqlalchemy as sa
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events import EventBus
from servicekit.events.bus import declare_exchanges
from servicekit.events.sql import outbox_table, processed_events_table
from servicekit.metrics import ConsumerMetrics, OutboxMetrics, create_registry
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SERVICE = "servicekit-tests"
AMQP_TIMEOUT = 10.0
# After a broker restart the probe's robust connection comes back on its own; a read before that is a
# "Connection was not opened" error, not a finding (seen in CI right after the restart).
RECONNECT_WITHIN_SECONDS = 60.0


class BrokerProbe:
    """Test-side view of the broker: tap queues, fetch messages, publish raw bodies."""

    def __init__(self, connection: AbstractRobustConnection) -> None:
        self.connection = connection

    async def _reconnected(self) -> AbstractRobustConnection:
        await asyncio.wait_for(self.connection.connected.wait(), timeout=RECONNECT_WITHIN_SECONDS)
        return self.connection

    async def tap(self, name: str, routing_key: str = "#") -> str:
        """A durable quorum queue bound to `gigstack.events`; it survives a broker crash like a real queue."""
        async with (await self._reconnected()).channel() as channel:
            events = await declare_exchanges(channel, timeout=AMQP_TIMEOUT)
            queue = await channel.declare_queue(
                name, durable=True, arguments={"x-queue-type": "quorum"}, timeout=AMQP_TIMEOUT
            )
            await queue.bind(events, routing_key=routing_key, timeout=AMQP_TIMEOUT)
        return name

    async def fetch(
        self, queue_name: str, count: int, *, within: float = 20.0
    ) -> list[AbstractIncomingMessage]:
        """Take (and ack) exactly `count` messages from `queue_name`; fail if they do not arrive in time."""
        received: list[AbstractIncomingMessage] = []
        deadline = time.monotonic() + within
        async with (await self._reconnected()).channel() as channel:
            queue = await channel.get_queue(queue_name, ensure=True)
            while len(received) < count:
                message = await queue.get(no_ack=True, fail=False, timeout=AMQP_TIMEOUT)
                if message is not None:
                    received.append(message)
                    continue
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"{queue_name}: got {len(received)} of {count} messages in {within}s"
                    )
                await asyncio.sleep(0.05)
        return received

    async def fetch_until_ids(
        self, queue_name: str, expected_ids: set[str], *, within: float = 60.0
    ) -> list[AbstractIncomingMessage]:
        """Take messages until every id in `expected_ids` was seen (duplicates are kept in the result)."""
        received: list[AbstractIncomingMessage] = []
        deadline = time.monotonic() + within
        async with (await self._reconnected()).channel() as channel:
            queue = await channel.get_queue(queue_name, ensure=True)
            while not expected_ids <= {m.message_id for m in received}:
                message = await queue.get(no_ack=True, fail=False, timeout=AMQP_TIMEOUT)
                if message is not None:
                    received.append(message)
                    continue
                if time.monotonic() > deadline:
                    missing = len(expected_ids - {m.message_id for m in received})
                    raise AssertionError(f"{queue_name}: {missing} of {len(expected_ids)} ids missing")
                await asyncio.sleep(0.05)
        return received

    async def depth(self, queue_name: str) -> int:
        async with (await self._reconnected()).channel() as channel:
            queue = await channel.declare_queue(queue_name, passive=True, timeout=AMQP_TIMEOUT)
            return int(queue.declaration_result.message_count or 0)

    async def publish_raw(
        self, body: bytes, routing_key: str, *, message_id: str = "raw", message_type: str | None = None
    ) -> None:
        async with (await self._reconnected()).channel() as channel:
            events = await declare_exchanges(channel, timeout=AMQP_TIMEOUT)
            await events.publish(
                aio_pika.Message(
                    body,
                    message_id=message_id,
                    type=message_type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=routing_key,
                timeout=AMQP_TIMEOUT,
            )


async def _eventually(
    predicate: Callable[[], Awaitable[bool]] | Callable[[], bool], *, within: float = 20.0, what: str = ""
) -> None:
    """Poll `predicate` until it is true; fail with `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = predicate()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what or predicate}")
        await asyncio.sleep(0.05)


Eventually = Callable[..., Awaitable[None]]


@pytest.fixture
def eventually() -> Eventually:
    """`await eventually(predicate, within=..., what=...)`: poll a sync or async predicate until true."""
    return _eventually


# A service table next to the outbox, to stage events in the same transaction as a state change.
ORDERS = sa.table("orders", sa.column("id", sa.Integer), sa.column("note", sa.String))


@pytest.fixture(params=["postgres_url", "mariadb_url"])
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    """The SQL outbox tests' store: a fresh PostgreSQL or MariaDB database holding the outbox, the
    processed-events ledger and `ORDERS`. For one store only:
    `@pytest.mark.parametrize("engine", ["postgres_url"], indirect=True)`."""
    db_engine = create_async_engine(request.getfixturevalue(request.param), pool_size=5, pool_timeout=10)
    metadata = sa.MetaData()
    outbox_table(metadata)
    processed_events_table(metadata)
    sa.Table(
        "orders", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.String(50))
    )
    async with db_engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield db_engine
    finally:
        await db_engine.dispose()


@pytest.fixture
async def bus(amqp_url: str) -> AsyncIterator[EventBus]:
    event_bus = EventBus(amqp_url, service_name=SERVICE, prefetch=16, connect_timeout=AMQP_TIMEOUT)
    await event_bus.connect()
    try:
        yield event_bus
    finally:
        await event_bus.close()


@pytest.fixture
async def probe(amqp_url: str) -> AsyncIterator[BrokerProbe]:
    connection = await aio_pika.connect_robust(amqp_url, timeout=AMQP_TIMEOUT, reconnect_interval=0.5)
    try:
        yield BrokerProbe(connection)
    finally:
        await connection.close()


@pytest.fixture
def metrics_registry() -> CollectorRegistry:
    registry: CollectorRegistry = create_registry(process_metrics=False)
    return registry


@pytest.fixture
def consumer_metrics(metrics_registry: CollectorRegistry) -> ConsumerMetrics:
    return ConsumerMetrics(metrics_registry, service=SERVICE)


@pytest.fixture
def outbox_metrics(metrics_registry: CollectorRegistry) -> OutboxMetrics:
    return OutboxMetrics(metrics_registry, service=SERVICE)


@pytest.fixture
def consumed_count(metrics_registry: CollectorRegistry) -> Callable[[str, str, str], float]:
    """`events_consumed_total` for (queue, event_type, outcome), 0 when the series does not exist yet."""

    def read(queue: str, event_type: str, outcome: str) -> float:
        labels = {"service": SERVICE, "queue": queue, "event_type": event_type, "outcome": outcome}
        return metrics_registry.get_sample_value("events_consumed_total", labels) or 0.0

    return read


@pytest.fixture
async def database(mongodb_url: str) -> AsyncIterator[AsyncDatabase[Any]]:
    """The Mongo outbox tests' store: this test's own database on the session's MongoDB-API server."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(
        mongodb_url, serverSelectionTimeoutMS=10_000, timeoutMS=10_000
    )
    try:
        yield client.get_default_database()
    finally:
        await client.close()
