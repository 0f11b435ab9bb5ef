"""Queries over usage events: written with the effect they record, read for analytics."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, func, insert, select

from creditgate.domain.amounts import Credits
from creditgate.domain.ids import AccountId, EntryId, HoldId
from creditgate.domain.pricing import PriceId, check_quantity, quantity_data
from creditgate.domain.usage import Outcome, UsageEvent, UsageTotal
from creditgate.storage.tables import accounts, usage_events

_insert_event = insert(usage_events)


def event_values(account_pk: int, event: UsageEvent) -> dict[str, Any]:
    """The row of a usage event."""
    return {
        "account_id": account_pk,
        "member_id": event.member_id,
        "feature": event.feature,
        "model": event.model,
        "quantity": quantity_data(event.quantity),
        "credits": event.credits.units,
        "outcome": event.outcome.value,
        "latency_ms": event.latency_ms,
        "request_id": event.request_id,
        "metadata": event.metadata,
        "entry_id": event.entry_id,
        "hold_id": event.hold_id,
        "price_id": event.price_id,
        "created_at": event.created_at,
    }


def insert_event(conn: Connection, account_pk: int, event: UsageEvent) -> None:
    """Append one usage event."""
    conn.execute(_insert_event, event_values(account_pk, event))


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageFilter:
    """Which usage events a query reads: every field narrows, None means any."""

    account_pk: int | None = None
    feature: str | None = None
    model: str | None = None
    outcome: Outcome | None = None
    since: datetime | None = None
    until: datetime | None = None


def _narrowed(stmt: Select[Any], where: UsageFilter) -> Select[Any]:
    c = usage_events.c
    if where.account_pk is not None:
        stmt = stmt.where(c.account_id == where.account_pk)
    if where.feature is not None:
        stmt = stmt.where(c.feature == where.feature)
    if where.model is not None:
        stmt = stmt.where(c.model == where.model)
    if where.outcome is not None:
        stmt = stmt.where(c.outcome == where.outcome.value)
    if where.since is not None:
        stmt = stmt.where(c.created_at >= where.since)
    if where.until is not None:
        stmt = stmt.where(c.created_at < where.until)
    return stmt


def _event(row: Row[Any]) -> UsageEvent:
    return UsageEvent(
        id=row.id,
        account_id=AccountId(row.external_id),
        member_id=row.member_id,
        feature=row.feature,
        model=row.model,
        quantity=check_quantity(row.quantity),
        credits=Credits(row.credits),
        outcome=Outcome(row.outcome),
        latency_ms=row.latency_ms,
        request_id=row.request_id,
        metadata=row.metadata or {},
        entry_id=None if row.entry_id is None else EntryId(row.entry_id),
        hold_id=None if row.hold_id is None else HoldId(row.hold_id),
        price_id=None if row.price_id is None else PriceId(row.price_id),
        created_at=row.created_at,
    )


def list_events(
    conn: Connection, where: UsageFilter, before_id: int | None, limit: int
) -> list[UsageEvent]:
    """Events newest first, below `before_id` (the cursor), at most `limit`."""
    stmt = _narrowed(
        select(usage_events, accounts.c.external_id).join(
            accounts, accounts.c.id == usage_events.c.account_id
        ),
        where,
    )
    if before_id is not None:
        stmt = stmt.where(usage_events.c.id < before_id)
    stmt = stmt.order_by(usage_events.c.id.desc()).limit(limit)
    return [_event(row) for row in conn.execute(stmt)]


def totals(conn: Connection, where: UsageFilter) -> list[UsageTotal]:
    """Event counts and credits by feature, model and outcome."""
    c = usage_events.c
    stmt = _narrowed(
        select(c.feature, c.model, c.outcome, func.count(), func.coalesce(func.sum(c.credits), 0))
        .group_by(c.feature, c.model, c.outcome)
        .order_by(c.feature.asc().nulls_first(), c.model.asc().nulls_first(), c.outcome),
        where,
    )
    return [
        UsageTotal(
            feature=feature,
            model=model,
            outcome=Outcome(outcome),
            events=int(count),
            credits=Credits(int(credits)),
        )
        for feature, model, outcome, count, credits in conn.execute(stmt)
    ]
