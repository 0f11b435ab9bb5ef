"""plans, subscriptions and their cycles; usage periods on accounts and member caps

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from creditgate.storage.types import UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column(
            "prices",
            sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rollover", sa.String(length=32), nullable=False),
        sa.Column("rollover_cap", sa.BigInteger(), nullable=True),
        sa.Column("cycle", sa.String(length=32), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "(rollover = 'capped') = (rollover_cap IS NOT NULL)",
            name=op.f("ck_plans_cap_when_capped"),
        ),
        sa.CheckConstraint("cycle IN ('month', 'interval')", name=op.f("ck_plans_cycle_valid")),
        sa.CheckConstraint(
            "rollover IN ('none', 'capped', 'full')", name=op.f("ck_plans_rollover_valid")
        ),
        sa.CheckConstraint("credits >= 0", name=op.f("ck_plans_credits_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("key", name=op.f("uq_plans_key")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(
            "ix_plans_is_default",
            ["is_default"],
            unique=True,
            postgresql_where=sa.text("is_default"),
            sqlite_where=sa.text("is_default"),
        )

    op.create_table(
        "subscriptions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("plan_id", Id, nullable=False),
        sa.Column("interval", sa.String(length=32), nullable=False),
        sa.Column("anchor_at", UtcDateTime(), nullable=False),
        sa.Column("cycle_months", sa.Integer(), nullable=False),
        sa.Column("cycle_index", sa.Integer(), nullable=False),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("next_plan_id", Id, nullable=True),
        sa.Column("next_interval", sa.String(length=32), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "interval IN ('month', 'year')", name=op.f("ck_subscriptions_interval_valid")
        ),
        sa.CheckConstraint(
            "next_interval IN ('month', 'year')", name=op.f("ck_subscriptions_next_interval_valid")
        ),
        sa.CheckConstraint(
            "cycle_index >= 0", name=op.f("ck_subscriptions_cycle_index_not_negative")
        ),
        sa.CheckConstraint(
            "cycle_months IN (1, 12)", name=op.f("ck_subscriptions_cycle_months_valid")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_subscriptions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["next_plan_id"], ["plans.id"], name=op.f("fk_subscriptions_next_plan_id_plans")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_subscriptions_plan_id_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subscriptions_account_id_live",
            ["account_id"],
            unique=True,
            postgresql_where=sa.text("ended_at IS NULL"),
            sqlite_where=sa.text("ended_at IS NULL"),
        )

    op.create_table(
        "plan_cycles",
        sa.Column("account_id", Id, nullable=False),
        sa.Column("subscription_id", Id, nullable=False),
        sa.Column("cycle_index", sa.Integer(), nullable=False),
        sa.Column("plan_id", Id, nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("carried", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_plan_cycles_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_cycles_plan_id_plans")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_plan_cycles_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("subscription_id", "cycle_index", name=op.f("pk_plan_cycles")),
    )
    with op.batch_alter_table("plan_cycles", schema=None) as batch_op:
        batch_op.create_index("ix_plan_cycles_account_id", ["account_id"], unique=False)

    # Plain ADD COLUMN on both databases: a batch copy of `accounts` would trip the foreign
    # keys that point at it.
    op.add_column("accounts", sa.Column("renews_at", UtcDateTime(), nullable=True))
    op.add_column("accounts", sa.Column("period_started_at", UtcDateTime(), nullable=True))
    op.add_column(
        "accounts",
        sa.Column("period_spent", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(
        "accounts",
        sa.Column("period_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(
        "accounts",
        sa.Column("tokens_used", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cap_period", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("period_started_at", UtcDateTime(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_members_cap_period_valid"), "cap_period IN ('month', 'cycle')"
        )


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_members_cap_period_valid"), type_="check")
        batch_op.drop_column("period_started_at")
        batch_op.drop_column("cap_period")

    # Plain DROP COLUMN on both databases: a batch copy of `accounts` would trip the
    # foreign keys that point at it.
    for column in (
        "tokens_used",
        "period_tokens",
        "period_spent",
        "period_started_at",
        "renews_at",
    ):
        op.execute(f"ALTER TABLE accounts DROP COLUMN {column}")

    with op.batch_alter_table("plan_cycles", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_cycles_account_id")

    op.drop_table("plan_cycles")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_subscriptions_account_id_live",
            postgresql_where=sa.text("ended_at IS NULL"),
            sqlite_where=sa.text("ended_at IS NULL"),
        )

    op.drop_table("subscriptions")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_plans_is_default",
            postgresql_where=sa.text("is_default"),
            sqlite_where=sa.text("is_default"),
        )

    op.drop_table("plans")
