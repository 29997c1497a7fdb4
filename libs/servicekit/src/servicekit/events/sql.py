"""Transactional outbox and idempotent consumption on SQL stores (PostgreSQL/asyncpg, MariaDB/asyncmy).

Producers call `stage_event` in the same transaction as their state change; `SqlOutboxRelay` publishes the
staged rows afterwards. Consumers call `claim_event` inside their handler's transaction, so the claim and the
handler's writes commit (or roll back) together and a redelivered event is recognised.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from servicekit.events.envelope import EventEnvelope
from servicekit.events.outbox_secrets import SECRET_FIELDS_HEADER
from servicekit.events.sql_asyncpg import Row, driver_in_transaction, stage_rows
from servicekit.events.sql_deferred import defer_rows, deferrable_connection, write_waiting
from servicekit.events.sql_relay import SqlOutboxRelay
from servicekit.events.sql_schema import (
    OUTBOX,
    PROCESSED_EVENTS,
    UtcDateTime,
    outbox_table,
    processed_events_table,
)
from servicekit.events.topology import CORRELATION_ID_HEADER
from servicekit.logging import get_correlation_id
from servicekit.tracing import inject_trace_headers

__all__ = [
    "SqlOutboxRelay",
    "UtcDateTime",
    "claim_event",
    "claim_events",
    "outbox_table",
    "processed_events_table",
    "stage_event",
    "stage_events",
]


# Built once: executing a prebuilt statement with a parameter dict skips per-call statement construction and
# hits SQLAlchemy's compiled cache directly (measurably cheaper on the hot paths of staging and claiming).
_STAGE = sa.insert(OUTBOX)
_CLAIM_POSTGRESQL = postgresql.insert(PROCESSED_EVENTS).on_conflict_do_nothing()
_CLAIM_MYSQL = mysql.insert(PROCESSED_EVENTS).prefix_with("IGNORE")
# Executed with a list of rows, SQLAlchemy renders this as one multi-row INSERT ("insertmanyvalues"): a batch
# of claims is one round trip, and RETURNING names exactly the ids this call claimed.
_CLAIM_MANY_POSTGRESQL = (
    postgresql.insert(PROCESSED_EVENTS).on_conflict_do_nothing().returning(PROCESSED_EVENTS.c.event_id)
)


async def stage_event(
    session: AsyncSession | AsyncConnection, envelope: EventEnvelope, *, secret_fields: Sequence[str] = ()
) -> None:
    """Add the event to the outbox in the current transaction of `session` (or a Core connection); no commit.

    The trace context and correlation id of the staging request are captured now, so the consumer's span
    continues the trace of the request that caused the event even though the relay publishes it later.
    `secret_fields` name payload fields (a reset token, a one-time code) that the relay blanks in the stored
    row once the broker has confirmed the event, so the outbox does not keep them readable for its retention.
    """
    await stage_events(session, (envelope,), secret_fields=secret_fields)


async def stage_events(
    session: AsyncSession | AsyncConnection,
    envelopes: Sequence[EventEnvelope],
    *,
    secret_fields: Sequence[str] = (),
) -> None:
    """`stage_event` for the events of one unit of work: one INSERT for all of them; no commit.

    On asyncpg, once the caller's transaction has begun (its business write ran first), the rows go straight
    through the driver connection of that transaction (`servicekit.events.sql_asyncpg`, ADR 0024). If its
    SQLAlchemy transaction is open but nothing has run in it yet, the rows wait for its first statement
    (which they precede, in the transaction) or its commit (then one INSERT of their own, without BEGIN and
    COMMIT; `servicekit.events.sql_deferred`); a failure to write them then fails that statement or the
    commit. Otherwise (MariaDB, autocommit, no transaction open) the rows go through SQLAlchemy, which
    begins the transaction if need be. `secret_fields` apply to every event.
    """
    if not envelopes:
        return
    headers: dict[str, Any] = {}
    if secret_fields:
        headers[SECRET_FIELDS_HEADER] = list(secret_fields)
    inject_trace_headers(headers)
    ambient_correlation_id = get_correlation_id()
    now = datetime.now(UTC)
    driver = await driver_in_transaction(session)
    if driver is None:
        deferrable = await deferrable_connection(session)
        if deferrable is not None:
            if not await write_waiting(deferrable):
                # Nothing has run in the transaction yet: the rows wait for its first statement or its
                # commit (`servicekit.events.sql_deferred`, ADR 0024 amendment "stagebatch").
                defer_rows(deferrable, _driver_rows(envelopes, headers, ambient_correlation_id, now))
                return
            driver = await driver_in_transaction(session)  # begun by the rows that were waiting
    if driver is not None:
        await stage_rows(driver, _driver_rows(envelopes, headers, ambient_correlation_id, now))
        return
    values = []
    for envelope in envelopes:
        correlation_id = envelope.correlation_id or ambient_correlation_id
        values.append(
            {
                "event_id": envelope.id,
                "event_type": envelope.type,
                "producer": envelope.producer,
                "correlation_id": correlation_id,
                "body": envelope.to_json_bytes().decode(),
                "headers": _with_correlation(headers, correlation_id),
                "occurred_at": envelope.occurred_at,
                "created_at": now,
                "attempts": 0,
            }
        )
    await session.execute(_STAGE, values if len(values) > 1 else values[0])


def _driver_rows(
    envelopes: Sequence[EventEnvelope],
    headers: dict[str, Any],
    ambient_correlation_id: str | None,
    now: datetime,
) -> list[Row]:
    # Naive UTC, as `UtcDateTime` stores it; JSON as text, as the dialect's json codec expects.
    created_at = now.replace(tzinfo=None)
    rows: list[Row] = []
    for envelope in envelopes:
        correlation_id = envelope.correlation_id or ambient_correlation_id
        rows.append(
            (
                envelope.id,
                envelope.type,
                envelope.producer,
                correlation_id,
                envelope.to_json_bytes().decode(),
                json.dumps(_with_correlation(headers, correlation_id), separators=(",", ":")),
                envelope.occurred_at.astimezone(UTC).replace(tzinfo=None),
                created_at,
            )
        )
    return rows


def _with_correlation(headers: dict[str, Any], correlation_id: str | None) -> dict[str, Any]:
    return {**headers, CORRELATION_ID_HEADER: correlation_id} if correlation_id else headers


async def claim_event(session: AsyncSession | AsyncConnection, consumer: str, event_id: uuid.UUID) -> bool:
    """Record that `consumer` processed `event_id`; False when it already had (a redelivery or duplicate).

    Call it first in the handler's transaction and return early on False. The insert-or-ignore forms never
    raise on a duplicate, so the caller's transaction stays usable; a concurrent claim of the same id blocks
    on the key until the other transaction ends, and then reports False if that one committed.
    """
    values = {"consumer": consumer, "event_id": event_id, "processed_at": datetime.now(UTC)}
    dialect = (session.dialect if isinstance(session, AsyncConnection) else session.get_bind().dialect).name
    if dialect == "postgresql":
        statement: sa.Executable = _CLAIM_POSTGRESQL
    elif dialect in {"mysql", "mariadb"}:
        statement = _CLAIM_MYSQL
    else:
        return await _claim_with_savepoint(session, values)
    result = await session.execute(statement, values)
    return bool(getattr(result, "rowcount", 0) == 1)


async def claim_events(
    session: AsyncSession | AsyncConnection, consumer: str, event_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Claim many events in the current transaction; returns the ids claimed now (the others were already).

    The batch form of `claim_event` for `BatchEventConsumer` handlers: call it first in the handler's
    transaction and apply only the returned ids. On PostgreSQL it is one statement whatever the batch size;
    elsewhere it claims the ids one by one, still inside the caller's single transaction.
    """
    unique = list(dict.fromkeys(event_ids))
    if not unique:
        return set()
    dialect = (session.dialect if isinstance(session, AsyncConnection) else session.get_bind().dialect).name
    if dialect != "postgresql":
        return {event_id for event_id in unique if await claim_event(session, consumer, event_id)}
    now = datetime.now(UTC)
    rows = [{"consumer": consumer, "event_id": event_id, "processed_at": now} for event_id in unique]
    result = await session.execute(_CLAIM_MANY_POSTGRESQL, rows)
    return set(result.scalars().all())


async def _claim_with_savepoint(session: AsyncSession | AsyncConnection, values: dict[str, Any]) -> bool:
    # Other dialects: a plain insert in a savepoint, so a duplicate-key error only rolls back the claim.
    try:
        async with session.begin_nested():
            await session.execute(sa.insert(PROCESSED_EVENTS), values)
    except IntegrityError:
        return False
    return True
