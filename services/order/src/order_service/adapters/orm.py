"""PostgreSQL schema of the order service (SQLAlchemy Core), including servicekit's outbox tables.

Money is BIGINT minor units with CHECK constraints; the order history is append-only (a trigger refuses
UPDATE and DELETE, alembic/versions/0001); one refund job per payment intent (UNIQUE) so no payment is
ever refunded twice, whatever retries happen.
"""

from __future__ import annotations

from servicekit.events.sql import outbox_table, processed_events_table
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 64  # user, gig and offer ids are other services' (UUIDs today); room for other shapes
TIMESTAMP = DateTime(timezone=True)

orders = Table(
    "orders",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("gig_id", String(ID), nullable=False),
    Column("offer_id", String(ID), nullable=True, unique=True),
    Column("buyer_id", String(ID), nullable=False),
    Column("seller_id", String(ID), nullable=False),
    Column("status", String(20), nullable=False),
    Column("price", BigInteger(), nullable=False),
    Column("service_fee", BigInteger(), nullable=False),
    Column("seller_earnings", BigInteger(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("delivery_days", Integer(), nullable=False),
    Column("created_at", TIMESTAMP, nullable=False),
    Column("updated_at", TIMESTAMP, nullable=False),
    Column("expires_at", TIMESTAMP, nullable=False),
    Column("due_at", TIMESTAMP, nullable=True),
    Column("version", Integer(), nullable=False),
    Column("payment_intent_id", String(255), nullable=True),
    Column("paid_amount", BigInteger(), nullable=False, server_default="0"),
    Column("refunded_amount", BigInteger(), nullable=False, server_default="0"),
    Column("extension", JSON(), nullable=True),
    Column("delivery", JSON(), nullable=True),
    Column("buyer_review_id", String(ID), nullable=True),
    Column("seller_review_id", String(ID), nullable=True),
    CheckConstraint("price > 0", name="price_positive"),
    CheckConstraint("service_fee >= 0 AND seller_earnings >= 0 AND seller_earnings <= price", name="shares"),
    CheckConstraint(
        "paid_amount >= 0 AND refunded_amount >= 0 AND refunded_amount <= paid_amount", name="money"
    ),
    CheckConstraint(
        "status IN ('awaiting_payment','in_progress','delivered','completed','cancelled','expired')",
        name="status_known",
    ),
    CheckConstraint("buyer_id <> seller_id", name="two_parties"),
    Index("ix_orders_buyer_created", "buyer_id", "created_at"),
    Index("ix_orders_seller_created", "seller_id", "created_at"),
    # The expiry scan reads only unpaid orders, oldest deadline first.
    Index(
        "ix_orders_unpaid_expires_at",
        "expires_at",
        postgresql_where=text("status = 'awaiting_payment'"),
    ),
)

order_history = Table(
    "order_history",
    metadata,
    Column("seq", BigInteger(), primary_key=True, autoincrement=True),
    Column("order_id", String(ID), nullable=False, index=True),
    Column("version", Integer(), nullable=False),
    Column("action", String(40), nullable=False),
    Column("actor", String(10), nullable=False),
    Column("actor_id", String(ID), nullable=True),
    Column("from_status", String(20), nullable=False),
    Column("to_status", String(20), nullable=False),
    Column("details", JSON(), nullable=False),
    Column("at", TIMESTAMP, nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(ID), nullable=False),
    Column("order_id", String(ID), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("text", Text(), nullable=False),
    Column("created_at", TIMESTAMP, nullable=False),
    Column("read_at", TIMESTAMP, nullable=True),
    Index("ix_notifications_user_created", "user_id", "created_at"),
)

payments = Table(
    "payments",
    metadata,
    Column("intent_id", String(255), primary_key=True),
    Column("order_id", String(ID), nullable=False, index=True),
    Column("provider", String(20), nullable=False),
    Column("amount", BigInteger(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("client_secret", String(255), nullable=True),
    Column("created_at", TIMESTAMP, nullable=False),
    Column("updated_at", TIMESTAMP, nullable=False),
    Index("ix_payments_unsettled", "created_at", postgresql_where=text("status <> 'succeeded'")),
)

refund_jobs = Table(
    "refund_jobs",
    metadata,
    Column("id", BigInteger(), primary_key=True, autoincrement=True),
    Column("order_id", String(ID), nullable=False),
    Column("intent_id", String(255), nullable=False, unique=True),
    Column("amount", BigInteger(), nullable=False),
    Column("created_at", TIMESTAMP, nullable=False),
    Column("attempts", Integer(), nullable=False, server_default="0"),
    Column("last_error", String(500), nullable=True),
    Column("refund_id", String(255), nullable=True),
    Column("refunded_at", TIMESTAMP, nullable=True),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index("ix_refund_jobs_pending", "id", postgresql_where=text("refunded_at IS NULL")),
)

gig_replicas = Table(
    "gig_replicas",
    metadata,
    Column("gig_id", String(ID), primary_key=True),
    Column("seller_id", String(ID), nullable=False),
    Column("price", BigInteger(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("delivery_days", Integer(), nullable=False),
    Column("active", Boolean(), nullable=False),
    Column("deleted", Boolean(), nullable=False),
    Column("version", Integer(), nullable=False),
)

offer_replicas = Table(
    "offer_replicas",
    metadata,
    Column("offer_id", String(ID), primary_key=True),
    Column("gig_id", String(ID), nullable=False),
    Column("seller_id", String(ID), nullable=False),
    Column("buyer_id", String(ID), nullable=False),
    Column("price", BigInteger(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("delivery_days", Integer(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("version", Integer(), nullable=False),
)

directory = Table(
    "directory",
    metadata,
    Column("user_id", String(ID), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("email", String(320), nullable=False),
)

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)

# --- The local payment provider's side (development/test only; adapters/local_provider.py) ---------------
# What Stripe would hold: its intents, refunds and idempotency keys. They live in the order database only
# so that the stand-in survives a process crash as Stripe's state would; the order service's own code never
# reads them (only the provider adapter does, in its own transactions, never inside a unit of work).

local_provider_intents = Table(
    "local_provider_intents",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("order_id", String(ID), nullable=False),
    Column("amount", BigInteger(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("client_secret", String(255), nullable=False),
    # How many times the card was charged: a second charge of one intent would be a double charge.
    Column("charges", Integer(), nullable=False, server_default="0"),
    Column("created_at", TIMESTAMP, nullable=False),
    Column("updated_at", TIMESTAMP, nullable=False),
    CheckConstraint("amount > 0 AND charges >= 0 AND charges <= 1", name="charged_once"),
)

local_provider_refunds = Table(
    "local_provider_refunds",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("intent_id", String(255), nullable=False, index=True),
    Column("amount", BigInteger(), nullable=False),
    Column("created_at", TIMESTAMP, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
)
