"""packs, purchases and provider events

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from creditgate.storage.types import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "packs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("bonus_credits", sa.BigInteger(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("badge", sa.String(length=40), nullable=True),
        sa.Column("is_free_once", sa.Boolean(), nullable=False),
        sa.Column("expires_after_days", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("bonus_credits >= 0", name=op.f("ck_packs_bonus_not_negative")),
        sa.CheckConstraint("credits > 0", name=op.f("ck_packs_credits_positive")),
        sa.CheckConstraint(
            "is_free_once = (price_minor = 0)", name=op.f("ck_packs_free_once_is_free")
        ),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_packs_price_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packs")),
        sa.UniqueConstraint("key", name=op.f("uq_packs_key")),
    )
    op.create_table(
        "purchases",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("pack_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("interval", sa.String(length=32), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("payment_ref", sa.String(length=255), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "bonus_lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("taken_back", sa.BigInteger(), nullable=False),
        sa.Column("owed", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("paid_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('pack', 'plan', 'top_up')", name=op.f("ck_purchases_kind_valid")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'failed', 'refunded', 'disputed')",
            name=op.f("ck_purchases_status_valid"),
        ),
        sa.CheckConstraint(
            "credits >= 0 AND taken_back >= 0 AND owed >= 0",
            name=op.f("ck_purchases_figures_valid"),
        ),
        sa.CheckConstraint(
            "refunded_minor BETWEEN 0 AND amount_minor",
            name=op.f("ck_purchases_refund_within_amount"),
        ),
        sa.CheckConstraint(
            "taken_back + owed <= credits", name=op.f("ck_purchases_taken_back_within_credits")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_purchases_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["bonus_lot_id"], ["lots.id"], name=op.f("fk_purchases_bonus_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_purchases_lot_id_lots")),
        sa.ForeignKeyConstraint(["pack_id"], ["packs.id"], name=op.f("fk_purchases_pack_id_packs")),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_purchases_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchases")),
        sa.UniqueConstraint("provider", "reference", name=op.f("uq_purchases_provider_reference")),
    )
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_purchases_account_id_created_at", ["account_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_purchases_account_id_pack_id_free",
            ["account_id", "pack_id"],
            unique=True,
            postgresql_where=sa.text("provider = 'free'"),
            sqlite_where=sa.text("provider = 'free'"),
        )
        batch_op.create_index("ix_purchases_payment_ref", ["payment_ref"], unique=False)

    op.create_table(
        "provider_events",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "purchase_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "detail",
            sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"),
            nullable=False,
        ),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('applied', 'duplicate', 'no_change', 'recorded', 'mismatch')",
            name=op.f("ck_provider_events_outcome_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_provider_events_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"], ["purchases.id"], name=op.f("fk_provider_events_purchase_id_purchases")
        ),
        sa.PrimaryKeyConstraint("provider", "event_id", name=op.f("pk_provider_events")),
    )
    with op.batch_alter_table("provider_events", schema=None) as batch_op:
        batch_op.create_index("ix_provider_events_received_at", ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("provider_events", schema=None) as batch_op:
        batch_op.drop_index("ix_provider_events_received_at")

    op.drop_table("provider_events")
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_index("ix_purchases_payment_ref")
        batch_op.drop_index(
            "ix_purchases_account_id_pack_id_free",
            postgresql_where=sa.text("provider = 'free'"),
            sqlite_where=sa.text("provider = 'free'"),
        )
        batch_op.drop_index("ix_purchases_account_id_created_at")

    op.drop_table("purchases")
    op.drop_table("packs")
