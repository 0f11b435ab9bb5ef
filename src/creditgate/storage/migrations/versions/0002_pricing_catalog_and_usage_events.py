"""pricing catalog and usage events: features, versioned prices, usage events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:37:32.758595
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from creditgate.storage.types import UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "catalog_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_catalog_settings")),
    )
    op.create_table(
        "features",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=500), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_features")),
        sa.UniqueConstraint("key", name=op.f("uq_features_key")),
    )
    op.create_index(op.f("ix_features_category"), "features", ["category"], unique=False)
    op.create_table(
        "prices",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("feature_id", Id, nullable=False),
        sa.Column("model", sa.String(length=101), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rule", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("minimum", sa.BigInteger(), nullable=True),
        sa.Column("effective_from", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "minimum IS NULL OR minimum >= 0", name=op.f("ck_prices_minimum_not_negative")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_prices_version_positive")),
        sa.ForeignKeyConstraint(
            ["feature_id"], ["features.id"], name=op.f("fk_prices_feature_id_features")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prices")),
        sa.UniqueConstraint(
            "feature_id", "model", "version", name=op.f("uq_prices_feature_id_model_version")
        ),
    )
    op.create_table(
        "usage_events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("member_id", sa.String(length=200), nullable=True),
        sa.Column("feature", sa.String(length=200), nullable=True),
        sa.Column("model", sa.String(length=101), nullable=True),
        sa.Column("quantity", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("latency_ms", sa.BigInteger(), nullable=True),
        sa.Column("request_id", sa.String(length=200), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"),
            nullable=False,
        ),
        sa.Column("entry_id", Id, nullable=True),
        sa.Column("hold_id", Id, nullable=True),
        sa.Column("price_id", Id, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('succeeded', 'failed', 'released', 'refused')",
            name=op.f("ck_usage_events_outcome_valid"),
        ),
        sa.CheckConstraint("credits >= 0", name=op.f("ck_usage_events_credits_not_negative")),
        sa.CheckConstraint(
            "latency_ms IS NULL OR latency_ms >= 0",
            name=op.f("ck_usage_events_latency_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_usage_events_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_usage_events_entry_id_entries")
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["holds.id"], name=op.f("fk_usage_events_hold_id_holds")
        ),
        sa.ForeignKeyConstraint(
            ["price_id"], ["prices.id"], name=op.f("fk_usage_events_price_id_prices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_events")),
    )
    op.create_index(
        "ix_usage_events_account_id_created_at",
        "usage_events",
        ["account_id", "created_at"],
        unique=False,
    )
    op.create_index("ix_usage_events_created_at", "usage_events", ["created_at"], unique=False)
    op.create_index(
        "ix_usage_events_feature_created_at",
        "usage_events",
        ["feature", "created_at"],
        unique=False,
    )
    # Plain nullable columns, added in place: on SQLite a foreign key would make Alembic copy
    # the whole table, and the copy of the ledger would lose its append-only triggers.
    for table in ("entries", "holds"):
        op.add_column(table, sa.Column("model", sa.String(length=101), nullable=True))
        op.add_column(table, sa.Column("quantity", sa.JSON(none_as_null=True), nullable=True))
        op.add_column(table, sa.Column("price_id", Id, nullable=True))


def downgrade() -> None:
    # DROP COLUMN alters in place on both databases (SQLite since 3.35).
    for table in ("holds", "entries"):
        for column in ("price_id", "quantity", "model"):
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_index("ix_usage_events_feature_created_at", table_name="usage_events")
    op.drop_index("ix_usage_events_created_at", table_name="usage_events")
    op.drop_index("ix_usage_events_account_id_created_at", table_name="usage_events")
    op.drop_table("usage_events")
    op.drop_table("prices")
    op.drop_index(op.f("ix_features_category"), table_name="features")
    op.drop_table("features")
    op.drop_table("catalog_settings")
