"""Queries over holds and the lots they pin."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update

from creditgate.domain.amounts import Credits
from creditgate.domain.holds import Hold, HoldStatus
from creditgate.domain.ids import AccountId, HoldId, LotId
from creditgate.domain.pricing import PriceId, check_quantity, quantity_data
from creditgate.storage.tables import accounts, entries, entry_lots, holds


def _hold(account_id: AccountId, row: Row[Any]) -> Hold:
    return Hold(
        id=HoldId(row.id),
        account_id=account_id,
        amount=Credits(row.amount),
        status=HoldStatus(row.status),
        captured=None if row.captured is None else Credits(row.captured),
        member_id=row.member_id,
        feature=row.feature,
        metadata=row.metadata or {},
        created_at=row.created_at,
        expires_at=row.expires_at,
        ended_at=row.ended_at,
        model=row.model,
        quantity=check_quantity(row.quantity),
        price_id=None if row.price_id is None else PriceId(row.price_id),
    )


_insert_hold = insert(holds).returning(holds.c.id)


def insert_hold(conn: Connection, account_pk: int, hold: Hold) -> HoldId:
    """Write a new pending hold; returns the id the database gave it."""
    assert hold.status is HoldStatus.PENDING
    values = {
        "account_id": account_pk,
        "amount": hold.amount.units,
        "status": hold.status.value,
        "captured": None,
        "member_id": hold.member_id,
        "feature": hold.feature,
        "model": hold.model,
        "quantity": quantity_data(hold.quantity),
        "price_id": hold.price_id,
        "metadata": hold.metadata,
        "created_at": hold.created_at,
        "expires_at": hold.expires_at,
        "ended_at": None,
    }
    return HoldId(conn.execute(_insert_hold, values).scalar_one())


_account_of_hold = select(holds.c.account_id).where(holds.c.id == bindparam("hold_id"))
_hold_by_id = (
    select(holds, accounts.c.external_id)
    .join(accounts, accounts.c.id == holds.c.account_id)
    .where(holds.c.id == bindparam("hold_id"))
)


def account_of_hold(conn: Connection, hold_id: int) -> int | None:
    """The internal key of a hold's account, or None when there is no such hold."""
    pk: int | None = conn.execute(_account_of_hold, {"hold_id": hold_id}).scalar_one_or_none()
    return pk


def find_hold(conn: Connection, hold_id: int) -> tuple[int, Hold] | None:
    """A hold and its account's internal key, or None."""
    row = conn.execute(_hold_by_id, {"hold_id": hold_id}).one_or_none()
    return None if row is None else (row.account_id, _hold(AccountId(row.external_id), row))


def pending_holds(conn: Connection, account_pk: int, account_id: AccountId) -> list[Hold]:
    """The account's holds still marked pending (some may be past their ttl)."""
    stmt = (
        select(holds)
        .where(holds.c.account_id == account_pk, holds.c.status == HoldStatus.PENDING.value)
        .order_by(holds.c.id)
    )
    return [_hold(account_id, row) for row in conn.execute(stmt)]


def pins(
    conn: Connection, account_pk: int, hold_ids: Sequence[HoldId]
) -> dict[HoldId, dict[LotId, int]]:
    """What each hold has pinned on each lot: the sum of its entries' held moves."""
    if not hold_ids:
        return {}
    stmt = (
        select(entries.c.hold_id, entry_lots.c.lot_id, func.sum(entry_lots.c.held))
        .join(entries, entries.c.id == entry_lots.c.entry_id)
        .where(entries.c.account_id == account_pk, entries.c.hold_id.in_(sorted(hold_ids)))
        .group_by(entries.c.hold_id, entry_lots.c.lot_id)
    )
    result: dict[HoldId, dict[LotId, int]] = {HoldId(h): {} for h in hold_ids}
    for hold_id, lot_id, units in conn.execute(stmt):
        if units:
            result[HoldId(hold_id)][LotId(lot_id)] = int(units)
    return result


_end_hold = (
    update(holds)
    .where(holds.c.id == bindparam("hold_id"), holds.c.status == HoldStatus.PENDING.value)
    .values(
        status=bindparam("status"), captured=bindparam("captured"), ended_at=bindparam("ended_at")
    )
)


def end_hold(
    conn: Connection, hold_id: HoldId, status: HoldStatus, captured: Credits | None, now: datetime
) -> None:
    """Write a hold's terminal state, once.

    The `status = 'pending'` guard makes a second end change no row, which is a programmer
    error: ends happen under the account lock, after `check_pending`.
    """
    assert status is not HoldStatus.PENDING
    params = {
        "hold_id": hold_id,
        "status": status.value,
        "captured": None if captured is None else captured.units,
        "ended_at": now,
    }
    assert conn.execute(_end_hold, params).rowcount == 1, "a hold ends exactly once"


def grow_hold(conn: Connection, hold_id: HoldId, amount: Credits, expires_at: datetime) -> None:
    """Record a pending hold's new amount and ttl after an extend."""
    stmt = (
        update(holds)
        .where(holds.c.id == hold_id, holds.c.status == HoldStatus.PENDING.value)
        .values(amount=amount.units, expires_at=expires_at)
    )
    assert conn.execute(stmt).rowcount == 1


def count_pending(conn: Connection, now: datetime) -> int:
    """How many holds are pending and not yet past their ttl, across every account."""
    stmt = (
        select(func.count())
        .select_from(holds)
        .where(holds.c.status == HoldStatus.PENDING.value, holds.c.expires_at > now)
    )
    return int(conn.execute(stmt).scalar_one())


def page_holds(
    conn: Connection,
    account_pk: int,
    account_id: AccountId,
    *,
    status: HoldStatus | None,
    now: datetime,
    before_id: int | None,
    limit: int,
) -> list[Hold]:
    """The account's holds newest first, below `before_id`, that have `status` as of `now`.

    A hold still marked pending past its ttl has expired (it can no longer be settled), so
    it counts as expired before any write records it; rows come back as stored, and the
    caller reads their status with `Hold.status_at`.
    """
    stored = holds.c.status
    overdue = (stored == HoldStatus.PENDING.value) & (holds.c.expires_at <= now)
    stmt = select(holds).where(holds.c.account_id == account_pk)
    if status is HoldStatus.PENDING:
        stmt = stmt.where(stored == HoldStatus.PENDING.value, holds.c.expires_at > now)
    elif status is HoldStatus.EXPIRED:
        stmt = stmt.where((stored == HoldStatus.EXPIRED.value) | overdue)
    elif status is not None:
        stmt = stmt.where(stored == status.value)
    if before_id is not None:
        stmt = stmt.where(holds.c.id < before_id)
    rows = conn.execute(stmt.order_by(holds.c.id.desc()).limit(limit))
    return [_hold(account_id, row) for row in rows]
