"""The few statements that differ between SQLite and PostgreSQL."""

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert a row unless one with the same unique key exists; True when it was inserted."""
    if conn.dialect.name == "postgresql":
        return (
            conn.execute(postgresql.insert(table).values(values).on_conflict_do_nothing()).rowcount
            == 1
        )
    return conn.execute(sqlite.insert(table).values(values).on_conflict_do_nothing()).rowcount == 1
