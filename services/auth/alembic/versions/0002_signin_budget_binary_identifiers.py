"""Failed-sign-in budget on the account; usernames and emails compared under a binary collation.

The application stores identifiers in one canonical form (servicekit.identifiers: NFKC, case folding, no
default-ignorable code points); utf8mb4_unicode_ci would add equivalences of its own (accents, zero-width and
trailing-space variants matching an account), each of which a sign-in could use as a fresh identifier.
Existing values are canonical already for ASCII identifiers, which is all the previous policy admitted for
usernames; under a binary collation no two existing rows can collide that did not collide before.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
_IDENTIFIERS = (("username", 30), ("email", 254))


def upgrade() -> None:
    op.add_column("accounts", sa.Column("failed_signins", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("accounts", sa.Column("last_failed_signin_at", TIMESTAMP, nullable=True))
    for name, length in _IDENTIFIERS:
        op.alter_column(
            "accounts",
            name,
            existing_type=sa.String(length),
            type_=mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"),
            existing_nullable=False,
        )


def downgrade() -> None:
    for name, length in _IDENTIFIERS:
        op.alter_column(
            "accounts",
            name,
            existing_type=sa.String(length),
            type_=mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_unicode_ci"),
            existing_nullable=False,
        )
    op.drop_column("accounts", "last_failed_signin_at")
    op.drop_column("accounts", "failed_signins")
