"""Queries over auto top-up settings (their threshold and state live on the account row)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from creditgate.domain.amounts import Credits
from creditgate.domain.ids import AccountId
from creditgate.domain.packs import PurchaseKind, PurchaseStatus
from creditgate.domain.topups import AutoTopUp, PendingTopUp, TopUpState
from creditgate.storage.dialects import insert_if_absent
from creditgate.storage.tables import accounts, auto_top_ups, packs, purchases


def find_top_up(conn: Connection, account_pk: int) -> tuple[int, AutoTopUp] | None:
    """An account's auto top-up setting and its pack's internal key, if it has one."""
    stmt = (
        select(
            auto_top_ups,
            packs.c.key.label("pack_key"),
            accounts.c.external_id,
            accounts.c.top_up_threshold,
            accounts.c.top_up_state,
        )
        .join(packs, packs.c.id == auto_top_ups.c.pack_id)
        .join(accounts, accounts.c.id == auto_top_ups.c.account_id)
        .where(auto_top_ups.c.account_id == account_pk)
    )
    row = conn.execute(stmt).one_or_none()
    return None if row is None else (row.pack_id, _top_up(row))


def _top_up(row: Row[Any]) -> AutoTopUp:
    return AutoTopUp(
        account_id=AccountId(row.external_id),
        pack=row.pack_key,
        threshold=Credits(row.last_threshold),
        customer_ref=row.customer_ref,
        payment_method_ref=row.payment_method_ref,
        is_enabled=row.top_up_threshold is not None,
        state=None if row.top_up_state is None else TopUpState(row.top_up_state),
        failures=row.failures,
        failures_max=row.failures_max,
        disabled_reason=row.disabled_reason,
        updated_at=row.updated_at,
    )


def save_top_up(conn: Connection, account_pk: int, values: dict[str, Any], now: datetime) -> None:
    """Create or replace an account's setting."""
    row = {"account_id": account_pk, "updated_at": now, **values}
    if not insert_if_absent(conn, auto_top_ups, row):
        conn.execute(
            update(auto_top_ups).where(auto_top_ups.c.account_id == account_pk).values(row)
        )


def change_top_up(conn: Connection, account_pk: int, values: dict[str, Any], now: datetime) -> None:
    """Change some fields of an account's setting."""
    conn.execute(
        update(auto_top_ups)
        .where(auto_top_ups.c.account_id == account_pk)
        .values(**values, updated_at=now)
    )


def pending_top_ups(conn: Connection, limit: int) -> list[PendingTopUp]:
    """Top-up purchases whose payment was not started yet, oldest first, with their card."""
    stmt = (
        select(
            purchases.c.id,
            purchases.c.reference,
            purchases.c.amount_minor,
            purchases.c.currency,
            accounts.c.external_id,
            auto_top_ups.c.customer_ref,
            auto_top_ups.c.payment_method_ref,
            packs.c.key.label("pack_key"),
        )
        .join(accounts, accounts.c.id == purchases.c.account_id)
        .join(auto_top_ups, auto_top_ups.c.account_id == purchases.c.account_id)
        .join(packs, packs.c.id == purchases.c.pack_id)
        .where(
            purchases.c.kind == PurchaseKind.TOP_UP.value,
            purchases.c.status == PurchaseStatus.PENDING.value,
            purchases.c.payment_ref.is_(None),
        )
        .order_by(purchases.c.id)
        .limit(limit)
    )
    return [
        PendingTopUp(
            purchase_id=row.id,
            reference=row.reference,
            account_id=AccountId(row.external_id),
            pack=row.pack_key,
            amount_minor=row.amount_minor,
            currency=row.currency,
            customer_ref=row.customer_ref,
            payment_method_ref=row.payment_method_ref,
        )
        for row in conn.execute(stmt)
    ]


def insert_top_up_purchase(conn: Connection, account_pk: int, now: datetime) -> None:
    """Record a pending top-up purchase of the setting's pack: the payment's outbox row.

    Its reference is new each time: each crossing is a purchase of its own.
    """
    stmt = (
        select(auto_top_ups.c.pack_id, packs.c.price_minor, packs.c.currency)
        .join(packs, packs.c.id == auto_top_ups.c.pack_id)
        .where(auto_top_ups.c.account_id == account_pk)
    )
    setting = conn.execute(stmt).one()
    conn.execute(
        insert(purchases).values(
            account_id=account_pk,
            kind=PurchaseKind.TOP_UP.value,
            pack_id=setting.pack_id,
            provider="stripe",
            reference=f"top_up_{uuid.uuid4().hex}",
            amount_minor=setting.price_minor,
            currency=setting.currency,
            status=PurchaseStatus.PENDING.value,
            credits=0,
            refunded_minor=0,
            taken_back=0,
            owed=0,
            created_at=now,
            updated_at=now,
        )
    )
