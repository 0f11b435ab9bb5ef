"""The books of one write transaction: the accounts it has locked and the entries it posts.

Every use case opens one `transaction`, locks the accounts it touches (in id order when
there are two), and posts entries through `Books.post`, which keeps the account's figures,
the lots' remainders and the ledger in step. On lock, whatever has fallen due on the
account (holds past their ttl, lots past their expiry) is written first, so an operation
never sees a stale balance, whether or not an expiry pass has run.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from creditgate.domain.amounts import ZERO, Credits
from creditgate.domain.due import Due, plan_due
from creditgate.domain.entries import Entry, EntryKind, LotMove
from creditgate.domain.errors import AccountFrozen, AccountNotFound, InsufficientCredits
from creditgate.domain.holds import Hold, HoldStatus
from creditgate.domain.ids import AccountId, EntryId, HoldId, LotId
from creditgate.domain.lots import Lot, plan_burn
from creditgate.domain.pricing import PriceId, Quantity
from creditgate.domain.results import Balance
from creditgate.engine.clock import Clock
from creditgate.storage import holds as hold_rows
from creditgate.storage import lots as lot_rows
from creditgate.storage.accounts import AccountRow, find_account, find_account_by_pk, save_figures
from creditgate.storage.catalog import PriceCache
from creditgate.storage.database import Database
from creditgate.storage.entries import insert_entry


class Books:
    """What one write transaction has locked and changed."""

    def __init__(self, conn: Connection, now: datetime, prices: PriceCache | None = None) -> None:
        self.conn = conn
        self.now = now
        self.prices = prices
        """The database's cache of price rows, for calls priced in this transaction."""
        self._locked: dict[int, AccountRow] = {}
        self.written_due: dict[int, Due] = {}
        """What locking each account wrote as due, by account key (the expiry pass counts it)."""

    def lock(self, account_id: str) -> AccountRow:
        """Lock an account by the app's id and bring what is due up to date.

        Raises:
            AccountNotFound: no account has this id.
        """
        row = find_account(self.conn, account_id, lock=True)
        if row is None:
            raise AccountNotFound(account_id)
        return self._opened(row)

    def lock_pk(self, pk: int) -> AccountRow:
        """Lock an account by its internal key (found through a hold or an entry)."""
        if pk in self._locked:
            return self._locked[pk]
        return self._opened(find_account_by_pk(self.conn, pk, lock=True))

    def _opened(self, row: AccountRow) -> AccountRow:
        assert row.pk not in self._locked, "an account is locked once per transaction"
        self._locked[row.pk] = row
        due = self.write_due(row)
        if due is not None:
            self.written_due[row.pk] = due
        return row

    def write_due(self, row: AccountRow, *, force: bool = False) -> Due | None:
        """Write the expiries due now on a locked account; None when nothing was due."""
        if not force and (row.next_due_at is None or row.next_due_at > self.now):
            return None
        due, pins = plan_account(self.conn, row, self.now)
        for hold in due.holds:
            held = tuple(
                LotMove(lot_id=lot_id, amount=ZERO, held=Credits(-units))
                for lot_id, units in sorted(pins[hold.id].items())
            )
            self.post(
                row,
                kind=EntryKind.EXPIRE,
                held_delta=-hold.amount.units,
                moves=held,
                hold_id=hold.id,
                member_id=hold.member_id,
                feature=hold.feature,
                effective_at=hold.expires_at,
            )
            hold_rows.end_hold(self.conn, hold.id, HoldStatus.EXPIRED, None, hold.expires_at)
        for expiry in due.lots:
            gone = Credits(-expiry.units)
            self.post(
                row,
                kind=EntryKind.EXPIRE,
                amount=gone.units,
                moves=(LotMove(lot_id=expiry.lot.id, amount=gone, held=ZERO),),
                source=expiry.lot.source.value,
                effective_at=expiry.effective_at,
            )
        row.withheld_units = due.withheld_units
        row.next_due_at = due.next_due_at
        return due

    def post(  # noqa: PLR0913 - an entry has this many facets, all keyword-only
        self,
        row: AccountRow,
        *,
        kind: EntryKind,
        amount: int = 0,
        held_delta: int = 0,
        moves: Sequence[LotMove] = (),
        debt_delta: int = 0,
        cost: Credits | None = None,
        hold_id: HoldId | None = None,
        ref_entry_id: EntryId | None = None,
        counterparty: str | None = None,
        source: str | None = None,
        member_id: str | None = None,
        feature: str | None = None,
        model: str | None = None,
        quantity: Quantity | None = None,
        price_id: PriceId | None = None,
        actor: str | None = None,
        reason: str | None = None,
        metadata: dict[str, Any] | None = None,
        effective_at: datetime | None = None,
    ) -> Entry:
        """Append one entry: move the lots, change the figures, number it, write it.

        The pair assertion: what the entry moves on the lots plus what it adds to debt
        is exactly its amount, so balance = sum of lots' remaining - debt stays true.
        """
        assert row.pk in self._locked, "post only to a locked account"
        assert sum(m.amount.units for m in moves) - debt_delta == amount
        row.balance += amount
        row.held += held_delta
        row.debt += debt_delta
        row.seq += 1
        assert row.held >= 0
        assert row.debt >= 0
        lot_rows.apply_moves(self.conn, moves)
        entry = Entry(
            id=EntryId(0),
            account_id=row.account.id,
            seq=row.seq,
            kind=kind,
            amount=Credits(amount),
            held_delta=Credits(held_delta),
            balance_after=Credits(row.balance),
            held_after=Credits(row.held),
            cost=cost,
            moves=tuple(moves),
            hold_id=hold_id,
            ref_entry_id=ref_entry_id,
            counterparty=None if counterparty is None else AccountId(counterparty),
            source=source,
            member_id=member_id,
            feature=feature,
            actor=actor,
            reason=reason,
            metadata=metadata or {},
            created_at=self.now,
            effective_at=effective_at or self.now,
            model=model,
            quantity=quantity,
            price_id=price_id,
        )
        return replace(entry, id=insert_entry(self.conn, row.pk, entry))

    def save(self) -> None:
        """Write back the figures of every account this transaction locked."""
        for row in self._locked.values():
            save_figures(self.conn, row)

    def check_can_spend(self, row: AccountRow) -> None:
        """Raises AccountFrozen when the account may not spend."""
        if row.account.is_frozen:
            raise AccountFrozen(account_id=row.account.id)

    def spendable_units(self, row: AccountRow, *, floor: int | None = None) -> int:
        """How much a new spend may take: available credits down to the floor."""
        floor_units = row.account.floor.units if floor is None else floor
        return row.balance - row.withheld_units - row.held - floor_units

    def require(self, row: AccountRow, units: int, *, floor: int | None = None) -> None:
        """Raises InsufficientCredits unless `units` can be spent without passing the floor."""
        spendable = self.spendable_units(row, floor=floor)
        if units > spendable:
            raise InsufficientCredits(required=Credits(units), available=Credits(max(0, spendable)))

    def burn(self, row: AccountRow, units: int) -> tuple[tuple[LotMove, ...], int]:
        """Take `units` from the account's free lots in burn order; the rest becomes debt."""
        lots = lot_rows.spendable_lots(self.conn, row.pk, self.now)
        burn = plan_burn(lots, units, now=self.now)
        assert burn.uncovered_units == 0 or row.account.floor.units < 0, "debt only within a floor"
        moves = tuple(
            LotMove(lot_id=lot_id, amount=Credits(-u), held=ZERO) for lot_id, u in burn.moves
        )
        return moves, burn.uncovered_units

    def pin(self, row: AccountRow, units: int) -> tuple[LotMove, ...]:
        """Pin up to `units` of the account's free lots for a hold, in burn order."""
        lots = lot_rows.spendable_lots(self.conn, row.pk, self.now)
        burn = plan_burn(lots, units, now=self.now)
        return tuple(
            LotMove(lot_id=lot_id, amount=ZERO, held=Credits(u)) for lot_id, u in burn.moves
        )

    def balance(self, row: AccountRow) -> Balance:
        """The account's figures as of this transaction."""
        return figures(row, row.balance - row.withheld_units, row.held, self.now)


def figures(row: AccountRow, balance: int, held: int, now: datetime) -> Balance:
    """A `Balance` from effective figures."""
    return Balance(
        account_id=row.account.id,
        balance=Credits(balance),
        held=Credits(held),
        available=Credits(balance - held),
        floor=row.account.floor,
        debt=Credits(row.debt),
        as_of=now,
    )


def plan_account(
    conn: Connection, row: AccountRow, now: datetime
) -> tuple[Due, dict[HoldId, dict[LotId, int]]]:
    """Read an account's open lots and pending holds, and plan what is due at `now`."""
    lots: list[Lot] = lot_rows.open_lots(conn, row.pk)
    pending: list[Hold] = hold_rows.pending_holds(conn, row.pk, row.account.id)
    pins = hold_rows.pins(conn, row.pk, [h.id for h in pending])
    return plan_due(lots, pending, pins, now), pins


def effective_balance(conn: Connection, row: AccountRow, now: datetime) -> Balance:
    """An account's figures at `now` without writing: what is due is applied in memory."""
    if row.next_due_at is None or row.next_due_at > now:
        return figures(row, row.balance, row.held, now)
    due, _ = plan_account(conn, row, now)
    expired = sum(e.units for e in due.lots)
    released = sum(h.amount.units for h in due.holds)
    return figures(row, row.balance - expired - due.withheld_units, row.held - released, now)


@contextmanager
def transaction(db: Database, clock: Clock) -> Iterator[Books]:
    """One use case: a write transaction, its books saved before it commits."""
    with db.write() as conn:
        books = Books(conn, clock.now(), db.price_cache)
        yield books
        books.save()
