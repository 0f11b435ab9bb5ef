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
import json  # noqa: E402
import math  # noqa: E402
import secrets  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from multiprocessing import get_context  # noqa: E402
from multiprocessing.pool import Pool  # noqa: E402
from typing import Any, Self  # noqa: E402

import httpx  # noqa: E402
import stripe  # noqa: E402

import service  # noqa: E402
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
    service.add_client_args(parser)
    parser.add_argument(
        "--dir", type=Path, default=None, help="directory for the SQLite file and the log"
    )
    args = parser.parse_args()
    assert args.concurrency >= args.clients >= 1, "each client needs a request in flight"
    assert args.seconds / service.ROUNDS + service.WARMUP_S <= ROUND_S_MAX, (
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


# The clients


@dataclass(frozen=True, slots=True)
class Task:
    """One client process's share of one round of one call.

    `events` are the numbers of the events it delivers: new ones for `first` (it sends
    them in order and stops if it runs out), applied ones for `replay` (it cycles them).
    """

    how: service.Drive
    key: str
    secret: str
    call: str
    accounts: list[str]
    buyers: list[str]
    events: Sequence[int]
    first_slot: int
    slots_total: int


@dataclass
class WebhookTally(service.Tally):
    """A tally with the webhook calls' answers, and what the client signed and sent."""

    outcomes: Counter[str] = field(default_factory=Counter)
    taken: int = 0
    ran_out: bool = False
    signed: int = 0
    sign_cpu_s: float = 0.0

    def add(self, other: Self) -> None:
        """Fold another client's (or round's) tally in."""
        super().add(other)
        self.outcomes.update(other.outcomes)
        self.taken += other.taken
        self.ran_out = self.ran_out or other.ran_out
        self.signed += other.signed
        self.sign_cpu_s += other.sign_cpu_s


class Requests:
    """The requests of one client's round: for each slot, its next one (None: none left)."""

    def __init__(self, task: Task, tally: WebhookTally) -> None:
        self.task = task
        self.tally = tally
        self.signed: list[Delivery] = []
        if task.call in EXPECTED:
            started = time.process_time()
            self.signed = deliveries(task.events, task.buyers, task.secret)
            tally.sign_cpu_s = time.process_time() - started
            tally.signed = len(self.signed)
        self.auth = {"Authorization": f"Bearer {task.key}", "Content-Type": "application/json"}

    def next(self, slot: int, n: int) -> service.Request | None:
        """The n-th request of a slot."""
        task = self.task
        if task.call == "healthz":
            return service.Request("GET", "/healthz")
        if task.call == "charge":
            spread = task.first_slot + slot + n * task.slots_total
            account = task.accounts[spread % len(task.accounts)]
            path = f"/v1/accounts/{account}/charge"
            return service.Request("POST", path, self.auth, content=b'{"amount": "1"}')
        if task.call == "first":
            if self.tally.taken == len(self.signed):
                self.tally.ran_out = True
                return None
            body, headers = self.signed[self.tally.taken]
            self.tally.taken += 1
            return service.Request("POST", WEBHOOK_PATH, headers, content=body)
        body, headers = self.signed[(slot + n * task.how.slots) % len(self.signed)]
        return service.Request("POST", WEBHOOK_PATH, headers, content=body)

    def answered(self, response: httpx.Response) -> None:
        """A webhook call's answer: its outcome (or its status, when not 200)."""
        if self.task.call in EXPECTED:
            answer = response.json() if response.status_code == 200 else {}
            self.tally.outcomes[str(answer.get("outcome", response.status_code))] += 1


def run_client(task: Task) -> WebhookTally:
    """A client process's entry point; its CPU time leaves the signing out."""
    tally = WebhookTally()
    requests = Requests(task, tally)
    return service.client_round(task.how, requests, tally)


# Measuring


def shares(call: str, ledger: Ledger, args: argparse.Namespace) -> list[Sequence[int]]:
    """The events each client delivers this round: new numbers, or the applied ones."""
    if call == "first":
        per_s = max(EVENTS_PER_S_MIN, EVENTS_HEADROOM * ledger.healthz_per_s)
        per_client = math.ceil(
            per_s * (args.seconds / service.ROUNDS + service.WARMUP_S) / args.clients
        )
        base = ledger.next_event
        ledger.next_event += per_client * args.clients
        return [
            range(base + i * per_client, base + (i + 1) * per_client) for i in range(args.clients)
        ]
    if call == "replay":
        assert len(ledger.applied) >= args.clients, "too few events applied to replay"
        return [ledger.applied[i :: args.clients] for i in range(args.clients)]
    return [range(0)] * args.clients


def measure_call(
    pool: Pool,
    server: service.Server,
    world: World,
    args: argparse.Namespace,
    call: str,
    ledger: Ledger,
) -> tuple[WebhookTally, float]:
    """One round of one call, from every client at once; the tally and server CPU seconds."""
    share = args.concurrency // args.clients
    events = shares(call, ledger, args)
    how = service.Drive(url=server.url, slots=share, seconds=args.seconds / service.ROUNDS)
    tasks = [
        Task(
            how=how,
            key=world.key,
            secret=world.secret,
            call=call,
            accounts=world.accounts,
            buyers=world.buyers,
            events=events[i],
            first_slot=i * share,
            slots_total=share * args.clients,
        )
        for i in range(args.clients)
    ]
    parts, cpu_s = service.measure(pool, server, run_client, tasks)
    for sent, part in zip(events, parts, strict=True):
        if call == "first":
            # Sent in order: the first `taken` of the client's numbers were delivered.
            ledger.applied.extend(sent[: part.taken])
        elif call == "replay":
            ledger.replayed += part.sent
    tally = WebhookTally.of(parts)
    if call == "healthz":
        ledger.healthz_per_s = tally.requests / tally.window_s if tally.window_s else 0.0
    return tally, cpu_s


def report(figures: list[service.Figure[WebhookTally]], *, label: str) -> None:
    """One line per call, the webhook calls' with the charges' rate and the ratio."""
    reference = next(f for f in figures if f.call == REFERENCE)
    service.print_figures(figures, label, reference, compared=EXPECTED)
    note(
        f"ratios by server CPU alone, against {REFERENCE}'s {reference.cpu_ms:.2f} ms: "
        + service.cpu_ratios([f for f in figures if f.call in EXPECTED], reference)
    )
    signed = sum(f.tally.signed for f in figures)
    sign_s = sum(f.tally.sign_cpu_s for f in figures)
    if signed:
        note(
            f"the clients signed {signed:,} deliveries before their rounds,"
            f" {sign_s / signed * 1e6:.0f} us of CPU each (in no figure)"
        )
    service.insist_ok(figures)
    for figure in figures:
        tally = figure.tally
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
        f" flight in all; {args.seconds:g} s per call in {service.ROUNDS} alternating rounds"
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
        env = {
            "CREDITGATE_STRIPE_WEBHOOK_SECRET": world.secret,
            "CREDITGATE_WEBHOOK_TOLERANCE_S": str(TOLERANCE_S),
        }
        with (
            service.serving(url, workers=args.workers, directory=directory, env=env) as server,
            get_context("spawn").Pool(args.clients) as pool,
        ):
            figures = service.alternate_calls(
                CALLS,
                lambda call: measure_call(pool, server, world, args, call, ledger),
                WebhookTally,
            )
        report(figures, label=f"{backend} workers={args.workers}")
        check_grants(backend, url, world, ledger)
    footer()


if __name__ == "__main__":
    main()
