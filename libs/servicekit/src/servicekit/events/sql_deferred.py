"""Outbox rows staged before anything else ran in their transaction, held until the transaction needs them.

On asyncpg, SQLAlchemy begins the server-side transaction lazily: `engine.begin()` or `session.begin()`
sends nothing, the first statement sends BEGIN, the commit sends COMMIT. A transaction whose first statement
is the outbox INSERT therefore costs three round trips (BEGIN, INSERT, COMMIT), and on this kind of machine
each round trip is a loopback socket write and a wake-up of the server process: most of what staging costs
the producer (docs/benchmarks.md, "Event bus staging path (session of 21:40)").

So `stage_events` on such a transaction does not write at once; it hands the rows to `defer_rows`, which
keeps them with that transaction (`Connection` + its root `Transaction`) and writes them at whichever comes
first (ADR 0024 amendment "stagebatch"):

* **any other statement** of the transaction (a business write, a read, a SAVEPOINT, ORM flushes): just
  before it, through a DBAPI cursor of the same connection, so SQLAlchemy's adapter begins the transaction
  exactly as if the INSERT had run when it was staged; the rows are in the transaction before anything
  else happens in it;
* **the commit**, when nothing else ran: one INSERT on the driver with no BEGIN around it, which
  PostgreSQL runs as a transaction of its own (all rows of one statement commit or none); SQLAlchemy's
  COMMIT is then a no-op, as it is for any transaction that never reached the server. One round trip
  instead of three, and the rows become visible when the caller's commit returns, as before;
* **a rollback** (or the connection closing, which rolls back): the rows are dropped, as the server would
  have dropped them.

What the caller sees is unchanged: the rows commit with its transaction or not at all, in the order staged,
and a failure to write them fails the caller's commit (or its next statement) instead of `stage_events`
itself. Only asyncpg connections whose SQLAlchemy transaction is open, not in autocommit and not yet begun
on the server are deferred; everything else is written at once as before.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine, Transaction
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from servicekit.events.sql_asyncpg import Row, asyncpg_connection_in_transaction, insert_statement, stage_rows

try:  # SQLAlchemy 2.1 renamed the greenlet bridge's await (2.0: `await_only`, deprecated from 2.2)
    from sqlalchemy.util import await_ as _await
except ImportError:  # pragma: no cover - SQLAlchemy 2.0
    from sqlalchemy.util import await_only as _await

# Per connection, the rows waiting and the transaction they belong to (a weak reference: an entry left by a
# transaction that ended without the events below, e.g. on an invalidated connection, is never written to
# a later transaction of the same connection, and does not keep the connection alive).
_PENDING: weakref.WeakKeyDictionary[Connection, tuple[weakref.ref[Transaction], list[Row]]] = (
    weakref.WeakKeyDictionary()
)
_HOOKED: weakref.WeakSet[Engine] = weakref.WeakSet()


async def deferrable_connection(session: AsyncSession | AsyncConnection) -> AsyncConnection | None:
    """The connection of `session` if its rows can be deferred (see the module docstring), else None."""
    connection = await asyncpg_connection_in_transaction(session)
    sync = connection.sync_connection if connection is not None else None
    if connection is None or sync is None:
        return None
    if sync.in_nested_transaction():
        return None  # a SAVEPOINT ran, so the server-side transaction has begun
    fairy = sync.connection
    adapter = fairy.dbapi_connection
    driver = fairy.driver_connection
    # Autocommit: every statement commits on its own, so there is no commit to wait for.
    if adapter is None or driver is None or getattr(adapter, "autocommit", False):
        return None
    if driver.is_in_transaction():
        return None
    return connection


def defer_rows(connection: AsyncConnection, rows: Sequence[Row]) -> None:
    """Keep `rows` (`sql_asyncpg` column order) until `connection`'s transaction runs a statement or commits.

    Call it only with a connection `deferrable_connection` returned and nothing waiting (`write_waiting`).
    """
    sync = connection.sync_connection
    assert sync is not None
    transaction = sync.get_transaction()
    assert transaction is not None  # deferrable_connection checked in_transaction()
    _hook(sync.engine)
    _PENDING[sync] = (weakref.ref(transaction), list(rows))


async def write_waiting(connection: AsyncConnection) -> bool:
    """Write the rows waiting in `connection`'s transaction now (it begins on the server); False if none.

    A second `stage_events` in a transaction where nothing else ran yet: the transaction is no longer the
    one-INSERT case, so its first rows go in as if it were any other statement, and the new rows follow
    through the driver like those of any begun transaction.
    """
    sync = connection.sync_connection
    if sync is None or sync not in _PENDING:
        return False
    rows = _take(sync)
    if not rows:
        return False
    try:
        await connection.run_sync(_insert_with_cursor, rows)
    except sync.dialect.loaded_dbapi.Error as error:
        # Outside SQLAlchemy's own execution nothing wraps the DBAPI error: raise what `stage_events` raises
        # on its other paths (`IntegrityError` for a duplicate event id, else `DBAPIError`).
        raise sa_exc.DBAPIError.instance(
            insert_statement(rows)[0], None, error, sync.dialect.loaded_dbapi.Error
        ) from error
    return True


def pending_rows(connection: Connection) -> int:
    """How many deferred rows `connection`'s current transaction holds (for tests and diagnostics)."""
    waiting = _PENDING.get(connection)
    if waiting is None or waiting[0]() is not connection.get_transaction():
        return 0
    return len(waiting[1])


def _take(connection: Connection) -> list[Row] | None:
    waiting = _PENDING.pop(connection, None)
    if waiting is None or waiting[0]() is not connection.get_transaction():
        return None
    return waiting[1]


def _hook(engine: Engine) -> None:
    # Once per engine; connections already open see the listeners too (they join the engine's dispatch).
    if engine in _HOOKED:
        return
    event.listen(engine, "before_cursor_execute", _write_before_statement)
    event.listen(engine, "commit", _write_at_commit)
    event.listen(engine, "rollback", _drop)
    _HOOKED.add(engine)


def _write_before_statement(
    connection: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: Any,
    executemany: bool,
) -> None:
    rows = _take(connection)
    if rows:
        # An error surfaces as the statement's, wrapped by SQLAlchemy like any DBAPI error.
        _insert_with_cursor(connection, rows)


def _insert_with_cursor(connection: Connection, rows: list[Row]) -> None:
    # A cursor of the same DBAPI connection: SQLAlchemy's adapter begins the transaction (BEGIN with the
    # connection's isolation level) if this is its first statement, so the rows join it, as they would have
    # had they been written when staged.
    sql, arguments = insert_statement(rows)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, arguments)
    finally:
        cursor.close()


def _write_at_commit(connection: Connection) -> None:
    rows = _take(connection)
    if not rows:
        return
    # Nothing else ran: the driver has no transaction open, so this one statement is a transaction of its own
    # and commits before SQLAlchemy's (then empty) COMMIT. Had something begun one meanwhile, the statement
    # joins it and commits with it. Errors are raised as SQLAlchemy's IntegrityError / DBAPIError and fail
    # the caller's commit.
    _await(stage_rows(connection.connection.driver_connection, rows))


def _drop(connection: Connection) -> None:
    _PENDING.pop(connection, None)
