"""The order replica also holds paid, not yet completed orders: `completed_orders.completed_at` may be NULL.

Parties are known from `order.order.placed.v1`, so reviews.create decides who may act before it says anything
about the order's state (docs/adr/0021-review-service.md).

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

TIMESTAMP = sa.DateTime(timezone=False)


def upgrade() -> None:
    op.alter_column("completed_orders", "completed_at", existing_type=TIMESTAMP, nullable=True)


def downgrade() -> None:
    # Paid orders that have not completed leave the replica; their placed events are not replayed.
    op.execute("DELETE FROM completed_orders WHERE completed_at IS NULL")
    op.alter_column("completed_orders", "completed_at", existing_type=TIMESTAMP, nullable=False)
