"""Queries over widget keys: the live secrets that sign and check widget tokens."""

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from creditgate.storage.tables import widget_keys


def live_keys(conn: Connection) -> dict[int, bytes]:
    """Every key that is not retired, by id: a token signed by any of them is checked."""
    query = select(widget_keys.c.id, widget_keys.c.secret).where(widget_keys.c.retired_at.is_(None))
    return {row.id: bytes.fromhex(row.secret) for row in conn.execute(query)}


def insert_key(conn: Connection, *, secret: bytes, now: datetime) -> int:
    """Store a new signing key; its id is the one tokens name."""
    values = {"secret": secret.hex(), "created_at": now, "retired_at": None}
    key_id: int = conn.execute(insert(widget_keys).returning(widget_keys.c.id), values).scalar_one()
    return key_id


def retire_keys(conn: Connection, *, now: datetime) -> int:
    """Retire every live key: the tokens they signed stop working. How many were retired."""
    query = update(widget_keys).where(widget_keys.c.retired_at.is_(None)).values(retired_at=now)
    return conn.execute(query).rowcount
