"""Queries over API keys: found by their public prefix, listed with their bound account."""

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, insert, select, update

from creditgate.domain.ids import AccountId
from creditgate.domain.keys import ApiKey, Scope
from creditgate.storage.tables import accounts, api_keys

_columns = (
    api_keys.c.id,
    api_keys.c.prefix,
    api_keys.c.digest,
    api_keys.c.scope,
    api_keys.c.name,
    accounts.c.external_id,
    api_keys.c.created_at,
    api_keys.c.revoked_at,
)
_keys: Select[Any] = select(*_columns).select_from(api_keys.outerjoin(accounts))


def _key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        prefix=row.prefix,
        scope=Scope(row.scope),
        name=row.name,
        account_id=None if row.external_id is None else AccountId(row.external_id),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def insert_key(
    conn: Connection,
    *,
    prefix: str,
    digest: str,
    scope: Scope,
    name: str,
    account_pk: int | None,
    now: datetime,
) -> int:
    """Store a new key's digest; the unique prefix refuses a (vanishingly rare) clash."""
    stmt = insert(api_keys).returning(api_keys.c.id)
    return int(
        conn.execute(
            stmt,
            {
                "prefix": prefix,
                "digest": digest,
                "scope": scope.value,
                "name": name,
                "account_id": account_pk,
                "created_at": now,
            },
        ).scalar_one()
    )


def find_key(conn: Connection, prefix: str) -> tuple[ApiKey, str] | None:
    """The key with this prefix and its stored digest, or None."""
    row = conn.execute(_keys.where(api_keys.c.prefix == prefix)).one_or_none()
    return None if row is None else (_key(row), row.digest)


def find_key_by_id(conn: Connection, key_id: int) -> ApiKey | None:
    """The key with this id, or None."""
    row = conn.execute(_keys.where(api_keys.c.id == key_id)).one_or_none()
    return None if row is None else _key(row)


def list_keys(conn: Connection) -> list[ApiKey]:
    """Every key, oldest first, revoked ones included (they are the audit trail)."""
    return [_key(row) for row in conn.execute(_keys.order_by(api_keys.c.id))]


def revoke_key(conn: Connection, key_id: int, now: datetime) -> None:
    """Mark a key revoked, once: a second revocation keeps the first time."""
    conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
