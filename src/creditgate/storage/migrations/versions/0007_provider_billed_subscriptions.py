"""subscriptions billed by a payment provider: its subscription id, paid period, awaited carry

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from creditgate.storage.types import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: a batch copy of `subscriptions` would trip the
    # foreign key `plan_cycles` holds on it.
    op.add_column("subscriptions", sa.Column("provider_ref", sa.String(length=255), nullable=True))
    op.add_column("subscriptions", sa.Column("paid_until", UtcDateTime(), nullable=True))
    op.add_column("subscriptions", sa.Column("awaiting_carry", sa.BigInteger(), nullable=True))
    op.create_index("ix_subscriptions_provider_ref", "subscriptions", ["provider_ref"])


def downgrade() -> None:
    op.drop_index("ix_subscriptions_provider_ref", table_name="subscriptions")
    for column in ("awaiting_carry", "paid_until", "provider_ref"):
        op.execute(f"ALTER TABLE subscriptions DROP COLUMN {column}")
