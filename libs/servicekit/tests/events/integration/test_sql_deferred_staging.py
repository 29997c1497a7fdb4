"""Outbox rows staged before anything else ran in their transaction (ADR 0024 amendment "stagebatch").

On PostgreSQL such rows wait (`servicekit.events.sql_deferred`) for the transaction's first other statement,
which they precede in the same transaction, or for its commit, where they are one INSERT with no BEGIN or
COMMIT around it. These tests pin what the caller must not be able to tell apart from writing at once:
commit keeps the rows, rollback drops them, later statements see them, order, errors at commit, savepoints,
autocommit; and that the one-statement commit is what actually goes to the server. The same behaviour is
checked on MariaDB, where nothing is deferred.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from servicekit.events import EventEnvelope
from servicekit.events import sql as outbox_sql
from servicekit.events.sql import outbox_table, stage_event, stage_events
from servicekit.events.sql_deferred import pending_rows
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from .conftest import ORDERS

pytestmark = pytest.mark.integration

ON_POSTGRES = pytest.mark.parametrize("engine", ["postgres_url"], indirect=True)
OUTBOX = outbox_table(sa.MetaData())


def _envelope(n: int) -> EventEnvelope:
    return EventEnvelope.new(type="order.order.placed.v1", producer="order", payload={"order_id": n})


async def _stored_ids(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        result = await connection.execute(sa.select(OUTBOX.c.event_id).order_by(OUTBOX.c.seq))
        return [str(event_id) for event_id in result.scalars()]


class _ServerLog:
    """Transaction control and outbox INSERTs one asyncpg connection sent, from asyncpg's query logger.

    asyncpg logs what goes through `Connection.execute` (BEGIN, COMMIT, ROLLBACK and the driver-path INSERT),
    not the executions of SQLAlchemy's prepared statements nor its own type introspection (filtered out).
    """

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, record: Any) -> None:
        word = record.query.split()[0].rstrip(";").upper()
        if word in {"BEGIN", "COMMIT", "ROLLBACK", "INSERT"}:
            self.statements.append(word)


async def _log_driver(connection: AsyncConnection, log: _ServerLog) -> None:
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    driver.add_query_logger(log)


@ON_POSTGRES
async def test_a_transaction_that_only_stages_is_one_insert_at_commit(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    envelopes = [_envelope(1), _envelope(2)]
    deferred = _ServerLog()
    async with engine.connect() as connection:
        await _log_driver(connection, deferred)
        async with connection.begin():
            await stage_events(connection, envelopes)
            sync = connection.sync_connection
            assert sync is not None
            assert pending_rows(sync) == 2
            assert await _stored_ids(engine) == []  # not written, not even uncommitted
        assert pending_rows(sync) == 0

    assert await _stored_ids(engine) == [str(envelope.id) for envelope in envelopes]
    assert deferred.statements == ["INSERT"]  # no BEGIN, no COMMIT: one statement, its own transaction

    # The control: written when staged, the same transaction is BEGIN, INSERT (a prepared statement, not
    # logged), COMMIT.
    async def not_deferrable(session: object) -> None:
        return None

    monkeypatch.setattr(outbox_sql, "deferrable_connection", not_deferrable)
    immediate = _ServerLog()
    async with engine.connect() as connection:
        await _log_driver(connection, immediate)
        async with connection.begin():
            await stage_event(connection, _envelope(3))
    assert immediate.statements == ["BEGIN", "COMMIT"]


async def _fail_after_staging(engine: AsyncEngine, envelope: EventEnvelope, *, use_session: bool) -> None:
    if use_session:
        async with async_sessionmaker(engine)() as session, session.begin():
            await stage_event(session, envelope)
            raise RuntimeError("the unit of work fails after staging")
    async with engine.begin() as connection:
        await stage_event(connection, envelope)
        raise RuntimeError("the unit of work fails after staging")


@pytest.mark.parametrize("use_session", [False, True], ids=["connection", "session"])
async def test_rollback_drops_staged_rows_and_commit_keeps_them(
    engine: AsyncEngine, use_session: bool
) -> None:
    kept, dropped, raised = _envelope(1), _envelope(2), _envelope(3)
    if use_session:
        sessions = async_sessionmaker(engine)
        async with sessions() as session, session.begin():
            await stage_event(session, kept)
        async with sessions() as session, session.begin():
            await stage_event(session, dropped)
            await session.rollback()
    else:
        async with engine.begin() as connection:
            await stage_event(connection, kept)
        async with engine.connect() as connection:
            transaction = await connection.begin()
            await stage_event(connection, dropped)
            await transaction.rollback()
    with pytest.raises(RuntimeError):
        await _fail_after_staging(engine, raised, use_session=use_session)

    assert await _stored_ids(engine) == [str(kept.id)]


async def test_staged_rows_precede_the_next_statement_in_the_same_transaction(engine: AsyncEngine) -> None:
    first, second = _envelope(1), _envelope(2)
    async with engine.connect() as connection:
        transaction = await connection.begin()
        await stage_event(connection, first)
        # The transaction's own read sees the row: it was written just before the read, inside it.
        seen = (await connection.execute(sa.select(sa.func.count()).select_from(OUTBOX))).scalar_one()
        await connection.execute(sa.insert(ORDERS).values(id=1))
        await stage_event(connection, second)
        await transaction.rollback()  # the business write and both events go together
    assert seen == 1
    assert await _stored_ids(engine) == []

    async with engine.begin() as connection:
        await stage_event(connection, first)
        await connection.execute(sa.insert(ORDERS).values(id=1))
        await stage_event(connection, second)
    assert await _stored_ids(engine) == [str(first.id), str(second.id)]


async def test_two_stagings_before_anything_else_keep_their_order(engine: AsyncEngine) -> None:
    envelopes = [_envelope(n) for n in range(5)]
    sessions = async_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await stage_events(session, envelopes[:2])
        await stage_event(session, envelopes[2])
        await stage_events(session, envelopes[3:])
    assert await _stored_ids(engine) == [str(envelope.id) for envelope in envelopes]


async def test_rows_staged_before_a_savepoint_survive_its_rollback(engine: AsyncEngine) -> None:
    outer, inner = _envelope(1), _envelope(2)
    sessions = async_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await stage_event(session, outer)
        savepoint = await session.begin_nested()
        await stage_event(session, inner)
        await savepoint.rollback()
    assert await _stored_ids(engine) == [str(outer.id)]


async def test_a_duplicate_event_id_fails_the_commit_and_keeps_nothing(engine: AsyncEngine) -> None:
    envelope, other = _envelope(1), _envelope(2)
    async with engine.begin() as connection:
        await stage_event(connection, envelope)
    with pytest.raises(sa.exc.IntegrityError):
        async with engine.begin() as connection:
            await stage_events(connection, [other, envelope])
    assert await _stored_ids(engine) == [str(envelope.id)]
    # The pool's connection is still usable afterwards.
    async with engine.begin() as connection:
        await stage_event(connection, other)
    assert await _stored_ids(engine) == [str(envelope.id), str(other.id)]


@ON_POSTGRES
async def test_a_duplicate_among_waiting_rows_raises_integrity_error_at_the_next_staging(
    engine: AsyncEngine,
) -> None:
    envelope = _envelope(1)
    async with engine.begin() as connection:
        await stage_event(connection, envelope)
    async with engine.connect() as connection:
        transaction = await connection.begin()
        await stage_event(connection, envelope)  # waits: nothing else ran
        with pytest.raises(sa.exc.IntegrityError):
            await stage_event(connection, _envelope(2))
        await transaction.rollback()
    assert await _stored_ids(engine) == [str(envelope.id)]


@ON_POSTGRES
async def test_autocommit_writes_at_once(engine: AsyncEngine) -> None:
    envelope = _envelope(1)
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        async with connection.begin():
            await stage_event(connection, envelope)
            assert await _stored_ids(engine) == [str(envelope.id)]  # committed by the statement itself


@ON_POSTGRES
async def test_writing_at_once_stores_what_deferring_stores(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    deferred, immediate = _envelope(1), _envelope(2)
    async with engine.begin() as connection:
        await stage_event(connection, deferred, secret_fields=["order_id"])

    async def not_deferrable(session: object) -> None:
        return None

    monkeypatch.setattr(outbox_sql, "deferrable_connection", not_deferrable)
    async with engine.begin() as connection:
        await stage_event(connection, immediate, secret_fields=["order_id"])  # through SQLAlchemy
    async with engine.connect() as connection:
        rows = {
            str(row.event_id): row._mapping
            for row in await connection.execute(sa.select(OUTBOX).order_by(OUTBOX.c.seq))
        }
    a, b = rows[str(deferred.id)], rows[str(immediate.id)]
    for row, envelope in ((a, deferred), (b, immediate)):
        assert EventEnvelope.from_json_bytes(row["body"].encode()) == envelope
        assert row["occurred_at"] == envelope.occurred_at
        assert row["published_at"] is None
        assert row["attempts"] == 0
    assert a["headers"] == b["headers"]
    assert (a["event_type"], a["producer"], a["correlation_id"]) == (
        b["event_type"],
        b["producer"],
        b["correlation_id"],
    )
