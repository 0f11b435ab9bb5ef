"""auto top-up: its setting per account, and its threshold and state beside the balance

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from creditgate.storage.types import UtcDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "auto_top_ups",
        sa.Column("account_id", Id, nullable=False),
        sa.Column("pack_id", Id, nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("payment_method_ref", sa.String(length=255), nullable=False),
        sa.Column("last_threshold", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failures_max", sa.Integer(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=500), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "failures >= 0 AND failures_max >= 1", name=op.f("ck_auto_top_ups_failures_valid")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_auto_top_ups_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["pack_id"], ["packs.id"], name=op.f("fk_auto_top_ups_pack_id_packs")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_auto_top_ups")),
    )
    # Plain ADD COLUMN on both databases (a batch copy of `accounts` would trip the foreign
    # keys that point at it); the CHECKs that pair the two columns are added on PostgreSQL,
    # where ALTER TABLE can add them, and SQLite keeps them through the engine's writes.
    op.add_column("accounts", sa.Column("top_up_threshold", sa.BigInteger(), nullable=True))
    op.add_column("accounts", sa.Column("top_up_state", sa.String(length=16), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.create_check_constraint(
            op.f("ck_accounts_top_up_state_with_threshold"),
            "accounts",
            "(top_up_threshold IS NULL) = (top_up_state IS NULL)",
        )
        op.create_check_constraint(
            op.f("ck_accounts_top_up_state_valid"),
            "accounts",
            "top_up_state IN ('armed', 'pending', 'spent')",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_accounts_top_up_state_valid"), "accounts", type_="check")
        op.drop_constraint(
            op.f("ck_accounts_top_up_state_with_threshold"), "accounts", type_="check"
        )
    for column in ("top_up_state", "top_up_threshold"):
        op.execute(f"ALTER TABLE accounts DROP COLUMN {column}")
    op.drop_table("auto_top_ups")
