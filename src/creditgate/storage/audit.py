"""Aggregates over the whole database for `verify`: each query recomputes one figure.

Every query groups in SQL, so verify reads a few rows per account, not the ledger.
"""

from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select

from creditgate.domain.entries import HOLD_END_KINDS, SPEND_KINDS, EntryKind
from creditgate.domain.holds import HoldStatus
from creditgate.domain.plans import cycle_bounds
from creditgate.storage.tables import accounts, entries, entry_lots, holds, lots, subscriptions


def account_figures(conn: Connection) -> dict[int, Any]:
    """Stored figures per account key."""
    stmt = select(
        accounts.c.id,
        accounts.c.external_id,
        accounts.c.balance,
        accounts.c.held,
        accounts.c.debt,
        accounts.c.floor,
        accounts.c.seq,
    )
    return {row.id: row for row in conn.execute(stmt)}


def entry_sums(conn: Connection) -> dict[int, Any]:
    """Per account: sum of amounts and held deltas, entry count, lowest and highest seq."""
    stmt = select(
        entries.c.account_id,
        func.sum(entries.c.amount).label("amount"),
        func.sum(entries.c.held_delta).label("held"),
        func.count().label("count"),
        func.min(entries.c.seq).label("seq_min"),
        func.max(entries.c.seq).label("seq_max"),
    ).group_by(entries.c.account_id)
    return {row.account_id: row for row in conn.execute(stmt)}


def move_sums(conn: Connection) -> dict[int, int]:
    """Per account: the sum of every lot move's amount (grants in, spends out)."""
    stmt = select(entry_lots.c.account_id, func.sum(entry_lots.c.amount)).group_by(
        entry_lots.c.account_id
    )
    return {pk: int(total) for pk, total in conn.execute(stmt)}


def lot_sums(conn: Connection) -> dict[int, int]:
    """Per account: the sum of its lots' remainders."""
    stmt = select(lots.c.account_id, func.sum(lots.c.remaining)).group_by(lots.c.account_id)
    return {pk: int(total) for pk, total in conn.execute(stmt)}


def pending_hold_sums(conn: Connection) -> dict[int, int]:
    """Per account: the sum of its pending holds."""
    stmt = (
        select(holds.c.account_id, func.sum(holds.c.amount))
        .where(holds.c.status == HoldStatus.PENDING.value)
        .group_by(holds.c.account_id)
    )
    return {pk: int(total) for pk, total in conn.execute(stmt)}


def lots_off_their_moves(conn: Connection) -> list[Any]:
    """Lots whose remainder or held part differs from their moves, or is out of bounds."""
    moved = (
        select(
            entry_lots.c.lot_id,
            func.sum(entry_lots.c.amount).label("amount"),
            func.sum(entry_lots.c.held).label("held"),
        )
        .group_by(entry_lots.c.lot_id)
        .subquery()
    )
    amount = func.coalesce(moved.c.amount, 0)
    held = func.coalesce(moved.c.held, 0)
    stmt = (
        select(lots.c.id, lots.c.account_id, lots.c.remaining, lots.c.held, amount, held)
        .outerjoin(moved, moved.c.lot_id == lots.c.id)
        .where(
            or_(
                lots.c.remaining != amount,
                lots.c.held != held,
                lots.c.held < 0,
                lots.c.held > lots.c.remaining,
                lots.c.remaining > lots.c.amount,
            )
        )
    )
    return list(conn.execute(stmt))


def broken_chains(conn: Connection) -> list[Any]:
    """Entries whose balance_after or held_after is not the running sum up to them."""
    running = select(
        entries.c.account_id,
        entries.c.seq,
        entries.c.balance_after,
        entries.c.held_after,
        func.sum(entries.c.amount)
        .over(partition_by=entries.c.account_id, order_by=entries.c.seq)
        .label("balance"),
        func.sum(entries.c.held_delta)
        .over(partition_by=entries.c.account_id, order_by=entries.c.seq)
        .label("held"),
    ).subquery()
    stmt = select(running).where(
        or_(running.c.balance != running.c.balance_after, running.c.held != running.c.held_after)
    )
    return list(conn.execute(stmt))


def hold_ends(conn: Connection) -> list[Any]:
    """Holds whose number of ending entries is wrong: one if ended, none if pending."""
    ends = (
        select(entries.c.hold_id, func.count().label("ends"))
        .where(
            entries.c.kind.in_(sorted(k.value for k in HOLD_END_KINDS)),
            entries.c.hold_id.is_not(None),
        )
        .group_by(entries.c.hold_id)
        .subquery()
    )
    count = func.coalesce(ends.c.ends, 0)
    expected = case((holds.c.status == HoldStatus.PENDING.value, 0), else_=1)
    stmt = (
        select(holds.c.id, holds.c.account_id, holds.c.status, count.label("ends"))
        .outerjoin(ends, ends.c.hold_id == holds.c.id)
        .where(count != expected)
    )
    return list(conn.execute(stmt))


def over_refunds(conn: Connection) -> list[Any]:
    """Spends whose refunds add up to more than they took."""
    refunds = (
        select(entries.c.ref_entry_id, func.sum(entries.c.amount).label("refunded"))
        .where(entries.c.kind == EntryKind.REFUND.value)
        .group_by(entries.c.ref_entry_id)
        .subquery()
    )
    stmt = (
        select(entries.c.id, entries.c.account_id, entries.c.amount, refunds.c.refunded)
        .join(refunds, refunds.c.ref_entry_id == entries.c.id)
        .where(
            or_(
                entries.c.kind.not_in(sorted(k.value for k in SPEND_KINDS)),
                refunds.c.refunded > -entries.c.amount,
            )
        )
    )
    return list(conn.execute(stmt))


def spends_of_expired_lots(conn: Connection) -> list[Any]:
    """Lot moves that took from (or pinned) a lot at or after its expiry.

    A settle may capture what its hold pinned before the lot expired; anything else taken
    from an expired lot, except its one expire entry, is a broken invariant.
    """
    stmt = (
        select(entries.c.id, entries.c.account_id, entries.c.kind, entry_lots.c.lot_id)
        .join(entry_lots, entry_lots.c.entry_id == entries.c.id)
        .join(lots, lots.c.id == entry_lots.c.lot_id)
        .where(
            lots.c.expires_at.is_not(None),
            entries.c.created_at >= lots.c.expires_at,
            or_(
                and_(
                    entries.c.kind.in_(
                        [EntryKind.CHARGE.value, EntryKind.TRANSFER.value, EntryKind.ADJUST.value]
                    ),
                    entry_lots.c.amount < 0,
                ),
                and_(entries.c.kind == EntryKind.HOLD.value, entry_lots.c.held > 0),
                and_(
                    entries.c.kind == EntryKind.SETTLE.value,
                    entry_lots.c.amount < entry_lots.c.held,
                ),
            ),
        )
    )
    return list(conn.execute(stmt))


def lot_expiries(conn: Connection) -> list[Any]:
    """Lots with more than one expire entry, or a remainder left after their expire entry."""
    expiries = (
        select(entry_lots.c.lot_id, func.count().label("expiries"))
        .join(entries, entries.c.id == entry_lots.c.entry_id)
        .where(entries.c.kind == EntryKind.EXPIRE.value, entry_lots.c.amount < 0)
        .group_by(entry_lots.c.lot_id)
        .subquery()
    )
    stmt = (
        select(lots.c.id, lots.c.account_id, lots.c.remaining, expiries.c.expiries)
        .join(expiries, expiries.c.lot_id == lots.c.id)
        .where(or_(expiries.c.expiries > 1, lots.c.remaining > 0))
    )
    return list(conn.execute(stmt))


def unscheduled_renewals(conn: Connection) -> list[Any]:
    """Live subscriptions whose account does not renew at the end of their current cycle.

    Every renewal is found through the account's `renews_at` (and `next_due_at`): one that
    disagrees with its subscription would be granted late, or never.
    """
    stmt = select(
        subscriptions.c.id,
        subscriptions.c.account_id,
        subscriptions.c.anchor_at,
        subscriptions.c.cycle_months,
        subscriptions.c.cycle_index,
        accounts.c.renews_at,
        accounts.c.next_due_at,
    ).join(accounts, accounts.c.id == subscriptions.c.account_id)
    stale = []
    # A cycle waiting for a provider's payment renews when the payment comes, not on a date.
    live = subscriptions.c.ended_at.is_(None) & subscriptions.c.awaiting_carry.is_(None)
    for row in conn.execute(stmt.where(live)):
        ends_at = cycle_bounds(row.anchor_at, row.cycle_months, row.cycle_index)[1]
        if row.renews_at != ends_at or row.next_due_at is None or row.next_due_at > ends_at:
            stale.append(row)
    return stale
