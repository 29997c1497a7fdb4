"""MariaDB schema of the auth service (SQLAlchemy Core), including servicekit's outbox tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servicekit.events.sql import outbox_table, processed_events_table
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects import mysql


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes stored in a naive DATETIME(6): MariaDB has no time-zone-aware column type."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Uuid(), primary_key=True),
    # Binary collation: identifiers are stored canonical (servicekit.identifiers), and the database must not
    # add equivalences of its own (alembic/versions/0002_signin_budget_binary_identifiers.py).
    Column("username", String(30, collation="utf8mb4_bin"), nullable=False, unique=True),
    Column("email", String(254, collation="utf8mb4_bin"), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("country", String(64), nullable=True),
    Column("email_verified", Boolean(), nullable=False, default=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("last_signed_out_at", UtcDateTime(), nullable=True),
    Column("failed_signins", Integer(), nullable=False, default=0, server_default="0"),
    Column("last_failed_signin_at", UtcDateTime(), nullable=True),
)

known_devices = Table(
    "known_devices",
    metadata,
    Column("account_id", Uuid(), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("device_id", String(128), primary_key=True),
    Column("first_seen_at", UtcDateTime(), nullable=False),
)

otp_challenges = Table(
    "otp_challenges",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("account_id", Uuid(), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("device_id", String(128), nullable=False),
    Column("code_hash", String(255), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer(), nullable=False, default=0),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("account_id", "device_id"),
)

account_tokens = Table(
    "account_tokens",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("account_id", Uuid(), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Index(None, "account_id", "purpose"),
)

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
