"""Concurrency: many writers on one account, on real SQLite and PostgreSQL databases.

Bounded threads (and, on SQLite, processes) race on one account; the figures must come out
exactly as the successful operations say, and `verify` must stay clean.

Each test here was checked once against a deliberately naive variant (design rule 13),
patched in from a scratch file outside the repository and never committed: `Books.lock`
reads the account without `FOR UPDATE`, and on SQLite `Database.write` opens a deferred
`BEGIN` without the in-process writer lock. Every test failed against it; what each one
saw is in its docstring. The naive forms never overspent silently here: the unique
(account, seq) of the entries and the lots' CHECKs turned each lost update into an error.
"""

import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import queue
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import pytest

from creditgate import (
    Credits,
    Engine,
    EntryKind,
    InsufficientCredits,
    InvalidInput,
    ManualClock,
    MemberCapExceeded,
    OwnerKind,
)
from creditgate.domain.ids import EntryId, HoldId
from tests.conftest import START
from tests.factories import funded_account

THREADS = 16
CHARGES_PER_THREAD = 200
FUNDS_CREDITS = 1_000
PROCESSES = 4
THREADS_PER_PROCESS = THREADS // PROCESSES
PROCESS_RESULT_TIMEOUT_S = 120.0
REPLAY_ROUNDS = 5
TRANSFERS_PER_THREAD = 25
HOLD_TTL = timedelta(minutes=5)
HELD_CREDITS = 10
SETTLE_EXTRA_MAX_CREDITS = 2
SETTLE_SHARE = 2 / 3

T = TypeVar("T")


@dataclass
class Tally:
    """What one worker saw: operations that took effect and ones refused for credits.

    `units` is what the successful ones moved: captured by settles, sent by transfers.
    """

    succeeded: int = 0
    refused: int = 0
    units: int = 0
    released: int = 0


def _race(workers: int, work: Callable[[int], T]) -> list[T]:
    """Run `work(i)` on `workers` threads that start together; re-raise any worker's error."""
    barrier = threading.Barrier(workers)

    def started(index: int) -> T:
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(started, i) for i in range(workers)]
        return [future.result() for future in futures]


def _charge_stream(engine: Engine, account_id: str, charges: int) -> Tally:
    tally = Tally()
    for _ in range(charges):
        try:
            engine.charge(account_id, 1)
        except InsufficientCredits:
            tally.refused += 1
        else:
            tally.succeeded += 1
    return tally


def _charge_stream_on_own_engine(db_url: str, clock: ManualClock, charges: int) -> Tally:
    engine = Engine(db_url, clock=clock, upgrade=False)
    try:
        return _charge_stream(engine, "user_1", charges)
    finally:
        engine.close()


def test_charge_never_overspends_when_16_threads_race_on_one_account(engine: Engine) -> None:
    """16 threads x 200 charges of 1 credit against exactly 1,000: 1,000 succeed.

    The threads share one Engine, the library's normal use. Naive variant (account read
    without a row lock; SQLite deferred BEGIN, no writer lock): on PostgreSQL two writers
    read the same figures and both numbered their entry with the same seq, so charges
    failed with IntegrityError (uq_entries_account_id_seq) and the test failed; on SQLite
    the read-then-write transactions failed with "database is locked" (SQLITE_BUSY_SNAPSHOT:
    the busy timeout cannot save them).
    """
    funded_account(engine, credits=FUNDS_CREDITS)

    tallies = _race(THREADS, lambda _: _charge_stream(engine, "user_1", CHARGES_PER_THREAD))

    _assert_spent_exactly_the_funds(engine, tallies)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_charge_never_overspends_when_16_threads_each_open_an_engine_on_one_sqlite_file(
    engine: Engine, clock: ManualClock, db_url: str
) -> None:
    """The same race with an Engine per thread: no in-process lock is shared between them.

    Only SQLite's file lock (BEGIN IMMEDIATE plus the busy timeout) keeps the writers
    apart, as between processes. Naive variant: "database is locked".
    """
    funded_account(engine, credits=FUNDS_CREDITS)

    tallies = _race(
        THREADS, lambda _: _charge_stream_on_own_engine(db_url, clock, CHARGES_PER_THREAD)
    )

    _assert_spent_exactly_the_funds(engine, tallies)


def _assert_spent_exactly_the_funds(engine: Engine, tallies: list[Tally]) -> None:
    attempts = THREADS * CHARGES_PER_THREAD
    assert sum(t.succeeded for t in tallies) == FUNDS_CREDITS
    assert sum(t.refused for t in tallies) == attempts - FUNDS_CREDITS
    balance = engine.balance("user_1")
    assert balance.balance == Credits(0)
    assert balance.held == Credits(0)
    assert engine.lifetime("user_1").spent == Credits.parse(FUNDS_CREDITS)
    assert engine.verify().is_clean


def _charge_in_process(
    db_url: str,
    barrier: multiprocessing.synchronize.Barrier,
    results: "multiprocessing.queues.Queue[object]",
) -> None:
    """A child process: its own Engine on the file, 4 threads of 200 charges each."""
    try:
        engine = Engine(db_url, clock=ManualClock(START), upgrade=False)
        barrier.wait(timeout=PROCESS_RESULT_TIMEOUT_S)
        tallies = _race(
            THREADS_PER_PROCESS, lambda _: _charge_stream(engine, "user_1", CHARGES_PER_THREAD)
        )
        engine.close()
        results.put((sum(t.succeeded for t in tallies), sum(t.refused for t in tallies)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_charge_never_overspends_when_4_processes_race_on_one_sqlite_file(
    engine: Engine, db_url: str
) -> None:
    """4 processes x 4 threads x 200 charges of 1 credit against exactly 1,000: 1,000 succeed.

    The processes share nothing but the file, so only SQLite's own lock (BEGIN IMMEDIATE
    plus the busy timeout) keeps them apart. Naive variant (deferred BEGIN, patched into
    each child too): charges failed with "database is locked" and the test failed.
    """
    funded_account(engine, credits=FUNDS_CREDITS)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results: multiprocessing.queues.Queue[object] = context.Queue()
    children = [
        context.Process(target=_charge_in_process, args=(db_url, barrier, results))
        for _ in range(PROCESSES)
    ]

    for child in children:
        child.start()
    try:
        outcomes = [results.get(timeout=PROCESS_RESULT_TIMEOUT_S) for _ in children]
    except queue.Empty:
        outcomes = ["a child process reported nothing"]
    for child in children:
        child.join(timeout=PROCESS_RESULT_TIMEOUT_S)

    assert all(isinstance(outcome, tuple) for outcome in outcomes), outcomes
    counts = [outcome for outcome in outcomes if isinstance(outcome, tuple)]
    attempts = PROCESSES * THREADS_PER_PROCESS * CHARGES_PER_THREAD
    assert sum(succeeded for succeeded, _ in counts) == FUNDS_CREDITS
    assert sum(refused for _, refused in counts) == attempts - FUNDS_CREDITS
    assert all(child.exitcode == 0 for child in children)
    assert engine.balance("user_1").balance == Credits(0)
    assert engine.verify().is_clean


def _hold_stream(engine: Engine, rounds: int, seed: int) -> Tally:
    """Hold 10 credits, then settle (for 1 to 12) or release, at random.

    A settle above the hold takes the extra only if it is available; when it is not, the
    hold stays pending and the worker releases it, as an app would.
    """
    rng = random.Random(seed)
    tally = Tally()
    for _ in range(rounds):
        try:
            receipt = engine.hold("user_1", HELD_CREDITS, ttl=HOLD_TTL)
        except InsufficientCredits:
            tally.refused += 1
            continue
        tally.succeeded += 1
        assert receipt.hold is not None
        if rng.random() < SETTLE_SHARE:
            actual = Credits.parse(rng.randint(1, HELD_CREDITS + SETTLE_EXTRA_MAX_CREDITS))
            try:
                engine.settle(receipt.hold.id, actual)
            except InsufficientCredits:
                pass
            else:
                tally.units += actual.units
                continue
        engine.release(receipt.hold.id)
        tally.released += 1
    return tally


def test_hold_never_overspends_when_16_threads_settle_and_release_at_random(
    engine: Engine,
) -> None:
    """16 threads x 200 holds of 10 credits, each settled or released at random (seeded).

    The balance ends at 1,000 less exactly what the settles captured, nothing stays held,
    and the account ran dry (some holds were refused). Naive variant: PostgreSQL failed
    with IntegrityError on the entries' seq; SQLite with "database is locked".
    """
    funded_account(engine, credits=FUNDS_CREDITS)

    tallies = _race(THREADS, lambda i: _hold_stream(engine, CHARGES_PER_THREAD, seed=i))

    settled = Credits(sum(t.units for t in tallies))
    balance = engine.balance("user_1")
    assert sum(t.refused for t in tallies) > 0
    assert sum(t.released for t in tallies) > 0
    assert balance.balance == Credits.parse(FUNDS_CREDITS) - settled
    assert balance.held == Credits(0)
    assert balance.available < Credits.parse(HELD_CREDITS)
    assert engine.lifetime("user_1").spent == settled
    assert engine.verify().is_clean


def _replay(engine: Engine, operation: str, key: str, target: int) -> object:
    """One request of `operation`, always with the same key and the same fields."""
    if operation == "charge":
        return engine.charge("user_1", 3, feature="image.generate", idempotency_key=key)
    if operation == "grant":
        return engine.grant("user_1", 3, source="promo", idempotency_key=key)
    if operation == "hold":
        return engine.hold("user_1", 3, ttl=HOLD_TTL, idempotency_key=key)
    if operation == "settle":
        return engine.settle(HoldId(target), 2, idempotency_key=key)
    if operation == "release":
        return engine.release(HoldId(target), idempotency_key=key)
    if operation == "refund":
        return engine.refund(EntryId(target), 1, idempotency_key=key)
    assert operation == "transfer"
    return engine.transfer("user_1", "user_2", 3, idempotency_key=key)


def _replay_target(engine: Engine, operation: str, spend_id: EntryId) -> int:
    """What a round's requests act on: a fresh hold to end, or the charge to refund."""
    if operation in {"settle", "release"}:
        receipt = engine.hold("user_1", 3, ttl=HOLD_TTL)
        assert receipt.hold is not None
        return receipt.hold.id
    return spend_id


def _replayer(engine: Engine, operation: str, key: str, target: int) -> Callable[[int], object]:
    return lambda _: _replay(engine, operation, key, target)


EFFECT_KIND = {
    "charge": EntryKind.CHARGE,
    "grant": EntryKind.GRANT,
    "hold": EntryKind.HOLD,
    "settle": EntryKind.SETTLE,
    "release": EntryKind.RELEASE,
    "refund": EntryKind.REFUND,
    "transfer": EntryKind.TRANSFER,
}


@pytest.mark.parametrize("operation", list(EFFECT_KIND))
def test_replayed_key_takes_effect_once_when_16_threads_send_it_together(
    engine: Engine, operation: str
) -> None:
    """16 threads send one request with one key at once, for 5 keys: 5 effects in all.

    Every thread gets the same result as the one that took effect, even where the effect
    makes the request impossible to run again (a settled or released hold). Naive
    variants: without the row lock, PostgreSQL ran the duplicates' effects too, which then
    failed with IntegrityError on the entries' seq, and SQLite failed with "database is
    locked"; with the key claimed and committed before the effect (charge only),
    duplicates got no result or failed on the key's primary key instead of the first
    result.
    """
    funded_account(engine, credits=FUNDS_CREDITS)
    engine.create_account("user_2")
    spend = engine.charge("user_1", 10).entry
    kind = EFFECT_KIND[operation]
    before = len(engine.history("user_1", kinds=[kind], limit=100).items)
    targets = [_replay_target(engine, operation, spend.id) for _ in range(REPLAY_ROUNDS)]

    rounds = [
        _race(THREADS, _replayer(engine, operation, f"key-{n}", target))
        for n, target in enumerate(targets)
    ]

    assert all(result == results[0] for results in rounds for result in results)
    after = len(engine.history("user_1", kinds=[kind], limit=100).items)
    assert after - before == REPLAY_ROUNDS
    assert engine.verify().is_clean


def _transfer_stream(engine: Engine, sender: str, receiver: str, seed: int) -> Tally:
    rng = random.Random(seed)
    tally = Tally()
    for _ in range(TRANSFERS_PER_THREAD):
        units = Credits.parse(rng.choice([1, 2, 3]))
        try:
            engine.transfer(sender, receiver, units)
        except InsufficientCredits:
            tally.refused += 1
        else:
            tally.succeeded += 1
            tally.units += units.units
    return tally


def test_transfer_conserves_credits_when_threads_send_in_opposite_directions(
    engine: Engine,
) -> None:
    """8 threads send alice -> bob and 8 send bob -> alice at once: no deadlock, no loss.

    Each side ends at what it had, less what it sent, plus what it received. Naive
    variants: locking the sender first, then the receiver (not in id order), PostgreSQL
    reported "deadlock detected" (SQLite cannot deadlock: its writers are serialized
    whole); without the row locks, PostgreSQL failed with IntegrityError on the entries'
    seq and SQLite with "database is locked".
    """
    funded_account(engine, "alice", credits=30)
    funded_account(engine, "bob", credits=30)
    directions = [("alice", "bob"), ("bob", "alice")]

    tallies = _race(THREADS, lambda i: _transfer_stream(engine, *directions[i % 2], seed=i))

    sent_by_alice = sum(t.units for t in tallies[0::2])
    sent_by_bob = sum(t.units for t in tallies[1::2])
    alice = engine.balance("alice").balance
    bob = engine.balance("bob").balance
    assert alice == Credits.parse(30) - Credits(sent_by_alice) + Credits(sent_by_bob)
    assert bob == Credits.parse(30) - Credits(sent_by_bob) + Credits(sent_by_alice)
    assert alice + bob == Credits.parse(60)
    assert sum(t.succeeded for t in tallies) > 0
    assert engine.verify().is_clean


def test_refund_never_exceeds_the_charge_when_16_threads_refund_it_at_once(
    engine: Engine,
) -> None:
    """16 threads each refund 1 credit of one 5-credit charge: exactly 5 succeed.

    Naive variant: PostgreSQL failed with IntegrityError on the entries' seq; SQLite with
    "database is locked".
    """
    funded_account(engine, credits=10)
    spend = engine.charge("user_1", 5).entry

    def refund_one(_: int) -> bool:
        try:
            engine.refund(spend.id, 1)
        except InvalidInput:
            return False
        return True

    outcomes = _race(THREADS, refund_one)

    assert outcomes.count(True) == 5
    assert engine.balance("user_1").balance == Credits.parse(10)
    assert engine.lifetime("user_1").refunded == Credits.parse(5)
    assert engine.verify().is_clean


def test_charge_stops_at_the_overdraft_floor_when_16_threads_race(engine: Engine) -> None:
    """An account of 100 credits with a floor of -50: exactly 150 of 320 charges succeed.

    Naive variant: PostgreSQL failed with IntegrityError on the entries' seq; SQLite with
    "database is locked".
    """
    engine.create_account("user_1", floor=-50)
    engine.grant("user_1", 100, source="purchase")

    tallies = _race(THREADS, lambda _: _charge_stream(engine, "user_1", 20))

    balance = engine.balance("user_1")
    assert sum(t.succeeded for t in tallies) == 150
    assert balance.balance == Credits.parse(-50)
    assert balance.debt == Credits.parse(50)
    assert engine.verify().is_clean


def test_charge_stops_at_the_member_cap_when_16_threads_of_one_member_race(
    engine: Engine,
) -> None:
    """A member capped at 30 credits of a 1,000-credit wallet: exactly 30 charges succeed.

    Every refusal is the member's cap, never the wallet's balance. Naive variant:
    PostgreSQL failed with IntegrityError on the entries' seq; SQLite with "database is
    locked".
    """
    engine.create_account("org_1", owner_kind=OwnerKind.ORGANIZATION)
    engine.grant("org_1", FUNDS_CREDITS, source="purchase")
    engine.add_member("org_1", "member_1", spend_cap=30)
    refusals: list[InsufficientCredits] = []

    def charge_as_member(_: int) -> int:
        succeeded = 0
        for _ in range(10):
            try:
                engine.charge("org_1", 1, member_id="member_1")
            except InsufficientCredits as refused:
                refusals.append(refused)
            else:
                succeeded += 1
        return succeeded

    successes = _race(THREADS, charge_as_member)

    assert sum(successes) == 30
    assert all(isinstance(refused, MemberCapExceeded) for refused in refusals)
    (member,) = engine.members("org_1")
    assert member.spent == Credits.parse(30)
    assert engine.balance("org_1").balance == Credits.parse(FUNDS_CREDITS - 30)
    assert engine.verify().is_clean


def test_create_account_makes_one_account_when_16_threads_create_it_at_once(
    engine: Engine,
) -> None:
    """Create-or-get by the app's id, raced: one account, and every caller gets it.

    Naive variant (select, then insert when missing): PostgreSQL failed with IntegrityError
    on uq_accounts_external_id; with a deferred BEGIN too, SQLite failed with "database is
    locked".
    """
    accounts = _race(THREADS, lambda _: engine.create_account("user_1", metadata={"plan": "free"}))

    assert all(account == accounts[0] for account in accounts)
    assert engine.verify().accounts == 1
