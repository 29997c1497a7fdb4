"""SQL outbox and processed-events ledger on real PostgreSQL (asyncpg) and MariaDB (asyncmy)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from servicekit.events import EventBus, EventEnvelope
from servicekit.events.sql import (
    SqlOutboxRelay,
    claim_event,
    outbox_table,
    stage_event,
)
from servicekit.logging import bind_correlation_id
from servicekit.metrics import OutboxMetrics
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from .conftest import ORDERS

pytestmark = pytest.mark.integration

EVENT_TYPE = "order.order.placed.v1"


def _outbox() -> sa.Table:
    table: sa.Table = outbox_table(sa.MetaData())
    return table


async def _stage_orders(engine: AsyncEngine, ids: range, *, commit: bool = True) -> list[EventEnvelope]:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    envelopes = []
    async with sessions() as session, session.begin():
        for order_id in ids:
            envelope = EventEnvelope.new(type=EVENT_TYPE, producer="order", payload={"order_id": order_id})
            await session.execute(sa.insert(ORDERS).values(id=order_id, note="placed"))
            await stage_event(session, envelope)
            envelopes.append(envelope)
        if not commit:
            await session.rollback()
    return envelopes


def _relay(engine: AsyncEngine, bus: EventBus, metrics: OutboxMetrics, **options: Any) -> SqlOutboxRelay:
    options.setdefault("poll_interval", 0.05)
    return SqlOutboxRelay(engine, bus, service_name="order", metrics=metrics, **options)


async def test_relay_publishes_each_committed_event_once_and_marks_it(
    engine: AsyncEngine,
    bus: EventBus,
    probe: Any,
    outbox_metrics: OutboxMetrics,
    metrics_registry: CollectorRegistry,
) -> None:
    tap = await probe.tap("tests.outbox.tap", EVENT_TYPE)
    with bind_correlation_id("corr-outbox"):
        committed = await _stage_orders(engine, range(1, 51))
    rolled_back = await _stage_orders(engine, range(100, 105), commit=False)

    relay = _relay(engine, bus, outbox_metrics, batch_size=20)
    await relay.start()
    try:
        messages = await probe.fetch(tap, 50)
        await asyncio.sleep(0.5)  # room for any duplicate publication to show up
        assert await probe.depth(tap) == 0
    finally:
        await relay.stop()

    published_ids = [m.message_id for m in messages]
    assert Counter(published_ids) == Counter(str(e.id) for e in committed)
    assert not {str(e.id) for e in rolled_back} & set(published_ids)
    assert all(m.correlation_id == "corr-outbox" for m in messages)
    assert [EventEnvelope.from_json_bytes(m.body) for m in messages[:1]] == committed[:1]
    assert [m.message_id for m in messages] == [str(e.id) for e in committed], "published in staging order"
    outbox = _outbox()
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.select(outbox.c.published_at, outbox.c.attempts))).all()
    assert len(rows) == 50
    assert all(row.published_at is not None and row.attempts == 0 for row in rows)
    assert await relay.pending_count() == 0
    assert metrics_registry.get_sample_value("outbox_published_total", {"service": "servicekit-tests"}) == 50


async def test_two_relays_share_the_outbox_without_publishing_a_row_twice(
    engine: AsyncEngine, bus: EventBus, probe: Any, outbox_metrics: OutboxMetrics
) -> None:
    tap = await probe.tap("tests.outbox.competing.tap", EVENT_TYPE)
    envelopes = await _stage_orders(engine, range(1, 201))
    relays = [_relay(engine, bus, outbox_metrics, batch_size=10) for _ in range(2)]
    for relay in relays:
        await relay.start()
    try:
        messages = await probe.fetch(tap, 200)
        await asyncio.sleep(0.5)
        assert await probe.depth(tap) == 0
    finally:
        for relay in relays:
            await relay.stop()
    assert Counter(m.message_id for m in messages) == Counter(str(e.id) for e in envelopes)


async def test_claim_event_is_true_once_per_consumer_and_released_by_rollback(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine)
    event_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        assert await claim_event(session, "notification", event_id) is True
    async with sessions() as session, session.begin():
        assert await claim_event(session, "notification", event_id) is False
        # The duplicate did not poison the transaction: the handler can still write and commit.
        await session.execute(sa.insert(ORDERS).values(id=1, note="after duplicate"))
        assert await claim_event(session, "review", event_id) is True

    async def failing_handler() -> None:
        async with sessions() as session, session.begin():
            assert await claim_event(session, "search", event_id) is True
            raise RuntimeError("handler failed after claiming")  # its claim must roll back with it

    with pytest.raises(RuntimeError, match="after claiming"):
        await failing_handler()
    async with sessions() as session, session.begin():
        assert await claim_event(session, "search", event_id) is True
    async with engine.connect() as connection:
        count = (await connection.execute(sa.text("SELECT COUNT(*) FROM processed_events"))).scalar_one()
        note = (await connection.execute(sa.text("SELECT note FROM orders WHERE id = 1"))).scalar_one()
    assert count == 3
    assert note == "after duplicate"


async def test_concurrent_claims_of_one_event_let_exactly_one_through(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine)
    event_id = uuid.uuid4()

    async def claim() -> bool:
        async with sessions() as session, session.begin():
            claimed = await claim_event(session, "notification", event_id)
            await asyncio.sleep(0.2)  # hold the transaction open while the other claim arrives
            return bool(claimed)

    results = await asyncio.gather(*(claim() for _ in range(4)))
    assert sorted(results) == [False, False, False, True]


async def test_prune_removes_only_old_published_rows(
    engine: AsyncEngine, bus: EventBus, outbox_metrics: OutboxMetrics
) -> None:
    await _stage_orders(engine, range(1, 4))
    outbox = _outbox()
    old = datetime.now(UTC) - timedelta(hours=30)
    recent = datetime.now(UTC) - timedelta(hours=1)
    async with engine.begin() as connection:
        seqs = (await connection.execute(sa.select(outbox.c.seq).order_by(outbox.c.seq))).scalars().all()
        await connection.execute(sa.update(outbox).where(outbox.c.seq == seqs[0]).values(published_at=old))
        await connection.execute(sa.update(outbox).where(outbox.c.seq == seqs[1]).values(published_at=recent))
    relay = _relay(engine, bus, outbox_metrics, retain_published_hours=24)
    assert await relay.prune() == 1
    async with engine.connect() as connection:
        remaining = (await connection.execute(sa.select(outbox.c.seq).order_by(outbox.c.seq))).scalars().all()
    assert remaining == seqs[1:], "recently published and unpublished rows must stay"
