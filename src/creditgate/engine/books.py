"""The books of one write transaction: the accounts it has locked and the entries it posts.

Every use case opens one `transaction`, locks the accounts it touches (in id order when
there are two), and posts entries through `Books.post`, which keeps the account's figures,
the lots' remainders and the ledger in step. On lock, whatever has fallen due on the
account (holds past their ttl, lots past their expiry) is written first, so an operation
never sees a stale balance, whether or not an expiry pass has run.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from creditgate.domain.amounts import ZERO, Credits
from creditgate.domain.due import Due, plan_due
from creditgate.domain.entries import Entry, EntryKind, LotMove
from creditgate.domain.errors import AccountFrozen, AccountNotFound, InsufficientCredits
from creditgate.domain.holds import Hold, HoldStatus
from creditgate.domain.ids import AccountId, EntryId, HoldId, LotId
from creditgate.domain.lots import Lot, LotSource, plan_burn
from creditgate.domain.plans import add_months, month_start
from creditgate.domain.pricing import PriceId, Quantity, TokenCounts
from creditgate.domain.results import Balance, PeriodUsage
from creditgate.domain.topups import next_state
from creditgate.domain.usage import UsageEvent
from creditgate.domain.webhooks import EventType
from creditgate.engine import alerts, outbox, renewals
from creditgate.engine.clock import Clock
from creditgate.storage import holds as hold_rows
from creditgate.storage import lots as lot_rows
from creditgate.storage.accounts import (
    AccountRow,
    find_account,
    find_account_by_pk,
    lower_next_due_at,
    save_figures,
)
from creditgate.storage.catalog import PriceCache
from creditgate.storage.database import Database
from creditgate.storage.entries import write_entry
from creditgate.storage.lots import insert_lot
from creditgate.storage.revision_cache import RevisionCache
from creditgate.storage.topups import insert_top_up_purchase


@dataclass(slots=True)
class Tally:
    """Counts of what fell due and was written: expiries and plan cycles granted."""

    lots_expired: int = 0
    units_expired: int = 0
    holds_expired: int = 0
    cycles_granted: int = 0

    @property
    def is_empty(self) -> bool:
        """Nothing was written."""
        return not (self.lots_expired or self.holds_expired or self.cycles_granted)


_SPENDS = frozenset({EntryKind.CHARGE, EntryKind.SETTLE})
"""Entries whose cost counts as usage of the period."""


class Books:
    """What one write transaction has locked and changed."""

    def __init__(
        self,
        conn: Connection,
        now: datetime,
        prices: PriceCache | None = None,
        cache: RevisionCache | None = None,
    ) -> None:
        self.conn = conn
        self.now = now
        self.prices = prices
        """The database's cache of price rows, for calls priced in this transaction."""
        self.cache = cache or RevisionCache()
        """The database's cache of the default alert line and the webhook listeners."""
        self._locked: dict[int, AccountRow] = {}
        self._events: dict[int, list[UsageEvent]] = {}
        self.tally = Tally()
        """What this transaction wrote because it was due (the scheduler's pass counts it)."""

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
        self.write_due(row)
        if row.renews_at is None:
            # On no plan, usage is counted by calendar month.
            start = month_start(self.now)
            if row.period_started_at != start:
                row.period_started_at = start
                row.period_spent = row.period_tokens = 0
        return row

    def write_due(self, row: AccountRow, *, force: bool = False) -> Due | None:
        """Write what is due now on a locked account; None when nothing was due.

        In order: holds past their ttl (their pins return to the lots), the subscription's
        cycles that have ended (each boundary once: its rollover, then the next cycle's
        grant), then lots past their expiry.
        """
        if not force and (row.next_due_at is None or row.next_due_at > self.now):
            return None
        due, pins = plan_account(self.conn, row, self.now)
        waiting = list(due.holds)

        def expire_holds_until(at: datetime) -> None:
            """Expire the holds due by `at`, so a boundary sees the pins live at it."""
            while waiting and waiting[0].expires_at <= at:
                self._expire_hold(row, waiting.pop(0), pins)

        renewing = row.renews_at is not None and row.renews_at <= self.now
        if renewing:
            renewals.renew_due(self, row, expire_holds_until)
        expire_holds_until(self.now)
        if renewing:
            # The renewals expired the ended cycles' lots and granted new ones: plan again.
            due = replace(plan_account(self.conn, row, self.now)[0], holds=due.holds)
        for expiry in due.lots:
            self.expire_lot(row, expiry.lot, expiry.units, expiry.effective_at)
        row.withheld_units = due.withheld_units
        row.next_due_at = due.next_due_at
        if row.renews_at is not None:
            lower_next_due_at(row, row.renews_at)
        return due

    def _expire_hold(
        self, row: AccountRow, hold: Hold, pins: dict[HoldId, dict[LotId, int]]
    ) -> None:
        """Write a hold's expiry, dated at its ttl: its pins return to the lots."""
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
        self.tally.holds_expired += 1
        self.emit(
            row,
            EventType.HOLD_EXPIRED,
            {
                "hold_id": hold.id,
                "amount": str(hold.amount),
                "feature": hold.feature,
                "member_id": hold.member_id,
                "expired_at": hold.expires_at.isoformat(),
            },
        )

    def expire_lot(self, row: AccountRow, lot: Lot, units: int, effective_at: datetime) -> Entry:
        """Write the one expire entry of a lot: its whole remainder leaves, dated at its expiry."""
        gone = Credits(-units)
        self.tally.lots_expired += 1
        self.tally.units_expired += units
        return self.post(
            row,
            kind=EntryKind.EXPIRE,
            amount=gone.units,
            moves=(LotMove(lot_id=lot.id, amount=gone, held=ZERO),),
            source=lot.source.value,
            effective_at=effective_at,
        )

    def new_lot(
        self,
        row: AccountRow,
        amount: Credits,
        *,
        source: LotSource,
        expires_at: datetime | None,
        priority: int,
        metadata: dict[str, Any],
    ) -> tuple[LotMove | None, int]:
        """Create a lot and say how it fills: its move, and the debt it repays first.

        An account in overdraft repays its debt from the next credits that arrive, so the
        lot starts with what is left after the repayment (possibly nothing).
        """
        lot_id = insert_lot(
            self.conn,
            account_pk=row.pk,
            source=source,
            amount=amount,
            priority=priority,
            expires_at=expires_at,
            metadata=metadata,
            now=self.now,
        )
        if expires_at is not None:
            lower_next_due_at(row, expires_at)
        repaid = min(amount.units, row.debt)
        filled = amount.units - repaid
        move = LotMove(lot_id=lot_id, amount=Credits(filled), held=ZERO) if filled else None
        return move, repaid

    def grant_lot(
        self,
        row: AccountRow,
        amount: Credits,
        *,
        source: LotSource,
        expires_at: datetime | None,
        priority: int,
        metadata: dict[str, Any],
        effective_at: datetime | None = None,
    ) -> Entry:
        """A new lot and its grant entry; `effective_at` dates a grant that fell due earlier."""
        move, repaid = self.new_lot(
            row,
            amount,
            source=source,
            expires_at=expires_at,
            priority=priority,
            metadata=metadata,
        )
        entry = self.post(
            row,
            kind=EntryKind.GRANT,
            amount=amount.units,
            moves=() if move is None else (move,),
            debt_delta=-repaid,
            source=source.value,
            metadata=metadata,
            effective_at=effective_at,
        )
        self.emit(
            row,
            EventType.CREDITS_GRANTED,
            {
                "entry_id": entry.id,
                "amount": str(amount),
                "source": source.value,
                "expires_at": None if expires_at is None else expires_at.isoformat(),
                "balance_after": str(entry.balance_after),
                "effective_at": entry.effective_at.isoformat(),
                "metadata": metadata,
            },
        )
        return entry

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
        if kind in _SPENDS and cost is not None:
            tokens = quantity.total if isinstance(quantity, TokenCounts) else 0
            row.period_spent += cost.units
            row.period_tokens += tokens
            row.tokens_used += tokens
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
        return replace(entry, id=write_entry(self.conn, row.pk, entry))

    def emit(self, row: AccountRow, event_type: EventType, data: dict[str, Any]) -> None:
        """Write an event of a locked account to the outbox, in this transaction.

        It commits with the change that caused it or not at all; an event no endpoint
        listens to is not written. The account's lock orders its events as its changes.
        """
        assert row.pk in self._locked, "emit only for a locked account"
        outbox.write(self.conn, self.cache, row, event_type=event_type, data=data, now=self.now)

    def record(self, row: AccountRow, event: UsageEvent) -> None:
        """Write a use's event of a locked account with the account's figures, at `save`.

        It commits with the use or not at all; on PostgreSQL it travels in the statement
        that writes the figures, which saves a round trip per use.
        """
        assert row.pk in self._locked, "record only for a locked account"
        self._events.setdefault(row.pk, []).append(event)

    def listening(self, row: AccountRow, event_type: EventType) -> bool:
        """Whether any endpoint hears `event_type` (to skip building a costly payload)."""
        return bool(outbox.listening(self.conn, self.cache, row, event_type))

    def save(self) -> None:
        """Write back the figures of every account this transaction locked.

        An account with auto top-up moves its top-up state on first, from the figures
        about to be written: a fall below the line records one top-up purchase. Its
        balance alert's level moves the same way: a crossing emits its events.
        """
        for row in self._locked.values():
            if row.top_up_threshold is not None:
                self._move_top_up(row)
            alerts.move_level(self, row)
            save_figures(self.conn, row, self._events.pop(row.pk, ()))

    def _move_top_up(self, row: AccountRow) -> None:
        assert row.top_up_threshold is not None
        assert row.top_up_state is not None
        state, starts = next_state(
            row.top_up_state,
            available_units=row.balance - row.withheld_units - row.held,
            threshold_units=row.top_up_threshold,
        )
        if starts:
            insert_top_up_purchase(self.conn, row.pk, self.now)
        row.top_up_state = state

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
    """A `Balance` from effective figures, with the usage of the current period."""
    return Balance(
        account_id=row.account.id,
        balance=Credits(balance),
        held=Credits(held),
        available=Credits(balance - held),
        floor=row.account.floor,
        debt=Credits(row.debt),
        as_of=now,
        usage=period_usage(row, now),
    )


def period_usage(row: AccountRow, now: datetime) -> PeriodUsage:
    """The usage figures of the period in force at `now`: zero once a period has turned.

    A subscriber's period is the plan's cycle (reads bring a due renewal up to date
    first); anyone else's is the calendar month.
    """
    if row.renews_at is not None:
        starts_at = row.period_started_at
        assert starts_at is not None
        ends_at = row.renews_at
        current = True
    else:
        starts_at = month_start(now)
        ends_at = add_months(starts_at, 1)
        current = row.period_started_at == starts_at
    return PeriodUsage(
        starts_at=starts_at,
        ends_at=ends_at,
        credits=Credits(row.period_spent if current else 0),
        tokens=row.period_tokens if current else 0,
        lifetime_tokens=row.tokens_used,
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
        books = Books(conn, clock.now(), db.price_cache, db.revision_cache)
        yield books
        books.save()
