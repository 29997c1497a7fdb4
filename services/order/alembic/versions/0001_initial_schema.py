"""Initial order schema: orders, append-only history, notifications, payments, refund jobs, the replicas
(gig prices, accepted offers, directory), outbox and processed events.

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

# servicekit's outbox and processed-events tables store naive UTC timestamps (UtcDateTime).
# The history is evidence: no role the service uses may rewrite or remove it.
APPEND_ONLY = (
    """
    CREATE FUNCTION order_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'order_history is append-only (% refused)', TG_OP;
    END;
    $$
    """,
    """
    CREATE TRIGGER order_history_append_only BEFORE UPDATE OR DELETE ON order_history
        FOR EACH ROW EXECUTE FUNCTION order_history_append_only()
    """,
    """
    CREATE TRIGGER order_history_no_truncate BEFORE TRUNCATE ON order_history
        FOR EACH STATEMENT EXECUTE FUNCTION order_history_append_only()
    """,
)


def upgrade() -> None:
    op.create_table('directory',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_directory'))
    )
    op.create_table('gig_replicas',
    sa.Column('gig_id', sa.String(length=64), nullable=False),
    sa.Column('seller_id', sa.String(length=64), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('delivery_days', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('gig_id', name=op.f('pk_gig_replicas'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    op.create_table('offer_replicas',
    sa.Column('offer_id', sa.String(length=64), nullable=False),
    sa.Column('gig_id', sa.String(length=64), nullable=False),
    sa.Column('seller_id', sa.String(length=64), nullable=False),
    sa.Column('buyer_id', sa.String(length=64), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('delivery_days', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('offer_id', name=op.f('pk_offer_replicas'))
    )
    op.create_table('order_history',
    sa.Column('seq', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('from_status', sa.String(length=20), nullable=False),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_order_history'))
    )
    op.create_table('orders',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('gig_id', sa.String(length=64), nullable=False),
    sa.Column('offer_id', sa.String(length=64), nullable=True),
    sa.Column('buyer_id', sa.String(length=64), nullable=False),
    sa.Column('seller_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('service_fee', sa.BigInteger(), nullable=False),
    sa.Column('seller_earnings', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('delivery_days', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('paid_amount', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('refunded_amount', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('extension', sa.JSON(), nullable=True),
    sa.Column('delivery', sa.JSON(), nullable=True),
    sa.Column('buyer_review_id', sa.String(length=64), nullable=True),
    sa.Column('seller_review_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("status IN ('awaiting_payment','in_progress','delivered','completed','cancelled','expired')", name=op.f('ck_orders_status_known')),
    sa.CheckConstraint('buyer_id <> seller_id', name=op.f('ck_orders_two_parties')),
    sa.CheckConstraint('paid_amount >= 0 AND refunded_amount >= 0 AND refunded_amount <= paid_amount', name=op.f('ck_orders_money')),
    sa.CheckConstraint('price > 0', name=op.f('ck_orders_price_positive')),
    sa.CheckConstraint('service_fee >= 0 AND seller_earnings >= 0 AND seller_earnings <= price', name=op.f('ck_orders_shares')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('offer_id', name=op.f('uq_orders_offer_id'))
    )
    op.create_table('outbox_events',
    sa.Column('seq', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('event_type', sa.String(length=255), nullable=False),
    sa.Column('producer', sa.String(length=100), nullable=False),
    sa.Column('correlation_id', sa.String(length=100), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_outbox_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_events_event_id'))
    )
    op.create_table('payments',
    sa.Column('intent_id', sa.String(length=255), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('client_secret', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('intent_id', name=op.f('pk_payments'))
    )
    op.create_table('processed_events',
    sa.Column('consumer', sa.String(length=100), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id', name=op.f('pk_processed_events'))
    )
    op.create_table('refund_jobs',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('intent_id', sa.String(length=255), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('refund_id', sa.String(length=255), nullable=True),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_refund_jobs_amount_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_jobs')),
    sa.UniqueConstraint('intent_id', name=op.f('uq_refund_jobs_intent_id'))
    )
    op.create_index('ix_notifications_user_created', 'notifications', ['user_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_order_history_order_id'), 'order_history', ['order_id'], unique=False)
    op.create_index('ix_orders_unpaid_expires_at', 'orders', ['expires_at'], unique=False, postgresql_where=sa.text("status = 'awaiting_payment'"))
    op.create_index('ix_orders_seller_created', 'orders', ['seller_id', 'created_at'], unique=False)
    op.create_index('ix_orders_buyer_created', 'orders', ['buyer_id', 'created_at'], unique=False)
    op.create_index('ix_outbox_events_published_at_seq', 'outbox_events', ['published_at', 'seq'], unique=False)
    op.create_index(op.f('ix_payments_order_id'), 'payments', ['order_id'], unique=False)
    op.create_index('ix_payments_unsettled', 'payments', ['created_at'], unique=False, postgresql_where=sa.text("status <> 'succeeded'"))
    op.create_index('ix_refund_jobs_pending', 'refund_jobs', ['id'], unique=False, postgresql_where=sa.text('refunded_at IS NULL'))
    for statement in APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS order_history CASCADE")
    op.execute("DROP FUNCTION IF EXISTS order_history_append_only()")
    for table in (
        "processed_events",
        "outbox_events",
        "refund_jobs",
        "payments",
        "orders",
        "offer_replicas",
        "notifications",
        "gig_replicas",
        "directory",
    ):
        op.drop_table(table)
