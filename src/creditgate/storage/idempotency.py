"""Queries over idempotency keys: one row per (account, operation, key), with its result."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select

from creditgate.storage.tables import idempotency_keys


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A key already used: the request it was used for and the result it produced."""

    fingerprint: str
    result: str


def find_key(conn: Connection, account_pk: int, operation: str, key: str) -> StoredKey | None:
    """The stored use of a key, or None."""
    stmt = select(idempotency_keys.c.fingerprint, idempotency_keys.c.result).where(
        idempotency_keys.c.account_id == account_pk,
        idempotency_keys.c.operation == operation,
        idempotency_keys.c.key == key,
    )
    row = conn.execute(stmt).one_or_none()
    return None if row is None else StoredKey(row.fingerprint, row.result)


def insert_key(
    conn: Connection,
    *,
    account_pk: int,
    operation: str,
    key: str,
    fingerprint: str,
    result: str,
    now: datetime,
) -> None:
    """Claim a key in the effect's transaction; the primary key refuses a second claim."""
    conn.execute(
        insert(idempotency_keys).values(
            account_id=account_pk,
            operation=operation,
            key=key,
            fingerprint=fingerprint,
            result=result,
            created_at=now,
        )
    )
