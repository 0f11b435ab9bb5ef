"""guest quotas: rolling windows of uses kept in the database, and guest sessions

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from creditgate.storage.types import UtcDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "guest_windows",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("uses", sa.JSON(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_guest_windows")),
    )
    op.create_index(
        op.f("ix_guest_windows_expires_at"), "guest_windows", ["expires_at"], unique=False
    )
    op.create_table(
        "guest_sessions",
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("first_seen_at", UtcDateTime(), nullable=False),
        sa.Column("account_id", Id, nullable=True),
        sa.Column("linked_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "(account_id IS NULL) = (linked_at IS NULL)",
            name=op.f("ck_guest_sessions_linked_with_account"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_guest_sessions_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_guest_sessions")),
    )
    op.create_index(
        op.f("ix_guest_sessions_first_seen_at"), "guest_sessions", ["first_seen_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_guest_sessions_first_seen_at"), table_name="guest_sessions")
    op.drop_table("guest_sessions")
    op.drop_index(op.f("ix_guest_windows_expires_at"), table_name="guest_windows")
    op.drop_table("guest_windows")
