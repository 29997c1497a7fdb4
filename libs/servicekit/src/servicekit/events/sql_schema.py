"""Tables of the SQL outbox and of the processed-events ledger, portable to PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect

OUTBOX_TABLE = "outbox_events"
PROCESSED_EVENTS_TABLE = "processed_events"


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Stores UTC as a naive timestamp and hands back aware UTC datetimes.

    MariaDB's DATETIME has no time zone and PostgreSQL's drivers treat naive values differently; storing
    naive UTC everywhere keeps comparisons (pruning cutoffs) identical on both.
    """

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UtcDateTime needs an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# MySQL's TEXT stops at 64 KiB; an envelope with a large payload must not be truncated on MariaDB.
_ENVELOPE_BODY = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
# Microsecond precision on MySQL/MariaDB (DATETIME defaults to whole seconds there).
_TIMESTAMP = UtcDateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    """Add (or return the already added) `outbox_events` table to a service's `MetaData`.

    `seq` orders publication; the index on (`published_at`, `seq`) serves the relay's
    "oldest unpublished first" scan and the pruning of old published rows.
    """
    existing = metadata.tables.get(OUTBOX_TABLE)
    if existing is not None:
        return existing
    return sa.Table(
        OUTBOX_TABLE,
        metadata,
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("event_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("event_type", sa.String(255), nullable=False),
        sa.Column("producer", sa.String(100), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=True),
        sa.Column("body", _ENVELOPE_BODY, nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("occurred_at", _TIMESTAMP, nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("published_at", _TIMESTAMP, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Index(f"ix_{OUTBOX_TABLE}_published_at_seq", "published_at", "seq"),
    )


def processed_events_table(metadata: sa.MetaData) -> sa.Table:
    """Add (or return) `processed_events`: one row per (consumer, event id) a handler has committed.

    The composite primary key is the unique constraint that makes `claim_event` safe under concurrency.
    """
    existing = metadata.tables.get(PROCESSED_EVENTS_TABLE)
    if existing is not None:
        return existing
    return sa.Table(
        PROCESSED_EVENTS_TABLE,
        metadata,
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column("processed_at", _TIMESTAMP, nullable=False),
    )


# Lightweight table clauses for the library's own statements: they need no MetaData, so `stage_event`,
# `claim_event` and the relay work with whatever MetaData object the service registered the tables on.
OUTBOX = sa.table(
    OUTBOX_TABLE,
    sa.column("seq", sa.BigInteger()),
    sa.column("event_id", sa.Uuid()),
    sa.column("event_type", sa.String()),
    sa.column("producer", sa.String()),
    sa.column("correlation_id", sa.String()),
    sa.column("body", sa.Text()),
    sa.column("headers", sa.JSON()),
    sa.column("occurred_at", _TIMESTAMP),
    sa.column("created_at", _TIMESTAMP),
    sa.column("published_at", _TIMESTAMP),
    sa.column("attempts", sa.Integer()),
    sa.column("last_error", sa.String()),
)

PROCESSED_EVENTS = sa.table(
    PROCESSED_EVENTS_TABLE,
    sa.column("consumer", sa.String()),
    sa.column("event_id", sa.Uuid()),
    sa.column("processed_at", _TIMESTAMP),
)
