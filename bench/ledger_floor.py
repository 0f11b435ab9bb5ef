"""The engine's own rows, written by hand: what a charge must cost before the engine adds anything.

The floor of `charge.py` writes two rows to a two-table schema with the raw driver. A charge
of the ledger writes more: it burns a lot in burn order, appends an entry and its lot move,
records a usage event and moves the account's figures, on a schema with the indexes that
history, `verify` and the analytics read. This script writes exactly those rows by hand,
through SQLAlchemy Core (the layer the engine must run on), in the fewest statements each
database allows, on a database the engine made and with its connection settings:

- SQLite: `BEGIN IMMEDIATE`, read the account and its spendable lots, then one statement per
  table written (SQLite has no multi-table statement): 8 statements and the commit.
- PostgreSQL: lock the account row, then one data-modifying CTE that burns the lots in burn
  order and writes the lots, the entry, its moves, the usage event and the figures: 2
  statements, `BEGIN` and `COMMIT`, the floor's 4 round trips.

It skips everything else the engine does: pricing, checks, idempotency, members, alerts,
what falls due. Three figures per backend and thread count, in alternating rounds:

    ledger floor sqlite threads=1: 2,410 ops/s | floor 6,300 ops/s | ratio 0.38 | ...
    charge sqlite threads=1: 1,290 ops/s | ledger floor 2,410 ops/s | ratio 0.54 | ...

The first line is the most any engine on this stack could reach against the floor; the
second, how much of that the engine keeps. The engine's `verify` must find the ledger clean
after the run, hand-written rows and all.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, or_, select, text, update

from common import (
    MANY_ACCOUNTS,
    Floor,
    Op,
    Worker,
    alternate_all,
    backends,
    engine_worker,
    footer,
    header,
    is_targeted,
    make_accounts,
    note,
    open_engine,
    parse_args,
    pick,
    report,
    scratch_database,
    scratch_dir,
)
from creditgate import Engine
from creditgate.storage.tables import accounts, entries, entry_lots, lots, usage_events
from creditgate.storage.types import UtcDateTime

SECONDS_DEFAULT = 4.0
UNITS = 1000
"""One credit, as `charge.py` charges."""
FEATURE = "bench.charge"

_lock = select(accounts.c.id, accounts.c.balance, accounts.c.held, accounts.c.seq).where(
    accounts.c.external_id == bindparam("external_id")
)
_spendable = (
    select(lots.c.id, lots.c.remaining, lots.c.held)
    .where(
        lots.c.account_id == bindparam("pk"),
        lots.c.remaining > lots.c.held,
        or_(lots.c.expires_at.is_(None), lots.c.expires_at > bindparam("now", type_=UtcDateTime())),
    )
    .order_by(
        lots.c.priority,
        lots.c.expires_at.is_(None),
        lots.c.expires_at,
        lots.c.created_at,
        lots.c.id,
    )
)
_burn = (
    update(lots)
    .where(lots.c.id == bindparam("lot"))
    .values(remaining=lots.c.remaining - bindparam("take"))
)
_entry = insert(entries).returning(entries.c.id)
_move = insert(entry_lots)
_event = insert(usage_events)
_figures = (
    update(accounts)
    .where(accounts.c.id == bindparam("pk"))
    .values(
        balance=bindparam("balance"),
        seq=bindparam("seq"),
        period_spent=accounts.c.period_spent + bindparam("units"),
    )
)

_PG_WRITE = text("""
WITH ordered AS (
    SELECT id, remaining - held AS free,
           sum(remaining - held) OVER (
               ORDER BY priority, expires_at NULLS LAST, created_at, id) AS upto
    FROM lots
    WHERE account_id = :pk AND remaining > held AND (expires_at IS NULL OR expires_at > :now)
), burn AS (
    SELECT id, least(free, :units - (upto - free)) AS take FROM ordered WHERE upto - free < :units
), burned AS (
    UPDATE lots SET remaining = lots.remaining - burn.take FROM burn WHERE lots.id = burn.id
), entry AS (
    INSERT INTO entries (account_id, seq, kind, amount, held_delta, balance_after, held_after,
                         cost, feature, metadata, created_at, effective_at)
    VALUES (:pk, :seq, 'charge', -:units, 0, :balance, :held, :units, :feature, '{}', :now, :now)
    RETURNING id
), moved AS (
    INSERT INTO entry_lots (account_id, entry_id, lot_id, amount, held)
    SELECT :pk, entry.id, burn.id, -burn.take, 0 FROM entry, burn
), used AS (
    INSERT INTO usage_events (account_id, feature, credits, outcome, metadata, entry_id, created_at)
    SELECT :pk, :feature, :units, 'succeeded', '{}', entry.id, :now FROM entry
), figures AS (
    UPDATE accounts SET balance = :balance, seq = :seq, period_spent = period_spent + :units
    WHERE id = :pk
)
SELECT id FROM entry
""").bindparams(bindparam("now", type_=UtcDateTime()))


def _sqlite_charge(conn: Connection, account_id: str, now: datetime) -> None:
    pk, balance, held, seq = conn.execute(_lock, {"external_id": account_id}).one()
    left, moves = UNITS, []
    for lot_id, remaining, pinned in conn.execute(_spendable, {"pk": pk, "now": now}):
        take = min(remaining - pinned, left)
        moves.append((lot_id, take))
        left -= take
        if not left:
            break
    assert not left, "the benchmark's accounts never run out"
    conn.execute(_burn, [{"lot": lot_id, "take": take} for lot_id, take in moves])
    entry_id = conn.execute(
        _entry,
        {
            "account_id": pk,
            "seq": seq + 1,
            "kind": "charge",
            "amount": -UNITS,
            "held_delta": 0,
            "balance_after": balance - UNITS,
            "held_after": held,
            "cost": UNITS,
            "feature": FEATURE,
            "metadata": {},
            "created_at": now,
            "effective_at": now,
        },
    ).scalar_one()
    conn.execute(
        _move,
        [
            {"account_id": pk, "entry_id": entry_id, "lot_id": lot_id, "amount": -take, "held": 0}
            for lot_id, take in moves
        ],
    )
    conn.execute(
        _event,
        {
            "account_id": pk,
            "feature": FEATURE,
            "credits": UNITS,
            "outcome": "succeeded",
            "metadata": {},
            "entry_id": entry_id,
            "created_at": now,
        },
    )
    conn.execute(_figures, {"pk": pk, "balance": balance - UNITS, "seq": seq + 1, "units": UNITS})


def _pg_charge(conn: Connection, account_id: str, now: datetime) -> None:
    pk, balance, held, seq = conn.execute(
        _lock.with_for_update(), {"external_id": account_id}
    ).one()
    params: dict[str, Any] = {
        "pk": pk,
        "seq": seq + 1,
        "units": UNITS,
        "balance": balance - UNITS,
        "held": held,
        "feature": FEATURE,
        "now": now,
    }
    conn.execute(_PG_WRITE, params).scalar_one()


def ledger_floor_worker(engine: Engine, names: list[str], *, threads: int) -> Worker:
    """Threads that write a charge's rows by hand, on the accounts `pick` assigns them."""
    write = _sqlite_charge if engine.db.is_sqlite else _pg_charge
    count = len(names)

    @contextmanager
    def open_(index: int) -> Iterator[Op]:
        def op(iteration: int) -> None:
            account_id = names[pick(index, iteration, threads=threads, accounts=count)]
            with engine.db.write() as conn:
                write(conn, account_id, datetime.now(UTC))

        yield op

    return open_


def charge_once(engine: Engine, account_id: str) -> None:
    """One charge of 1 credit for a feature, as `charge.py` makes it."""
    engine.charge(account_id, 1, feature=FEATURE)


def main() -> None:
    """Run the ledger floor against the floor, and the engine against the ledger floor."""
    args = parse_args(__doc__ or "", seconds=SECONDS_DEFAULT, threads=(1, 8))
    header("ledger floor: a charge's rows by hand through SQLAlchemy Core")
    note(f"{args.seconds:g} s per figure, in alternating rounds of floor, ledger floor, engine")
    with scratch_dir(args.dir) as directory:
        for backend in backends(args.backend):
            with (
                scratch_database(backend, "ledger_engine", directory) as url,
                scratch_database(backend, "ledger_floor", directory) as floor_url,
            ):
                engine = open_engine(url, pool_size=max(args.threads))
                try:
                    names = make_accounts(engine, MANY_ACCOUNTS)
                    floor = Floor(backend, floor_url, accounts=MANY_ACCOUNTS)
                    for threads in args.threads:
                        base, ledger, figure = alternate_all(
                            [
                                floor.worker(threads=threads, accounts=MANY_ACCOUNTS),
                                ledger_floor_worker(engine, names, threads=threads),
                                engine_worker(engine, names, charge_once, threads=threads),
                            ],
                            threads=threads,
                            seconds=args.seconds,
                        )
                        target = 0.5 if is_targeted(backend, threads) else None
                        report(
                            f"ledger floor {backend} threads={threads}",
                            ledger,
                            base,
                            unit="ops",
                            target=target,
                            target_label="engine's target",
                        )
                        report(
                            f"charge {backend} threads={threads}",
                            figure,
                            ledger,
                            unit="ops",
                            target=None,
                            floor_label="ledger floor",
                        )
                    checked = engine.verify()
                    assert checked.is_clean, f"verify found problems: {checked.problems[:3]}"
                    note(f"{backend}: verify clean after the run ({checked.entries:,} entries)")
                finally:
                    engine.close()
    footer()


if __name__ == "__main__":
    main()
