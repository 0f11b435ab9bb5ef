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
import asyncio  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import ExitStack, contextmanager, suppress  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import psycopg  # noqa: E402

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

ROUNDS = 2
"""Alternating rounds: each call's seconds are split over them, so a slow minute hits all."""

WARMUP_S = 0.5
"""Each client round runs this long before it counts: connections open, caches fill."""

STARTUP_S_MAX = 120.0
"""Workers that import slowly on a busy machine are restarted by uvicorn; allow for it."""

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
    parser.add_argument(
        "--concurrency", type=int, default=32, help="requests in flight, all clients (default 32)"
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes (default 2)")
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


# The server


@dataclass
class Server:
    """`creditgate serve` running: its process, URL, log and metrics directory."""

    process: "subprocess.Popen[bytes]"
    url: str
    log: Path
    metrics: Path
    workers: int

    def pids(self) -> list[int]:
        """The server's processes: the parent and its children (workers), from /proc."""
        found = [self.process.pid]
        index = 0
        while index < len(found):
            children = Path(f"/proc/{found[index]}/task/{found[index]}/children")
            with suppress(OSError):
                found.extend(int(pid) for pid in children.read_text().split())
            index += 1
        return found

    def cpu_s(self) -> float:
        """User and system CPU seconds the server's processes have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            with suppress(OSError):
                # Fields after the command's closing parenthesis: utime and stime are 12 and 13.
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def tail(self) -> str:
        """The end of the server's output."""
        return self.log.read_text(errors="replace")[-2000:]


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(url: str, *, workers: int, directory: Path) -> Iterator[Server]:
    """Start `creditgate serve`, wait until every worker answers, SIGTERM it at the end."""
    port = free_port()
    log = directory / "serve.log"
    metrics = directory / "metrics"
    metrics.mkdir(exist_ok=True)
    command = [
        str(Path(sys.executable).parent / "creditgate"),
        "serve",
        "--workers",
        str(workers),
        "--port",
        str(port),
        "-d",
        url,
    ]
    env = dict(os.environ)
    if workers > 1:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = Server(process, f"http://127.0.0.1:{port}", log, metrics, workers)
    try:
        started = time.perf_counter()
        wait_ready(server)
        restarts = server.tail().count("died")
        note(
            f"serve --workers {workers} ready in {time.perf_counter() - started:.1f} s"
            + (f" ({restarts} workers restarted by uvicorn while starting)" if restarts else "")
        )
        yield server
    finally:
        stop(process)


def wait_ready(server: Server) -> None:
    """Until /readyz answers and, with several workers, each one has loaded the app."""
    deadline = time.monotonic() + STARTUP_S_MAX
    while time.monotonic() < deadline:
        assert server.process.poll() is None, f"serve stopped:\n{server.tail()}"
        with suppress(httpx.TransportError):
            if httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200 and (
                server.workers == 1 or len(live_workers(server)) == server.workers
            ):
                return
        time.sleep(0.2)
    raise AssertionError(f"serve was not ready in {STARTUP_S_MAX:.0f} s:\n{server.tail()}")


def live_workers(server: Server) -> set[int]:
    """Workers that have imported the app (each writes its metrics file) and still run."""
    pids = {int(p.stem.rpartition("_")[2]) for p in server.metrics.glob("counter_*.db")}
    return {pid for pid in pids - {server.process.pid} if Path(f"/proc/{pid}").exists()}


def stop(process: "subprocess.Popen[bytes]") -> None:
    """SIGTERM and wait; kill the whole session if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# The clients


@dataclass(frozen=True, slots=True)
class Task:
    """One client process's share of one round of one call."""

    url: str
    key: str
    call: str
    accounts: list[str]
    slots: int
    first_slot: int
    slots_total: int
    seconds: float
    requests_max: int | None


@dataclass
class Tally:
    """What clients measured: requests in the window, their latencies, all requests sent."""

    requests: int = 0
    window_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    sent: int = 0
    client_cpu_s: float = 0.0

    def add(self, other: "Tally") -> None:
        """Fold another client's (or round's) tally in."""
        self.requests += other.requests
        self.window_s = max(self.window_s, other.window_s)
        self.latencies_s.extend(other.latencies_s)
        self.statuses.update(other.statuses)
        self.sent += other.sent
        self.client_cpu_s += other.client_cpu_s


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


async def drive(task: Task) -> Tally:
    """Keep `task.slots` requests in flight for the warm-up and the measured seconds."""
    tally = Tally()
    limits = httpx.Limits(max_connections=task.slots, max_keepalive_connections=task.slots)
    headers = {"Authorization": f"Bearer {task.key}"}
    start = time.perf_counter()
    counted_from = start + WARMUP_S
    end = counted_from + task.seconds
    budget = task.requests_max

    async with httpx.AsyncClient(
        base_url=task.url, headers=headers, limits=limits, timeout=60.0
    ) as client:

        async def slot(index: int) -> None:
            nonlocal budget
            n = 0
            while (now := time.perf_counter()) < end:
                counted = now >= counted_from
                if counted and budget is not None:
                    if budget <= 0:
                        return
                    budget -= 1
                method, path, body = request_of(
                    task.call, task.accounts, task.first_slot + index + n * task.slots_total
                )
                response = await client.request(method, path, json=body)
                tally.sent += 1
                if counted:
                    tally.latencies_s.append(time.perf_counter() - now)
                    tally.statuses[response.status_code] += 1
                    tally.requests += 1
                n += 1

        await asyncio.gather(*(slot(i) for i in range(task.slots)))
    tally.window_s = min(time.perf_counter(), end) - counted_from
    return tally


def run_client(task: Task) -> Tally:
    """A client process's entry point; it counts its own CPU time too."""
    started = time.process_time()
    tally = asyncio.run(drive(task))
    tally.client_cpu_s = time.process_time() - started
    return tally


@dataclass(frozen=True, slots=True)
class Figure:
    """One call's result: rate, latencies, server CPU per request."""

    call: str
    per_s: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    client_cpu_ms: float
    statuses: Counter[int]


def measure(
    pool: Any, server: Server, world: World, args: argparse.Namespace, call: str, seconds: float
) -> tuple[Tally, float]:
    """One round of one call, from every client at once; the tally and server CPU seconds."""
    share = args.concurrency // args.clients
    tasks = [
        Task(
            url=server.url,
            key=world.key,
            call=call,
            accounts=world.accounts,
            slots=share,
            first_slot=i * share,
            slots_total=share * args.clients,
            seconds=seconds,
            requests_max=None if args.requests is None else args.requests // args.clients,
        )
        for i in range(args.clients)
    ]
    cpu_before = server.cpu_s()
    tally = Tally()
    for part in pool.map(run_client, tasks):
        tally.add(part)
    return tally, server.cpu_s() - cpu_before


def percentile_ms(sorted_s: list[float], fraction: float) -> float:
    """The latency at `fraction` of the sorted sample, in milliseconds."""
    if not sorted_s:
        return 0.0
    return sorted_s[min(len(sorted_s) - 1, int(fraction * len(sorted_s)))] * 1000


def run(pool: Any, server: Server, world: World, args: argparse.Namespace) -> list[Figure]:
    """Every call in alternating rounds; one figure per call."""
    tallies = {call: Tally() for call in args.calls}
    windows = dict.fromkeys(args.calls, 0.0)
    cpus = dict.fromkeys(args.calls, 0.0)
    for _ in range(ROUNDS):
        for call in args.calls:
            tally, cpu_s = measure(pool, server, world, args, call, args.seconds / ROUNDS)
            windows[call] += tally.window_s
            cpus[call] += cpu_s
            tallies[call].add(tally)
    figures = []
    for call in args.calls:
        tally = tallies[call]
        latencies = sorted(tally.latencies_s)
        figures.append(
            Figure(
                call=call,
                per_s=tally.requests / windows[call] if windows[call] else 0.0,
                p50_ms=percentile_ms(latencies, 0.50),
                p99_ms=percentile_ms(latencies, 0.99),
                cpu_ms=cpus[call] / tally.sent * 1000 if tally.sent else 0.0,
                client_cpu_ms=tally.client_cpu_s / tally.sent * 1000 if tally.sent else 0.0,
                statuses=tally.statuses,
            )
        )
    return figures


def report(figures: list[Figure], *, label: str) -> None:
    """One line per call, each with the floor and the ratio."""
    floor = next(f for f in figures if f.call == FLOOR)
    for figure in figures:
        line = (
            f"{figure.call} {label}: {figure.per_s:,.0f} req/s"
            f" p50 {figure.p50_ms:.1f} ms p99 {figure.p99_ms:.1f} ms"
            f" cpu {figure.cpu_ms:.2f} ms/req (clients {figure.client_cpu_ms:.2f})"
        )
        if figure.call != FLOOR:
            ratio = figure.per_s / floor.per_s if floor.per_s else 0.0
            line += (
                f" | {FLOOR} {floor.per_s:,.0f} req/s | ratio {ratio:.2f}"
                f" | aim >= {AIM:.2f} {'met' if ratio >= AIM else 'MISSED'}"
            )
        print(line, flush=True)
    note(
        f"{FLOOR}: the server spent {floor.cpu_ms:.2f} ms of CPU per request and the clients"
        f" {floor.client_cpu_ms:.2f} ms; ratios by server CPU alone: "
        + ", ".join(
            f"{f.call} {floor.cpu_ms / f.cpu_ms:.2f}"
            for f in figures
            if f.call != FLOOR and f.cpu_ms
        )
    )
    for figure in figures:
        odd = {status: n for status, n in figure.statuses.items() if status != 200}
        assert not odd, f"{figure.call}: answers other than 200: {odd}"


def main() -> None:
    """Run the HTTP benchmark."""
    args = parse_args()
    backend = backend_of(args.database)
    header("http: requests per second through creditgate serve, against GET /healthz")
    note(
        f"{args.clients} client processes (httpx, asyncio), {args.concurrency} requests in"
        f" flight in all; {args.seconds:g} s per call in {ROUNDS} alternating rounds"
        + (f", at most {args.requests:,} requests per round" if args.requests else "")
    )
    with ExitStack() as stack:
        directory = stack.enter_context(scratch_dir(args.dir))
        url = stack.enter_context(scratch(args.database, directory))
        world = set_up(url)
        with (
            serving(url, workers=args.workers, directory=directory) as server,
            multiprocessing.get_context("spawn").Pool(args.clients) as pool,
        ):
            figures = run(pool, server, world, args)
        report(figures, label=f"{backend} workers={args.workers}")
        verify(url)
    footer()


if __name__ == "__main__":
    main()
