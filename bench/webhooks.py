"""Stripe webhook deliveries per second through the service, next to its charges.

`creditgate serve` runs as a process of its own (with `--workers`) on a scratch database: a
SQLite file (the default) or a new PostgreSQL database, holding 1,000 funded accounts, 1,000
buyers with no credits, and one pack on sale (100 credits for 9.99 USD). Its Stripe signing
secret is a new one per run, handed over in `CREDITGATE_STRIPE_WEBHOOK_SECRET`. Client
processes drive it over loopback with httpx (asyncio, keep-alive connections, `--concurrency`
requests in flight in all) as bench/http.py does, and time every request. Four calls, each
measured for `--seconds` in alternating rounds, in this order within a round:

    healthz   GET /healthz: no key, no database (for context)
    charge    POST /v1/accounts/{id}/charge {"amount": "1"} with a write key, many accounts:
              the reference the two webhook figures are read against
    first     POST /v1/webhooks/stripe, each request a new `checkout.session.completed`
              event for a new checkout session of one of the 1,000 buyers, paid, for the
              pack: the signature check, then the event's claim and the grant in one
              transaction. No checkout was opened through the service first, so the
              delivery also records the purchase it pays.
    replay    events that `first` applied (in this round and earlier ones) delivered again:
              the signature check, then the claim finds the event's id and the answer is
              `duplicate`

Signing is the sender's cost, not the service's: each client process signs the deliveries
of its share of a round before that round's warm-up starts, with the time of signing, and
sends them as they are (a round lasts far less than the 300 s the service allows a signature's
timestamp). A replay is signed again at the start of its round, as Stripe signs each retry
anew. A client signs more new events than its round can send (twice what `healthz` answered
in the same round); those left over are never delivered. The clients' CPU figures leave the
signing out.

Each line: requests per second, p50 and p99 latency, the server's CPU time per request (its
processes' user+system time from /proc) and the clients' (in parentheses), then the charges'
rate and the ratio of the two rates:

    first sqlite workers=1: 66 req/s p50 449.1 ms p99 1167.7 ms cpu 11.46 ms/req (clients
    3.18) | charge 120 req/s | ratio 0.55

At the end the grants are checked: every first delivery must have answered `applied` and
every replay `duplicate`; the purchases paid, the events claimed and the buyers' balances
must count each applied event exactly once; and `verify` must be clean.
"""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
# bench/http.py's name shadows the standard library's `http`, which httpx imports: the
# script's own directory (for `common`) is searched last, after the standard library.
sys.path[:] = [entry for entry in sys.path if entry != _HERE] + [_HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from contextlib import ExitStack, contextmanager, suppress  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import stripe  # noqa: E402

from common import (  # noqa: E402
    MANY_ACCOUNTS,
    Backend,
    floor_connection,
    footer,
    header,
    make_accounts,
    note,
    open_engine,
    scratch_database,
    scratch_dir,
)
from creditgate import Credits  # noqa: E402
from creditgate.domain.events import Outcome  # noqa: E402
from creditgate.domain.packs import PurchaseStatus  # noqa: E402
from creditgate.integrations.signatures import verify_stripe  # noqa: E402

SECONDS_DEFAULT = 5.0
"""Measured seconds per call, split over the rounds."""

ROUNDS = 2
"""Alternating rounds: each call's seconds are split over them, so a slow minute hits all."""

WARMUP_S = 0.5
"""Each client round runs this long before it counts: connections open, caches fill."""

STARTUP_S_MAX = 120.0
"""Workers that import slowly on a busy machine are restarted by uvicorn; allow for it."""

TOLERANCE_S = 300
"""How old a signature the service accepts (`webhook_tolerance_s`, its default)."""

ROUND_S_MAX = TOLERANCE_S - 60
"""A round, warm-up included, must end well inside the window its deliveries were signed for."""

EVENTS_HEADROOM = 2.0
"""New events signed for a round of `first`: this many times what the empty endpoint answered
in the same round (measured just before; no delivery is answered faster), for the round's
seconds and warm-up, and at least `EVENTS_PER_S_MIN` a second. A client that runs out stops
the script."""

EVENTS_PER_S_MIN = 200

BUYERS = 1000
"""Accounts the checkouts pay into; event n is bought by buyer n % BUYERS."""

PACK = "bench_pack"
PACK_CREDITS = 100
PACK_PRICE_MINOR = 999
CURRENCY = "usd"

CALLS = ("healthz", "charge", "first", "replay")
REFERENCE = "charge"
WEBHOOK_PATH = "/v1/webhooks/stripe"
EXPECTED = {"first": Outcome.APPLIED.value, "replay": Outcome.DUPLICATE.value}
"""What every delivery of a webhook call must answer."""


# Arguments


def parse_args() -> argparse.Namespace:
    """The benchmark's arguments; the defaults take about a minute per run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="sqlite (a file in a temporary directory) or postgresql (a scratch database on"
        " CREDITGATE_BENCH_PG_URL's server, dropped after) (default sqlite)",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (default 1)")
    parser.add_argument(
        "--seconds",
        type=float,
        default=SECONDS_DEFAULT,
        help=f"measured seconds per call (default {SECONDS_DEFAULT:g})",
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="requests in flight, all clients (default 32)"
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes (default 2)")
    parser.add_argument(
        "--dir", type=Path, default=None, help="directory for the SQLite file and the log"
    )
    args = parser.parse_args()
    assert args.concurrency >= args.clients >= 1, "each client needs a request in flight"
    assert args.seconds / ROUNDS + WARMUP_S <= ROUND_S_MAX, (
        f"a round must take at most {ROUND_S_MAX} s: its deliveries are signed at its start"
    )
    return args


# The deliveries


def checkout_event(n: int, buyers: Sequence[str], created: int) -> dict[str, Any]:
    """The n-th `checkout.session.completed` event: a new session of a buyer, paid for the pack.

    Shaped like Stripe's (the fields creditgate reads, and the usual others around them).
    """
    session = {
        "id": f"cs_test_bench_{n:09d}",
        "object": "checkout.session",
        "amount_subtotal": PACK_PRICE_MINOR,
        "amount_total": PACK_PRICE_MINOR,
        "cancel_url": "https://app.example.com/credits",
        "client_reference_id": None,
        "created": created - 60,
        "currency": CURRENCY,
        "customer": None,
        "customer_details": {
            "address": {"country": "US", "postal_code": "94103"},
            "email": f"buyer{n % len(buyers)}@example.com",
            "name": None,
            "tax_exempt": "none",
        },
        "expires_at": created + 86_340,
        "livemode": False,
        "metadata": {"account_id": buyers[n % len(buyers)], "pack": PACK},
        "mode": "payment",
        "payment_intent": f"pi_bench_{n:09d}",
        "payment_method_types": ["card"],
        "payment_status": "paid",
        "status": "complete",
        "success_url": "https://app.example.com/credits?paid=1",
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "url": None,
    }
    return {
        "id": f"evt_bench_{n:09d}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": created,
        "data": {"object": session},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
    }


def stripe_signature(body: bytes, secret: str, at: int) -> str:
    """The `Stripe-Signature` header for `body` signed at `at`: HMAC-SHA256 over `t.body`."""
    signed = f"{at}.{body.decode()}"
    digest: str = stripe.WebhookSignature._compute_signature(signed, secret)  # type: ignore[no-untyped-call]
    return f"t={at},v1={digest}"


Delivery = tuple[bytes, dict[str, str]]
"""The body and headers of one POST to the webhook endpoint."""


def deliveries(events: Sequence[int], buyers: Sequence[str], secret: str) -> list[Delivery]:
    """Events `events` as Stripe delivers them, signed now (pretty-printed JSON, as Stripe's)."""
    at = int(time.time())
    signed = []
    for n in events:
        body = json.dumps(checkout_event(n, buyers, at), indent=2).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": stripe_signature(body, secret, at),
        }
        signed.append((body, headers))
    return signed


def verify_cost_us(secret: str, buyers: Sequence[str], times: int = 2000) -> float:
    """Microseconds the service's check of one delivery takes in this process (`verify_stripe`:
    the signature, its time, and the body's JSON parse)."""
    body, headers = deliveries([0], buyers, secret)[0]
    signature = headers["Stripe-Signature"]
    started = time.perf_counter()
    for _ in range(times):
        verify_stripe(body, signature, secret, tolerance_s=TOLERANCE_S)
    return (time.perf_counter() - started) / times * 1e6


# The database


@dataclass(frozen=True, slots=True)
class World:
    """What the server serves: accounts to charge, buyers, a write key, the signing secret."""

    accounts: list[str]
    buyers: list[str]
    key: str
    secret: str


def set_up(url: str) -> World:
    """Funded accounts (one lot each, as in charge.py), buyers with nothing, the pack."""
    started = time.perf_counter()
    engine = open_engine(url)
    try:
        accounts = make_accounts(engine, MANY_ACCOUNTS)
        buyers = [f"buyer_{i:05d}" for i in range(BUYERS)]
        for buyer in buyers:
            engine.create_account(buyer)
        engine.create_pack(
            PACK,
            name="Bench pack",
            credits=PACK_CREDITS,
            price_minor=PACK_PRICE_MINOR,
            currency=CURRENCY,
        )
        key = engine.create_key("write", name="bench")[1]
    finally:
        engine.close()
    note(
        f"{MANY_ACCOUNTS:,} funded accounts, {BUYERS:,} buyers and a pack of {PACK_CREDITS}"
        f" credits for {PACK_PRICE_MINOR} minor units made through the public API"
        f" in {time.perf_counter() - started:.1f} s"
    )
    return World(accounts=accounts, buyers=buyers, key=key, secret="whsec_" + secrets.token_hex(24))


@dataclass
class Ledger:
    """What the run delivered: the next unused event number, the events applied."""

    next_event: int = 0
    applied: list[int] = field(default_factory=list)
    replayed: int = 0
    healthz_per_s: float = 0.0
    """What the empty endpoint answered in the round under way: it sizes `first`'s events."""


def check_grants(backend: Backend, url: str, world: World, ledger: Ledger) -> None:
    """Each applied event granted the pack exactly once; print the result, then insist."""
    wanted = Counter(world.buyers[n % len(world.buyers)] for n in ledger.applied)
    engine = open_engine(url)
    try:
        wrong = [
            buyer
            for buyer in world.buyers
            if engine.balance(buyer).balance != Credits.parse(PACK_CREDITS * wanted[buyer])
        ]
        held = sum((engine.balance(b).balance for b in world.buyers), Credits.parse(0))
        checked = engine.verify()
    finally:
        engine.close()
    with floor_connection(backend, url) as conn:
        paid = conn.execute(
            f"SELECT count(*) FROM purchases WHERE status = '{PurchaseStatus.PAID.value}'"
        ).fetchone()
        claimed = conn.execute(
            "SELECT count(*), sum(CASE WHEN outcome = 'applied' THEN 1 ELSE 0 END)"
            " FROM provider_events"
        ).fetchone()
    assert paid is not None
    assert claimed is not None
    applied = len(ledger.applied)
    exact = (
        not wrong
        and paid[0] == applied
        and claimed[0] == claimed[1] == applied
        and held == Credits.parse(PACK_CREDITS * applied)
    )
    note(
        f"grants {'exact' if exact else 'NOT EXACT'}: {applied:,} events applied,"
        f" {paid[0]:,} purchases paid, {claimed[0]:,} events claimed ({claimed[1] or 0:,}"
        f" applied); the buyers hold {held.to_decimal().normalize():,f} credits"
        f" = {applied:,} x {PACK_CREDITS}"
        f" ({len(wrong)} of {len(world.buyers):,} off their own count);"
        f" {ledger.replayed:,} replays answered duplicate"
    )
    assert exact, f"grants are not exact: buyers off {wrong[:3]}"
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
def serving(url: str, *, workers: int, directory: Path, secret: str) -> Iterator[Server]:
    """Start `creditgate serve` with the signing secret; wait until every worker answers."""
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
    env["CREDITGATE_STRIPE_WEBHOOK_SECRET"] = secret
    env["CREDITGATE_WEBHOOK_TOLERANCE_S"] = str(TOLERANCE_S)
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
    """One client process's share of one round of one call.

    `events` are the numbers of the events it delivers: new ones for `first` (it sends
    them in order and stops if it runs out), applied ones for `replay` (it cycles them).
    """

    url: str
    key: str
    secret: str
    call: str
    accounts: list[str]
    buyers: list[str]
    events: Sequence[int]
    slots: int
    first_slot: int
    slots_total: int
    seconds: float


@dataclass
class Tally:
    """What clients measured: requests in the window, latencies, every answer sent back."""

    requests: int = 0
    window_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    taken: int = 0
    ran_out: bool = False
    signed: int = 0
    sign_cpu_s: float = 0.0
    client_cpu_s: float = 0.0

    def add(self, other: "Tally") -> None:
        """Fold another client's (or round's) tally in."""
        self.requests += other.requests
        self.window_s = max(self.window_s, other.window_s)
        self.latencies_s.extend(other.latencies_s)
        self.statuses.update(other.statuses)
        self.outcomes.update(other.outcomes)
        self.sent += other.sent
        self.taken += other.taken
        self.ran_out = self.ran_out or other.ran_out
        self.signed += other.signed
        self.sign_cpu_s += other.sign_cpu_s
        self.client_cpu_s += other.client_cpu_s


class Requests:
    """The requests of one client's round: for each slot, its next one (None: none left)."""

    def __init__(self, task: Task, tally: Tally) -> None:
        self.task = task
        self.tally = tally
        self.signed: list[Delivery] = []
        if task.call in EXPECTED:
            started = time.process_time()
            self.signed = deliveries(task.events, task.buyers, task.secret)
            tally.sign_cpu_s = time.process_time() - started
            tally.signed = len(self.signed)
        self.auth = {"Authorization": f"Bearer {task.key}"}

    def next(self, slot: int, n: int) -> tuple[str, str, dict[str, str], bytes | None] | None:
        """The n-th request of a slot: method, path, headers, body."""
        task = self.task
        if task.call == "healthz":
            return "GET", "/healthz", {}, None
        if task.call == "charge":
            spread = task.first_slot + slot + n * task.slots_total
            account = task.accounts[spread % len(task.accounts)]
            return "POST", f"/v1/accounts/{account}/charge", self.auth, b'{"amount": "1"}'
        if task.call == "first":
            if self.tally.taken == len(self.signed):
                self.tally.ran_out = True
                return None
            body, headers = self.signed[self.tally.taken]
            self.tally.taken += 1
            return "POST", WEBHOOK_PATH, headers, body
        body, headers = self.signed[(slot + n * task.slots) % len(self.signed)]
        return "POST", WEBHOOK_PATH, headers, body


async def drive(task: Task) -> Tally:
    """Keep `task.slots` requests in flight for the warm-up and the measured seconds."""
    tally = Tally()
    requests = Requests(task, tally)
    limits = httpx.Limits(max_connections=task.slots, max_keepalive_connections=task.slots)
    start = time.perf_counter()
    counted_from = start + WARMUP_S
    end = counted_from + task.seconds
    is_webhook = task.call in EXPECTED

    async with httpx.AsyncClient(base_url=task.url, limits=limits, timeout=60.0) as client:

        async def slot(index: int) -> None:
            n = 0
            while (now := time.perf_counter()) < end:
                request = requests.next(index, n)
                if request is None:
                    return
                method, path, headers, body = request
                if body is not None and not is_webhook:
                    headers = {**headers, "Content-Type": "application/json"}
                response = await client.request(method, path, headers=headers, content=body)
                tally.sent += 1
                tally.statuses[response.status_code] += 1
                if is_webhook:
                    answer = response.json() if response.status_code == 200 else {}
                    tally.outcomes[str(answer.get("outcome", response.status_code))] += 1
                if now >= counted_from:
                    tally.latencies_s.append(time.perf_counter() - now)
                    tally.requests += 1
                n += 1

        await asyncio.gather(*(slot(i) for i in range(task.slots)))
    tally.window_s = min(time.perf_counter(), end) - counted_from
    return tally


def run_client(task: Task) -> Tally:
    """A client process's entry point; it counts its own CPU time too (signing included)."""
    started = time.process_time()
    tally = asyncio.run(drive(task))
    tally.client_cpu_s = time.process_time() - started - tally.sign_cpu_s
    return tally


# Measuring


@dataclass(frozen=True, slots=True)
class Figure:
    """One call's result: rate, latencies, server CPU per request."""

    call: str
    per_s: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    client_cpu_ms: float
    tally: Tally


def shares(call: str, ledger: Ledger, args: argparse.Namespace) -> list[Sequence[int]]:
    """The events each client delivers this round: new numbers, or the applied ones."""
    if call == "first":
        per_s = max(EVENTS_PER_S_MIN, EVENTS_HEADROOM * ledger.healthz_per_s)
        per_client = math.ceil(per_s * (args.seconds / ROUNDS + WARMUP_S) / args.clients)
        base = ledger.next_event
        ledger.next_event += per_client * args.clients
        return [
            range(base + i * per_client, base + (i + 1) * per_client) for i in range(args.clients)
        ]
    if call == "replay":
        assert len(ledger.applied) >= args.clients, "too few events applied to replay"
        return [ledger.applied[i :: args.clients] for i in range(args.clients)]
    return [range(0)] * args.clients


def measure(
    pool: Any, server: Server, world: World, args: argparse.Namespace, call: str, ledger: Ledger
) -> tuple[Tally, float]:
    """One round of one call, from every client at once; the tally and server CPU seconds."""
    share = args.concurrency // args.clients
    events = shares(call, ledger, args)
    tasks = [
        Task(
            url=server.url,
            key=world.key,
            secret=world.secret,
            call=call,
            accounts=world.accounts,
            buyers=world.buyers,
            events=events[i],
            slots=share,
            first_slot=i * share,
            slots_total=share * args.clients,
            seconds=args.seconds / ROUNDS,
        )
        for i in range(args.clients)
    ]
    cpu_before = server.cpu_s()
    parts: list[Tally] = pool.map(run_client, tasks)
    cpu_s = server.cpu_s() - cpu_before
    tally = Tally()
    for sent, part in zip(events, parts, strict=True):
        tally.add(part)
        if call == "first":
            # Sent in order: the first `taken` of the client's numbers were delivered.
            ledger.applied.extend(sent[: part.taken])
        elif call == "replay":
            ledger.replayed += part.sent
    return tally, cpu_s


def percentile_ms(sorted_s: list[float], fraction: float) -> float:
    """The latency at `fraction` of the sorted sample, in milliseconds."""
    if not sorted_s:
        return 0.0
    return sorted_s[min(len(sorted_s) - 1, int(fraction * len(sorted_s)))] * 1000


def run(
    pool: Any, server: Server, world: World, args: argparse.Namespace, ledger: Ledger
) -> list[Figure]:
    """Every call in alternating rounds; one figure per call."""
    tallies = {call: Tally() for call in CALLS}
    windows = dict.fromkeys(CALLS, 0.0)
    cpus = dict.fromkeys(CALLS, 0.0)
    for _ in range(ROUNDS):
        for call in CALLS:
            tally, cpu_s = measure(pool, server, world, args, call, ledger)
            if call == "healthz":
                ledger.healthz_per_s = tally.requests / tally.window_s if tally.window_s else 0.0
            windows[call] += tally.window_s
            cpus[call] += cpu_s
            tallies[call].add(tally)
    figures = []
    for call in CALLS:
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
                tally=tally,
            )
        )
    return figures


def report(figures: list[Figure], *, label: str) -> None:
    """One line per call, the webhook calls' with the charges' rate and the ratio."""
    reference = next(f for f in figures if f.call == REFERENCE)
    for figure in figures:
        line = (
            f"{figure.call} {label}: {figure.per_s:,.0f} req/s"
            f" p50 {figure.p50_ms:.1f} ms p99 {figure.p99_ms:.1f} ms"
            f" cpu {figure.cpu_ms:.2f} ms/req (clients {figure.client_cpu_ms:.2f})"
        )
        if figure.call in EXPECTED:
            ratio = figure.per_s / reference.per_s if reference.per_s else 0.0
            line += f" | {REFERENCE} {reference.per_s:,.0f} req/s | ratio {ratio:.2f}"
        print(line, flush=True)
    note(
        f"ratios by server CPU alone, against {REFERENCE}'s {reference.cpu_ms:.2f} ms: "
        + ", ".join(
            f"{f.call} {reference.cpu_ms / f.cpu_ms:.2f}"
            for f in figures
            if f.call in EXPECTED and f.cpu_ms
        )
    )
    signed = sum(f.tally.signed for f in figures)
    sign_s = sum(f.tally.sign_cpu_s for f in figures)
    if signed:
        note(
            f"the clients signed {signed:,} deliveries before their rounds,"
            f" {sign_s / signed * 1e6:.0f} us of CPU each (in no figure)"
        )
    for figure in figures:
        tally = figure.tally
        odd = {status: n for status, n in tally.statuses.items() if status != 200}
        assert not odd, f"{figure.call}: answers other than 200: {odd}"
        assert not tally.ran_out, (
            f"{figure.call}: a client sent every event signed for its round; raise EVENTS_HEADROOM"
        )
        if figure.call in EXPECTED:
            wanted = EXPECTED[figure.call]
            assert tally.outcomes == {wanted: tally.sent}, f"{figure.call}: {tally.outcomes}"


def main() -> None:
    """Run the webhook benchmark."""
    args = parse_args()
    backend: Backend = args.backend
    header("webhooks: Stripe deliveries per second through creditgate serve, against charges")
    note(
        f"{args.clients} client processes (httpx, asyncio), {args.concurrency} requests in"
        f" flight in all; {args.seconds:g} s per call in {ROUNDS} alternating rounds"
    )
    ledger = Ledger()
    with ExitStack() as stack:
        directory = stack.enter_context(scratch_dir(args.dir))
        url = stack.enter_context(scratch_database(backend, "webhooks", directory))
        world = set_up(url)
        sample = deliveries([0], world.buyers, world.secret)[0][0]
        note(
            f"a delivery is {len(sample):,} bytes of JSON; the service's signature check and"
            f" JSON parse (verify_stripe, in this process) take"
            f" {verify_cost_us(world.secret, world.buyers):.0f} us"
        )
        with (
            serving(url, workers=args.workers, directory=directory, secret=world.secret) as server,
            multiprocessing.get_context("spawn").Pool(args.clients) as pool,
        ):
            figures = run(pool, server, world, args, ledger)
        report(figures, label=f"{backend} workers={args.workers}")
        check_grants(backend, url, world, ledger)
    footer()


if __name__ == "__main__":
    main()
