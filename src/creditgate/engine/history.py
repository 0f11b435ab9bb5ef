"""Reads of the ledger: balance, history pages, the balance at a past instant, lifetime figures.

Reads take no write lock. When something has fallen due on the account and no write has
recorded it yet, reads apply the due plan in memory, so they agree with what the next
write will record; a due renewal, which grants a new lot, is written first (`read_fresh`).
"""

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection

from creditgate.domain.accounts import check_account_id
from creditgate.domain.amounts import Credits
from creditgate.domain.entries import Entry, EntryKind
from creditgate.domain.errors import AccountNotFound, InvalidInput
from creditgate.domain.inputs import check_cursor
from creditgate.domain.lots import LotSource
from creditgate.domain.results import Balance, Lifetime, Page
from creditgate.engine.books import effective_balance, plan_account, transaction
from creditgate.engine.clock import Clock
from creditgate.storage.accounts import AccountRow, find_account
from creditgate.storage.database import Database
from creditgate.storage.entries import (
    EntryFilter,
    late_lot_expiries,
    page_entries,
    still_pinned,
    sum_until,
    totals_by_kind,
)

R = TypeVar("R")


def open_account(conn: Connection, account_id: str) -> AccountRow:
    """Read an account without locking it.

    Raises:
        AccountNotFound: no account has this id.
    """
    row = find_account(conn, account_id)
    if row is None:
        raise AccountNotFound(account_id)
    return row


def read_fresh(
    db: Database,
    clock: Clock,
    account_id: str,
    read: Callable[[Connection, AccountRow, datetime], R],
) -> R:
    """Read an account as of now; a renewal that fell due is written first.

    Reads apply due expiries in memory, but a cycle's grant is a new lot: rather than
    imagine it, the read takes the account's lock once, writes the renewal, and reads.
    """
    checked = check_account_id(account_id)
    now = clock.now()
    with db.read() as conn:
        row = open_account(conn, checked)
        if row.renews_at is None or row.renews_at > now:
            return read(conn, row, now)
    with transaction(db, clock) as books:
        books.lock(checked)
    with db.read() as conn:
        return read(conn, open_account(conn, checked), clock.now())


def balance(conn: Connection, row: AccountRow, now: datetime) -> Balance:
    """The account's figures at `now`."""
    return effective_balance(conn, row, now)


def history(
    conn: Connection, row: AccountRow, where: EntryFilter, cursor: str | None, limit: int
) -> Page[Entry]:
    """One page of entries, newest first; `next_cursor` continues below the last one.

    Raises:
        InvalidInput: the cursor is not one this function returned.
    """
    before = check_cursor(cursor, listing="history")
    items = page_entries(conn, row.pk, where, before, limit + 1)
    next_cursor = str(items[limit - 1].seq) if len(items) > limit else None
    return Page(items=tuple(items[:limit]), next_cursor=next_cursor)


def balance_at(conn: Connection, row: AccountRow, at: datetime, now: datetime) -> Credits:
    """The balance as it stood at `at`.

    That is the sum of the entries in effect then, less the expiries due by then but not
    yet written. An expired lot leaves through one expire entry, dated at its expiry; a
    part a hold still pinned at `at` was in the balance then, so it is added back (less
    what the hold later captured from it, which its settle entry already counts).

    Raises:
        InvalidInput: `at` is in the future.
    """
    if at > now:
        raise InvalidInput(field="at", reason="must not be in the future")
    written = sum_until(conn, row.pk, at)
    late = late_lot_expiries(conn, row.pk, at)
    pending = 0
    if row.next_due_at is not None and row.next_due_at <= now:
        due, pins = plan_account(conn, row, now)
        # A withheld part is only the free part: what is pinned stays in the balance.
        pending += sum(part.units for part in due.withheld if part.effective_at <= at)
        for part in due.lots:
            if part.effective_at <= at:
                pending += part.units
                late[part.lot.id] = now
        # A hold that had expired by `at` no longer pinned anything then, entry or not.
        for hold in due.holds:
            if hold.expires_at <= at:
                pending += sum(u for lot_id, u in pins[hold.id].items() if lot_id in late)
    return Credits(written - pending + still_pinned(conn, late, at))


def lifetime(conn: Connection, row: AccountRow, now: datetime) -> Lifetime:
    """Lifetime figures from the whole ledger, with due expiries counted as expired."""
    totals = totals_by_kind(conn, row.pk)

    def total(kind: EntryKind, *, positive: bool | None = None) -> int:
        return sum(v for (k, _, pos), v in totals.items() if k == kind and positive in (None, pos))

    by_source: dict[str, Credits] = {}
    for (kind, source, positive), units in totals.items():
        if positive and kind in {EntryKind.GRANT, EntryKind.ADJUST, EntryKind.TRANSFER}:
            key = source or LotSource.ADJUSTMENT.value
            by_source[key] = by_source.get(key, Credits(0)) + Credits(units)
    expired = -total(EntryKind.EXPIRE)
    if row.next_due_at is not None and row.next_due_at <= now:
        due, _ = plan_account(conn, row, now)
        expired += sum(e.units for e in due.lots)
    return Lifetime(
        account_id=row.account.id,
        granted=Credits(sum(c.units for c in by_source.values())),
        granted_by_source=dict(sorted(by_source.items())),
        spent=Credits(-(total(EntryKind.CHARGE) + total(EntryKind.SETTLE))),
        refunded=Credits(total(EntryKind.REFUND)),
        expired=Credits(expired),
        adjusted=Credits(total(EntryKind.ADJUST)),
        transferred_in=Credits(total(EntryKind.TRANSFER, positive=True)),
        transferred_out=Credits(-total(EntryKind.TRANSFER, positive=False)),
    )
