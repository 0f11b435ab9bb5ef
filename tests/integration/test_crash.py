"""Crash safety: a process killed (SIGKILL) in the middle of a stream of writes.

A child process writes one operation at a time (a charge, a hold, a settle of that hold, a
transfer to another account, in turn) and acknowledges each committed one on a pipe with
the id of the entry it wrote on the account. The parent kills it at a random moment,
several times, starting a new stream after each kill. After every kill the database must
open, verify clean, and hold every acknowledged entry; at most one operation per kill may
have committed without its acknowledgement reaching the parent, and every transfer must
have both of its sides.

The child is forked (it inherits the imported package, so a stream starts in milliseconds)
and opens its own database connections after the fork.

Checked once against a deliberately naive variant (design rule 13), patched in from a
scratch file outside the repository and never committed: `Database.write` without a
transaction, each statement committing on its own. Kills then landed between an entry and
the figures it changes, and `verify` reported the account against its lots, holds and
numbering (balance_is_sum_of_lots, held_is_sum_of_pending_holds, ledger_is_append_only),
so the tests failed.
"""

import multiprocessing
import os
import random
import signal
import time
from datetime import timedelta

import pytest

from creditgate import Engine, Entry, EntryKind, ManualClock
from creditgate.domain.ids import HoldId
from creditgate.domain.limits import PAGE_SIZE_MAX
from creditgate.storage.database import Database, SqliteSync
from tests.factories import funded_account

KILLS = 8
ACKS_BEFORE_KILL_MIN = 3
ACKS_BEFORE_KILL_MAX = 60
KILL_JITTER_S_MAX = 0.004
WRITES_MAX = 100_000
HOLD_TTL = timedelta(hours=1)
FUNDS_CREDITS = 1_000_000
HISTORY_PAGES_MAX = 100


def _write_stream(db_url: str, sync: str, ack_fd: int) -> None:
    """The child: one write at a time; after each commit, write the entry id and flush.

    Bounded only so that a forgotten child stops by itself.
    """
    engine = Engine(
        Database(db_url, sqlite_sync=SqliteSync(sync)), clock=ManualClock(), upgrade=False
    )
    hold_id: HoldId | None = None
    with os.fdopen(ack_fd, "w") as acks:
        for n in range(WRITES_MAX):
            step = n % 4
            if step == 0:
                entry = engine.charge("user_1", 1, feature="crash.stream").entry
            elif step == 1:
                receipt = engine.hold("user_1", 2, ttl=HOLD_TTL)
                assert receipt.hold is not None
                entry, hold_id = receipt.entry, receipt.hold.id
            elif step == 2:
                assert hold_id is not None
                entry = engine.settle(hold_id, 1).entry
            else:
                entry = engine.transfer("user_1", "user_2", 1).debit
            acks.write(f"{entry.id}\n")
            acks.flush()


def _stream_until_killed(db_url: str, sync: SqliteSync, rng: random.Random) -> list[int]:
    """Start a write stream, kill it after a random number of acks; return every ack."""
    read_fd, write_fd = os.pipe()
    child = multiprocessing.get_context("fork").Process(
        target=_write_stream, args=(db_url, sync.value, write_fd), daemon=True
    )
    child.start()
    os.close(write_fd)
    kill_after = rng.randint(ACKS_BEFORE_KILL_MIN, ACKS_BEFORE_KILL_MAX)
    acked: list[int] = []

    with os.fdopen(read_fd) as acks:
        for line in acks:
            acked.append(int(line))
            if len(acked) == kill_after:
                break
        # Land the kill anywhere in the next charge, not just after an acknowledgement.
        time.sleep(rng.uniform(0, KILL_JITTER_S_MAX))
        child.kill()
        # Lines written before the kill were acknowledged too: read them to the end.
        acked.extend(int(line) for line in acks)
    child.join()

    assert child.exitcode == -signal.SIGKILL, f"the stream ended by itself: {child.exitcode}"
    return acked


def _entries(engine: Engine, account_id: str) -> list[Entry]:
    """Every entry of the account, read page by page."""
    entries: list[Entry] = []
    cursor: str | None = None
    for _ in range(HISTORY_PAGES_MAX):
        page = engine.history(account_id, limit=PAGE_SIZE_MAX, cursor=cursor)
        entries.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return entries
    raise AssertionError("history has more pages than the test allows")


def _transfers(entries: list[Entry]) -> int:
    return sum(1 for entry in entries if entry.kind is EntryKind.TRANSFER)


def _kill_streams_and_check(db_url: str, sync: SqliteSync, seed: int) -> None:
    setup = Engine(db_url, clock=ManualClock())
    funded_account(setup, credits=FUNDS_CREDITS)
    setup.create_account("user_2")
    setup.close()
    rng = random.Random(seed)
    acked: list[int] = []

    for kill in range(1, KILLS + 1):
        acked += _stream_until_killed(db_url, sync, rng)

        engine = Engine(Database(db_url, sqlite_sync=sync), clock=ManualClock(), upgrade=False)
        try:
            report = engine.verify()
            sender = _entries(engine, "user_1")
            receiver = _entries(engine, "user_2")
        finally:
            engine.close()
        assert report.is_clean, report.problems
        assert len(set(acked)) == len(acked)
        assert set(acked) <= {entry.id for entry in sender}
        written = len(sender) - 1  # all but the funding grant
        assert len(acked) <= written <= len(acked) + kill
        assert _transfers(receiver) == _transfers(sender)


def test_killed_stream_keeps_every_acknowledged_write(db_url: str) -> None:
    _kill_streams_and_check(db_url, SqliteSync.FULL, seed=3)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_killed_stream_keeps_every_acknowledged_write_when_sqlite_sync_is_normal(
    db_url: str,
) -> None:
    """NORMAL gives up durability across power loss only: a killed process loses nothing."""
    _kill_streams_and_check(db_url, SqliteSync.NORMAL, seed=4)
