"""analytics indexes: grants, welcome lots and paid purchases by time, across accounts

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRANTS = "kind = 'grant'"


def upgrade() -> None:
    op.create_index(
        "ix_entries_effective_at_grant",
        "entries",
        ["effective_at"],
        unique=False,
        postgresql_where=sa.text(GRANTS),
        sqlite_where=sa.text(GRANTS),
    )
    op.create_index("ix_lots_source_created_at", "lots", ["source", "created_at"], unique=False)
    op.create_index("ix_purchases_paid_at", "purchases", ["paid_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_purchases_paid_at", table_name="purchases")
    op.drop_index("ix_lots_source_created_at", table_name="lots")
    op.drop_index("ix_entries_effective_at_grant", table_name="entries")
