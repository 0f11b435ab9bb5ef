"""How cost grows with the ledger: charges at 10 thousand and at 1 million entries.

Two ledgers of the same shape (100 accounts, one lot each) differ only in how many entries
they hold. Charges through the public API (1 thread, synchronous=FULL) run against both in
alternating rounds; the ratio of the two rates should stay near 1. It also prints the bytes
on disk one entry costs (with its lot move and every index) and the time `verify` takes on
the million-entry ledger:

    charge sqlite entries=1,000,000 threads=1: 700 ops/s | at 10,000 entries 720 ops/s | ratio 0.97
    bytes sqlite: 298 bytes/entry (entries 170, entry_lots 128, ...)
    verify sqlite entries=1,000,000: 6.1 s, clean

Seeding a million entries one charge at a time through the API would take most of an hour
with synchronous=FULL, so accounts and grants are made through the public Engine and the
charges are bulk-inserted with the engine's own table definitions (SQLAlchemy Core, so every
value is typed as the engine types it), shaped exactly as `Engine.charge` writes them: an
entry with the next seq and running balance, one lot move, the lot and account figures moved
to match. `verify` must report the seeded ledger clean before anything is measured.
"""

import argparse
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, func, insert, literal, select, text, update

from common import (
    Backend,
    Rate,
    account_name,
    analyze,
    backends,
    engine_worker,
    footer,
    header,
    note,
    open_engine,
    parse_args,
    run_threads,
    scratch_database,
    scratch_dir,
    sqlite_path,
)
from creditgate import Engine
from creditgate.storage.database import Database, SqliteSync
from creditgate.storage.tables import accounts, entries, entry_lots, lots

ACCOUNTS = 100
"""Accounts in each ledger; the small and the large ledger have the same ones."""

SMALL_ENTRIES = 10_000
LARGE_ENTRIES = 1_000_000
"""Entries in the two ledgers (each account: its grant, then charges)."""

CHARGE_UNITS = 1000
"""Each seeded charge takes 1 credit, as the measured charges do."""

GRANT_CREDITS = 1_000_000_000
"""Each account's one grant; the seeded and measured charges never exhaust it."""

INSERT_BATCH = 20_000
"""Seeded entries per statement batch and transaction."""

SECONDS_DEFAULT = 12.0
"""Measured seconds per ledger, in alternating rounds of small and large."""

ROUNDS = 6
"""Alternating rounds (small, large): a slow minute of the disk hits both ledgers alike."""


def charge_once(engine: Engine, account_id: str) -> None:
    """One charge of 1 credit, as bench/charge.py makes it."""
    engine.charge(account_id, 1, feature="bench.charge")


@dataclass(frozen=True, slots=True)
class Ledger:
    """A seeded ledger: its engine and what seeding it took."""

    engine: Engine
    url: str
    entries: int
    seed_s: float


def seed(backend: Backend, url: str, total_entries: int) -> Ledger:
    """Make ACCOUNTS accounts through the API, then bulk-insert charges up to `total_entries`."""
    started = time.perf_counter()
    setup = open_engine(url, sync=SqliteSync.NORMAL)
    for name in (account_name(i) for i in range(ACCOUNTS)):
        setup.create_account(name)
        setup.grant(name, GRANT_CREDITS, source="purchase")
    per_account = total_entries // ACCOUNTS - 1
    assert per_account >= 0
    db = setup.db
    with db.read() as conn:
        pks = list(conn.execute(select(accounts.c.id).order_by(accounts.c.id)).scalars())
        lot_count = conn.execute(select(func.count()).select_from(lots)).scalar_one()
    assert lot_count == len(pks) == ACCOUNTS, "one lot per account"
    charges = _charge_rows(pks, per_account, setup.clock.now())
    if backend == "postgresql":
        _copy_rows(url, charges)
    else:
        batch: list[dict[str, Any]] = []
        for row in charges:
            batch.append(dict(zip(CHARGE_COLUMNS, row, strict=True)))
            if len(batch) == INSERT_BATCH:
                _insert_rows(db, batch)
                batch = []
        _insert_rows(db, batch)
    with db.write() as conn:
        _add_moves_and_figures(conn, per_account)
    setup.close()
    analyze(backend, url)
    engine = open_engine(url)
    return Ledger(engine, url, ACCOUNTS * (per_account + 1), time.perf_counter() - started)


CHARGE_COLUMNS = (
    "account_id",
    "seq",
    "kind",
    "amount",
    "held_delta",
    "balance_after",
    "held_after",
    "cost",
    "feature",
    "metadata",
    "created_at",
    "effective_at",
)
"""The columns a charge of 1 credit fills; the others (hold, refund, actor, ...) stay NULL."""


def _charge_rows(pks: list[int], per_account: int, stamp: datetime) -> Iterator[tuple[Any, ...]]:
    """Charge i of every account, i = 0..per_account-1: seq i + 2 (seq 1 is the grant)."""
    for i in range(per_account):
        at = stamp + timedelta(microseconds=i)
        balance_after = GRANT_CREDITS * 1000 - (i + 1) * CHARGE_UNITS
        for pk in pks:
            row = (pk, i + 2, "charge", -CHARGE_UNITS, 0, balance_after, 0, CHARGE_UNITS)
            yield (*row, "bench.seed", {}, at, at)


def _insert_rows(db: Database, rows: list[dict[str, Any]]) -> None:
    """Insert entries with the engine's table: SQLAlchemy types each value as the engine does."""
    if rows:
        with db.write() as conn:
            conn.execute(insert(entries), rows)


def _copy_rows(url: str, rows: Iterator[tuple[Any, ...]]) -> None:
    """COPY entries into PostgreSQL (typed by the server: timestamptz, json)."""
    columns = ", ".join(CHARGE_COLUMNS)
    with (
        psycopg.connect(url) as conn,
        conn.cursor() as cursor,
        cursor.copy(f"COPY entries ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row((*row[:9], Jsonb(row[9]), *row[10:]))


def _add_moves_and_figures(conn: Connection, per_account: int) -> None:
    """Each seeded charge's lot move; each account's balance, seq and lot moved past them."""
    moves = select(
        entries.c.account_id, entries.c.id, lots.c.id, entries.c.amount, literal(0)
    ).join(lots, lots.c.account_id == entries.c.account_id)
    conn.execute(
        insert(entry_lots).from_select(
            ["account_id", "entry_id", "lot_id", "amount", "held"],
            moves.where(entries.c.kind == "charge"),
        )
    )
    taken = per_account * CHARGE_UNITS
    conn.execute(update(lots).values(remaining=lots.c.remaining - taken))
    conn.execute(
        update(accounts).values(
            balance=accounts.c.balance - taken, seq=accounts.c.seq + per_account
        )
    )


def _sqlite_autocommit(engine: Engine, *statements: str) -> list[Any]:
    """Run statements outside a transaction (a checkpoint cannot run inside one)."""
    raw = engine.db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        rows: list[Any] = []
        for statement in statements:
            rows = list(cursor.execute(statement).fetchall())
        cursor.close()
        return rows
    finally:
        raw.close()


@dataclass(frozen=True, slots=True)
class Sizes:
    """Bytes on disk: the whole database, and each table or index by the table it belongs to."""

    whole: int
    objects: dict[str, tuple[str, int]]
    """Table or index name -> (its table, bytes)."""

    def table(self, name: str) -> int:
        """A table's bytes with all its indexes."""
        return sum(size for table, size in self.objects.values() if table == name)


def sizes_on_disk(backend: Backend, ledger: Ledger) -> Sizes:
    """What the ledger occupies (after a WAL checkpoint on SQLite)."""
    if backend == "sqlite":
        rows = _sqlite_autocommit(
            ledger.engine,
            "PRAGMA wal_checkpoint(TRUNCATE)",
            "SELECT s.name, m.tbl_name, sum(s.pgsize) FROM dbstat AS s"
            " JOIN sqlite_master AS m ON m.name = s.name GROUP BY s.name",
        )
        whole = sqlite_path(ledger.url).stat().st_size
        return Sizes(whole, {str(n): (str(t), int(b)) for n, t, b in rows})
    with ledger.engine.db.engine.connect() as conn:
        relations = conn.execute(
            text(
                "SELECT c.relname, coalesce(t.relname, c.relname), pg_relation_size(c.oid)"
                " FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
                " LEFT JOIN pg_index AS i ON i.indexrelid = c.oid"
                " LEFT JOIN pg_class AS t ON t.oid = i.indrelid"
                " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')"
            )
        ).all()
        whole = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    return Sizes(int(whole), {str(n): (str(t), int(b)) for n, t, b in relations})


def timed_verify(ledger: Ledger) -> float:
    """Seconds `verify` takes; the ledger must be clean."""
    started = time.perf_counter()
    checked = ledger.engine.verify()
    elapsed = time.perf_counter() - started
    assert checked.is_clean, f"verify found problems: {checked.problems[:3]}"
    assert checked.entries == ledger.entries, (checked.entries, ledger.entries)
    return elapsed


def compare(small: Ledger, large: Ledger, *, seconds: float) -> tuple[Rate, Rate]:
    """Charges per second on each ledger, in alternating rounds."""
    names = [account_name(i) for i in range(ACCOUNTS)]
    a, b = Rate(0, 0.0), Rate(0, 0.0)
    for _ in range(ROUNDS):
        for ledger, into in ((small, "a"), (large, "b")):
            rate = run_threads(
                engine_worker(ledger.engine, names, charge_once, threads=1),
                threads=1,
                seconds=seconds / ROUNDS,
            )
            if into == "a":
                a += rate
            else:
                b += rate
    return a, b


def run(args: argparse.Namespace, backend: Backend) -> None:
    """Seed both ledgers on one backend, then print throughput, bytes per entry, verify time."""
    with (
        scratch_dir(args.dir) as directory,
        scratch_database(backend, "growth_small", directory) as small_url,
        scratch_database(backend, "growth_large", directory) as large_url,
    ):
        small = seed(backend, small_url, SMALL_ENTRIES)
        large = seed(backend, large_url, args.entries)
        try:
            note(
                f"{backend}: seeded {small.entries:,} entries in {small.seed_s:.1f} s and"
                f" {large.entries:,} in {large.seed_s:.1f} s ({ACCOUNTS} accounts: grants"
                " through the public Engine, charges bulk-inserted with the engine's tables)"
            )
            small_verify_s = timed_verify(small)
            large_verify_s = timed_verify(large)
            note(f"{backend}: both ledgers verify clean before measuring")
            small_bytes, large_bytes = sizes_on_disk(backend, small), sizes_on_disk(backend, large)
            at_small, at_large = compare(small, large, seconds=args.seconds)
        finally:
            small.engine.close()
            large.engine.close()
    ratio = at_large.per_s / at_small.per_s if at_small.per_s else 0.0
    print(
        f"charge {backend} entries={large.entries:,} threads=1:"
        f" {at_large.per_s:,.0f} ops/s | at {small.entries:,} entries {at_small.per_s:,.0f} ops/s"
        f" | ratio {ratio:.2f}",
        flush=True,
    )
    grown = large.entries - small.entries
    per_entry = (large_bytes.whole - small_bytes.whole) / grown
    tables = ", ".join(
        f"{name} {(large_bytes.table(name) - small_bytes.table(name)) / grown:.0f}"
        for name in ("entries", "entry_lots")
    )
    print(
        f"bytes {backend}: {per_entry:.0f} bytes/entry on disk (with its lot move and indexes:"
        f" {tables}; {large_bytes.whole / 2**20:,.0f} MiB at {large.entries:,} entries)",
        flush=True,
    )
    trees = ", ".join(
        f"{name} {(size - small_bytes.objects.get(name, (table, 0))[1]) / grown:.0f}"
        for name, (table, size) in sorted(large_bytes.objects.items(), key=lambda o: -o[1][1])
        if table in ("entries", "entry_lots")
    )
    note(f"{backend} bytes/entry by table and index: {trees}")
    print(
        f"verify {backend} entries={large.entries:,}: {large_verify_s:.1f} s, clean"
        f" (at {small.entries:,} entries {small_verify_s:.2f} s)",
        flush=True,
    )


def _entries_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--entries",
        type=int,
        default=LARGE_ENTRIES,
        help=f"entries in the large ledger (default {LARGE_ENTRIES:,})",
    )


def main() -> None:
    """Run the growth benchmark."""
    args = parse_args(__doc__ or "", seconds=SECONDS_DEFAULT, threads=(1,), extra=_entries_arg)
    header("growth: charges at 10 thousand and 1 million entries, bytes per entry, verify")
    if args.threads != [1]:
        note("growth measures 1 thread only; --threads is ignored")
    for backend in backends(args.backend):
        run(args, backend)
    footer()


if __name__ == "__main__":
    main()
