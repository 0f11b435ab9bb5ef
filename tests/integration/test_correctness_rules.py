"""The design's invariants and correctness rules that the ledger core owns, one test each.

Named for the rule they pin: the ledger is append-only (invariant 3); durability is
configuration (rule 3); SQLite writers begin IMMEDIATE (rule 2); exactly-once means a key
claimed in the effect's transaction (rule 4); a hold ends exactly once (rule 7, invariant
6); an expired lot leaves through one expire entry, even when passes and writes race
(invariant 8). Elsewhere: rule 1 and invariants 1, 4 and 7 under load in
`test_concurrency.py`; invariant 2 in `test_verify.py`; the rest of invariant 4 in
`test_idempotency.py`; expiry decided at query time (rule 8) in `test_expiry.py`.
"""

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from creditgate import (
    AccountFrozen,
    Credits,
    Engine,
    EntryKind,
    ExpirePass,
    HoldNotPending,
    HoldStatus,
    InsufficientCredits,
    ManualClock,
    Receipt,
)
from creditgate.domain.ids import HoldId, LotId
from creditgate.storage.database import Database, SqliteSync
from creditgate.storage.tables import idempotency_keys
from tests.conftest import START
from tests.factories import DAY, MINUTE, funded_account

RACERS = 16
WAIT_FOR_WRITER_S = 0.5

LEDGER_CHANGES = {
    "update_entries": "UPDATE entries SET amount = amount + 1000",
    "delete_entries": "DELETE FROM entries",
    "update_entry_lots": "UPDATE entry_lots SET amount = amount + 1000",
    "delete_entry_lots": "DELETE FROM entry_lots",
}


def _race(work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` on RACERS threads that start together; return results or raised errors."""
    barrier = threading.Barrier(RACERS)
    outcomes: list[object] = [None] * RACERS

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _hold_ends(engine: Engine, hold_id: HoldId) -> list[EntryKind]:
    kinds = [EntryKind.SETTLE, EntryKind.RELEASE, EntryKind.EXPIRE]
    page = engine.history("user_1", kinds=kinds, limit=100)
    return [entry.kind for entry in page.items if entry.hold_id == hold_id]


def _lot_expiries(engine: Engine, lot_id: LotId) -> int:
    page = engine.history("user_1", kinds=[EntryKind.EXPIRE], limit=100)
    return sum(
        1
        for entry in page.items
        for move in entry.moves
        if move.lot_id == lot_id and move.amount.units < 0
    )


# Invariant 3: the ledger is append-only.


@pytest.mark.parametrize("statement", list(LEDGER_CHANGES))
def test_ledger_is_append_only_when_sql_updates_or_deletes_it(
    engine: Engine, database: Database, statement: str
) -> None:
    funded_account(engine, credits=10)
    engine.charge("user_1", 4)
    before = engine.history("user_1").items

    with pytest.raises(DBAPIError, match="append-only"), database.write() as conn:
        conn.execute(text(LEDGER_CHANGES[statement]))

    assert engine.history("user_1").items == before
    assert engine.verify().is_clean


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize(
    "table", ["entry_lots", "entries, entry_lots, usage_events, promo_redemptions"]
)
def test_ledger_is_append_only_when_sql_truncates_it(
    engine: Engine, database: Database, table: str
) -> None:
    funded_account(engine, credits=10)

    with pytest.raises(DBAPIError, match="append-only"), database.write() as conn:
        conn.execute(text(f"TRUNCATE {table}"))

    assert len(engine.history("user_1").items) == 1


# Rule 3: durability is configuration that a test pins.


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_database_pins_sqlite_wal_and_synchronous_full_by_default(database: Database) -> None:
    with database.write() as conn:
        journal_mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        busy_timeout = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()

    assert journal_mode == "wal"
    assert synchronous == 2  # FULL
    assert busy_timeout is not None
    assert busy_timeout > 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_database_pins_sqlite_synchronous_normal_when_configured(db_url: str) -> None:
    database = Database(db_url, sqlite_sync=SqliteSync.NORMAL)

    with database.write() as conn:
        journal_mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    database.dispose()

    assert journal_mode == "wal"
    assert synchronous == 1  # NORMAL


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_engine_pins_sqlite_synchronous_normal_when_the_setting_says_so(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDITGATE_SQLITE_SYNCHRONOUS", "NORMAL")
    engine = Engine(db_url, upgrade=False)

    with engine.db.read() as conn:
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    engine.close()

    assert synchronous == 1


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_database_pins_postgresql_synchronous_commit_on_when_the_server_default_is_off(
    db_url: str,
) -> None:
    name = make_url(db_url).database
    setup = Database(db_url)
    with setup.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    setup.dispose()
    database = Database(db_url)

    with database.write() as conn:
        synchronous_commit = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
    with database.read() as conn:
        read_synchronous_commit = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
    database.dispose()

    assert synchronous_commit == "on"
    assert read_synchronous_commit == "on"


# Rule 2: on SQLite every write transaction starts with BEGIN IMMEDIATE.


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_writer_waits_for_another_writer_and_then_sees_its_commit(
    engine: Engine, database: Database, db_url: str, clock: ManualClock
) -> None:
    """A second Database on the file (as another process would be) waits, then proceeds.

    The first writer freezes the account; the waiting charge then reads the committed
    state and is refused for it. It never fails with "database is locked", and never
    charges a frozen account from a stale read. Checked once against a naive variant (a
    deferred BEGIN, patched in from a scratch file): the charge read first, then failed
    with "database is locked" when it tried to write.
    """
    funded_account(engine, credits=10)
    other = Engine(Database(db_url), clock=clock, upgrade=False)
    outcome: list[object] = []

    def charge() -> None:
        try:
            outcome.append(other.charge("user_1", 1))
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcome.append(exc)

    waiter = threading.Thread(target=charge)
    with database.write() as conn:
        conn.execute(text("UPDATE accounts SET is_frozen = TRUE WHERE external_id = 'user_1'"))
        waiter.start()
        waiter.join(timeout=WAIT_FOR_WRITER_S)
        was_waiting = waiter.is_alive()
    waiter.join()
    other.close()

    assert was_waiting
    assert len(outcome) == 1
    assert isinstance(outcome[0], AccountFrozen)
    assert engine.balance("user_1").balance == Credits.parse(10)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_deferred_transaction_fails_when_it_reads_then_writes_after_another_commit(
    engine: Engine, db_url: str
) -> None:
    """The naive form of rule 2: a deferred BEGIN, read first, write later.

    Another connection commits between the read and the write; the busy timeout (set on
    this connection too) cannot save it: the write fails with "database is locked".
    """
    funded_account(engine, credits=10)
    naive = Database(db_url)

    with naive.read() as deferred:
        deferred.execute(text("SELECT balance FROM accounts")).all()
        engine.charge("user_1", 1)
        with pytest.raises(OperationalError, match="database is locked"):
            deferred.execute(text("UPDATE accounts SET balance = balance - 1000"))
    naive.dispose()

    assert engine.balance("user_1").balance == Credits.parse(9)
    assert engine.verify().is_clean


# Rule 4 and invariant 4: exactly-once is a unique key claimed in the effect's transaction.


def test_idempotency_key_is_not_claimed_when_its_effect_fails(
    engine: Engine, database: Database
) -> None:
    """A charge refused for credits leaves no key behind, so its retry after funding runs.

    Checked once against a naive variant (the key claimed and committed in its own
    transaction before the effect, patched in from a scratch file): the refused charge
    left its key claimed, and the test failed.
    """
    funded_account(engine, credits=1)
    with pytest.raises(InsufficientCredits):
        engine.charge("user_1", 5, idempotency_key="render-42")
    with database.read() as conn:
        keys_after_failure = conn.execute(select(func.count()).select_from(idempotency_keys))
        claimed = keys_after_failure.scalar_one()
    engine.grant("user_1", 10)

    retried = engine.charge("user_1", 5, idempotency_key="render-42")
    replayed = engine.charge("user_1", 5, idempotency_key="render-42")

    assert claimed == 0
    assert replayed == retried
    assert engine.balance("user_1").balance == Credits.parse(6)
    assert len(engine.history("user_1", kinds=[EntryKind.CHARGE]).items) == 1


# Rule 7 and invariant 6: a hold ends exactly once.


@pytest.mark.parametrize("sweeper_first", [False, True])
def test_hold_ends_once_when_settle_comes_after_its_ttl(
    engine: Engine, clock: ManualClock, *, sweeper_first: bool
) -> None:
    """A late settle is refused as expired, and the expiry is written by one pass only.

    A refused settle writes nothing, not even the expiry its lock found due: the pass
    after it writes that, once.
    """
    funded_account(engine, credits=10)
    receipt = engine.hold("user_1", 6, ttl=MINUTE)
    assert receipt.hold is not None
    clock.advance(2 * MINUTE)
    early_pass = engine.expire() if sweeper_first else None

    with pytest.raises(HoldNotPending) as refused:
        engine.settle(receipt.hold.id, 6)
    with pytest.raises(HoldNotPending):
        engine.release(receipt.hold.id)
    late_pass = engine.expire()
    last_pass = engine.expire()

    assert refused.value.hold_status == HoldStatus.EXPIRED
    swept = [p.holds_expired for p in (early_pass, late_pass, last_pass) if p is not None]
    assert sum(swept) == 1
    assert _hold_ends(engine, receipt.hold.id) == [EntryKind.EXPIRE]
    assert engine.get_hold(receipt.hold.id).status is HoldStatus.EXPIRED
    balance = engine.balance("user_1")
    assert balance.balance == Credits.parse(10)
    assert balance.held == Credits(0)
    assert engine.verify().is_clean


@pytest.mark.parametrize("past_ttl", [False, True])
def test_hold_ends_once_when_settles_releases_and_sweeps_race(
    engine: Engine, clock: ManualClock, *, past_ttl: bool
) -> None:
    """16 threads settle, release and sweep one hold at once: one end, paid out once.

    Checked once against a naive variant (the account read without its row lock; SQLite
    deferred BEGIN, no writer lock): PostgreSQL ended the hold twice and the second end
    failed on the lots' CHECK (held within remaining); SQLite failed with "database is
    locked".
    """
    funded_account(engine, credits=10)
    receipt = engine.hold("user_1", 6, ttl=MINUTE)
    assert receipt.hold is not None
    hold_id = receipt.hold.id
    if past_ttl:
        clock.advance(MINUTE)
    ends: list[Callable[[], object]] = [
        lambda: engine.settle(hold_id, 4),
        lambda: engine.release(hold_id),
        engine.expire,
    ]

    outcomes = _race(lambda i: ends[i % len(ends)]())

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(error, HoldNotPending) for error in errors), errors
    ended_by_call = [o for o in outcomes if isinstance(o, Receipt)]
    swept = sum(o.holds_expired for o in outcomes if isinstance(o, ExpirePass))
    hold = engine.get_hold(hold_id)
    assert len(_hold_ends(engine, hold_id)) == 1
    assert len(ended_by_call) == (0 if past_ttl else 1)
    assert swept == (1 if past_ttl else 0)
    assert (hold.status is HoldStatus.EXPIRED) == past_ttl
    balance = engine.balance("user_1")
    assert balance.balance == Credits.parse(6 if hold.status is HoldStatus.SETTLED else 10)
    assert balance.held == Credits(0)
    assert engine.verify().is_clean


# Invariant 8: an expired lot's remainder leaves through exactly one expire entry.


def test_expired_lot_leaves_through_one_expire_entry_when_sweeps_and_charges_race(
    engine: Engine, clock: ManualClock
) -> None:
    """8 expiry passes and 8 charges race just after a lot's expiry: one expire entry.

    Checked once against a naive variant (the account read without its row lock; SQLite
    deferred BEGIN, no writer lock): PostgreSQL wrote the expiry twice and failed on the
    entries' seq and the lots' CHECK; SQLite failed with "database is locked".
    """
    funded_account(engine, credits=100)
    promo = engine.grant("user_1", 20, source="promo", expires_at=START + DAY)
    lot_id = promo.entry.moves[0].lot_id
    engine.charge("user_1", 5)
    clock.advance(2 * DAY)

    outcomes = _race(lambda i: engine.expire() if i % 2 else engine.charge("user_1", 1))

    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert _lot_expiries(engine, lot_id) == 1
    lifetime = engine.lifetime("user_1")
    assert lifetime.expired == Credits.parse(15)
    assert engine.balance("user_1").balance == Credits.parse(100 - RACERS // 2)
    assert engine.verify().is_clean
