"""Staging outbox rows: the asyncpg path inside the caller's transaction and the multi-event form (ADR 0024).

On PostgreSQL, once the caller's transaction has begun, `stage_event(s)` writes through the driver
connection of that transaction; these tests pin that it is taken, that it commits and rolls back with the
caller, that it stores exactly what the SQLAlchemy path stores, and that `stage_events` writes several
events in one statement on both stores.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from servicekit.events import EventEnvelope, sql_asyncpg
from servicekit.events import sql as outbox_sql
from servicekit.events.outbox_secrets import SECRET_FIELDS_HEADER
from servicekit.events.sql import outbox_table, stage_event, stage_events
from servicekit.events.topology import CORRELATION_ID_HEADER
from servicekit.logging import bind_correlation_id
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from .conftest import ORDERS

pytestmark = pytest.mark.integration

# The asyncpg driver path exists on PostgreSQL only.
ON_POSTGRES = pytest.mark.parametrize("engine", ["postgres_url"], indirect=True)

EVENT_TYPE = "order.order.placed.v1"


@pytest.fixture
def driver_statements(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Row counts of each statement that went through the asyncpg path."""
    calls: list[int] = []
    original = sql_asyncpg.stage_rows

    async def counting(driver: Any, rows: Any) -> None:
        calls.append(len(rows))
        await original(driver, rows)

    monkeypatch.setattr(outbox_sql, "stage_rows", counting)
    return calls


def _envelope(n: int) -> EventEnvelope:
    return EventEnvelope.new(type=EVENT_TYPE, producer="order", payload={"order_id": n, "note": "ü"})


async def _rows(engine: AsyncEngine) -> dict[str, dict[str, Any]]:
    outbox = outbox_table(sa.MetaData())
    async with engine.connect() as connection:
        result = await connection.execute(sa.select(outbox).order_by(outbox.c.seq))
        return {str(row.event_id): dict(row._mapping) for row in result}


@ON_POSTGRES
async def test_driver_path_joins_the_callers_transaction(
    engine: AsyncEngine, driver_statements: list[int]
) -> None:
    kept, dropped = _envelope(1), _envelope(2)
    async with engine.begin() as connection:
        await connection.execute(sa.insert(ORDERS).values(id=1))
        await stage_event(connection, kept)
    sessions = async_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await session.execute(sa.insert(ORDERS).values(id=2))
        await stage_event(session, dropped)
        await session.rollback()  # the business write and the event go together

    assert driver_statements == [1, 1]
    rows = await _rows(engine)
    assert set(rows) == {str(kept.id)}
    async with engine.connect() as connection:
        orders = (await connection.execute(sa.select(ORDERS.c.id))).scalars().all()
    assert orders == [1]


@ON_POSTGRES
async def test_driver_path_stores_what_the_sqlalchemy_path_stores(
    engine: AsyncEngine, driver_statements: list[int]
) -> None:
    through_sqlalchemy, through_driver = _envelope(1), _envelope(2)
    with bind_correlation_id("corr-1"):
        async with engine.begin() as connection:
            # First statement of the transaction: SQLAlchemy begins it, so this one takes its path.
            await stage_event(connection, through_sqlalchemy, secret_fields=["note"])
            await stage_event(connection, through_driver, secret_fields=["note"])

    assert driver_statements == [1]
    rows = await _rows(engine)
    a, b = rows[str(through_sqlalchemy.id)], rows[str(through_driver.id)]
    for row, envelope in ((a, through_sqlalchemy), (b, through_driver)):
        assert row["event_type"] == EVENT_TYPE
        assert row["producer"] == "order"
        assert row["correlation_id"] == "corr-1"
        assert EventEnvelope.from_json_bytes(row["body"].encode()) == envelope
        assert row["occurred_at"] == envelope.occurred_at
        assert row["occurred_at"].tzinfo is not None
        assert row["published_at"] is None
        assert row["attempts"] == 0
        assert row["headers"][CORRELATION_ID_HEADER] == "corr-1"
        assert row["headers"][SECRET_FIELDS_HEADER] == ["note"]
    assert a["headers"].keys() == b["headers"].keys()
    assert json.loads(a["body"])["payload"] == {"order_id": 1, "note": "ü"}


async def test_stage_events_writes_a_unit_of_work_in_one_statement(
    engine: AsyncEngine, driver_statements: list[int]
) -> None:
    envelopes = [_envelope(n) for n in range(3)]
    async with engine.begin() as connection:
        await connection.execute(sa.insert(ORDERS).values(id=1))
        await stage_events(connection, envelopes)
        await stage_events(connection, [])

    rows = await _rows(engine)
    assert list(rows) == [str(envelope.id) for envelope in envelopes]  # seq follows the given order
    for envelope in envelopes:
        assert EventEnvelope.from_json_bytes(rows[str(envelope.id)]["body"].encode()) == envelope
    if engine.dialect.name == "postgresql":
        assert driver_statements == [3]


@ON_POSTGRES
async def test_a_duplicate_event_id_raises_integrity_error_on_the_driver_path(
    engine: AsyncEngine, driver_statements: list[int]
) -> None:
    envelope = _envelope(1)
    async with engine.connect() as connection:
        transaction = await connection.begin()
        await connection.execute(sa.insert(ORDERS).values(id=1))
        await stage_event(connection, envelope)
        with pytest.raises(sa.exc.IntegrityError):
            await stage_event(connection, envelope)
        await transaction.rollback()
    assert driver_statements == [1, 1]
    assert await _rows(engine) == {}
