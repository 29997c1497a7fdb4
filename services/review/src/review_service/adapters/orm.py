"""PostgreSQL schema of the review service (SQLAlchemy Core), including servicekit's outbox tables.

Ids of other services' records (users, orders, gigs) are kept as the strings their events carry.
"""

from __future__ import annotations

from servicekit.events.sql import UtcDateTime, outbox_table, processed_events_table
from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

ID_LENGTH = 64

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("order_id", String(ID_LENGTH), nullable=False),
    Column("gig_id", String(ID_LENGTH), nullable=True),
    Column("buyer_id", String(ID_LENGTH), nullable=False),
    Column("seller_id", String(ID_LENGTH), nullable=False),
    Column("reviewer_id", String(ID_LENGTH), nullable=False),
    Column("reviewer_role", String(8), nullable=False),
    Column("rating", SmallInteger(), nullable=False),
    Column("comment", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # The rule "one review per side per order" lives here, so two concurrent requests cannot both pass it.
    UniqueConstraint("order_id", "reviewer_role"),
    CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    CheckConstraint("reviewer_role IN ('buyer', 'seller')", name="reviewer_role"),
    # The two list queries: buyers' reviews of a gig / of a seller, newest first.
    Index("ix_reviews_gig_page", "gig_id", "reviewer_role", "created_at", "id"),
    Index("ix_reviews_seller_page", "seller_id", "reviewer_role", "created_at", "id"),
)

# The replica of paid orders (name kept from when it held completed ones only): parties from
# `order.order.placed.v1`, `completed_at` from `order.order.completed.v1` (NULL until then).
completed_orders = Table(
    "completed_orders",
    metadata,
    Column("order_id", String(ID_LENGTH), primary_key=True),
    Column("gig_id", String(ID_LENGTH), nullable=True),
    Column("buyer_id", String(ID_LENGTH), nullable=False),
    Column("seller_id", String(ID_LENGTH), nullable=False),
    Column("completed_at", UtcDateTime(), nullable=True),
)

directory = Table(
    "directory",
    metadata,
    Column("user_id", String(ID_LENGTH), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("email", String(254), nullable=False),
)

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
