"""The scheduler's pass: renewals per second over a population all due at once, and charges
per second while the pass runs, against charges without it.

N subscriptions (`--subscriptions`, default 100,000) to one monthly plan, all started at the
same instant, so a `ManualClock` moved past the end of the month makes every one of them due
at once. Then one `Engine.expire()` renews them all: per account, in its own transaction,
lock the row, expire the ending cycle's lot, grant the next cycle's. The pass runs in a
process of its own, as `creditgate jobs run` from cron does, on the same durability settings
as the other benchmarks (SQLite synchronous=FULL, PostgreSQL synchronous_commit=on).

1. The pass against its floor: the least a renewal must do, written by hand with the floor's
   driver in a database of its own, one transaction per due account listed in batches as
   the pass lists them: lock the account row and read what the ending cycle left, refill
   the cycle's lot (the leftover expires, the next cycle's credits arrive), write the
   account's balance and next renewal date, and one ledger entry. Half the floor's accounts
   renew before the engine's pass and half after it, so a slow minute weighs on both.

       pass sqlite subscriptions=100,000: 315 renewals/s | floor 5,071 renewals/s | ratio 0.06

2. Charges (`Engine.charge`, 1,000 accounts of their own, none on a plan) while the pass
   runs, in a window of `--seconds` per thread count in the middle of the pass, against the
   same charges with no pass running, measured before and after the pass for as long:

       charge sqlite threads=1 during pass: 82 ops/s | without pass 1,146 ops/s | ratio 0.07

   and the pass's own rate inside each window against the rest of the pass:

       pass sqlite during charges threads=1: 312 renewals/s | rest of the pass 316 renewals/s

How the N subscriptions are made: the first 1,000 (or N, if fewer) through the public
Engine (`create_account`, then `subscribe`); the rest are copies of those rows (accounts,
subscriptions, plan cycles, lots, entries, lot moves) with their ids moved on, inserted with
the engine's own table definitions, so every value is typed as the engine types it. Before
anything is measured, a sample of copies must read back through the Engine exactly as
their originals do, and `verify` must report the whole ledger clean. After the pass,
`cycles_granted` must equal N and a few balances are checked.
"""

import argparse
import multiprocessing
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection as Pipe
from typing import Any

from sqlalchemy import Table, insert, select

from common import (
    MANY_ACCOUNTS,
    Backend,
    Rate,
    account_name,
    analyze,
    backends,
    engine_worker,
    floor_connection,
    footer,
    header,
    make_accounts,
    move_sequences,
    note,
    open_engine,
    parse_args,
    report,
    run_threads,
    scratch_database,
    scratch_dir,
)
from creditgate import Credits, Engine, ManualClock
from creditgate.domain.entries import Entry
from creditgate.domain.ids import AccountId
from creditgate.domain.limits import SWEEP_BATCH_MAX
from creditgate.domain.results import ExpirePass
from creditgate.storage.database import SqliteSync
from creditgate.storage.tables import (
    accounts,
    entries,
    entry_lots,
    lots,
    plan_cycles,
    subscriptions,
)

SUBSCRIPTIONS_DEFAULT = 100_000
"""Subscriptions due in the measured pass."""

THROUGH_ENGINE = 1000
"""Subscriptions made through the public Engine; the others are copies of their rows."""

COPY_BATCH = 5000
"""Copied subscriptions per transaction."""

SECONDS_DEFAULT = 10.0
"""Seconds of charges per thread count, during the pass and (in two halves) without it."""

PLAN = "bench_monthly"
PLAN_CREDITS = 1000
"""The one plan: this many credits a month, no rollover."""

STARTED_AT = datetime(2026, 1, 1, tzinfo=UTC)
"""When every subscription starts: its first cycle ends a month later."""

DUE_AT = datetime(2026, 2, 1, 1, tzinfo=UTC)
"""The clock during the measurements: an hour past the end of every first cycle."""

FIRST_WINDOW_AT = 0.1
"""A charge window opens once this share of the pass is done (its rate is known by then)."""


def subscriber(index: int) -> str:
    """The app's id of subscriber `index`."""
    return f"sub_{index:06d}"


def charge_once(engine: Engine, account_id: str) -> None:
    """One charge of 1 credit for a feature, as bench/charge.py makes it."""
    engine.charge(account_id, 1, feature="bench.charge")


# Seeding: a thousand subscriptions through the Engine, the rest copied from their rows


COPIED: tuple[Table, ...] = (accounts, subscriptions, plan_cycles, lots, entries, entry_lots)
"""What `create_account` and `subscribe` write for a new subscriber, in foreign-key order."""

SHIFTED = ("id", "account_id", "subscription_id", "lot_id", "entry_id")
"""Columns holding a key of one subscriber's own rows: a copy moves them by the same offset."""


def seed(backend: Backend, url: str, count: int) -> None:
    """Make `count` subscribers and the charges' accounts, then analyze the database."""
    started = time.perf_counter()
    setup = open_engine(url, sync=SqliteSync.NORMAL, clock=ManualClock(STARTED_AT))
    try:
        setup.create_plan(PLAN, name="Bench monthly", credits=PLAN_CREDITS, prices={"month": 1500})
        made = min(count, THROUGH_ENGINE)
        for index in range(made):
            setup.create_account(subscriber(index))
            setup.subscribe(subscriber(index), PLAN)
        _copy_subscribers(setup, made, count)
        if backend == "postgresql":
            with setup.db.write() as conn:
                move_sequences(conn, ("accounts", "subscriptions", "lots", "entries"))
        made_at = time.perf_counter()
        _check_copies(setup, made, count)
        make_accounts(setup, MANY_ACCOUNTS)
        note(
            f"{backend}: {count:,} subscribers in {made_at - started:.1f} s ({made:,} through"
            f" the public Engine, {count - made:,} copied from their rows); copies read back"
            f" as their originals; {MANY_ACCOUNTS:,} accounts to charge through the Engine"
        )
    finally:
        setup.close()
    analyze(backend, url)


def _copy_subscribers(engine: Engine, made: int, count: int) -> None:
    """Copy the rows of subscribers 0..made-1 into subscribers made..count-1."""
    with engine.db.read() as conn:
        originals = {
            table.name: [
                dict(r._mapping) for r in conn.execute(select(table).order_by(*table.primary_key))
            ]
            for table in COPIED
        }
    for name, rows in originals.items():
        assert len(rows) == made, f"{name}: one row per subscriber, not {len(rows)} for {made}"
        for column in SHIFTED:
            if rows and column in rows[0]:
                keys = [r[column] for r in rows]
                assert keys == list(range(keys[0], keys[0] + made)), f"{name}.{column}"
    for first in range(made, count, COPY_BATCH):
        batch = range(first, min(first + COPY_BATCH, count))
        with engine.db.write() as conn:
            for table in COPIED:
                rows = originals[table.name]
                conn.execute(
                    insert(table), [_copied(rows[i % made], i - i % made, i) for i in batch]
                )


def _copied(row: dict[str, Any], offset: int, index: int) -> dict[str, Any]:
    """One row of subscriber `index`, copied from its original's row `offset` subscribers on."""
    copy = dict(row)
    for column in SHIFTED:
        if copy.get(column) is not None:
            copy[column] += offset
    if "external_id" in copy:
        copy["external_id"] = subscriber(index)
    meta = copy.get("metadata")
    if isinstance(meta, dict) and "subscription_id" in meta:
        copy["metadata"] = {**meta, "subscription_id": meta["subscription_id"] + offset}
    return copy


def _check_copies(engine: Engine, made: int, count: int) -> None:
    """A sample of copies must read back through the Engine exactly as their originals do."""
    for index in sorted({made, made + 1, count // 2, count - 1}):
        if not made <= index < count:
            continue
        original, copy = subscriber(index % made), subscriber(index)
        assert _view(engine, copy) == _view(engine, original), f"{copy} differs from {original}"
        sub = engine.subscription(copy)
        assert sub is not None
        newest = engine.history(copy, limit=1).items[0]
        assert newest.metadata["subscription_id"] == sub.id, "a copy's lot names its subscription"


def _view(engine: Engine, account_id: str) -> tuple[Any, ...]:
    """What the Engine answers about an account, without the ids that differ between copies."""
    sub = engine.subscription(account_id)
    assert sub is not None
    balance = engine.balance(account_id)
    history = engine.history(account_id).items
    return (
        replace(balance, account_id=AccountId("")),
        replace(sub, id=0, account_id=AccountId("")),
        [_entry_shape(e) for e in history],
    )


def _entry_shape(entry: Entry) -> tuple[Any, ...]:
    meta = {k: v for k, v in entry.metadata.items() if k != "subscription_id"}
    moves = tuple((m.amount, m.held) for m in entry.moves)
    return (entry.seq, entry.kind, entry.amount, entry.balance_after, entry.held_after, meta, moves)


# The floor: the least a renewal must do, by hand


FLOOR_UNITS = PLAN_CREDITS * 1000
"""A floor account's cycle: the plan's credits, in the engine's units."""


class FloorPass:
    """Accounts, one lot each, and a ledger of entries, in a database of their own.

    Half the accounts fall due when the engine's subscriptions do, the other half a day
    later, so the floor can renew one half before the engine's pass and the other after it.
    """

    def __init__(self, backend: Backend, url: str, *, accounts: int) -> None:
        self.backend = backend
        self.url = url
        self.accounts = accounts
        self.halves = (DUE_AT - timedelta(hours=1), DUE_AT + timedelta(days=1))
        with floor_connection(backend, url) as conn:
            self._create(conn)
        analyze(backend, url)

    def _stamp(self, at: datetime) -> Any:
        return at.replace(tzinfo=None).isoformat(sep=" ") if self.backend == "sqlite" else at

    def _create(self, conn: Any) -> None:
        serial = "INTEGER PRIMARY KEY" if self.backend == "sqlite" else "BIGSERIAL PRIMARY KEY"
        stamp = "TEXT" if self.backend == "sqlite" else "TIMESTAMPTZ"
        statements = [
            "CREATE TABLE floor_accounts (id BIGINT PRIMARY KEY,"
            f" balance BIGINT NOT NULL CHECK (balance >= 0), renews_at {stamp} NOT NULL)",
            "CREATE INDEX ix_floor_accounts_renews_at ON floor_accounts (renews_at)",
            f"CREATE TABLE floor_lots (id {serial},"
            " account_id BIGINT NOT NULL REFERENCES floor_accounts (id),"
            " remaining BIGINT NOT NULL CHECK (remaining >= 0),"
            f" expires_at {stamp} NOT NULL)",
            "CREATE INDEX ix_floor_lots_account_id ON floor_lots (account_id)",
            f"CREATE TABLE floor_entries (id {serial},"
            " account_id BIGINT NOT NULL REFERENCES floor_accounts (id),"
            f" amount BIGINT NOT NULL, balance_after BIGINT NOT NULL, created_at {stamp} NOT NULL)",
        ]
        half = self.accounts // 2
        ends = [
            self._stamp(self.halves[0] if i < half else self.halves[1])
            for i in range(self.accounts)
        ]
        account_rows = [(i + 1, FLOOR_UNITS, ends[i]) for i in range(self.accounts)]
        lot_rows = [(i + 1, FLOOR_UNITS, ends[i]) for i in range(self.accounts)]
        if self.backend == "sqlite":
            for statement in statements:
                conn.execute(statement)
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO floor_accounts VALUES (?, ?, ?)", account_rows)
            conn.executemany(
                "INSERT INTO floor_lots (account_id, remaining, expires_at) VALUES (?, ?, ?)",
                lot_rows,
            )
            conn.execute("COMMIT")
            return
        with conn.transaction():
            for statement in statements:
                conn.execute(statement)
            with conn.cursor() as cursor:
                with cursor.copy("COPY floor_accounts (id, balance, renews_at) FROM STDIN") as copy:
                    for row in account_rows:
                        copy.write_row(row)
                with cursor.copy(
                    "COPY floor_lots (account_id, remaining, expires_at) FROM STDIN"
                ) as copy:
                    for row in lot_rows:
                        copy.write_row(row)

    def run(self, half: int) -> Rate:
        """Renew every floor account of one half; the count and seconds it took."""
        now = self.halves[half] + timedelta(hours=1)
        next_at = self._stamp(now + timedelta(days=31))
        due = self._stamp(now)
        renewed = 0
        with floor_connection(self.backend, self.url) as conn:
            started = time.perf_counter()
            after = 0
            while True:
                ids = self._due(conn, due, after)
                for account in ids:
                    renewed += self._renew(conn, account, due, next_at)
                if len(ids) < SWEEP_BATCH_MAX:
                    break
                after = ids[-1]
            elapsed = time.perf_counter() - started
        expected = self.accounts // 2 if half == 0 else self.accounts - self.accounts // 2
        assert renewed == expected, f"the floor renewed {renewed}, not {expected}"
        return Rate(renewed, elapsed)

    def _due(self, conn: Any, due: Any, after: int) -> list[int]:
        p = "?" if self.backend == "sqlite" else "%s"
        rows = conn.execute(
            "SELECT id FROM floor_accounts"
            f" WHERE renews_at <= {p} AND id > {p} ORDER BY id LIMIT {SWEEP_BATCH_MAX}",
            (due, after),
        ).fetchall()
        conn.commit()
        return [int(r[0]) for r in rows]

    def _renew(self, conn: Any, account: int, due: Any, next_at: Any) -> int:
        """One renewal in one transaction; 0 when the account was no longer due."""
        if self.backend == "sqlite":
            conn.execute("BEGIN IMMEDIATE")
            try:
                done = self._renew_statements(conn, "?", "", account, due, next_at)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return done
        with conn.transaction():
            return self._renew_statements(conn, "%s", " FOR UPDATE", account, due, next_at)

    def _renew_statements(
        self, conn: Any, p: str, lock: str, account: int, due: Any, next_at: Any
    ) -> int:
        row = conn.execute(
            f"SELECT balance FROM floor_accounts WHERE id = {p} AND renews_at <= {p}{lock}",
            (account, due),
        ).fetchone()
        if row is None:
            return 0
        leftover = int(row[0])
        conn.execute(
            f"UPDATE floor_lots SET remaining = {p}, expires_at = {p} WHERE account_id = {p}",
            (FLOOR_UNITS, next_at, account),
        )
        conn.execute(
            f"UPDATE floor_accounts SET balance = {p}, renews_at = {p} WHERE id = {p}",
            (FLOOR_UNITS, next_at, account),
        )
        conn.execute(
            "INSERT INTO floor_entries (account_id, amount, balance_after, created_at)"
            f" VALUES ({p}, {p}, {p}, {p})",
            (account, FLOOR_UNITS - leftover, FLOOR_UNITS, due),
        )
        return 1


# The engine's pass, in a process of its own


def pass_process(url: str, pipe: Pipe) -> None:
    """Open the Engine at DUE_AT, wait for the word, run one pass; send back what it did."""
    try:
        engine = open_engine(url, clock=ManualClock(DUE_AT))
        try:
            pipe.send("ready")
            pipe.recv()
            started, cpu = time.perf_counter(), time.process_time()
            done = engine.expire()
            pipe.send((done, time.perf_counter() - started, time.process_time() - cpu))
        finally:
            engine.close()
    except BaseException:
        pipe.send(traceback.format_exc())
        raise


@dataclass(frozen=True, slots=True)
class Window:
    """Charges run while the pass ran, and what the pass renewed meanwhile."""

    threads: int
    charges: Rate
    renewals: Rate


@dataclass(frozen=True, slots=True)
class Pass:
    """One pass of the engine: what it wrote, its wall and CPU seconds, its charge windows."""

    done: ExpirePass
    seconds: float
    cpu_seconds: float
    windows: list[Window]


def renewed(conn: Any) -> int:
    """How many second cycles have been granted so far (read by hand, committed only)."""
    row = conn.execute("SELECT count(*) FROM plan_cycles WHERE cycle_index = 1").fetchone()
    conn.commit()
    return int(row[0])


def engine_pass(
    args: argparse.Namespace, backend: Backend, url: str, engine: Engine, names: list[str]
) -> Pass:
    """Run the pass in its own process; open a charge window per thread count in its middle."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=pass_process, args=(url, theirs), daemon=True)
    process.start()
    theirs.close()  # so that a receive fails, rather than waits, once the process is gone
    try:
        first = ours.recv()
        if first != "ready":
            raise RuntimeError(f"the pass's process failed:\n{first}")
        with floor_connection(backend, url) as conn:
            ours.send("go")
            started = time.perf_counter()
            windows = list(_windows(args, backend, conn, ours, started, engine, names))
        result = ours.recv()
        if isinstance(result, str):
            raise RuntimeError(f"the pass failed:\n{result}")
        done, seconds, cpu = result
    finally:
        process.join(timeout=60)
        if process.is_alive():
            process.terminate()
    return Pass(done, seconds, cpu, windows)


def _windows(
    args: argparse.Namespace,
    backend: Backend,
    conn: Any,
    pipe: Pipe,
    started: float,
    engine: Engine,
    names: list[str],
) -> Iterator[Window]:
    """Charge windows while the pass runs: after a tenth of it, each followed by a gap."""
    total = args.subscriptions
    earliest = started
    for threads in args.threads:
        progress = _wait_until(conn, pipe, total * FIRST_WINDOW_AT, earliest)
        if progress is None:
            note(f"{backend}: the pass ended before the charge window of {threads} threads")
            return
        done, now = progress
        remaining_s = (total - done) / (done / (now - started))
        seconds = min(args.seconds, remaining_s / 2)
        if seconds < 1.0:
            note(f"{backend}: too little of the pass left for the window of {threads} threads")
            return
        before, opened = renewed(conn), time.perf_counter()
        charges = run_threads(
            engine_worker(engine, names, charge_once, threads=threads),
            threads=threads,
            seconds=seconds,
        )
        after, closed = renewed(conn), time.perf_counter()
        if pipe.poll():
            note(f"{backend}: the pass ended inside the window of {threads} threads")
        yield Window(threads, charges, Rate(after - before, closed - opened))
        earliest = closed + args.seconds


def _wait_until(
    conn: Any, pipe: Pipe, renewals: float, earliest: float
) -> tuple[int, float] | None:
    """Wait until the pass has renewed `renewals` and `earliest` has passed; None if it ended."""
    while not pipe.poll():
        done, now = renewed(conn), time.perf_counter()
        if done >= renewals and now >= earliest:
            return done, now
        time.sleep(1.0)
    return None


def charges_without(
    args: argparse.Namespace, engine: Engine, names: list[str], *, seconds: float
) -> dict[int, Rate]:
    """Charges per thread count with no pass running, `seconds` each."""
    return {
        threads: run_threads(
            engine_worker(engine, names, charge_once, threads=threads),
            threads=threads,
            seconds=seconds,
        )
        for threads in args.threads
    }


# The run


def spot_check(engine: Engine, count: int) -> list[str]:
    """A few subscribers after the pass: one cycle's credits, in cycle 1, expire then grant."""
    checked = []
    for index in sorted({0, min(count, THROUGH_ENGINE) - 1, count // 2, count - 1}):
        name = subscriber(index)
        balance = engine.balance(name)
        assert balance.balance == Credits.parse(PLAN_CREDITS), (name, balance)
        sub = engine.subscription(name)
        assert sub is not None, name
        assert sub.cycle_index == 1, (name, sub)
        kinds = [e.kind.value for e in engine.history(name).items]
        assert kinds == ["grant", "expire", "grant"], (name, kinds)
        checked.append(name)
    return checked


def run(args: argparse.Namespace, backend: Backend) -> None:
    """Seed, then: charges without, floor half, the pass with its windows, floor half, charges."""
    count = args.subscriptions
    with (
        scratch_dir(args.dir) as directory,
        scratch_database(backend, "scheduler_engine", directory) as url,
        scratch_database(backend, "scheduler_floor", directory) as floor_url,
    ):
        seed(backend, url, count)
        engine = open_engine(url, pool_size=max(args.threads) + 2, clock=ManualClock(DUE_AT))
        try:
            started = time.perf_counter()
            checked = engine.verify()
            assert checked.is_clean, f"verify found problems: {checked.problems[:3]}"
            note(
                f"{backend}: verify clean before the pass ({checked.accounts:,} accounts,"
                f" {checked.entries:,} entries, {time.perf_counter() - started:.1f} s)"
            )
            floor = FloorPass(backend, floor_url, accounts=count)
            names = [account_name(i) for i in range(MANY_ACCOUNTS)]
            before = charges_without(args, engine, names, seconds=args.seconds / 2)
            floor_before = floor.run(0)
            measured = engine_pass(args, backend, url, engine, names)
            floor_after = floor.run(1)
            after = charges_without(args, engine, names, seconds=args.seconds / 2)
            done = measured.done
            assert done.cycles_granted == count, f"{done.cycles_granted} cycles, not {count}"
            assert done.accounts == count, f"{done.accounts} accounts renewed, not {count}"
            checked_names = spot_check(engine, count)
            started = time.perf_counter()
            checked = engine.verify()
            assert checked.is_clean, f"verify found problems: {checked.problems[:3]}"
            verify_s = time.perf_counter() - started
        finally:
            engine.close()
    _print(backend, count, measured, (floor_before, floor_after), (before, after))
    note(
        f"{backend}: cycles_granted {done.cycles_granted:,} = subscriptions; balances of"
        f" {', '.join(checked_names)} are {PLAN_CREDITS:,} credits in cycle 1; verify clean"
        f" after ({checked.entries:,} entries, {verify_s:.1f} s)"
    )


def _print(
    backend: Backend,
    count: int,
    measured: Pass,
    floors: tuple[Rate, Rate],
    without: tuple[dict[int, Rate], dict[int, Rate]],
) -> None:
    renewals = Rate(count, measured.seconds)
    floor_rate = floors[0] + floors[1]
    report(
        f"pass {backend} subscriptions={count:,}",
        renewals,
        floor_rate,
        unit="renewals",
        target=None,
        floor_unit="renewals",
    )
    in_windows = sum((w.renewals for w in measured.windows), Rate(0, 0.0))
    rest = Rate(count - in_windows.ops, measured.seconds - in_windows.seconds)
    done = measured.done
    note(
        f"pass {backend}: {measured.seconds:.1f} s wall, {measured.cpu_seconds:.1f} s CPU in"
        f" the pass's process ({measured.cpu_seconds / count * 1000:.2f} ms per renewal);"
        f" {done.accounts:,} accounts, {done.lots_expired:,} lots expired,"
        f" {done.cycles_granted:,} cycles granted; {in_windows.seconds:.1f} s of it with"
        f" charges running; the rest alone {rest.per_s:,.0f} renewals/s"
    )
    note(
        f"floor {backend}: {floors[0].per_s:,.0f} renewals/s before the pass,"
        f" {floors[1].per_s:,.0f} after"
    )
    for window in measured.windows:
        note(
            f"charge {backend} threads={window.threads} without pass:"
            f" {without[0][window.threads].per_s:,.0f} ops/s before the pass,"
            f" {without[1][window.threads].per_s:,.0f} after"
        )
        report(
            f"charge {backend} threads={window.threads} during pass",
            window.charges,
            without[0][window.threads] + without[1][window.threads],
            unit="ops",
            target=None,
            floor_label="without pass",
        )
    for window in measured.windows:
        report(
            f"pass {backend} during charges threads={window.threads}",
            window.renewals,
            rest,
            unit="renewals",
            target=None,
            floor_label="rest of the pass",
            floor_unit="renewals",
        )


def _subscriptions_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--subscriptions",
        type=int,
        default=SUBSCRIPTIONS_DEFAULT,
        help=f"subscriptions due in the pass (default {SUBSCRIPTIONS_DEFAULT:,})",
    )


def main() -> None:
    """Run the scheduler benchmark."""
    args = parse_args(
        __doc__ or "", seconds=SECONDS_DEFAULT, threads=(1, 8), extra=_subscriptions_arg
    )
    assert args.subscriptions >= 2, "at least two subscriptions (the floor renews two halves)"
    header("scheduler: one pass renewing every subscription, and charges while it runs")
    note(
        f"{args.subscriptions:,} subscriptions due at once; charges {args.seconds:g} s per"
        " thread count during the pass, and as long without it (half before, half after)"
    )
    for backend in backends(args.backend):
        run(args, backend)
    footer()


if __name__ == "__main__":
    main()
