"""Queries over the outbox: events, their deliveries per endpoint, and each delivery's attempts.

An event and its deliveries are written in the transaction of the change that caused them.
A worker claims due deliveries (`claim_due`): pending, due, not leased by another live
worker, of an enabled endpoint, and the earliest pending one of its endpoint and account,
so an account's events reach an endpoint in order. On PostgreSQL the claim skips rows
another worker has locked (`FOR UPDATE SKIP LOCKED`) and leases what it takes; on SQLite
the write transaction (`BEGIN IMMEDIATE`) serializes claims.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, exists, insert, or_, select, update

from creditgate.domain.ids import AccountId
from creditgate.domain.webhooks import (
    DeliveryAttempt,
    DeliveryStatus,
    DueDelivery,
    EventType,
    WebhookDelivery,
    WebhookEvent,
)
from creditgate.storage.tables import (
    accounts,
    outbox_events,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)

ATTEMPTS_SHOWN_MAX = 100
"""The newest attempts a delivery lists (an endpoint down for days is tried ~130 times)."""

_PENDING = DeliveryStatus.PENDING.value
_DELIVERED = DeliveryStatus.DELIVERED.value


def insert_event(
    conn: Connection,
    *,
    account_pk: int,
    event_id: str,
    event_type: EventType,
    data: dict[str, Any],
    endpoint_ids: Sequence[int],
    now: datetime,
) -> int:
    """Write an event and one pending delivery of it per endpoint, due now."""
    assert endpoint_ids, "an event nobody listens to is not written"
    pk: int = conn.execute(
        insert(outbox_events).returning(outbox_events.c.id),
        {
            "account_id": account_pk,
            "event_id": event_id,
            "type": event_type.value,
            "data": data,
            "created_at": now,
        },
    ).scalar_one()
    conn.execute(
        insert(webhook_deliveries),
        [
            {
                "account_id": account_pk,
                "endpoint_id": endpoint_id,
                "event_id": pk,
                "status": _PENDING,
                "failures": 0,
                "next_attempt_at": now,
                "lease": None,
                "leased_until": None,
                "delivered_at": None,
                "created_at": now,
            }
            for endpoint_id in endpoint_ids
        ],
    )
    return pk


def body_of(event_type: str, created_at: datetime, data: dict[str, Any]) -> str:
    """The JSON a delivery sends: the Standard Webhooks payload `{type, timestamp, data}`."""
    payload = {"type": event_type, "timestamp": created_at.isoformat(), "data": data}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def claim_due(
    conn: Connection, now: datetime, *, limit: int, lease: str, leased_until: datetime
) -> list[DueDelivery]:
    """Lease up to `limit` deliveries that are due and first in line; what to send for each."""
    d = webhook_deliveries
    earlier = webhook_deliveries.alias("earlier")
    waits_behind = exists().where(
        earlier.c.endpoint_id == d.c.endpoint_id,
        earlier.c.account_id == d.c.account_id,
        earlier.c.status == _PENDING,
        earlier.c.event_id < d.c.event_id,
    )
    stmt = (
        select(d.c.id)
        .join(webhook_endpoints, webhook_endpoints.c.id == d.c.endpoint_id)
        .where(
            d.c.status == _PENDING,
            d.c.next_attempt_at <= now,
            or_(d.c.leased_until.is_(None), d.c.leased_until <= now),
            webhook_endpoints.c.is_enabled.is_(True),
            ~waits_behind,
        )
        .order_by(d.c.next_attempt_at, d.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=d)
    ids = list(conn.execute(stmt).scalars())
    if not ids:
        return []
    conn.execute(update(d).where(d.c.id.in_(ids)).values(lease=lease, leased_until=leased_until))
    rows = conn.execute(
        select(
            d.c.id,
            webhook_endpoints.c.url,
            webhook_endpoints.c.secret,
            outbox_events.c.event_id,
            outbox_events.c.type,
            outbox_events.c.data,
            outbox_events.c.created_at,
        )
        .join(webhook_endpoints, webhook_endpoints.c.id == d.c.endpoint_id)
        .join(outbox_events, outbox_events.c.id == d.c.event_id)
        .where(d.c.id.in_(ids))
        .order_by(d.c.next_attempt_at, d.c.id)
    )
    return [
        DueDelivery(
            delivery_id=row.id,
            lease=lease,
            url=row.url,
            secret=row.secret,
            event_id=row.event_id,
            body=body_of(row.type, row.created_at, row.data),
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRow:
    """A delivery as the worker's bookkeeping needs it."""

    pk: int
    account_pk: int
    endpoint_id: int
    status: DeliveryStatus
    failures: int
    lease: str | None


def find_delivery(conn: Connection, delivery_id: int, *, lock: bool = False) -> DeliveryRow | None:
    """One delivery's bookkeeping; `lock` takes its row lock (PostgreSQL)."""
    d = webhook_deliveries
    stmt = select(d.c.id, d.c.account_id, d.c.endpoint_id, d.c.status, d.c.failures, d.c.lease)
    stmt = stmt.where(d.c.id == delivery_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).one_or_none()
    if row is None:
        return None
    return DeliveryRow(
        pk=row.id,
        account_pk=row.account_id,
        endpoint_id=row.endpoint_id,
        status=DeliveryStatus(row.status),
        failures=row.failures,
        lease=row.lease,
    )


def insert_attempt(
    conn: Connection,
    found: DeliveryRow,
    *,
    at: datetime,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
) -> None:
    """Log one attempt of a delivery."""
    conn.execute(
        insert(webhook_attempts),
        {
            "account_id": found.account_pk,
            "delivery_id": found.pk,
            "attempted_at": at,
            "status_code": status_code,
            "error": error,
            "duration_ms": duration_ms,
        },
    )


def mark_delivered(conn: Connection, delivery_id: int, at: datetime) -> None:
    """The endpoint took it: done, and the next of its account may go."""
    conn.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id == delivery_id)
        .values(
            status=_DELIVERED,
            delivered_at=at,
            next_attempt_at=None,
            lease=None,
            leased_until=None,
        )
    )


def schedule(conn: Connection, delivery_id: int, *, failures: int, at: datetime) -> None:
    """Make a delivery pending and due at `at`, its lease released."""
    conn.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id == delivery_id)
        .values(
            status=_PENDING,
            failures=failures,
            next_attempt_at=at,
            delivered_at=None,
            lease=None,
            leased_until=None,
        )
    )


def retry_now(conn: Connection, endpoint_id: int, now: datetime) -> None:
    """Make every pending delivery of an endpoint due now, its backoff started afresh."""
    conn.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.endpoint_id == endpoint_id,
            webhook_deliveries.c.status == _PENDING,
        )
        .values(failures=0, next_attempt_at=now, lease=None, leased_until=None)
    )


def _event(row: Row[Any]) -> WebhookEvent:
    return WebhookEvent(
        id=row.public_id,
        type=EventType(row.type),
        account_id=AccountId(row.external_id),
        data=row.data,
        created_at=row.event_created_at,
    )


def list_deliveries(
    conn: Connection,
    *,
    endpoint_id: int | None = None,
    delivery_id: int | None = None,
    before_id: int | None = None,
    limit: int = 1,
) -> list[WebhookDelivery]:
    """An endpoint's deliveries newest first (or one delivery by id), with their attempts."""
    d = webhook_deliveries
    stmt = (
        select(
            d,
            outbox_events.c.event_id.label("public_id"),
            outbox_events.c.type,
            outbox_events.c.data,
            outbox_events.c.created_at.label("event_created_at"),
            accounts.c.external_id,
        )
        .join(outbox_events, outbox_events.c.id == d.c.event_id)
        .join(accounts, accounts.c.id == d.c.account_id)
        .order_by(d.c.id.desc())
        .limit(limit)
    )
    if endpoint_id is not None:
        stmt = stmt.where(d.c.endpoint_id == endpoint_id)
    if delivery_id is not None:
        stmt = stmt.where(d.c.id == delivery_id)
    if before_id is not None:
        stmt = stmt.where(d.c.id < before_id)
    rows = conn.execute(stmt).all()
    logs = _attempts(conn, [row.id for row in rows])
    return [
        WebhookDelivery(
            id=row.id,
            endpoint_id=row.endpoint_id,
            event=_event(row),
            status=DeliveryStatus(row.status),
            attempts=tuple(logs.get(row.id, ())),
            next_attempt_at=row.next_attempt_at,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
        )
        for row in rows
    ]


def _attempts(conn: Connection, delivery_ids: list[int]) -> dict[int, list[DeliveryAttempt]]:
    """The newest attempts of each delivery, newest first."""
    if not delivery_ids:
        return {}
    a = webhook_attempts
    stmt = (
        select(a.c.delivery_id, a.c.attempted_at, a.c.status_code, a.c.error, a.c.duration_ms)
        .where(a.c.delivery_id.in_(delivery_ids))
        .order_by(a.c.delivery_id, a.c.id.desc())
    )
    logs: dict[int, list[DeliveryAttempt]] = {}
    for row in conn.execute(stmt):
        log = logs.setdefault(row.delivery_id, [])
        if len(log) < ATTEMPTS_SHOWN_MAX:
            log.append(
                DeliveryAttempt(
                    attempted_at=row.attempted_at,
                    status_code=row.status_code,
                    error=row.error,
                    duration_ms=row.duration_ms,
                )
            )
    return logs


def prune_delivered(conn: Connection, before: datetime, limit: int) -> int:
    """Delete up to `limit` events older than `before` that no endpoint still waits for."""
    waiting = exists().where(
        webhook_deliveries.c.event_id == outbox_events.c.id,
        webhook_deliveries.c.status == _PENDING,
    )
    ids = list(
        conn.execute(
            select(outbox_events.c.id)
            .where(outbox_events.c.created_at < before, ~waiting)
            .order_by(outbox_events.c.id)
            .limit(limit)
        ).scalars()
    )
    if not ids:
        return 0
    theirs = select(webhook_deliveries.c.id).where(webhook_deliveries.c.event_id.in_(ids))
    conn.execute(delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(theirs)))
    conn.execute(delete(webhook_deliveries).where(webhook_deliveries.c.event_id.in_(ids)))
    conn.execute(delete(outbox_events).where(outbox_events.c.id.in_(ids)))
    return len(ids)
