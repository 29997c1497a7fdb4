"""Initial review schema: reviews, the completed-orders replica, the directory, outbox, processed events.

Revision ID: 0001
Revises:
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision (migrations must not follow later code).
ID = sa.String(64)
TIMESTAMP = sa.DateTime(timezone=False)


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("gig_id", ID, nullable=True),
        sa.Column("buyer_id", ID, nullable=False),
        sa.Column("seller_id", ID, nullable=False),
        sa.Column("reviewer_id", ID, nullable=False),
        sa.Column("reviewer_role", sa.String(8), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
        sa.UniqueConstraint("order_id", "reviewer_role", name="uq_reviews_order_id_reviewer_role"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_reviews_rating_range"),
        sa.CheckConstraint("reviewer_role IN ('buyer', 'seller')", name="ck_reviews_reviewer_role"),
    )
    op.create_index("ix_reviews_gig_page", "reviews", ["gig_id", "reviewer_role", "created_at", "id"])
    op.create_index("ix_reviews_seller_page", "reviews", ["seller_id", "reviewer_role", "created_at", "id"])
    op.create_table(
        "completed_orders",
        sa.Column("order_id", ID, nullable=False),
        sa.Column("gig_id", ID, nullable=True),
        sa.Column("buyer_id", ID, nullable=False),
        sa.Column("seller_id", ID, nullable=False),
        sa.Column("completed_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_completed_orders"),
    )
    op.create_table(
        "directory",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_directory"),
    )
    op.create_table(
        "outbox_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(255), nullable=False),
        sa.Column("producer", sa.String(100), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox_events"),
        sa.UniqueConstraint("event_id", name="uq_outbox_events_event_id"),
    )
    op.create_index("ix_outbox_events_published_at_seq", "outbox_events", ["published_at", "seq"])
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("processed_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_processed_events"),
    )


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_index("ix_outbox_events_published_at_seq", table_name="outbox_events")
    op.drop_table("outbox_events")
    op.drop_table("directory")
    op.drop_table("completed_orders")
    op.drop_index("ix_reviews_seller_page", table_name="reviews")
    op.drop_index("ix_reviews_gig_page", table_name="reviews")
    op.drop_table("reviews")
