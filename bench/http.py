"""Requests per second through the HTTP service, against the same app's empty endpoint.

`creditgate serve` runs as a process of its own (with `--workers`) on a scratch database: a
SQLite file (the default) or a new PostgreSQL database, holding 1,000 funded accounts, one
funded hot account and the `demo` catalog. Client processes drive it over loopback with
httpx (asyncio, keep-alive connections, `--concurrency` requests in flight in all) and time
every request. Five calls, each measured for `--seconds` in alternating rounds:

    healthz      GET /healthz: no key, no database; the floor
    balance      GET /v1/accounts/{id}/balance, many accounts
    charge       POST /v1/accounts/{id}/charge {"amount": "1"}, many accounts
    charge_hot   the same, every request on one account (they queue on its row)
    priced       POST /v1/accounts/{id}/charge {"feature": "audio.speech", "quantity": 40}

Each line: requests per second, p50 and p99 latency, the server's CPU time per request (its
processes' user+system time from /proc) and the clients' (in parentheses), then the floor's
rate and the ratio of the two rates. The aim: a ratio of at least 0.5.

    charge sqlite workers=1: 212 req/s p50 148.0 ms p99 301.5 ms cpu 4.51 ms/req (clients
    1.32) | healthz 601 req/s | ratio 0.35 | aim >= 0.50 MISSED

The clients share the machine with the server. Python clients cost about a millisecond of
CPU per request, so several processes are used; on a small machine they take a good part
of it, and the rates are of the whole loop. The CPU columns tell the server's share apart,
and the last lines say which side the floor was bound by.
"""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
# This file's name shadows the standard library's `http`, which httpx imports: the script's
# own directory (for `common`) is searched last, after the standard library.
sys.path[:] = [entry for entry in sys.path if entry != _HERE] + [_HERE]

import argparse  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from multiprocessing import get_context  # noqa: E402
from multiprocessing.pool import Pool  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import psycopg  # noqa: E402

import service  # noqa: E402
from common import (  # noqa: E402
    GRANT_CREDITS,
    MANY_ACCOUNTS,
    PG_ADMIN_URL,
    footer,
    header,
    make_accounts,
    note,
    open_engine,
    scratch_dir,
)

SECONDS_DEFAULT = 5.0
"""Measured seconds per call, split over the rounds."""

AIM = 0.5
"""A call through the service should keep at least half the rate of the empty endpoint."""

HOT = "bench_hot"
PRICED = {"feature": "audio.speech", "quantity": 40}
"""40 s of speech at 1 credit per started 15 s: 3 credits, priced by the demo catalog."""

CALLS = ("healthz", "balance", "charge", "charge_hot", "priced")
FLOOR = "healthz"


# Arguments


def parse_args() -> argparse.Namespace:
    """The benchmark's arguments; the defaults take about a minute per run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database",
        default="sqlite",
        help="sqlite (a file in a temporary directory), or a PostgreSQL URL of a server where"
        " a scratch database is made and dropped; 'postgresql' means CREDITGATE_BENCH_PG_URL"
        " (default sqlite)",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (default 1)")
    parser.add_argument(
        "--seconds",
        type=float,
        default=SECONDS_DEFAULT,
        help=f"measured seconds per call (default {SECONDS_DEFAULT:g})",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=None,
        help="stop each call's round after this many requests (default: seconds only)",
    )
    service.add_client_args(parser)
    parser.add_argument(
        "--calls", nargs="+", choices=CALLS, default=list(CALLS), help="calls to measure"
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="directory for the SQLite file and the log"
    )
    args = parser.parse_args()
    if FLOOR not in args.calls:
        args.calls.insert(0, FLOOR)
    assert args.concurrency >= args.clients >= 1, "each client needs a request in flight"
    return args


# The database


def backend_of(database: str) -> str:
    """sqlite or postgresql."""
    return "sqlite" if database == "sqlite" else "postgresql"


@contextmanager
def scratch(database: str, directory: Path) -> Iterator[str]:
    """A new database for the run: its URL; dropped (or deleted) afterwards."""
    if database == "sqlite":
        path = directory / "http.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin = PG_ADMIN_URL if database == "postgresql" else database
    name = f"cg_bench_http_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True, slots=True)
class World:
    """What the server serves: the accounts' ids and a write key."""

    accounts: list[str]
    key: str


def set_up(url: str) -> World:
    """Accounts first (one lot each, as in charge.py), the hot account, the demo catalog."""
    started = time.perf_counter()
    engine = open_engine(url)
    try:
        accounts = make_accounts(engine, MANY_ACCOUNTS)
        engine.create_account(HOT)
        engine.grant(HOT, GRANT_CREDITS, source="purchase")
        engine.seed("demo")
        key = engine.create_key("write", name="bench")[1]
    finally:
        engine.close()
    note(
        f"{MANY_ACCOUNTS:,} accounts, a hot account and the demo catalog made through the"
        f" public API in {time.perf_counter() - started:.1f} s"
    )
    return World(accounts=accounts, key=key)


def verify(url: str) -> None:
    """The ledger must be clean after the run."""
    engine = open_engine(url)
    try:
        checked = engine.verify()
    finally:
        engine.close()
    assert checked.is_clean, f"verify found problems: {checked.problems[:3]}"
    note(f"verify clean after the run ({checked.entries:,} entries)")


# The clients


@dataclass(frozen=True, slots=True)
class Task:
    """One client process's share of one round of one call."""

    how: service.Drive
    call: str
    accounts: list[str]
    first_slot: int
    slots_total: int


def request_of(call: str, accounts: list[str], n: int) -> tuple[str, str, dict[str, Any] | None]:
    """The n-th request of a call: method, path, body. Consecutive requests differ in account."""
    account = accounts[n % len(accounts)]
    if call == "healthz":
        return "GET", "/healthz", None
    if call == "balance":
        return "GET", f"/v1/accounts/{account}/balance", None
    if call == "charge":
        return "POST", f"/v1/accounts/{account}/charge", {"amount": "1"}
    if call == "charge_hot":
        return "POST", f"/v1/accounts/{HOT}/charge", {"amount": "1"}
    assert call == "priced", call
    return "POST", f"/v1/accounts/{account}/charge", PRICED


class CallRequests:
    """A client's requests of one call: consecutive ones, over all slots, differ in account."""

    def __init__(self, task: Task) -> None:
        self.task = task

    def next(self, slot: int, n: int) -> service.Request:
        """The n-th request of a slot."""
        task = self.task
        spread = task.first_slot + slot + n * task.slots_total
        method, path, body = request_of(task.call, task.accounts, spread)
        return service.Request(method, path, json=body)

    def answered(self, response: httpx.Response) -> None:
        """Nothing to read: the status is tallied."""


def run_client(task: Task) -> service.Tally:
    """A client process's entry point; it counts its own CPU time too."""
    return service.client_round(task.how, CallRequests(task), service.Tally())


def measure_call(
    pool: Pool, server: service.Server, world: World, args: argparse.Namespace, call: str
) -> tuple[service.Tally, float]:
    """One round of one call, from every client at once; the tally and server CPU seconds."""
    share = args.concurrency // args.clients
    how = service.Drive(
        url=server.url,
        slots=share,
        seconds=args.seconds / service.ROUNDS,
        headers={"Authorization": f"Bearer {world.key}"},
        requests_max=None if args.requests is None else args.requests // args.clients,
    )
    tasks = [
        Task(
            how=how,
            call=call,
            accounts=world.accounts,
            first_slot=i * share,
            slots_total=share * args.clients,
        )
        for i in range(args.clients)
    ]
    parts, cpu_s = service.measure(pool, server, run_client, tasks)
    return service.Tally.of(parts), cpu_s


def report(figures: list[service.Figure[service.Tally]], *, label: str) -> None:
    """One line per call, each with the floor and the ratio."""
    floor = next(f for f in figures if f.call == FLOOR)
    service.print_figures(
        figures,
        label,
        floor,
        compared=[f.call for f in figures if f.call != FLOOR],
        suffix=lambda f: f" | aim >= {AIM:.2f} {'met' if f.ratio(floor) >= AIM else 'MISSED'}",
    )
    note(
        f"{FLOOR}: the server spent {floor.cpu_ms:.2f} ms of CPU per request and the clients"
        f" {floor.client_cpu_ms:.2f} ms; ratios by server CPU alone: "
        + service.cpu_ratios(figures, floor)
    )
    service.insist_ok(figures)


def main() -> None:
    """Run the HTTP benchmark."""
    args = parse_args()
    backend = backend_of(args.database)
    header("http: requests per second through creditgate serve, against GET /healthz")
    note(
        f"{args.clients} client processes (httpx, asyncio), {args.concurrency} requests in"
        f" flight in all; {args.seconds:g} s per call in {service.ROUNDS} alternating rounds"
        + (f", at most {args.requests:,} requests per round" if args.requests else "")
    )
    with ExitStack() as stack:
        directory = stack.enter_context(scratch_dir(args.dir))
        url = stack.enter_context(scratch(args.database, directory))
        world = set_up(url)
        with (
            service.serving(url, workers=args.workers, directory=directory) as server,
            get_context("spawn").Pool(args.clients) as pool,
        ):
            figures = service.alternate_calls(
                args.calls,
                lambda call: measure_call(pool, server, world, args, call),
                service.Tally,
            )
        report(figures, label=f"{backend} workers={args.workers}")
        verify(url)
    footer()


if __name__ == "__main__":
    main()
