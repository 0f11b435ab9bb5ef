"""Queries over lots."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update

from creditgate.domain.amounts import Credits
from creditgate.domain.entries import LotMove
from creditgate.domain.ids import HoldId, LotId
from creditgate.domain.lots import Lot, LotSource
from creditgate.storage.tables import entries, entry_lots, lots


def lot_from_row(row: Row[Any]) -> Lot:
    """A lot from its stored row."""
    return Lot(
        id=LotId(row.id),
        source=LotSource(row.source),
        amount=Credits(row.amount),
        remaining=Credits(row.remaining),
        held=Credits(row.held),
        priority=row.priority,
        expires_at=row.expires_at,
        created_at=row.created_at,
        metadata=row.metadata or {},
    )


_insert_lot = insert(lots).returning(lots.c.id)


def insert_lot(
    conn: Connection,
    *,
    account_pk: int,
    source: LotSource,
    amount: Credits,
    priority: int,
    expires_at: datetime | None,
    metadata: dict[str, Any],
    now: datetime,
) -> LotId:
    """Create an empty lot of `amount`; the grant's lot move fills its remainder."""
    values = {
        "account_id": account_pk,
        "source": source.value,
        "amount": amount.units,
        "remaining": 0,
        "held": 0,
        "priority": priority,
        "expires_at": expires_at,
        "created_at": now,
        "metadata": metadata,
    }
    return LotId(conn.execute(_insert_lot, values).scalar_one())


def open_lots(conn: Connection, account_pk: int) -> list[Lot]:
    """Every lot of the account with a remainder, expired or not, in id order."""
    stmt = (
        select(lots)
        .where(lots.c.account_id == account_pk, lots.c.remaining > 0)
        .order_by(lots.c.id)
    )
    return [lot_from_row(row) for row in conn.execute(stmt)]


_spendable = select(lots).where(
    lots.c.account_id == bindparam("account_pk"),
    lots.c.remaining > lots.c.held,
    (lots.c.expires_at.is_(None))
    | (lots.c.expires_at > bindparam("now", type_=lots.c.expires_at.type)),
)


def spendable_lots(conn: Connection, account_pk: int, now: datetime) -> list[Lot]:
    """Lots with a free (unpinned) remainder that have not expired at `now`."""
    return [
        lot_from_row(row)
        for row in conn.execute(_spendable, {"account_pk": account_pk, "now": now})
    ]


def lots_by_id(conn: Connection, account_pk: int, lot_ids: Iterable[LotId]) -> dict[LotId, Lot]:
    """The named lots of one account."""
    wanted = sorted(set(lot_ids))
    if not wanted:
        return {}
    stmt = select(lots).where(lots.c.account_id == account_pk, lots.c.id.in_(wanted))
    return {LotId(row.id): lot_from_row(row) for row in conn.execute(stmt)}


_apply = (
    update(lots)
    .where(lots.c.id == bindparam("lot_id"))
    .values(
        remaining=lots.c.remaining + bindparam("d_remaining"),
        held=lots.c.held + bindparam("d_held"),
    )
)


def apply_moves(conn: Connection, moves: Sequence[LotMove]) -> None:
    """Apply an entry's lot moves; the lots' CHECKs refuse any that would overdraw a lot."""
    if not moves:
        return
    params = [
        {"lot_id": m.lot_id, "d_remaining": m.amount.units, "d_held": m.held.units} for m in moves
    ]
    conn.execute(_apply, params)


_pins = (
    select(entry_lots.c.lot_id, func.sum(entry_lots.c.held).label("pinned"))
    .join(entries, entries.c.id == entry_lots.c.entry_id)
    .where(
        entries.c.account_id == bindparam("account_pk"), entries.c.hold_id == bindparam("hold_id")
    )
    .group_by(entry_lots.c.lot_id)
    .subquery()
)
_pinned_by_hold = (
    select(lots, _pins.c.pinned).join(_pins, _pins.c.lot_id == lots.c.id).where(_pins.c.pinned > 0)
)


def pinned_lots(conn: Connection, account_pk: int, hold_id: HoldId) -> list[tuple[Lot, int]]:
    """The lots a hold has pinned, with how much of each: the sum of its entries' held moves."""
    rows = conn.execute(_pinned_by_hold, {"account_pk": account_pk, "hold_id": hold_id})
    return [(lot_from_row(row), int(row.pinned)) for row in rows]


def account_lots(conn: Connection, account_pk: int, *, include_spent: bool) -> list[Lot]:
    """The account's lots in id order: those with a remainder, or every one of them.

    A lot past its expiry keeps its remainder here until its expire entry is written: the
    engine applies what is due before it shows them.
    """
    stmt = select(lots).where(lots.c.account_id == account_pk)
    if not include_spent:
        stmt = stmt.where(lots.c.remaining > 0)
    return [lot_from_row(row) for row in conn.execute(stmt.order_by(lots.c.id))]
