"""A stateful test: random sequences of every operation against a small in-memory model.

Hypothesis drives a real `Engine` through grants, adjustments, charges, holds, extensions,
settles, releases, refunds, transfers, freezes, clock jumps past expiries and ttls, and
expiry passes, on SQLite (every example) and on PostgreSQL (fewer examples, shorter runs).
Each example starts from an empty ledger. A plain model of two accounts (their lots,
holds and spends) follows the documented semantics and predicts, after every step:

- each account's balance, held and available credits (also `balance_at` now and at the
  instants of earlier steps) and its lifetime figures;
- each hold's status, amount and expiry;
- which calls must fail, with exactly which error class, and that a failed call changes
  nothing (figures and entry count stay where the model has them);
- how many ledger entries exist, and what an expiry pass writes;
- that `verify` finds nothing.

The model's rules, from the docstrings: spends burn the free part of live lots in the
burn order (priority, soonest expiry with never-expiring last, oldest, id); a hold pins
credits on lots and keeps them even when a lot expires (the lot's free part is then
withheld, counted in no balance); a lot at or past its expiry is never spent and leaves
whole, through one expire entry, once no live hold pins it; a settle captures from its
pins first; a refund returns to the spend's lots in reverse burn order, or arrives as a
new never-expiring `refund` lot when that lot has expired; a frozen account receives but
does not spend (settling or releasing within a hold is not spending more).
"""

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cmp_to_key
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import settings, target
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from creditgate import (
    AccountFrozen,
    Balance,
    CreditgateError,
    Credits,
    Engine,
    EntryKind,
    HoldNotPending,
    HoldStatus,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidInput,
    LotSource,
    ManualClock,
)
from creditgate.domain.ids import EntryId, HoldId
from creditgate.domain.limits import HOLD_TTL_MAX, HOLD_TTL_MIN
from creditgate.domain.lots import GRANTABLE_SOURCES
from creditgate.storage.database import Database, SqliteSync
from tests.conftest import PG_ADMIN_URL

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ACCOUNTS = ("acct_a", "acct_b")
T = TypeVar("T")
Fails = type[CreditgateError] | None
PG_EXAMPLES_MAX = 15
UNSETTLED_CHECKS_MAX = 4
"""After each write, re-read the balance at this many of the latest unsettled instants."""
"""PostgreSQL runs the same machine on fewer, shorter examples: it is the slower backend."""

# Few distinct durations, so expiries, ttls and clock jumps often land on the same instant.
MINUTE = timedelta(minutes=1)
OFFSETS = [MINUTE * m for m in (1, 5, 30, 60, 1440)]
TTLS = [timedelta(seconds=1), *OFFSETS, HOLD_TTL_MAX]
JUMPS = [timedelta(seconds=1), *(MINUTE * m for m in (1, 4, 5, 25, 60, 1440, 11520))]


def _mostly(valid: list[timedelta], invalid: list[timedelta]) -> st.SearchStrategy[timedelta]:
    """Valid durations, and now and then one the engine must refuse."""
    return st.sampled_from(valid * 4 + invalid)


expiries = st.none() | _mostly(OFFSETS, [timedelta(0)])
ttls = _mostly(TTLS, [timedelta(0), HOLD_TTL_MAX + MINUTE])
priorities = st.sampled_from([-10, 0, 0, 5])
# Every operation first waits: mostly not at all, else a little, so expiries and ttls fall
# between any two operations and not only at the (larger) jumps of `advance_clock`.
waits = st.sampled_from([timedelta(0), timedelta(0), timedelta(seconds=1), MINUTE, MINUTE * 5])

accounts = st.sampled_from(ACCOUNTS)
units = st.integers(1, 8).map(lambda n: n * 1000) | st.integers(1, 8000)
grant_units = st.integers(5, 40).map(lambda n: n * 1000) | st.integers(1, 40_000)
deltas = st.integers(0, 3000) | st.sampled_from([1, 1000])
ALL = 0
"""A spend of ALL takes everything available (1 unit when nothing is): lots run dry often."""
spend_units = st.one_of(units, units, st.just(ALL))


# The model


@dataclass
class MLot:
    id: int
    remaining: int
    held: int
    priority: int
    expires_at: datetime | None
    created_at: datetime
    refunded: bool = False

    def is_live(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


def _order(a: MLot, b: MLot) -> int:
    """The burn order, rule by rule: -1 when `a` burns first."""
    if a.priority != b.priority:
        return -1 if a.priority < b.priority else 1
    if (a.expires_at is None) != (b.expires_at is None):
        return 1 if a.expires_at is None else -1
    if a.expires_at is not None and b.expires_at is not None and a.expires_at != b.expires_at:
        return -1 if a.expires_at < b.expires_at else 1
    if a.created_at != b.created_at:
        return -1 if a.created_at < b.created_at else 1
    return -1 if a.id < b.id else 1


def _in_order(lots: Iterable[MLot], *, reverse: bool = False) -> list[MLot]:
    return sorted(lots, key=cmp_to_key(_order), reverse=reverse)


@dataclass
class MHold:
    account: str
    amount: int
    expires_at: datetime
    status: HoldStatus
    pins: dict[int, int]


@dataclass
class MEntry:
    account: str
    kind: EntryKind
    taken_by_lot: dict[int, int] = field(default_factory=dict)
    taken: int = 0
    refunded: int = 0


@dataclass
class MAccount:
    id: str
    is_frozen: bool = False
    lots: dict[int, MLot] = field(default_factory=dict)
    # Lifetime figures, in units.
    granted: int = 0
    spent: int = 0
    refunded: int = 0
    expired: int = 0
    adjusted: int = 0
    transferred_in: int = 0
    transferred_out: int = 0
    entries: int = 0
    # Expiries that have happened but that no write on the account has recorded yet.
    unwritten_lots: int = 0
    unwritten_holds: int = 0
    unwritten_units: int = 0


class Model:
    """What the ledger should say, computed the plain way."""

    def __init__(self) -> None:
        self.accounts = {name: MAccount(name) for name in ACCOUNTS}
        self.holds: dict[HoldId, MHold] = {}
        self.entries: dict[EntryId, MEntry] = {}
        self.keys: dict[EntryId, tuple[str, int]] = {}
        """The idempotency key and amount of each charge."""
        self.writes = 0
        """Successful write transactions so far: verify re-reads only after one."""
        self._lot_ids = 0
        self.seen: set[str] = set()
        self.past: dict[datetime, dict[str, int]] = {}
        """Each account's balance at the instant of each step (the last step at that instant)."""
        self.unsettled_past: list[datetime] = []
        """Instants whose history a later write may still fill in (expiries not yet written)."""
        """Situations this run reached; the machine steers towards runs that reach many."""

    def sync(self, now: datetime) -> None:
        """Let time act: holds past their ttl expire, then unpinned expired lots leave."""
        for hold in self.holds.values():
            if hold.status is HoldStatus.PENDING and hold.expires_at <= now:
                hold.status = HoldStatus.EXPIRED
                self.seen.add("a hold expired")
                self._unpin(hold)
                self.accounts[hold.account].unwritten_holds += 1
        for account in self.accounts.values():
            for lot in account.lots.values():
                if not lot.is_live(now) and lot.remaining > lot.held > 0:
                    self.seen.add("an expired lot is withheld")
                if not lot.is_live(now) and lot.remaining > 0 and lot.held == 0:
                    self.seen.add("a lot expired")
                    if lot.refunded:
                        self.seen.add("a lot expired after a refund")
                    account.expired += lot.remaining
                    account.unwritten_units += lot.remaining
                    account.unwritten_lots += 1
                    lot.remaining = 0

    def has_unwritten_past(self, now: datetime) -> bool:
        """Whether some expiry effective by `now` is not written yet (due, or kept by a pin)."""
        return any(
            account.unwritten_lots
            or any(not lot.is_live(now) and lot.remaining > 0 for lot in account.lots.values())
            for account in self.accounts.values()
        )

    def _unpin(self, hold: MHold) -> None:
        lots = self.accounts[hold.account].lots
        for lot_id, pinned in hold.pins.items():
            lots[lot_id].held -= pinned

    def figures(self, name: str, now: datetime) -> tuple[int, int, int]:
        """(balance, held, available): an expired lot counts only what live holds pin."""
        lots = self.accounts[name].lots.values()
        balance = sum(lot.remaining if lot.is_live(now) else lot.held for lot in lots)
        held = sum(
            h.amount
            for h in self.holds.values()
            if h.account == name and h.status is HoldStatus.PENDING
        )
        return balance, held, balance - held

    def available(self, name: str, now: datetime) -> int:
        return self.figures(name, now)[2]

    def plan(self, name: str, amount: int, now: datetime) -> list[tuple[MLot, int]]:
        """Which lots a spend of `amount` takes from, in burn order (free parts of live lots)."""
        free = (lot for lot in self.accounts[name].lots.values() if lot.is_live(now))
        moves = []
        left = amount
        for lot in _in_order([lot for lot in free if lot.remaining > lot.held]):
            if left == 0:
                break
            take = min(left, lot.remaining - lot.held)
            moves.append((lot, take))
            left -= take
        assert left == 0, "the model plans only spends it has checked"
        return moves

    def burn(self, name: str, amount: int, now: datetime) -> dict[int, int]:
        taken = {}
        for lot, take in self.plan(name, amount, now):
            lot.remaining -= take
            taken[lot.id] = take
        return taken

    def new_lot(
        self, name: str, amount: int, now: datetime, *, expires_at: datetime | None, priority: int
    ) -> MLot:
        self._lot_ids += 1
        lot = MLot(
            self._lot_ids,
            remaining=amount,
            held=0,
            priority=priority,
            expires_at=expires_at,
            created_at=now,
        )
        self.accounts[name].lots[lot.id] = lot
        return lot

    def wrote(self, *names: str, entries: int) -> None:
        """A write locked `names` and added `entries` to each; it records their due expiries."""
        self.writes += 1
        for name in names:
            account = self.accounts[name]
            account.entries += entries + account.unwritten_lots + account.unwritten_holds
            account.unwritten_lots = account.unwritten_holds = account.unwritten_units = 0

    def capture(self, hold: MHold, actual: int, now: datetime) -> dict[int, int]:
        """Settle's lot moves: the hold's pins first (in burn order), then free lots."""
        lots = self.accounts[hold.account].lots
        left = min(actual, sum(hold.pins.values()))
        taken: dict[int, int] = {}
        for lot in _in_order([lots[i] for i in hold.pins]):
            take = min(left, hold.pins[lot.id])
            if take and not lot.is_live(now):
                self.seen.add("a settle captured from an expired lot")
            taken[lot.id] = take
            left -= take
        extra = self.plan(hold.account, actual - sum(taken.values()), now)
        self._unpin(hold)
        for lot_id, take in taken.items():
            lots[lot_id].remaining -= take
        for lot, take in extra:
            lot.remaining -= take
            taken[lot.id] = taken.get(lot.id, 0) + take
        return {lot_id: take for lot_id, take in taken.items() if take > 0}

    def give_back(self, spend: MEntry, amount: int, now: datetime) -> None:
        """A refund: to the spend's lots in reverse burn order, skipping earlier refunds."""
        lots = self.accounts[spend.account].lots
        skip, give = spend.refunded, amount
        for lot in _in_order([lots[i] for i in spend.taken_by_lot], reverse=True):
            share = spend.taken_by_lot[lot.id]
            used = min(skip, share)
            skip -= used
            portion = min(give, share - used)
            give -= portion
            if portion == 0:
                continue
            if lot.is_live(now):
                if lot.remaining == 0:
                    self.seen.add("a refund refilled an empty lot")
                lot.remaining += portion
                lot.refunded = True
            else:
                self.new_lot(spend.account, portion, now, expires_at=None, priority=lot.priority)
                self.seen.add("a refund arrived as a new lot")
        assert give == 0


# The machine


def _spend_fails(model: Model, name: str, amount: int, now: datetime) -> Fails:
    if model.accounts[name].is_frozen:
        return AccountFrozen
    if amount > model.available(name, now):
        return InsufficientCredits
    return None


def _ttl_fails(ttl: timedelta | None) -> Fails:
    if ttl is not None and not HOLD_TTL_MIN <= ttl <= HOLD_TTL_MAX:
        return InvalidInput
    return None


class LedgerMachine(RuleBasedStateMachine):
    """Every operation of the engine, each step checked against `Model`."""

    holds = Bundle("holds")
    spends = Bundle("spends")
    """Charges and settles: the entries a refund may name."""
    entries = Bundle("entries")
    """Every other entry: grants, adjustments, transfers, refunds (not refundable)."""

    def __init__(self, database: "FreshDatabase") -> None:
        super().__init__()
        self.database = database
        self.clock = ManualClock(START)
        self.engine = Engine(database.open(), clock=self.clock, upgrade=False)
        self.model = Model()
        self._verified_writes = -1
        self._failed = False
        self._charges = 0
        for name in ACCOUNTS:
            self.engine.create_account(name)

    def teardown(self) -> None:
        if currently_in_test_context():  # not when a test replays a sequence by hand
            target(float(len(self.model.seen)), label="situations reached")
        self.database.close()

    # Helpers

    def wait(self, wait: timedelta) -> datetime:
        self.clock.advance(wait)
        return self.now()

    def now(self) -> datetime:
        now = self.clock.now()
        self.model.sync(now)
        return now

    def attempt(
        self, fails: Fails, call: Callable[[], T], *, available: int | None = None
    ) -> T | None:
        """Run `call`; it must raise exactly `fails`, or succeed when `fails` is None.

        `available` is what an InsufficientCredits must report as available.
        """
        raised: CreditgateError | None = None
        result: T | None = None
        try:
            result = call()
        except CreditgateError as exc:
            raised = exc
        if raised is None:
            assert fails is None, f"the model expected {fails.__name__}; the engine did {result}"
            return result
        self._failed = True
        assert fails is not None, f"the model expected success; the engine raised {raised!r}"
        assert type(raised) is fails, f"the model expected {fails.__name__}; got {raised!r}"
        if isinstance(raised, InsufficientCredits) and available is not None:
            assert raised.available == Credits(max(0, available)), raised
        return None

    def resolve(self, name: str, amount: int, now: datetime) -> int:
        return max(1, self.model.available(name, now)) if amount == ALL else amount

    def check_receipt(self, balance: Balance) -> None:
        expected = self.model.figures(balance.account_id, self.clock.now())
        got = (balance.balance.units, balance.held.units, balance.available.units)
        assert got == expected, f"receipt of {balance.account_id}: {got} != model {expected}"

    # Credits in

    @initialize(
        target=entries,
        funds=st.lists(
            st.tuples(accounts, grant_units, expiries, priorities), min_size=2, max_size=6
        ),
    )
    def fund(self, funds: list[tuple[str, int, timedelta | None, int]]) -> MultipleResults[EntryId]:
        granted = [self.grant(timedelta(0), *lot, source=LotSource.PURCHASE) for lot in funds]
        return multiple(*(e for e in granted if not isinstance(e, MultipleResults)))

    @rule(
        wait=waits,
        target=entries,
        name=accounts,
        amount=grant_units,
        expires_in=expiries,
        priority=priorities,
        source=st.sampled_from(sorted(GRANTABLE_SOURCES)),
    )
    def grant(
        self,
        wait: timedelta,
        name: str,
        amount: int,
        expires_in: timedelta | None,
        priority: int,
        source: LotSource,
    ) -> EntryId | MultipleResults[EntryId]:
        now = self.wait(wait)
        expires_at = None if expires_in is None else now + expires_in
        fails = InvalidInput if expires_at is not None and expires_at <= now else None
        receipt = self.attempt(
            fails,
            lambda: self.engine.grant(
                name, Credits(amount), source=source, expires_at=expires_at, priority=priority
            ),
        )
        if receipt is None:
            return multiple()
        self.model.new_lot(name, amount, now, expires_at=expires_at, priority=priority)
        self.model.accounts[name].granted += amount
        self.model.wrote(name, entries=1)
        self.model.entries[receipt.entry.id] = MEntry(name, EntryKind.GRANT)
        self.check_receipt(receipt.balance)
        return receipt.entry.id

    @rule(wait=waits, target=entries, name=accounts, amount=spend_units, negative=st.booleans())
    def adjust(
        self, wait: timedelta, name: str, amount: int, negative: bool
    ) -> EntryId | MultipleResults[EntryId]:
        now = self.wait(wait)
        amount = self.resolve(name, amount, now)
        signed = -amount if negative else amount
        fails = InsufficientCredits if amount > self.model.available(name, now) else None
        receipt = self.attempt(
            fails if negative else None,
            lambda: self.engine.adjust(name, Credits(signed), reason="fix", actor="ops"),
            available=self.model.available(name, now),
        )
        if receipt is None:
            return multiple()
        account = self.model.accounts[name]
        if negative:
            self.model.burn(name, amount, now)
        else:
            self.model.new_lot(name, amount, now, expires_at=None, priority=0)
            account.granted += amount
        account.adjusted += signed
        self.model.wrote(name, entries=1)
        self.model.entries[receipt.entry.id] = MEntry(name, EntryKind.ADJUST)
        self.check_receipt(receipt.balance)
        return receipt.entry.id

    # Credits out

    @rule(wait=waits, target=spends, name=accounts, amount=spend_units)
    def charge(self, wait: timedelta, name: str, amount: int) -> EntryId | MultipleResults[EntryId]:
        now = self.wait(wait)
        amount = self.resolve(name, amount, now)
        self._charges += 1
        key = f"charge-{self._charges}"
        receipt = self.attempt(
            _spend_fails(self.model, name, amount, now),
            lambda: self.engine.charge(name, Credits(amount), idempotency_key=key),
            available=self.model.available(name, now),
        )
        if receipt is None:
            return multiple()
        taken = self.model.burn(name, amount, now)
        self.model.accounts[name].spent += amount
        self.model.wrote(name, entries=1)
        self.model.entries[receipt.entry.id] = MEntry(name, EntryKind.CHARGE, taken, amount)
        self.model.keys[receipt.entry.id] = (key, amount)
        self.check_receipt(receipt.balance)
        return receipt.entry.id

    @rule(wait=waits, entry_id=spends, same=st.booleans())
    def replay_charge(self, wait: timedelta, entry_id: EntryId, same: bool) -> None:
        """The same key again: the first receipt and no effect; with another amount, a conflict."""
        self.wait(wait)
        if entry_id not in self.model.keys:
            return  # a settle: settles here carry no key
        key, amount = self.model.keys[entry_id]
        name = self.model.entries[entry_id].account
        replayed = amount if same else amount + 1
        receipt = self.attempt(
            None if same else IdempotencyConflict,
            lambda: self.engine.charge(name, Credits(replayed), idempotency_key=key),
        )
        if receipt is not None:
            assert receipt.entry.id == entry_id, f"replay answered {receipt.entry}"
            self.model.wrote(name, entries=0)  # the account was locked: due expiries written

    @rule(wait=waits, target=holds, name=accounts, amount=spend_units, ttl=ttls)
    def hold(
        self, wait: timedelta, name: str, amount: int, ttl: timedelta
    ) -> HoldId | MultipleResults[HoldId]:
        now = self.wait(wait)
        amount = self.resolve(name, amount, now)
        receipt = self.attempt(
            _ttl_fails(ttl) or _spend_fails(self.model, name, amount, now),
            lambda: self.engine.hold(name, Credits(amount), ttl=ttl),
            available=self.model.available(name, now),
        )
        if receipt is None:
            return multiple()
        assert receipt.hold is not None
        pins = {lot.id: take for lot, take in self.model.plan(name, amount, now)}
        for lot_id, take in pins.items():
            self.model.accounts[name].lots[lot_id].held += take
        self.model.holds[receipt.hold.id] = MHold(name, amount, now + ttl, HoldStatus.PENDING, pins)
        self.model.wrote(name, entries=1)
        self.check_receipt(receipt.balance)
        return receipt.hold.id

    @rule(wait=waits, hold_id=holds, more=units, ttl=st.none() | ttls)
    def extend(self, wait: timedelta, hold_id: HoldId, more: int, ttl: timedelta | None) -> None:
        now = self.wait(wait)
        hold = self.model.holds[hold_id]
        fails = _ttl_fails(ttl)
        if fails is None and hold.status is not HoldStatus.PENDING:
            fails = HoldNotPending
        receipt = self.attempt(
            fails or _spend_fails(self.model, hold.account, more, now),
            lambda: self.engine.extend(hold_id, Credits(more), ttl=ttl),
            available=self.model.available(hold.account, now),
        )
        if receipt is None:
            return
        for lot, take in self.model.plan(hold.account, more, now):
            lot.held += take
            hold.pins[lot.id] = hold.pins.get(lot.id, 0) + take
        hold.amount += more
        if ttl is not None:
            hold.expires_at = max(hold.expires_at, now + ttl)
        self.model.wrote(hold.account, entries=1)
        self.check_receipt(receipt.balance)

    @rule(
        wait=waits,
        target=spends,
        hold_id=holds,
        how=st.sampled_from(["zero", "below", "equal", "above"]),
        delta=deltas,
    )
    def settle(
        self, wait: timedelta, hold_id: HoldId, how: str, delta: int
    ) -> EntryId | MultipleResults[EntryId]:
        now = self.wait(wait)
        hold = self.model.holds[hold_id]
        actual = {
            "zero": 0,
            "below": max(0, hold.amount - delta),
            "equal": hold.amount,
            "above": hold.amount + delta,
        }[how]
        fails: Fails = None
        if hold.status is not HoldStatus.PENDING:
            fails = HoldNotPending
        elif actual > hold.amount:
            fails = _spend_fails(self.model, hold.account, actual - hold.amount, now)
        receipt = self.attempt(fails, lambda: self.engine.settle(hold_id, Credits(actual)))
        if receipt is None:
            return multiple()
        taken = self.model.capture(hold, actual, now)
        hold.status = HoldStatus.SETTLED
        self.model.accounts[hold.account].spent += actual
        self.model.entries[receipt.entry.id] = MEntry(hold.account, EntryKind.SETTLE, taken, actual)
        self.model.sync(now)  # a pinned lot that expired meanwhile can leave now
        self.model.wrote(hold.account, entries=1)
        self.check_receipt(receipt.balance)
        return receipt.entry.id

    @rule(wait=waits, hold_id=holds)
    def release(self, wait: timedelta, hold_id: HoldId) -> None:
        now = self.wait(wait)
        hold = self.model.holds[hold_id]
        fails = None if hold.status is HoldStatus.PENDING else HoldNotPending
        receipt = self.attempt(fails, lambda: self.engine.release(hold_id))
        if receipt is None:
            return
        self.model._unpin(hold)
        hold.status = HoldStatus.RELEASED
        self.model.sync(now)
        self.model.wrote(hold.account, entries=1)
        self.check_receipt(receipt.balance)

    @rule(
        wait=waits,
        target=entries,
        entry_id=spends,
        how=st.sampled_from(["all", "part", "rest", "over"]),
        delta=deltas,
    )
    def refund(
        self, wait: timedelta, entry_id: EntryId, how: str, delta: int
    ) -> EntryId | MultipleResults[EntryId]:
        now = self.wait(wait)
        spend = self.model.entries[entry_id]
        left = spend.taken - spend.refunded
        amount = {"all": None, "part": max(1, left - delta), "rest": left, "over": left + delta}[
            how
        ]
        refund = left if amount is None else amount
        is_spend = spend.kind in {EntryKind.CHARGE, EntryKind.SETTLE}
        fails = None if is_spend and 0 < refund <= left else InvalidInput
        receipt = self.attempt(
            fails,
            lambda: self.engine.refund(entry_id, None if amount is None else Credits(amount)),
        )
        if receipt is None:
            return multiple()
        self.model.give_back(spend, refund, now)
        spend.refunded += refund
        self.model.accounts[spend.account].refunded += refund
        self.model.entries[receipt.entry.id] = MEntry(spend.account, EntryKind.REFUND)
        self.model.wrote(spend.account, entries=1)
        self.check_receipt(receipt.balance)
        return receipt.entry.id

    @rule(
        wait=waits,
        target=entries,
        sender=accounts,
        to_self=st.sampled_from([False] * 4 + [True]),
        amount=spend_units,
    )
    def transfer(
        self, wait: timedelta, sender: str, to_self: bool, amount: int
    ) -> EntryId | MultipleResults[EntryId]:
        now = self.wait(wait)
        receiver = sender if to_self else next(a for a in ACCOUNTS if a != sender)
        amount = self.resolve(sender, amount, now)
        fails = (
            InvalidInput if sender == receiver else _spend_fails(self.model, sender, amount, now)
        )
        receipt = self.attempt(
            fails,
            lambda: self.engine.transfer(sender, receiver, Credits(amount)),
            available=self.model.available(sender, now),
        )
        if receipt is None:
            return multiple()
        for lot, take in self.model.plan(sender, amount, now):
            lot.remaining -= take
            self.model.new_lot(receiver, take, now, expires_at=lot.expires_at, priority=0)
        self.model.accounts[sender].transferred_out += amount
        self.model.accounts[receiver].transferred_in += amount
        self.model.accounts[receiver].granted += amount
        self.model.wrote(sender, receiver, entries=1)
        self.model.entries[receipt.debit.id] = MEntry(sender, EntryKind.TRANSFER)
        self.model.entries[receipt.credit.id] = MEntry(receiver, EntryKind.TRANSFER)
        self.check_receipt(receipt.from_balance)
        self.check_receipt(receipt.to_balance)
        return receipt.debit.id

    # Accounts, time and the expiry pass

    @rule(name=accounts, is_frozen=st.sampled_from([True, False, False]))
    def freeze(self, name: str, is_frozen: bool) -> None:
        self.now()
        self.engine.update_account(name, is_frozen=is_frozen)
        self.model.accounts[name].is_frozen = is_frozen
        self.model.wrote(name, entries=0)

    @rule(jump=st.sampled_from(JUMPS))
    def advance_clock(self, jump: timedelta) -> None:
        self.clock.advance(jump)

    @rule()
    def expire(self) -> None:
        self.now()
        due = [a for a in self.model.accounts.values() if a.unwritten_lots or a.unwritten_holds]
        expected = (
            len(due),
            sum(a.unwritten_lots for a in due),
            sum(a.unwritten_holds for a in due),
            sum(a.unwritten_units for a in due),
        )

        swept = self.engine.expire()

        got = (swept.accounts, swept.lots_expired, swept.holds_expired, swept.credits_expired.units)
        assert got == expected, f"expiry pass wrote {got}, the model expected {expected}"
        self.model.wrote(*ACCOUNTS, entries=0)

    @rule(back=st.integers(1, 40))
    def balance_at_an_earlier_step(self, back: int) -> None:
        instants = sorted(self.model.past)
        at = instants[max(0, len(instants) - 1 - back)]
        for name, expected in self.model.past[at].items():
            got = self.engine.balance_at(name, at).units
            assert got == expected, f"{name}: balance_at({at}) {got} != model {expected}"

    # What must hold after every step

    @invariant()
    def balances_agree(self) -> None:
        now = self.now()
        balances = {}
        for name in ACCOUNTS:
            got = self.engine.balance(name)
            expected = self.model.figures(name, now)
            figures = (got.balance.units, got.held.units, got.available.units)
            assert figures == expected, f"{name}: engine {figures} != model {expected}"
            assert got.debt.units == 0
            at_now = self.engine.balance_at(name, now).units
            assert at_now == expected[0], f"{name}: balance_at(now) {at_now} != {expected[0]}"
            balances[name] = expected[0]
        self.model.past[now] = balances
        if self.model.has_unwritten_past(now):
            self.model.unsettled_past.append(now)

    @invariant()
    def failed_calls_wrote_nothing(self) -> None:
        if not self._failed:
            return
        for name, account in self.model.accounts.items():
            latest = self.engine.history(name, limit=1).items
            seq = latest[0].seq if latest else 0
            assert seq == account.entries, f"{name}: {seq} entries, model {account.entries}"
        self._failed = False

    @invariant()
    def lifetimes_agree(self) -> None:
        self.now()
        for name, account in self.model.accounts.items():
            life = self.engine.lifetime(name)
            got = (
                life.granted.units,
                life.spent.units,
                life.refunded.units,
                life.expired.units,
                life.adjusted.units,
                life.transferred_in.units,
                life.transferred_out.units,
            )
            expected = (
                account.granted,
                account.spent,
                account.refunded,
                account.expired,
                account.adjusted,
                account.transferred_in,
                account.transferred_out,
            )
            assert got == expected, f"{name} lifetime: engine {got} != model {expected}"

    @invariant()
    def holds_agree(self) -> None:
        self.now()
        for hold_id, expected in self.model.holds.items():
            got = self.engine.get_hold(hold_id)
            assert (got.status, got.amount.units, got.expires_at) == (
                expected.status,
                expected.amount,
                expected.expires_at,
            ), f"hold {hold_id}: engine {got} != model {expected}"

    @invariant()
    def verify_is_clean(self) -> None:
        # Verify reads only stored rows, which change only when a write commits (a failed
        # call commits nothing: balances_agree counts the entries after every step).
        if self.model.writes == self._verified_writes:
            return
        report = self.engine.verify()
        assert report.is_clean, report.problems
        assert report.entries == sum(a.entries for a in self.model.accounts.values())
        self._verified_writes = self.model.writes
        # A write may record expiries effective in the past: the past must not change.
        for at in self.model.unsettled_past[-UNSETTLED_CHECKS_MAX:]:
            for name, expected in self.model.past[at].items():
                got = self.engine.balance_at(name, at).units
                assert got == expected, f"{name}: balance_at({at}) now {got}, it was {expected}"


# The runs: every example on SQLite, fewer and shorter ones on PostgreSQL


class FreshSqlite:
    """A new migrated SQLite file per example: a copy of the session's template file.

    The ledger's tables refuse DELETE and TRUNCATE (append-only triggers), so an example
    starts on a new database rather than emptying the last one's.
    """

    def __init__(self, template: Path) -> None:
        self._template = template
        self._directory: Path | None = None
        self._database: Database | None = None

    def open(self) -> Database:
        self.close()
        self._directory = Path(tempfile.mkdtemp(prefix="cg_machine_"))
        path = self._directory / "ledger.db"
        shutil.copyfile(self._template, path)
        # Durability is not under test here: NORMAL spares an fsync per commit.
        self._database = Database(f"sqlite:///{path}", sqlite_sync=SqliteSync.NORMAL)
        return self._database

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None


class FreshPostgres:
    """A new migrated PostgreSQL database per example, created from the session's template.

    CREATE DATABASE ... TEMPLATE takes a few tenths of a second: PostgreSQL runs fewer
    examples than SQLite.
    """

    def __init__(self, template: str) -> None:
        self._template = template
        self._admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self._name: str | None = None
        self._database: Database | None = None

    def _execute(self, statement: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(statement))

    def open(self) -> Database:
        self.close()
        self._name = f"cg_machine_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{self._name}" TEMPLATE "{self._template}"')
        url = make_url(PG_ADMIN_URL).set(database=self._name)
        self._database = Database(url.render_as_string(hide_password=False), pool_size=2)
        return self._database

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None
        if self._name is not None:
            self._execute(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)')
            self._name = None

    def dispose(self) -> None:
        self.close()
        self._admin.dispose()


FreshDatabase = FreshSqlite | FreshPostgres


def _bound(database: FreshDatabase) -> type[LedgerMachine]:
    """The machine class on one database source, for `run_state_machine_as_test`."""

    class LedgerMachineOn(LedgerMachine):
        def __init__(self) -> None:
            super().__init__(database)

    return LedgerMachineOn


def test_ledger_agrees_with_the_model_on_sqlite(sqlite_template: Path) -> None:
    database = FreshSqlite(sqlite_template)
    try:
        run_state_machine_as_test(_bound(database), settings=settings(stateful_step_count=30))
    finally:
        database.close()


def test_ledger_agrees_with_the_model_on_postgresql(pg_template: str) -> None:
    database = FreshPostgres(pg_template)
    examples = min(PG_EXAMPLES_MAX, settings().max_examples)
    try:
        run_state_machine_as_test(
            _bound(database), settings=settings(max_examples=examples, stateful_step_count=20)
        )
    finally:
        database.dispose()


# Minimal sequences the model rejects, replayed step by step (bugs in src/, kept failing)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request: pytest.FixtureRequest) -> Iterator[FreshDatabase]:
    """A per-example database source on each backend, for replaying one sequence."""
    if request.param == "sqlite":
        sqlite = FreshSqlite(request.getfixturevalue("sqlite_template"))
        yield sqlite
        sqlite.close()
        return
    postgres = FreshPostgres(request.getfixturevalue("pg_template"))
    yield postgres
    postgres.dispose()


def test_refunded_credits_expire_with_their_lot_when_the_lot_was_spent_out(
    fresh: FreshDatabase,
) -> None:
    # A refund puts credits back into a lot that a charge emptied. The account's next due
    # instant was recomputed while that lot was empty (so without its expiry), and the
    # refund does not lower it again: the refunded credits never expire, and a later charge
    # that counts on them trips an assertion instead of raising InsufficientCredits.
    state = LedgerMachine(fresh)
    try:
        state.fund(funds=[("acct_a", 10_000, MINUTE * 60, 0), ("acct_a", 1000, MINUTE * 5, 0)])
        spend = state.charge(wait=timedelta(0), name="acct_a", amount=ALL)
        assert isinstance(spend, int)
        state.advance_clock(jump=MINUTE * 5)
        state.refund(wait=timedelta(0), entry_id=spend, how="all", delta=0)
        state.balances_agree()
        state.advance_clock(jump=MINUTE * 60)

        state.balances_agree()
    finally:
        state.teardown()


def test_balance_at_now_equals_the_balance_when_a_hold_pins_an_expired_lot(
    fresh: FreshDatabase,
) -> None:
    # A lot expires while a hold pins part of it: `balance` withholds the free part (it
    # counts in no balance), `balance_at(now)` still counts it.
    state = LedgerMachine(fresh)
    try:
        state.fund(funds=[("acct_a", 2000, MINUTE, 0)])
        state.hold(wait=timedelta(0), name="acct_a", amount=1000, ttl=MINUTE * 5)
        state.advance_clock(jump=MINUTE)

        state.balances_agree()
    finally:
        state.teardown()


def test_balance_at_a_past_instant_stays_when_a_hold_on_an_expired_lot_ends(
    fresh: FreshDatabase,
) -> None:
    # A lot expires while a hold pins part of it; at that instant the balance counts only
    # the pinned part. When the hold ends, the lot's one expire entry is written effective
    # at the lot's expiry, so the balance at every instant since then drops after the fact.
    state = LedgerMachine(fresh)
    try:
        state.fund(funds=[("acct_a", 2000, MINUTE, 0)])
        hold = state.hold(wait=timedelta(0), name="acct_a", amount=1000, ttl=MINUTE * 5)
        assert isinstance(hold, int)
        state.advance_clock(jump=MINUTE * 2)
        state.balances_agree()  # the balance now is 1 credit, pinned by the hold
        state.release(wait=MINUTE, hold_id=hold)

        state.verify_is_clean()  # re-reads the balance two minutes in: now 0
    finally:
        state.teardown()
