"""The few statements that differ between SQLite and PostgreSQL."""

from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    String,
    Table,
    cast,
    func,
    literal_column,
    type_coerce,
)
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


def utc_day(conn: Connection, column: ColumnElement[Any]) -> ColumnElement[date]:
    """The UTC calendar day of a stored time, as a `date`.

    PostgreSQL turns the `timestamptz` into UTC first, whatever the session's zone, and
    casts it to a date, which costs a fraction of formatting it as text and groups faster;
    SQLite stores UTC text of fixed width (`UtcDateTime`), whose first ten characters are
    the day, read back as a `date` by the column type. The zone and the bounds are literals,
    not parameters: grouping by the expression then matches the selected one exactly.
    """
    if conn.dialect.name == "postgresql":
        return cast(func.timezone(literal_column("'UTC'"), column), Date)
    ten = func.substr(column, literal_column("1"), literal_column("10"), type_=String)
    return type_coerce(ten, Date)
