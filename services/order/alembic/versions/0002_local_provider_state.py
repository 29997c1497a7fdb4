"""The local payment provider's durable state (development/test): intents and refunds, so that a killed
order process loses nothing the provider had confirmed (as with Stripe, whose state is Stripe's).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "local_provider_intents",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("client_secret", sa.String(length=255), nullable=False),
        sa.Column("charges", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount > 0 AND charges >= 0 AND charges <= 1",
            name=op.f("ck_local_provider_intents_charged_once"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_provider_intents")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_local_provider_intents_idempotency_key")),
    )
    op.create_table(
        "local_provider_refunds",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("intent_id", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_local_provider_refunds_amount_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_provider_refunds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_local_provider_refunds_idempotency_key")),
    )
    op.create_index(
        op.f("ix_local_provider_refunds_intent_id"), "local_provider_refunds", ["intent_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("local_provider_refunds")
    op.drop_table("local_provider_intents")
