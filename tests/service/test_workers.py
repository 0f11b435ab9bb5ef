"""The service with several uvicorn workers: no overspend, and a retried charge takes effect once.

`creditgate serve --workers N` runs as a process of its own on a fresh database, the way it
runs in production: N worker processes, each with its own engine and connection pool,
answer requests the kernel hands them from one listening socket. Nothing in a worker's
memory can keep two of them from spending the same credit; the database must.

PostgreSQL runs with 4 workers and 2,000 charges of 1 credit against 1,000 credits. SQLite,
whose one writer the workers share through file locks, runs a smaller race: 2 workers,
400 charges against 200 credits.

Which worker answered what is read from the metrics files the workers share
(`PROMETHEUS_MULTIPROC_DIR`), one per process, named for its pid.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict
from sqlalchemy import create_engine, text

from creditgate import Credits, Engine
from tests.conftest import PG_ADMIN_URL, _pg_url
from tests.fakes.signing import clerk_user_created, stripe_delivery, svix_delivery, svix_secret
from tests.servers import free_port

STARTUP_S_MAX = 120.0
"""Each spawned worker imports the whole CLI before it answers uvicorn's 5 s health check;
on 2 busy cores some miss it and are restarted, which can take half a minute. Two mean broken."""

STOP_S_MAX = 20.0
"""After SIGTERM the workers finish what they hold and exit; more than this is a hang."""

CONCURRENCY = 64
"""Requests in flight at once: more than a worker's pool, so charges queue on the row lock."""

RETRIES = 50
"""Requests sent at once with one Idempotency-Key."""

LOG_WAIT_S = 1.0
"""A worker writes its request's log line before the response leaves; a second is plenty."""

CHARGE_ROUTE = "/v1/accounts/{account_id}/charge"
RACED = "raced"
RETRIED = "retried"
BUYER = "buyer"

STRIPE_SECRET = "whsec_workers_stripe"
CLERK_SECRET = svix_secret()
DELIVERIES = 100
"""Deliveries of one signed event, sent 20 at once (`DELIVERED_AT_ONCE`)."""
DELIVERED_AT_ONCE = 20


@dataclass(frozen=True)
class Race:
    """One backend's run: how many workers, credits on the raced account, charges sent."""

    backend: str
    workers: int
    credits: int
    charges: int


RACES = [
    Race("postgresql", workers=4, credits=1000, charges=2000),
    Race("sqlite", workers=2, credits=200, charges=400),
]


@dataclass(frozen=True)
class Service:
    """A running `creditgate serve`, its database and key, and where its workers write."""

    race: Race
    url: str
    process: "subprocess.Popen[bytes]"
    engine: Engine
    key: str
    log: Path
    metrics: Path

    def client(self) -> httpx.Client:
        """A client of the service with the write key, up to `CONCURRENCY` connections."""
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=30.0,
            limits=httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY),
        )

    def answered_by_worker(self) -> Counter[int]:
        """Charge requests answered so far, by worker pid."""
        counts: Counter[int] = Counter()
        for path in self.metrics.glob("counter_*.db"):
            pid = int(path.stem.removeprefix("counter_"))
            values = MmapedDict.read_all_values_from_file(str(path))  # type: ignore[no-untyped-call]
            for key, value, _, _ in values:
                _, name, labels, _ = json.loads(key)
                if name == "creditgate_http_requests_total" and labels["route"] == CHARGE_ROUTE:
                    counts[pid] += int(value)
        return counts

    def workers_alive(self) -> set[int]:
        """The worker processes that have loaded the app and are still running."""
        pids = {int(p.stem.removeprefix("counter_")) for p in self.metrics.glob("counter_*.db")}
        return {pid for pid in pids - {self.process.pid} if Path(f"/proc/{pid}").exists()}

    def log_tail(self) -> str:
        """The end of the server's output, for failure messages."""
        return self.log.read_text(errors="replace")[-3000:]


@pytest.fixture(scope="module")
def pg_fresh_url(pg_template: str) -> Iterator[str]:
    """A new migrated PostgreSQL database of this module's own, dropped after it."""
    name = f"cg_workers_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _database_url(request: pytest.FixtureRequest, race: Race, directory: Path) -> str:
    if race.backend == "postgresql":
        url: str = request.getfixturevalue("pg_fresh_url")
        return url
    return f"sqlite:///{directory / 'workers.db'}"


def _start(race: Race, url: str, directory: Path) -> "tuple[subprocess.Popen[bytes], int, Path]":
    port = free_port()
    log = directory / "serve.log"
    metrics = directory / "metrics"
    metrics.mkdir()
    command = [
        str(Path(sys.executable).parent / "creditgate"),
        "serve",
        "--workers",
        str(race.workers),
        "--port",
        str(port),
        "-d",
        url,
    ]
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "CREDITGATE_STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
        "CREDITGATE_CLERK_WEBHOOK_SECRET": CLERK_SECRET,
    }
    with log.open("wb") as out:
        # A session of its own, so that the workers can be found and ended with it.
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    return process, port, metrics


def _wait_ready(service: Service) -> None:
    """Until `/readyz` answers and every worker has loaded the app."""
    deadline = time.monotonic() + STARTUP_S_MAX
    while time.monotonic() < deadline:
        assert service.process.poll() is None, f"serve stopped:\n{service.log_tail()}"
        with suppress(httpx.TransportError):
            ready = httpx.get(f"{service.url}/readyz", timeout=5.0).status_code == 200
            if ready and len(service.workers_alive()) >= service.race.workers:
                return
        time.sleep(0.1)
    raise AssertionError(f"serve was not ready in {STARTUP_S_MAX:.0f} s:\n{service.log_tail()}")


def _stop(process: "subprocess.Popen[bytes]") -> int | None:
    """SIGTERM, then wait; its exit code, or None if it hung and was killed with its workers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_S_MAX)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return None
    # The workers (and multiprocessing's resource tracker) leave with the server; any left
    # after a moment would keep the port and the database busy.
    deadline = time.monotonic() + STOP_S_MAX
    while _group_alive(process.pid):
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError("workers outlived the server and were killed")
        time.sleep(0.1)
    return process.returncode


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module", params=RACES, ids=[r.backend for r in RACES])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """`creditgate serve` with several workers on a fresh database holding two funded accounts.

    Stopped with SIGTERM after the module's tests: a server that hangs, exits non-zero or
    leaves workers behind fails the run, and is killed either way.
    """
    race: Race = request.param
    directory = tmp_path_factory.mktemp(f"serve_{race.backend}")
    url = _database_url(request, race, directory)
    engine = Engine(url)
    try:
        engine.create_account(RACED)
        engine.grant(RACED, race.credits, source="purchase")
        engine.create_account(RETRIED)
        engine.grant(RETRIED, 100, source="purchase")
        engine.create_account(BUYER)
        # The welcome is for the sign-ups the Clerk test makes; the pack comes after it, since
        # a catalog applied whole removes the packs it does not name.
        engine.apply_catalog({"welcome": {"credits": "50"}})
        engine.create_pack("creator", name="Creator", credits=110, price_minor=1499)
        key = engine.create_key("write", name="workers test")[1]
        process, port, metrics = _start(race, url, directory)
        served = Service(
            race=race,
            url=f"http://127.0.0.1:{port}",
            process=process,
            engine=engine,
            key=key,
            log=directory / "serve.log",
            metrics=metrics,
        )
        try:
            _wait_ready(served)
            yield served
        finally:
            code = _stop(process)
        assert code == 0, f"serve exited with {code} after SIGTERM:\n{served.log_tail()}"
    finally:
        engine.close()


def _charge_all(service: Service, account_id: str, count: int) -> list[httpx.Response]:
    """Send the charges at once, each on a connection of its own.

    A new connection per charge lets the kernel hand each to whichever worker accepts
    first: kept-alive connections can all land on the worker that started first, and the
    race would then run inside one process.
    """
    close = {"Connection": "close"}
    with service.client() as client, ThreadPoolExecutor(CONCURRENCY) as pool:
        return list(
            pool.map(
                lambda _: client.post(
                    f"/v1/accounts/{account_id}/charge", json={"amount": "1"}, headers=close
                ),
                range(count),
            )
        )


def test_charges_never_overspend_when_workers_race(service: Service) -> None:
    race = service.race

    answers = _charge_all(service, RACED, race.charges)

    statuses = Counter(a.status_code for a in answers)
    assert statuses == {200: race.credits, 402: race.charges - race.credits}, statuses
    assert {a.json()["code"] for a in answers if a.status_code == 402} == {"insufficient_credits"}
    assert str(service.engine.balance(RACED).balance) == "0"
    assert service.engine.verify().is_clean
    assert len(+service.answered_by_worker()) >= 2, "one worker answered every charge"


def test_idempotent_retries_take_effect_once_across_workers(service: Service) -> None:
    retry = {"Idempotency-Key": "one-retried-charge"}
    with service.client() as client, ThreadPoolExecutor(RETRIES) as pool:
        # Open the connections first, with reads that keep workers busy, so that the kernel
        # hands them to several workers; the retries then go out on all of them at once.
        list(pool.map(lambda _: client.get(f"/v1/accounts/{RETRIED}/balance"), range(RETRIES)))
        before = service.answered_by_worker()

        answers = list(
            pool.map(
                lambda _: client.post(
                    f"/v1/accounts/{RETRIED}/charge", json={"amount": "1"}, headers=retry
                ),
                range(RETRIES),
            )
        )

    workers = +(service.answered_by_worker() - before)
    assert [a.status_code for a in answers] == [200] * RETRIES
    replayed = Counter(a.headers.get("Idempotent-Replayed") for a in answers)
    assert replayed == {None: 1, "true": RETRIES - 1}, replayed
    assert len({a.json()["entry"]["id"] for a in answers}) == 1
    assert str(service.engine.balance(RETRIED).balance) == "99"
    assert service.engine.verify().is_clean
    assert len(workers) >= 2, f"one worker answered every retry: {workers}"


def test_serve_logs_each_request_when_workers_are_many(service: Service) -> None:
    request_id = f"log-check-{service.race.backend}"

    httpx.get(f"{service.url}/healthz", headers={"X-Request-ID": request_id})

    deadline = time.monotonic() + LOG_WAIT_S
    while request_id not in service.log.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"no log line for request {request_id}"
        time.sleep(0.05)


def _deliver(service: Service, path: str, body: bytes, headers: dict[str, str]) -> list[str]:
    """Send one delivery `DELIVERIES` times, `DELIVERED_AT_ONCE` at a time; the outcomes."""
    with service.client() as client, ThreadPoolExecutor(DELIVERED_AT_ONCE) as pool:
        answers = list(
            pool.map(lambda _: client.post(path, content=body, headers=headers), range(DELIVERIES))
        )
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers][:3]
    return [a.json()["outcome"] for a in answers]


def test_one_stripe_event_delivered_100_times_across_workers_grants_once(
    service: Service,
) -> None:
    session = {
        "id": f"cs_test_workers_{service.race.backend}",
        "object": "checkout.session",
        "mode": "payment",
        "amount_total": 1499,
        "currency": "usd",
        "payment_status": "paid",
        "payment_intent": "pi_workers",
        "metadata": {"account_id": BUYER, "pack": "creator"},
    }
    event = {
        "id": f"evt_workers_{service.race.backend}",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": session},
    }

    outcomes = _deliver(service, "/v1/webhooks/stripe", *stripe_delivery(event, STRIPE_SECRET))

    assert Counter(outcomes) == {"applied": 1, "duplicate": DELIVERIES - 1}
    assert service.engine.balance(BUYER).balance == Credits.parse(110)
    assert service.engine.verify().is_clean


def test_one_clerk_sign_up_delivered_100_times_across_workers_welcomes_once(
    service: Service,
) -> None:
    user = f"user_workers_{service.race.backend}"
    body, headers = svix_delivery(clerk_user_created(user), CLERK_SECRET)

    outcomes = _deliver(service, "/v1/webhooks/clerk", body, headers)

    assert Counter(outcomes) == {"applied": 1, "duplicate": DELIVERIES - 1}
    assert service.engine.balance(user).balance == Credits.parse(50)
