"""The few statements that differ between SQLite and PostgreSQL."""

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert a row unless one with the same unique key exists; True when it was inserted.

    The answer comes from RETURNING, not `rowcount`: psycopg reports -1 once SQLAlchemy has
    closed the cursor of a statement that returns no rows.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(values).on_conflict_do_nothing()
    marker = next(iter(table.primary_key.columns))
    return conn.execute(stmt.returning(marker)).first() is not None
