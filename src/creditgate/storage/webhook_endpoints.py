"""Queries over webhook endpoints: where events go, which, and whether they are failing.

A change to which endpoints listen (one created, deleted, enabled, disabled, or given
other event types) renews the catalog's revision, the key under which write transactions
cache the listeners (`RevisionCache`).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from creditgate.domain.webhooks import WebhookEndpoint
from creditgate.storage.catalog import renew_revision
from creditgate.storage.tables import webhook_attempts, webhook_deliveries, webhook_endpoints

Listeners = tuple[tuple[int, tuple[str, ...]], ...]
"""The enabled endpoints, each with the event types it hears."""

_LISTENING = frozenset({"event_types", "is_enabled"})
"""The fields whose change changes who hears an event."""


def _endpoint(row: Row[Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row.id,
        url=row.url,
        description=row.description,
        event_types=tuple(row.event_types),
        is_enabled=row.is_enabled,
        disabled_reason=row.disabled_reason,
        failing_since=row.failing_since,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def insert_endpoint(
    conn: Connection,
    *,
    url: str,
    description: str | None,
    event_types: tuple[str, ...],
    secret: str,
    now: datetime,
) -> WebhookEndpoint:
    """Register an endpoint, enabled."""
    values = {
        "url": url,
        "description": description,
        "event_types": list(event_types),
        "secret": secret,
        "is_enabled": True,
        "disabled_reason": None,
        "failing_since": None,
        "created_at": now,
        "updated_at": now,
    }
    row = conn.execute(insert(webhook_endpoints).returning(*webhook_endpoints.c), values).one()
    renew_revision(conn)
    return _endpoint(row)


def find_endpoint(
    conn: Connection, endpoint_id: int, *, lock: bool = False
) -> WebhookEndpoint | None:
    """One endpoint; `lock` serializes its writers (PostgreSQL)."""
    stmt = select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).one_or_none()
    return None if row is None else _endpoint(row)


def list_endpoints(conn: Connection) -> list[WebhookEndpoint]:
    """Every endpoint, oldest first."""
    stmt = select(webhook_endpoints).order_by(webhook_endpoints.c.id)
    return [_endpoint(row) for row in conn.execute(stmt)]


def change_endpoint(
    conn: Connection, endpoint_id: int, values: dict[str, Any], now: datetime
) -> None:
    """Write some fields of an endpoint; renew the revision when who listens may change."""
    if "event_types" in values:
        values = {**values, "event_types": list(values["event_types"])}
    conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id)
        .values(**values, updated_at=now)
    )
    if _LISTENING & values.keys():
        renew_revision(conn)


def set_failing_since(conn: Connection, endpoint_id: int, at: datetime | None) -> None:
    """Start (or, with None, end) an endpoint's run of failures; not a change of listeners."""
    conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id)
        .values(failing_since=at)
    )


def endpoint_secret(conn: Connection, endpoint_id: int) -> str | None:
    """An endpoint's signing secret (for the worker only: it is never shown again)."""
    secret: str | None = conn.execute(
        select(webhook_endpoints.c.secret).where(webhook_endpoints.c.id == endpoint_id)
    ).scalar_one_or_none()
    return secret


def delete_endpoint(conn: Connection, endpoint_id: int) -> None:
    """Delete an endpoint with its deliveries and their attempts (the events stay)."""
    mine = select(webhook_deliveries.c.id).where(webhook_deliveries.c.endpoint_id == endpoint_id)
    conn.execute(delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(mine)))
    conn.execute(delete(webhook_deliveries).where(webhook_deliveries.c.endpoint_id == endpoint_id))
    conn.execute(delete(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id))
    renew_revision(conn)


def listeners(conn: Connection) -> Listeners:
    """The enabled endpoints and their event types, by id."""
    stmt = (
        select(webhook_endpoints.c.id, webhook_endpoints.c.event_types)
        .where(webhook_endpoints.c.is_enabled.is_(True))
        .order_by(webhook_endpoints.c.id)
    )
    return tuple((row.id, tuple(row.event_types)) for row in conn.execute(stmt))
