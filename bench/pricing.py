"""What the pricing catalog costs: quotes per second, and priced charges against raw ones.

The catalog is the shipped `demo` preset (`Engine.seed("demo")`), which holds every kind of
rule. One call per kind, each priced through the catalog's usual path:

    flat       image.generate, model flux-pro (an exact model among a default and another)
    per_block  audio.speech, 40 s (1 credit per started 15 s)
    tiered     video.generate, 8 s (the middle of three tiers)
    tokens     chat.complete, model gpt-4o-mini-2024-07-18 (the longest of two families
               wins over the default), 1,200 input, 400 cached input and 300 output tokens

Two groups of figures, each printed with its ratio to a reference measured in the same run,
in alternating rounds:

1. Quotes per second through `Engine.quote`, 1 thread, against the same lookup written by
   hand with the same driver: one SELECT of the feature and its price rows in a read
   transaction, on the same database. The pure-domain rate (`pricing.quote` on a prebuilt
   `Price`, no database) is printed first, so the cost of the database shows apart from
   the arithmetic.

       quote sqlite rule=tokens threads=1: 5,716 quotes/s | raw SELECT 97,519 ops/s | ratio 0.06

2. Charges per second priced by the catalog (`charge(account, feature=, model=,
   quantity=)`) against charges of the same amount given raw (`charge(account, amount)`),
   many accounts, no two threads sharing one. SQLite with 1 thread (its writers queue on one
   lock, so more threads would measure the lock); PostgreSQL with each `--threads` count.
   The aim: pricing costs at most a tenth of a charge's throughput.

       charge sqlite rule=tokens threads=1 accounts=many: 856 ops/s | raw amount 1,083 ops/s
       | ratio 0.79 | gap +0.25 ms | aim >= 0.90 MISSED
"""

import argparse
import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime

from common import (
    MANY_ACCOUNTS,
    Backend,
    EngineOp,
    Op,
    Worker,
    alternate,
    backends,
    engine_worker,
    floor_connection,
    footer,
    header,
    make_accounts,
    note,
    open_engine,
    parse_args,
    report,
    run_threads,
    scratch_database,
    scratch_dir,
)
from creditgate import Engine
from creditgate.domain.amounts import Credits
from creditgate.domain.pricing import Price, check_quantity, quote, select_price

SECONDS_DEFAULT = 3.0
"""Measured seconds per figure (engine and reference each); both backends take about 2.5 min."""

DOMAIN_SECONDS = 1.0
"""Measured seconds per pure-domain rate: no database, so a second is plenty."""

AIM = 0.90
"""Priced charges should keep at least this share of the throughput of raw ones."""


@dataclass(frozen=True, slots=True)
class Call:
    """One call of a feature in the demo catalog, priced by one kind of rule."""

    rule: str
    feature: str
    model: str | None
    quantity: int | dict[str, int] | None


CALLS = (
    Call("flat", "image.generate", "flux-pro", None),
    Call("per_block", "audio.speech", None, 40),
    Call("tiered", "video.generate", None, 8),
    Call(
        "tokens",
        "chat.complete",
        "gpt-4o-mini-2024-07-18",
        {"input": 1200, "cached_input": 400, "output": 300},
    ),
)


# The raw lookup: what `Engine.quote` reads, written by hand with the same driver

_SELECT = (
    "SELECT f.id, f.is_active, p.id, p.model, p.version, p.rule, p.minimum,"
    " p.effective_from, p.created_at"
    " FROM features f LEFT JOIN prices p"
    " ON p.feature_id = f.id AND p.effective_from <= {p}"
    " WHERE f.key = {p}"
)
_SQLITE_SELECT = _SELECT.format(p="?")
_PG_SELECT = _SELECT.format(p="%s")
_SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.%f"
"""How the engine stores a time on SQLite: naive UTC text of fixed width."""


def select_worker(backend: Backend, url: str, feature: str) -> Worker:
    """One thread that reads a feature's price rows by hand, one read transaction per op."""

    @contextmanager
    def open_(index: int) -> Iterator[Op]:
        del index
        with floor_connection(backend, url) as conn:
            if isinstance(conn, sqlite3.Connection):
                lite = conn

                def op(iteration: int) -> None:
                    del iteration
                    at = datetime.now(UTC).strftime(_SQLITE_STAMP)
                    lite.execute("BEGIN")
                    try:
                        rows = lite.execute(_SQLITE_SELECT, (at, feature)).fetchall()
                    except BaseException:
                        lite.execute("ROLLBACK")
                        raise
                    lite.execute("COMMIT")
                    assert rows, f"no feature {feature}"

            else:
                pg = conn

                def op(iteration: int) -> None:
                    del iteration
                    with pg.transaction():
                        rows = pg.execute(_PG_SELECT, (datetime.now(UTC), feature)).fetchall()
                    assert rows, f"no feature {feature}"

            yield op

    return open_


def quote_worker(engine: Engine, call: Call) -> Worker:
    """One thread of `Engine.quote` for the call."""

    def run(index: int) -> AbstractContextManager[Op]:
        del index

        def op(iteration: int) -> None:
            del iteration
            engine.quote(call.feature, model=call.model, quantity=call.quantity)

        return nullcontext(op)

    return run


def domain_worker(price: Price, call: Call) -> Worker:
    """One thread of the pure-domain `pricing.quote` on a prebuilt price."""
    quantity = check_quantity(call.quantity)

    def run(index: int) -> AbstractContextManager[Op]:
        del index

        def op(iteration: int) -> None:
            del iteration
            quote(price, model=call.model, quantity=quantity)

        return nullcontext(op)

    return run


# The two charges compared


def priced_charge(call: Call) -> EngineOp:
    """A charge the catalog prices: the call an app makes with its usage."""

    def op(engine: Engine, account_id: str) -> None:
        engine.charge(account_id, feature=call.feature, model=call.model, quantity=call.quantity)

    return op


def raw_charge(amount: Credits) -> EngineOp:
    """A charge of an amount the app computed itself: no catalog read."""

    def op(engine: Engine, account_id: str) -> None:
        engine.charge(account_id, amount)

    return op


# The run


@dataclass(frozen=True, slots=True)
class Setup:
    """One backend's benchmark database: the engine, its accounts, each call's price."""

    backend: Backend
    url: str
    engine: Engine
    names: list[str]
    prices: dict[str, Price]
    amounts: dict[str, Credits]


def set_up(backend: Backend, url: str, *, threads: int) -> Setup:
    """Accounts (made first, so each has one lot, as in charge.py), then the demo catalog."""
    started = time.perf_counter()
    engine = open_engine(url, pool_size=threads)
    names = make_accounts(engine, MANY_ACCOUNTS)
    engine.seed("demo")
    prices: dict[str, Price] = {}
    amounts: dict[str, Credits] = {}
    for call in CALLS:
        price = select_price(call.feature, engine.prices(call.feature), call.model)
        assert price.rule is not None
        assert price.rule.kind == call.rule, (call, price)
        prices[call.rule] = price
        amounts[call.rule] = engine.quote(
            call.feature, model=call.model, quantity=call.quantity
        ).amount
    note(
        f"{backend}: {MANY_ACCOUNTS} accounts and the demo catalog made through the public API"
        f" in {time.perf_counter() - started:.1f} s"
    )
    return Setup(backend, url, engine, names, prices, amounts)


def domain_rates(setup: Setup) -> None:
    """Group 1, context: the arithmetic alone, no database."""
    for call in CALLS:
        rate = run_threads(
            domain_worker(setup.prices[call.rule], call), threads=1, seconds=DOMAIN_SECONDS
        )
        print(
            f"quote domain rule={call.rule}: {rate.per_s:,.0f} quotes/s"
            f" ({1e6 / rate.per_s:.1f} us each; pricing.quote on a prebuilt Price, no database)",
            flush=True,
        )


def quote_rates(setup: Setup, *, seconds: float) -> None:
    """Group 1: `Engine.quote` against the raw SELECT, 1 thread."""
    for call in CALLS:
        figure, base = alternate(
            quote_worker(setup.engine, call),
            select_worker(setup.backend, setup.url, call.feature),
            threads=1,
            seconds=seconds,
        )
        report(
            f"quote {setup.backend} rule={call.rule} threads=1",
            figure,
            base,
            unit="quotes",
            target=None,
            floor_label="raw SELECT",
        )


def charge_threads(backend: Backend, threads: list[int]) -> list[int]:
    """SQLite charges with 1 thread only; PostgreSQL with each count asked for."""
    return [1] if backend == "sqlite" else threads


def charge_rates(setup: Setup, *, seconds: float, threads: list[int]) -> None:
    """Group 2: priced charges against raw charges of the same amount."""
    for count in charge_threads(setup.backend, threads):
        for call in CALLS:
            priced, raw = alternate(
                engine_worker(setup.engine, setup.names, priced_charge(call), threads=count),
                engine_worker(
                    setup.engine, setup.names, raw_charge(setup.amounts[call.rule]), threads=count
                ),
                threads=count,
                seconds=seconds,
            )
            report(
                f"charge {setup.backend} rule={call.rule} threads={count} accounts=many",
                priced,
                raw,
                unit="ops",
                target=AIM,
                floor_label="raw amount",
                target_label="aim >=",
            )


def run(args: argparse.Namespace) -> None:
    """Set up each backend, then print group 1 (quotes) and group 2 (charges)."""
    chosen = backends(args.backend)
    with ExitStack() as stack:
        directory = stack.enter_context(scratch_dir(args.dir))
        setups: list[Setup] = []
        for backend in chosen:
            url = stack.enter_context(scratch_database(backend, "pricing", directory))
            setup = set_up(backend, url, threads=max(charge_threads(backend, args.threads)))
            stack.callback(setup.engine.close)
            setups.append(setup)
        amounts = ", ".join(f"{rule} {amount}" for rule, amount in setups[0].amounts.items())
        note(f"each call's price, charged raw in group 2: {amounts} credits")

        note("group 1: quotes per second, 1 thread, against a raw SELECT of the price rows")
        domain_rates(setups[0])
        for setup in setups:
            quote_rates(setup, seconds=args.seconds)

        note(f"group 2: charges per second, priced against the same amount raw (aim >= {AIM:.2f})")
        if "sqlite" in chosen and args.threads != [1]:
            note("sqlite charges run with 1 thread only: its writers queue on one lock")
        for setup in setups:
            charge_rates(setup, seconds=args.seconds, threads=args.threads)

        for setup in setups:
            checked = setup.engine.verify()
            assert checked.is_clean, f"verify found problems: {checked.problems[:3]}"
            note(f"{setup.backend}: verify clean after the run ({checked.entries:,} entries)")


def main() -> None:
    """Run the pricing benchmark."""
    args = parse_args(__doc__ or "", seconds=SECONDS_DEFAULT, threads=(1, 8))
    header("pricing: quotes per second and priced against raw charges, demo catalog")
    note(f"{args.seconds:g} s per figure, in alternating rounds of engine and reference")
    run(args)
    footer()


if __name__ == "__main__":
    main()
