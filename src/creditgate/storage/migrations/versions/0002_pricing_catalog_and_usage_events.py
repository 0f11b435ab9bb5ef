"""pricing catalog and usage events: features, versioned prices, usage events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:37:32.758595
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import creditgate.storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_catalog_settings")),
    )
    op.create_table(
        "features",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=500), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", creditgate.storage.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", creditgate.storage.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_features")),
        sa.UniqueConstraint("key", name=op.f("uq_features_key")),
    )
    with op.batch_alter_table("features", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_features_category"), ["category"], unique=False)

    op.create_table(
        "prices",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "feature_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("model", sa.String(length=101), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rule", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("minimum", sa.BigInteger(), nullable=True),
        sa.Column(
            "effective_from", creditgate.storage.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "created_at", creditgate.storage.types.UtcDateTime(timezone=True), nullable=False
        ),
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
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
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
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("hold_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("price_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "created_at", creditgate.storage.types.UtcDateTime(timezone=True), nullable=False
        ),
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
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_usage_events_account_id_created_at", ["account_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_usage_events_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_usage_events_feature_created_at", ["feature", "created_at"], unique=False
        )

    for table in ("entries", "holds"):
        _add_priced_columns(table)


def downgrade() -> None:
    # On SQLite the batch below copies each table: the copy of `entries` needs its
    # append-only triggers again.
    for table in ("holds", "entries"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            # SQLite does not reflect the name of an inline REFERENCES: the copy drops it.
            if op.get_bind().dialect.name != "sqlite":
                batch_op.drop_constraint(f"fk_{table}_price_id_prices", type_="foreignkey")
            batch_op.drop_column("price_id")
            batch_op.drop_column("quantity")
            batch_op.drop_column("model")
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS entries_no_{action.lower()}")
            op.execute(
                f"CREATE TRIGGER entries_no_{action.lower()} BEFORE {action} ON entries "
                "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"
            )

    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_events_feature_created_at")
        batch_op.drop_index("ix_usage_events_created_at")
        batch_op.drop_index("ix_usage_events_account_id_created_at")

    op.drop_table("usage_events")
    op.drop_table("prices")
    with op.batch_alter_table("features", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_features_category"))

    op.drop_table("features")
    op.drop_table("catalog_settings")


def _add_priced_columns(table: str) -> None:
    """Add model, quantity and price version to a table, in place.

    On SQLite, Alembic's batch mode would copy the whole table to add a foreign key, and the
    copy would lose the ledger's append-only triggers; SQLite's own ADD COLUMN takes an
    inline REFERENCES, so the ledger is altered where it stands.
    """
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN model VARCHAR(101)")
        op.execute(f"ALTER TABLE {table} ADD COLUMN quantity JSON")
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN price_id INTEGER"
            f" CONSTRAINT fk_{table}_price_id_prices REFERENCES prices (id)"
        )
        return
    op.add_column(table, sa.Column("model", sa.String(length=101), nullable=True))
    op.add_column(table, sa.Column("quantity", sa.JSON(none_as_null=True), nullable=True))
    op.add_column(table, sa.Column("price_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(f"fk_{table}_price_id_prices", table, "prices", ["price_id"], ["id"])
