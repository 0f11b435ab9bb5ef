"""Queries over packs, purchases and the provider events that paid for them."""

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from creditgate.domain.amounts import Credits
from creditgate.domain.events import EventRecord, Outcome, Provider, ProviderEvent
from creditgate.domain.ids import AccountId
from creditgate.domain.packs import Pack, PackSpec, Purchase, PurchaseKind, PurchaseStatus
from creditgate.storage.dialects import insert_if_absent
from creditgate.storage.tables import accounts, packs, plans, provider_events, purchases


def _pack(row: Row[Any]) -> Pack:
    return Pack(
        key=row.key,
        name=row.name,
        description=row.description,
        credits=Credits(row.credits),
        bonus_credits=Credits(row.bonus_credits),
        price_minor=row.price_minor,
        currency=row.currency,
        badge=row.badge,
        is_free_once=row.is_free_once,
        expires_after_days=row.expires_after_days,
        is_active=row.is_active,
        sort_order=row.sort_order,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _pack_values(spec: PackSpec) -> dict[str, Any]:
    return {
        "key": spec.key,
        "name": spec.name,
        "description": spec.description,
        "credits": spec.credits.units,
        "bonus_credits": spec.bonus_credits.units,
        "price_minor": spec.price_minor,
        "currency": spec.currency,
        "badge": spec.badge,
        "is_free_once": spec.is_free_once,
        "expires_after_days": spec.expires_after_days,
        "is_active": spec.is_active,
        "sort_order": spec.sort_order,
    }


def find_pack(conn: Connection, key: str) -> tuple[int, Pack] | None:
    """A pack and its internal key, by the pack's key."""
    row = conn.execute(select(packs).where(packs.c.key == key)).one_or_none()
    return None if row is None else (row.id, _pack(row))


def list_packs(conn: Connection, *, active_only: bool) -> list[Pack]:
    """Packs in the order of a purchase page: sort order, then price, then key."""
    stmt = select(packs).order_by(packs.c.sort_order, packs.c.price_minor, packs.c.key)
    if active_only:
        stmt = stmt.where(packs.c.is_active)
    return [_pack(row) for row in conn.execute(stmt)]


def insert_pack(conn: Connection, spec: PackSpec, now: datetime) -> int:
    """Store a new pack; its key must be free."""
    values = {**_pack_values(spec), "created_at": now, "updated_at": now}
    return int(conn.execute(insert(packs).values(values).returning(packs.c.id)).scalar_one())


def save_pack(conn: Connection, pk: int, spec: PackSpec, now: datetime) -> None:
    """Write a pack's new settings."""
    conn.execute(
        update(packs).where(packs.c.id == pk).values({**_pack_values(spec), "updated_at": now})
    )


def is_pack_used(conn: Connection, pk: int) -> bool:
    """Whether any purchase names the pack (then it is deactivated, never deleted)."""
    stmt = select(purchases.c.id).where(purchases.c.pack_id == pk).limit(1)
    return conn.execute(stmt).first() is not None


def delete_pack(conn: Connection, pk: int) -> None:
    """Delete a pack no purchase names."""
    conn.execute(packs.delete().where(packs.c.id == pk))


_purchase_columns = (
    purchases,
    accounts.c.external_id,
    packs.c.key.label("pack_key"),
    plans.c.key.label("plan_key"),
)


def _purchase_select() -> Any:
    return (
        select(*_purchase_columns)
        .join(accounts, accounts.c.id == purchases.c.account_id)
        .outerjoin(packs, packs.c.id == purchases.c.pack_id)
        .outerjoin(plans, plans.c.id == purchases.c.plan_id)
    )


def _purchase(row: Row[Any]) -> Purchase:
    return Purchase(
        id=row.id,
        account_id=AccountId(row.external_id),
        kind=PurchaseKind(row.kind),
        pack=row.pack_key,
        plan=row.plan_key,
        provider=row.provider,
        reference=row.reference,
        payment_ref=row.payment_ref,
        amount_minor=row.amount_minor,
        currency=row.currency,
        status=PurchaseStatus(row.status),
        credits=Credits(row.credits),
        refunded_minor=row.refunded_minor,
        taken_back=Credits(row.taken_back),
        owed=Credits(row.owed),
        note=row.note,
        created_at=row.created_at,
        updated_at=row.updated_at,
        paid_at=row.paid_at,
    )


class PurchaseRow:
    """A purchase as stored, with the internal keys the engine needs to act on it."""

    __slots__ = ("account_pk", "bonus_lot_id", "lot_id", "pack_pk", "pk", "purchase")

    def __init__(self, row: Row[Any]) -> None:
        self.pk: int = row.id
        self.account_pk: int = row.account_id
        self.pack_pk: int | None = row.pack_id
        self.lot_id: int | None = row.lot_id
        self.bonus_lot_id: int | None = row.bonus_lot_id
        self.purchase = _purchase(row)


def find_purchase(
    conn: Connection, *, provider: str, reference: str, lock: bool = False
) -> PurchaseRow | None:
    """A purchase by the provider's checkout id; with `lock`, its row lock until commit."""
    stmt = _purchase_select().where(
        purchases.c.provider == provider, purchases.c.reference == reference
    )
    if lock:
        stmt = stmt.with_for_update(of=purchases)
    row = conn.execute(stmt).one_or_none()
    return None if row is None else PurchaseRow(row)


def find_purchase_by_payment(
    conn: Connection, provider: str, payment_ref: str
) -> PurchaseRow | None:
    """A purchase by the provider's payment id (what refunds and disputes name)."""
    stmt = _purchase_select().where(
        purchases.c.provider == provider, purchases.c.payment_ref == payment_ref
    )
    row = conn.execute(stmt.order_by(purchases.c.id).limit(1)).one_or_none()
    return None if row is None else PurchaseRow(row)


def find_purchase_by_id(conn: Connection, pk: int) -> PurchaseRow | None:
    """A purchase by id, whichever account's (for the worker that starts top-ups)."""
    row = conn.execute(_purchase_select().where(purchases.c.id == pk)).one_or_none()
    return None if row is None else PurchaseRow(row)


def find_purchase_by_pk(conn: Connection, account_pk: int, pk: int) -> PurchaseRow | None:
    """One account's purchase by id (another account's id answers None)."""
    stmt = _purchase_select().where(purchases.c.id == pk, purchases.c.account_id == account_pk)
    row = conn.execute(stmt).one_or_none()
    return None if row is None else PurchaseRow(row)


def list_purchases(
    conn: Connection, account_pk: int, *, after_id: int | None, limit: int
) -> list[Purchase]:
    """An account's purchases, newest first, a page after `after_id`."""
    stmt = _purchase_select().where(purchases.c.account_id == account_pk)
    if after_id is not None:
        stmt = stmt.where(purchases.c.id < after_id)
    stmt = stmt.order_by(purchases.c.id.desc()).limit(limit)
    return [_purchase(row) for row in conn.execute(stmt)]


def recent_purchases(
    conn: Connection, *, status: PurchaseStatus | None, before_id: int | None, limit: int
) -> list[Purchase]:
    """Every account's purchases, newest first, a page below `before_id` (the console's list)."""
    stmt = _purchase_select()
    if status is not None:
        stmt = stmt.where(purchases.c.status == status.value)
    if before_id is not None:
        stmt = stmt.where(purchases.c.id < before_id)
    stmt = stmt.order_by(purchases.c.id.desc()).limit(limit)
    return [_purchase(row) for row in conn.execute(stmt)]


def insert_purchase(conn: Connection, values: dict[str, Any], now: datetime) -> int | None:
    """Store a purchase unless one has its (provider, reference); its id, or None if taken."""
    row = {
        "credits": 0,
        "refunded_minor": 0,
        "taken_back": 0,
        "owed": 0,
        "created_at": now,
        "updated_at": now,
        **values,
    }
    if not insert_if_absent(conn, purchases, row):
        return None
    found = conn.execute(
        select(purchases.c.id).where(
            purchases.c.provider == row["provider"], purchases.c.reference == row["reference"]
        )
    ).scalar_one()
    return int(found)


def save_purchase(conn: Connection, pk: int, values: dict[str, Any], now: datetime) -> None:
    """Change a purchase's state and figures."""
    conn.execute(update(purchases).where(purchases.c.id == pk).values(**values, updated_at=now))


def claim_event(
    conn: Connection, event: ProviderEvent, now: datetime, outcome: Outcome = Outcome.APPLIED
) -> bool:
    """Claim a provider event by its id; False when it was claimed before.

    Claimed in the transaction of its effect: a concurrent delivery of the same event waits
    on the key until this one commits (then finds it taken) or rolls back (then claims it).
    """
    return insert_if_absent(
        conn,
        provider_events,
        {
            "provider": event.provider.value,
            "event_id": event.event_id,
            "type": event.type,
            "outcome": outcome.value,
            "detail": {},
            "received_at": now,
        },
    )


def record_outcome(
    conn: Connection,
    event: ProviderEvent,
    *,
    outcome: Outcome,
    account_pk: int | None,
    purchase_pk: int | None,
    detail: dict[str, Any],
) -> None:
    """Write what a claimed event did, in its own transaction."""
    conn.execute(
        update(provider_events)
        .where(
            provider_events.c.provider == event.provider.value,
            provider_events.c.event_id == event.event_id,
        )
        .values(
            outcome=outcome.value, account_id=account_pk, purchase_id=purchase_pk, detail=detail
        )
    )


def list_events(conn: Connection, *, provider: Provider | None, limit: int) -> list[EventRecord]:
    """The newest provider events, for an operator."""
    stmt = select(provider_events, accounts.c.external_id).outerjoin(
        accounts, accounts.c.id == provider_events.c.account_id
    )
    if provider is not None:
        stmt = stmt.where(provider_events.c.provider == provider.value)
    stmt = stmt.order_by(provider_events.c.received_at.desc()).limit(limit)
    return [
        EventRecord(
            provider=Provider(row.provider),
            event_id=row.event_id,
            type=row.type,
            outcome=Outcome(row.outcome),
            account_id=row.external_id,
            purchase_id=row.purchase_id,
            detail=dict(row.detail or {}),
            received_at=row.received_at,
        )
        for row in conn.execute(stmt)
    ]
