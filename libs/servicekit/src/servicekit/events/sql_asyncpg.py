"""The outbox INSERT straight on asyncpg, inside the transaction the caller already opened.

Staging an event through SQLAlchemy's async bridge costs more client CPU than the INSERT itself: statement
cache lookup, bind processors, the greenlet hop into the sync core and back, a cursor and a result object.
When the caller's connection is asyncpg and its transaction has already begun (the business write of the
unit of work ran first, as it does in every service), the row goes through the driver connection of that
same transaction instead: same table, same columns and values, same atomicity (it commits or rolls back
with the caller's transaction), one prepared statement reused from asyncpg's statement cache (ADR 0024).

Anything else (another driver, a transaction that has not begun, an invalidated or autocommit connection)
returns None from `driver_in_transaction`, and the caller takes the SQLAlchemy path, which begins the
transaction itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from servicekit.events.sql_schema import OUTBOX_TABLE

# Column order of the rows `stage_rows` takes; `attempts` starts at 0 as the column's server default says.
_COLUMNS = (
    "event_id",
    "event_type",
    "producer",
    "correlation_id",
    "body",
    "headers",
    "occurred_at",
    "created_at",
)
_INSERT_ONE = (
    f"INSERT INTO {OUTBOX_TABLE} ({', '.join(_COLUMNS)}, attempts) "  # noqa: S608 - constant identifiers
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))}, 0)"
)
# Several events of one unit of work: one statement whatever their number (arrays of the column values), so
# asyncpg prepares it once and the rows travel in one round trip.
_INSERT_MANY = (
    f"INSERT INTO {OUTBOX_TABLE} ({', '.join(_COLUMNS)}, attempts) "  # noqa: S608 - constant identifiers
    "SELECT e, t, p, c, b, h, o, n, 0 FROM unnest("
    "$1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::json[], $7::timestamp[], $8::timestamp[]"
    ") AS r(e, t, p, c, b, h, o, n)"
)

Row = tuple[Any, ...]


async def asyncpg_connection_in_transaction(
    session: AsyncSession | AsyncConnection,
) -> AsyncConnection | None:
    """`session`'s connection if it is asyncpg's and inside an open SQLAlchemy transaction, else None.

    Open on SQLAlchemy's side only: whether the server has begun it too is the caller's question.
    """
    if isinstance(session, AsyncSession):
        if session.get_bind().dialect.driver != "asyncpg" or not session.in_transaction():
            return None
        connection = await session.connection()
    else:
        connection = session
        if connection.dialect.driver != "asyncpg":
            return None
    sync = connection.sync_connection
    # An invalidated or closed connection has no live DBAPI connection to borrow (reaching for it would try
    # to reconnect outside the greenlet bridge); the SQLAlchemy path reports those states properly.
    if sync is None or sync.closed or sync.invalidated or not sync.in_transaction():
        return None
    return connection


async def driver_in_transaction(session: AsyncSession | AsyncConnection) -> Any | None:
    """The asyncpg connection of `session`'s transaction if that transaction has begun, else None."""
    connection = await asyncpg_connection_in_transaction(session)
    if connection is None or connection.sync_connection is None:
        return None
    driver = connection.sync_connection.connection.driver_connection
    # asyncpg knows from the server's ReadyForQuery whether a transaction block is open: only then does a
    # statement on the driver join the caller's transaction rather than commit on its own.
    if driver is None or not driver.is_in_transaction():
        return None
    return driver


def insert_statement(rows: Sequence[Row]) -> tuple[str, tuple[Any, ...]]:
    """The INSERT of outbox rows (values in `_COLUMNS` order) and its positional arguments, for asyncpg."""
    if len(rows) == 1:
        return _INSERT_ONE, tuple(rows[0])
    return _INSERT_MANY, tuple(list(column) for column in zip(*rows, strict=True))


async def stage_rows(driver: Any, rows: Sequence[Row]) -> None:
    """INSERT outbox rows (values in `_COLUMNS` order, datetimes naive UTC) on an asyncpg connection."""
    import asyncpg  # only services on PostgreSQL have it installed

    statement, arguments = insert_statement(rows)
    try:
        await driver.execute(statement, *arguments)
    except asyncpg.IntegrityConstraintViolationError as error:
        # The exception classes callers of `stage_event` already handle on the SQLAlchemy path.
        raise sa.exc.IntegrityError(_INSERT_ONE, None, error) from error
    except asyncpg.PostgresError as error:
        raise sa.exc.DBAPIError(_INSERT_ONE, None, error) from error
