"""promo codes and referrals

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from creditgate.storage.types import UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "promo_codes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("expires_after_days", sa.Integer(), nullable=True),
        sa.Column("starts_at", UtcDateTime(), nullable=True),
        sa.Column("ends_at", UtcDateTime(), nullable=True),
        sa.Column("max_redemptions", sa.BigInteger(), nullable=True),
        sa.Column("redeemed", sa.BigInteger(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("credits > 0", name=op.f("ck_promo_codes_credits_positive")),
        sa.CheckConstraint(
            "expires_after_days IS NULL OR expires_after_days > 0",
            name=op.f("ck_promo_codes_expiry_positive"),
        ),
        sa.CheckConstraint(
            "redeemed >= 0 AND (max_redemptions IS NULL OR redeemed <= max_redemptions)",
            name=op.f("ck_promo_codes_redeemed_within_max"),
        ),
        sa.CheckConstraint(
            "starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at",
            name=op.f("ck_promo_codes_window_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promo_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_promo_codes_code")),
    )
    op.create_table(
        "referrals",
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "referrer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("condition", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("referrer_credits", sa.BigInteger(), nullable=False),
        sa.Column("referee_credits", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("granted_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "(status = 'granted') = (granted_at IS NOT NULL)",
            name=op.f("ck_referrals_granted_when_granted"),
        ),
        sa.CheckConstraint(
            "condition IN ('signup', 'first_purchase')", name=op.f("ck_referrals_condition_valid")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'granted')", name=op.f("ck_referrals_status_valid")
        ),
        sa.CheckConstraint(
            "referrer_credits >= 0 AND referee_credits >= 0",
            name=op.f("ck_referrals_credits_valid"),
        ),
        sa.CheckConstraint("referrer_id <> account_id", name=op.f("ck_referrals_not_self")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_referrals_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["referrer_id"], ["accounts.id"], name=op.f("fk_referrals_referrer_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_referrals")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_referrals_referrer_id_created_at", ["referrer_id", "created_at"], unique=False
        )

    op.create_table(
        "promo_redemptions",
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("promo_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_promo_redemptions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_promo_redemptions_entry_id_entries")
        ),
        sa.ForeignKeyConstraint(
            ["promo_id"], ["promo_codes.id"], name=op.f("fk_promo_redemptions_promo_id_promo_codes")
        ),
        sa.PrimaryKeyConstraint("account_id", "promo_id", name=op.f("pk_promo_redemptions")),
    )
    with op.batch_alter_table("promo_redemptions", schema=None) as batch_op:
        batch_op.create_index("ix_promo_redemptions_promo_id", ["promo_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("promo_redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_promo_redemptions_promo_id")

    op.drop_table("promo_redemptions")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_referrer_id_created_at")

    op.drop_table("referrals")
    op.drop_table("promo_codes")
