"""Charges per second with balance alerts and the webhook outbox on, next to them off.

Two scratch databases per backend, made alike through the public API: on one, alerts and
the outbox are off (no low-balance line, no webhook endpoint); on the other, the catalog
sets a default line of 10 credits and one endpoint listens to every event type (its
address is never called: the benchmark measures what the writes cost, not the delivery).
Two operations, each measured on both in alternating rounds, next to the floor:

    charge   charge 1 credit of an account holding far more than the line: the everyday
             charge, which crosses nothing (with alerts on, it must cost no more than off)
    cross    charge 1 credit of an account at 10.5 credits (below the line: `balance.low`),
             then grant it 1 credit back (above: `balance.recovered` and `credits.granted`):
             two transactions that, with alerts on, write three events and their deliveries

Each line: the rate with alerts and outbox on, the rate with them off and the ratio of the
two, then the floor (one hand-written charge transaction) and the ratio against it:

    charge sqlite threads=1 on: 1,150 ops/s | off 1,170 ops/s | ratio 0.98 | floor ...

At the end the outbox must hold exactly the events the `cross` operations raised on the
database with alerts on, none on the other, and `verify` must be clean on both.
"""

import argparse
import time
from collections.abc import Sequence

from sqlalchemy import text

from common import (
    MANY_ACCOUNTS,
    Backend,
    EngineOp,
    Floor,
    alternate_all,
    backends,
    engine_worker,
    footer,
    header,
    make_accounts,
    note,
    open_engine,
    parse_args,
    report,
    scratch_database,
    scratch_dir,
)
from creditgate import Engine

SECONDS_DEFAULT = 3.0
"""Measured seconds per figure (on, off and floor each)."""

LINE = "10"
"""The catalog's default low-balance line, in credits."""

NEAR = "10.5"
"""Where a `cross` account starts: half a credit above the line."""


def charge_once(engine: Engine, account_id: str) -> None:
    """One charge of 1 credit: the call an app makes per use."""
    engine.charge(account_id, 1, feature="bench.charge")


def cross_once(engine: Engine, account_id: str) -> None:
    """Below the line and back: a charge of 1 credit, then a grant of 1 credit."""
    engine.charge(account_id, 1, feature="bench.charge")
    engine.grant(account_id, 1, source="purchase")


def _prepare(engine: Engine, *, alerts_on: bool) -> tuple[list[str], list[str]]:
    """The accounts of both operations; with alerts on, the line and a listening endpoint."""
    engine.apply_catalog(
        {
            "features": [
                {
                    "key": "bench.charge",
                    "name": "Bench",
                    "prices": [{"rule": "flat", "credits": "1"}],
                }
            ],
            **({"alerts": {"low": LINE}} if alerts_on else {}),
        }
    )
    if alerts_on:
        engine.create_webhook_endpoint("https://receiver.invalid/hooks")
    rich = make_accounts(engine, MANY_ACCOUNTS)
    near = [f"near_{i:05d}" for i in range(MANY_ACCOUNTS)]
    for name in near:
        engine.create_account(name)
        engine.grant(name, NEAR, source="purchase")
    return rich, near


def _events(engine: Engine) -> int:
    with engine.db.read() as conn:
        found = conn.execute(text("SELECT count(*) FROM outbox_events")).scalar_one()
    return int(found)


def _run_backend(args: argparse.Namespace, backend: Backend, urls: Sequence[str]) -> None:
    on_url, off_url, floor_url = urls
    threads_max = max(args.threads)
    on = open_engine(on_url, pool_size=threads_max)
    off = open_engine(off_url, pool_size=threads_max)
    try:
        started = time.perf_counter()
        on_accounts = _prepare(on, alerts_on=True)
        off_accounts = _prepare(off, alerts_on=False)
        floor = Floor(backend, floor_url, accounts=MANY_ACCOUNTS)
        before = _events(on)
        note(
            f"{backend}: 2 x {2 * MANY_ACCOUNTS} accounts made through the public API in "
            f"{time.perf_counter() - started:.1f} s ({before} events written while funding)"
        )
        ops: tuple[tuple[str, EngineOp, int], ...] = (
            ("charge", charge_once, 0),
            ("cross", cross_once, 1),
        )
        for threads in args.threads:
            for label, op, which in ops:
                rate_on, rate_off, base = alternate_all(
                    [
                        engine_worker(on, on_accounts[which], op, threads=threads),
                        engine_worker(off, off_accounts[which], op, threads=threads),
                        floor.worker(threads=threads, accounts=MANY_ACCOUNTS),
                    ],
                    threads=threads,
                    seconds=args.seconds,
                )
                report(
                    f"{label} {backend} threads={threads} on",
                    rate_on,
                    rate_off,
                    unit="ops",
                    target=None,
                    floor_label="off",
                    others=[("floor", base, "ops")],
                )
        _check(on, off, before=before)
    finally:
        on.close()
        off.close()


def _check(on: Engine, off: Engine, *, before: int) -> None:
    """Each crossing wrote exactly its three events; nothing else wrote any.

    Crossings are counted by the grants back above the line (warm-up operations cross too).
    """
    with on.db.read() as conn:
        grants = conn.execute(
            text(
                "SELECT count(*) FROM entries e JOIN accounts a ON a.id = e.account_id"
                " WHERE a.external_id LIKE 'near_%' AND e.kind = 'grant'"
            )
        ).scalar_one()
    crossed = int(grants) - MANY_ACCOUNTS
    written = _events(on) - before
    assert written == 3 * crossed, f"{written} events for {crossed} crossings"
    assert _events(off) == 0
    for engine in (on, off):
        checked = engine.verify()
        assert checked.is_clean, f"verify found problems: {checked.problems[:3]}"
    note(f"outbox checked: {written:,} events for {crossed:,} crossings; verify clean on both")


def main() -> None:
    """Run the alerts and outbox benchmark."""
    args = parse_args(__doc__ or "", seconds=SECONDS_DEFAULT, threads=(1, 8))
    header("alerts: charges per second with balance alerts and the outbox on, against off")
    note(f"{args.seconds:g} s per figure, in alternating rounds of on, off and floor")
    with scratch_dir(args.dir) as directory:
        for backend in backends(args.backend):
            with (
                scratch_database(backend, "alerts_on", directory) as on_url,
                scratch_database(backend, "alerts_off", directory) as off_url,
                scratch_database(backend, "alerts_floor", directory) as floor_url,
            ):
                _run_backend(args, backend, (on_url, off_url, floor_url))
    footer()


if __name__ == "__main__":
    main()
