"""Guest uses per second: counted in Redis, in the database, and through the service.

One catalog for the whole run: an every-feature guest quota of 1,000 uses (the most a quota
may allow) per 24 h, so a use is judged by two counters, the guest's session and its
network, and a feature `bench.tiny` with a quota of 3 of its own (for the check at the end).
Three paths, each next to floors measured in the same run, in alternating rounds:

    redis      Engine.consume_guest(session, address) with a RedisCounter (a key prefix of
               the run's own), the engine's catalog on the first --backend, 1 and 8
               threads; against the floor: the same Lua script (the counter's `_TAKE`,
               through redis-py's register_script, one client shared by the threads), called
               with the same keys and arguments as the counter sends for one every-feature
               quota: two keys, the instant, a new use id, and each key's limit and window.
    database   The same call counted in the database (the default DatabaseCounter), SQLite
               and PostgreSQL (--backend), against a raw SQL floor with the same driver as
               bench/common.py's floor (a window table of its own, one transaction per use:
               create the two rows if absent, lock them, trim and append in Python, write
               both back in one UPDATE) and against the Redis floor.
    service    POST /v1/guests/consume through `creditgate serve` with CREDITGATE_REDIS_URL
               and CREDITGATE_TRUSTED_PROXIES=127.0.0.1, each request naming its guest's
               address in X-Forwarded-For, driven from client processes as bench/http.py
               does; against GET /healthz of the same server and the Redis floor (8 threads,
               measured between the service's rounds).

Guests, by how they come:

    returning  each thread cycles through 50 guests it has already seen, each first used
               before the clock starts; through the service each client slot has one
               guest, first used in the round's warm-up. A guest retires after 100 uses
               and a new one takes its place, so at most 1 use in 100 is a new guest's
               and a window holds at most 100 uses
    new        every use a guest never seen: a new session and a new network. The engine
               then also records the session (one more database transaction)
    full       a guest whose 1,000 uses are spent: every call is refused
               (GuestQuotaExceeded), against the floor's script refusing the same way.
               Redis only: spending them in the database takes seconds a thread

Library addresses are IPv4 in 10.0.0.0/8; the service's are IPv6 /64s under a prefix of the
run's own, because its counter writes under the default key prefix, so its keys must be
told apart from anything else in that Redis. Every key the run wrote is deleted at the end.

At the end, for each counter: the uses it allowed equal what its counters hold (and each
guest's session was recorded once), and 32 callers at once on one new guest of `bench.tiny`
get exactly 3 uses.
"""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
# bench/http.py's name shadows the standard library's `http`, which httpx imports: the
# script's own directory (for `common`) is searched last, after the standard library.
sys.path[:] = [entry for entry in sys.path if entry != _HERE] + [_HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import ipaddress  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import sqlite3  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from contextlib import AbstractContextManager, contextmanager, nullcontext  # noqa: E402
from dataclasses import dataclass, field, replace  # noqa: E402
from multiprocessing import get_context  # noqa: E402
from multiprocessing.pool import Pool  # noqa: E402
from typing import Any, Self, cast  # noqa: E402

import httpx  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402

import common  # noqa: E402
import service  # noqa: E402
from common import Backend, Op, Rate, Worker, note  # noqa: E402
from creditgate import Engine, GuestQuotaExceeded  # noqa: E402
from creditgate.domain.guests import EVERY_FEATURE  # noqa: E402
from creditgate.domain.limits import GUEST_USES_MAX  # noqa: E402
from creditgate.integrations.redis_quota import _TAKE, PREFIX, RedisCounter  # noqa: E402

SECONDS_DEFAULT = 3.0
"""Measured seconds per figure, each path and floor; a default run takes about 3 minutes."""

REDIS_URL = os.environ.get("CREDITGATE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

USES = GUEST_USES_MAX
"""The every-feature quota: the most uses a quota may allow, so that guests keep going."""

WINDOW_MS = 86_400_000
TINY = "bench.tiny"
TINY_USES = 3
CATALOG = {
    "guests": [
        {"uses": USES, "window": "24h"},
        {"feature": TINY, "uses": TINY_USES, "window": "24h"},
    ]
}

GUESTS_PER_THREAD = 50
"""Returning guests a thread cycles through, each first used before the clock starts."""

RETIRE_USES = 100
"""A returning guest retires after this many uses: a new guest takes its place."""

TINY_CALLERS = 32
"""Callers at once on one new guest of the tiny quota, at the end."""

FLOOR = "healthz"
CALLS = (FLOOR, "consume", "consume_new")
"""Through the service: the empty endpoint, then returning and new guests."""

CONSUME_PATH = "/v1/guests/consume"

SERVICE_FLOOR_THREADS = 8
"""Threads of the raw script measured between the service's rounds."""

SERVICE_GUESTS_PER_TASK = 2**20
"""Guest numbers set aside for one client's round of a call through the service."""


def parse_args() -> argparse.Namespace:
    """The benchmark's arguments; the defaults take about 3 minutes."""

    def extra(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--paths",
            nargs="+",
            choices=["redis", "database", "service"],
            default=["redis", "database", "service"],
            help="what to measure (default all three)",
        )
        parser.add_argument(
            "--redis", default=REDIS_URL, help=f"the Redis to count in (default {REDIS_URL})"
        )
        parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (default 1)")
        service.add_client_args(parser)

    args = common.parse_args(__doc__ or "", seconds=SECONDS_DEFAULT, threads=(1, 8), extra=extra)
    assert args.concurrency >= args.clients >= 1, "each client needs a request in flight"
    return args


# Guests


@dataclass
class Guests:
    """Numbered guests: guest n is session `bench-{run}-{n}` at an address of its own."""

    run: str
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, count: int = 1) -> int:
        """The first of `count` guests never used before."""
        with self._lock:
            first, self._next = self._next, self._next + count
        return first

    def session(self, n: int) -> str:
        """Guest n's session id."""
        return f"bench-{self.run}-{n}"

    @staticmethod
    def address(n: int) -> str:
        """Guest n's address in 10.0.0.0/8 (16.7 million guests before one comes round)."""
        return str(ipaddress.IPv4Address(0x0A00_0000 + n % 2**24))

    def ipv6(self, n: int) -> str:
        """Guest n's address in a /64 of its own, under the run's own prefix (see `net`)."""
        return f"{self.net}:{n >> 16 & 0xFFFF:x}:{n & 0xFFFF:x}::1"

    @property
    def net(self) -> str:
        """The run's first two IPv6 groups, both non-zero so that no network key folds them."""
        return f"fd{self.run[:2]}:{0x1000 + int(self.run[2:6], 16) % 0xF000:x}"


@dataclass
class Books:
    """What one path did to its counters: uses allowed, guests first seen, uses refused."""

    allowed: int = 0
    firsts: int = 0
    refused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, *, allowed: int, firsts: int, refused: int) -> None:
        """Count one thread's calls."""
        with self._lock:
            self.allowed += allowed
            self.firsts += firsts
            self.refused += refused


def key_prefix(run: str, part: str) -> str:
    """The Redis key prefix of one part of the run (`floor`, `engine`)."""
    return f"cgbench:{run}:{part}:"


Use = Callable[[int], bool]
"""One use by guest n through a path: whether it was allowed."""

Opener = Callable[[int], AbstractContextManager[Use]]
"""Opens, inside a thread (by index), whatever that thread's uses need."""


class Crowd:
    """How a thread's guests come: each use's guest, and whether the guest is new.

    `primed_uses` and `primed_guests` count what was done, before the clock started, to
    make the guests what they are (seen before, or spent).
    """

    primed_uses = 0
    primed_guests = 0

    def __init__(self, guests: Guests, use: Use) -> None:
        self.guests = guests

    def next(self) -> tuple[int, bool]:
        """The next use's guest: every use a new one."""
        return self.guests.take(), True


class Returning(Crowd):
    """Guests seen before the clock starts, each in turn; retired after `RETIRE_USES`."""

    primed_uses = primed_guests = GUESTS_PER_THREAD

    def __init__(self, guests: Guests, use: Use) -> None:
        super().__init__(guests, use)
        self.numbers = [guests.take() for _ in range(GUESTS_PER_THREAD)]
        self.uses = [1] * GUESTS_PER_THREAD
        self.cursor = 0
        assert all(use(n) for n in self.numbers), "a new guest is let in"

    def next(self) -> tuple[int, bool]:
        """The next guest, and whether it is new (one retired)."""
        i = self.cursor
        self.cursor = (i + 1) % GUESTS_PER_THREAD
        first = self.uses[i] >= RETIRE_USES
        if first:
            self.numbers[i], self.uses[i] = self.guests.take(), 0
        self.uses[i] += 1
        return self.numbers[i], first


class Full(Crowd):
    """One guest whose every use is spent before the clock starts."""

    primed_uses, primed_guests = USES, 1

    def __init__(self, guests: Guests, use: Use) -> None:
        super().__init__(guests, use)
        self.number = guests.take()
        assert all(use(self.number) for _ in range(USES)), "a guest with room is let in"

    def next(self) -> tuple[int, bool]:
        """The spent guest, again."""
        return self.number, False


CROWDS: dict[str, type[Crowd]] = {"returning": Returning, "new": Crowd, "full": Full}
REDIS_CROWDS = ("returning", "new", "full")
DATABASE_CROWDS = ("returning", "new")
"""A full guest in the database takes 1,000 uses a thread to make: seconds, not measured."""


def guest_worker(opener: Opener, guests: Guests, how: str, books: Books) -> Worker:
    """Threads that use guests as `how` says (returning, new or full), kept across rounds.

    A thread's guests are made the first time it opens, with the thread's own `Use`, before
    the clock starts; what that took counts in `books` like any use.
    """
    kept: dict[int, Crowd] = {}

    @contextmanager
    def open_(index: int) -> Iterator[Op]:
        allowed = firsts = refused = 0
        with opener(index) as use:
            crowd = kept.get(index)
            if crowd is None:
                crowd = kept[index] = CROWDS[how](guests, use)
                allowed, firsts = crowd.primed_uses, crowd.primed_guests

            def op(iteration: int) -> None:
                nonlocal allowed, firsts, refused
                n, first = crowd.next()
                if use(n):
                    allowed += 1
                    firsts += first
                else:
                    refused += 1

            try:
                yield op
            finally:
                books.add(allowed=allowed, firsts=firsts, refused=refused)

    return open_


# The paths


def engine_use(engine: Engine, guests: Guests) -> Opener:
    """Uses through the public API: `Engine.consume_guest`, refused by GuestQuotaExceeded."""

    def use(n: int) -> bool:
        try:
            engine.consume_guest(guests.session(n), guests.address(n))
        except GuestQuotaExceeded:
            return False
        return True

    return lambda _: nullcontext(use)


# The SQL floor: a window table of its own, one transaction per use

_SQL_TABLE = (
    "CREATE TABLE floor_guest_windows (key VARCHAR(255) PRIMARY KEY,"
    " uses {json} NOT NULL, expires_ms BIGINT NOT NULL)"
)
_SQL_CREATE = (
    "INSERT INTO floor_guest_windows (key, uses, expires_ms) VALUES ({p}, '[]', 0), ({p}, '[]', 0)"
    " ON CONFLICT (key) DO NOTHING"
)
_SQL_LOCK = "SELECT key, uses FROM floor_guest_windows WHERE key IN ({p}, {p}) ORDER BY key{lock}"
_SQLITE_SAVE = (
    "UPDATE floor_guest_windows SET uses = v.column2, expires_ms = v.column3"
    " FROM (VALUES (?, ?, ?), (?, ?, ?)) AS v WHERE floor_guest_windows.key = v.column1"
)
_PG_SAVE = (
    "UPDATE floor_guest_windows AS w SET uses = v.uses::json, expires_ms = v.expires_ms"
    " FROM (VALUES (%s, %s, %s::bigint), (%s, %s, %s::bigint)) AS v (key, uses, expires_ms)"
    " WHERE w.key = v.key"
)


def admit(stored: dict[str, Any], now_ms: int, use_id: str) -> tuple[list[Any], bool]:
    """Trim each window, and append the use to both when both have room and it is new.

    Returns the rows to write, (key, uses as JSON, expires_ms) flattened, and the verdict.
    """
    kept = {
        key: [u for u in (json.loads(v) if isinstance(v, str) else v) if u[0] > now_ms - WINDOW_MS]
        for key, v in stored.items()
    }
    fits = all(len(uses) < USES for uses in kept.values()) and not any(
        u[1] == use_id for uses in kept.values() for u in uses
    )
    params: list[Any] = []
    for key, uses in kept.items():
        if fits:
            uses.append([now_ms, use_id])
        params += [key, json.dumps(uses), max((u[0] for u in uses), default=now_ms) + WINDOW_MS]
    return params, fits


class SqlFloor:
    """Guest windows by hand with the floor's driver: create if absent, lock, trim, write."""

    def __init__(self, backend: Backend, url: str) -> None:
        self.backend = backend
        self.url = url
        self._lock = threading.Lock()
        p = "?" if backend == "sqlite" else "%s"
        self.create = _SQL_CREATE.format(p=p)
        self.lock = _SQL_LOCK.format(p=p, lock="" if backend == "sqlite" else " FOR UPDATE")
        with common.floor_connection(backend, url) as conn:
            conn.execute(_SQL_TABLE.format(json="TEXT" if backend == "sqlite" else "JSON"))
            if isinstance(conn, psycopg.Connection):
                conn.commit()

    def opener(self, guests: Guests) -> Opener:
        """Each thread on a connection of its own; SQLite's writers queue on a process lock."""

        @contextmanager
        def open_(_: int) -> Iterator[Use]:
            with common.floor_connection(self.backend, self.url) as conn:

                def use(n: int) -> bool:
                    keys = sorted([f"*|n|{guests.address(n)}", f"*|s|{guests.session(n)}"])
                    if isinstance(conn, sqlite3.Connection):
                        with self._lock:
                            return self._sqlite_use(conn, keys)
                    return self._pg_use(conn, keys)

                yield use

        return open_

    def _sqlite_use(self, conn: sqlite3.Connection, keys: list[str]) -> bool:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(self.create, keys)
            stored: dict[str, Any] = dict(conn.execute(self.lock, keys).fetchall())
            params, fits = admit(stored, time.time_ns() // 1_000_000, uuid.uuid4().hex)
            conn.execute(_SQLITE_SAVE, params)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return fits

    def _pg_use(self, conn: psycopg.Connection, keys: list[str]) -> bool:
        with conn.transaction():
            conn.execute(self.create, keys)
            stored: dict[str, Any] = dict(conn.execute(self.lock, keys).fetchall())
            params, fits = admit(stored, time.time_ns() // 1_000_000, uuid.uuid4().hex)
            conn.execute(_PG_SAVE, params)
        return fits


class ScriptFloor:
    """The floor in Redis: the counter's own script, keys and arguments, called by hand.

    Its guests and books are its own, kept for the whole run (every path measures it).
    """

    def __init__(self, client: "redis.Redis", prefix: str, guests: Guests) -> None:
        self.client = client
        self.prefix = prefix
        self.guests = guests
        self.books = Books()
        self.script = client.register_script(_TAKE)

    def use(self, n: int) -> bool:
        """One use by guest n: now, a new use id, and each key's limit and window."""
        scope = self.prefix + EVERY_FEATURE
        keys = [f"{scope}|n|{self.guests.address(n)}", f"{scope}|s|{self.guests.session(n)}"]
        now_ms = time.time_ns() // 1_000_000
        out = self.script(
            keys=keys, args=[now_ms, uuid.uuid4().hex, USES, WINDOW_MS, USES, WINDOW_MS]
        )
        return bool(out[1] == 1)

    def worker(self, how: str) -> Worker:
        """Threads of script calls, guests coming as `how` says."""
        return guest_worker(lambda _: nullcontext(self.use), self.guests, how, self.books)


# Checks: what the counters hold against what was allowed


@dataclass(frozen=True, slots=True)
class Held:
    """What a counter holds: uses on the session counters and on the network counters, the
    session counters, and the sessions the engine recorded (None: a floor records none)."""

    by_session: int
    by_network: int
    sessions: int
    recorded: int | None
    most: int
    """The most uses any one counter holds."""


def redis_held(client: "redis.Redis", prefix: str, session: str, network: str) -> Held:
    """Every-feature counters under `prefix` whose sessions and networks match the patterns."""
    scope = prefix + "\\" + EVERY_FEATURE
    by_session = list(client.scan_iter(match=f"{scope}|s|{session}", count=1000))
    by_network = list(client.scan_iter(match=f"{scope}|n|{network}", count=1000))
    pipe = client.pipeline(transaction=False)
    for key in by_session + by_network:
        pipe.zcard(key)
    counts = pipe.execute()
    return Held(
        by_session=sum(counts[: len(by_session)]),
        by_network=sum(counts[len(by_session) :]),
        sessions=len(by_session),
        recorded=None,
        most=max(counts, default=0),
    )


def sql_held(backend: Backend, url: str, table: str, *, has_sessions: bool) -> Held:
    """Every-feature windows in `table`, read with the floor's driver; and guest_sessions."""
    with common.floor_connection(backend, url) as conn:
        rows = conn.execute(f"SELECT key, uses FROM {table}").fetchall()
        recorded = None
        if has_sessions:
            found = conn.execute("SELECT count(*) FROM guest_sessions").fetchone()
            assert found is not None
            recorded = int(found[0])
    sizes: dict[str, list[int]] = {"s": [], "n": []}
    for key, uses in rows:
        scope, kind, _ = str(key).split("|", 2)
        if scope == EVERY_FEATURE:
            sizes[kind].append(len(json.loads(uses) if isinstance(uses, str) else uses))
    most = max(sizes["s"] + sizes["n"], default=0)
    return Held(sum(sizes["s"]), sum(sizes["n"]), len(sizes["s"]), recorded, most)


def check(label: str, held: Held, books: Books) -> None:
    """Every use allowed is held once by each of its counters; print, then insist."""
    exact = (
        held.by_session == held.by_network == books.allowed
        and held.sessions == books.firsts
        and held.recorded in (None, books.firsts)
        and held.most <= USES
    )
    recorded = "" if held.recorded is None else f", {held.recorded:,} sessions recorded"
    note(
        f"{label}: counts {'exact' if exact else 'NOT EXACT'}: {books.allowed:,} uses allowed,"
        f" held {held.by_session:,} by the session counters and {held.by_network:,} by the"
        f" network counters; {books.firsts:,} guests, {held.sessions:,} session counters"
        f"{recorded}; {books.refused:,} uses refused; at most {held.most:,} uses on a counter"
    )
    assert exact, f"{label}: the counters do not hold what was allowed: {held} {books}"


def check_tiny(label: str, engine: Engine, guests: Guests) -> None:
    """Callers at once on one new guest of the tiny quota: exactly its uses get through."""
    n = guests.take()
    barrier = threading.Barrier(TINY_CALLERS)
    answers: list[bool] = []

    def call() -> None:
        barrier.wait()
        try:
            engine.consume_guest(guests.session(n), guests.address(n), feature=TINY)
        except GuestQuotaExceeded:
            answers.append(False)
        else:
            answers.append(True)

    callers = [threading.Thread(target=call) for _ in range(TINY_CALLERS)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    tiny_note(label, sum(answers), len(answers))


def tiny_note(label: str, allowed: int, answered: int) -> None:
    """Print how many of the tiny quota's callers got through, then insist on exactly N."""
    note(
        f"{label}: {TINY_CALLERS} callers at once on one new guest of a quota of {TINY_USES}:"
        f" {allowed} allowed, {answered - allowed} refused"
    )
    assert answered == TINY_CALLERS, f"{label}: {answered} of {TINY_CALLERS} callers answered"
    assert allowed == TINY_USES, f"{label}: {allowed} uses allowed of a quota of {TINY_USES}"


# The library: Redis, then the database


def compare(
    label: str,
    unit: str,
    path: Worker,
    floors: Sequence[tuple[str, str, Worker]],
    *,
    threads: int,
    seconds: float,
) -> None:
    """A path and its floors (name, unit, worker) in alternating rounds; one line."""
    figure, *rates = common.alternate_all(
        [path, *(worker for _, _, worker in floors)], threads=threads, seconds=seconds
    )
    (name, floor_unit, _), *others = floors
    common.report(
        label,
        figure,
        rates[0],
        unit=unit,
        target=None,
        floor_label=name,
        floor_unit=floor_unit,
        others=[(o, rate, u) for (o, u, _), rate in zip(others, rates[1:], strict=True)],
    )


def redis_path(
    args: argparse.Namespace, backend: Backend, directory: Path, floor: ScriptFloor
) -> None:
    """consume_guest counted in Redis, against the raw script; 1 and 8 threads."""
    prefix = key_prefix(floor.guests.run, "engine")
    counter = RedisCounter.from_url(args.redis, prefix=prefix)
    guests, books = Guests(floor.guests.run), Books()
    with common.scratch_database(backend, "guests_redis", directory) as url:
        engine = common.open_engine(url, pool_size=max(args.threads), guest_counter=counter)
        try:
            engine.apply_catalog(CATALOG)
            note(f"redis: the catalog, and each new guest's session, are kept in {backend}")
            for threads in args.threads:
                for how in REDIS_CROWDS:
                    compare(
                        f"consume redis guests={how} threads={threads}",
                        "refusals" if how == "full" else "uses",
                        guest_worker(engine_use(engine, guests), guests, how, books),
                        [("raw script", "calls", floor.worker(how))],
                        threads=threads,
                        seconds=args.seconds,
                    )
            held = redis_held(counter.client, prefix, "*", "*")
            recorded = sql_held(backend, url, "guest_windows", has_sessions=True).recorded
            check(
                f"redis (sessions recorded in {backend})", replace(held, recorded=recorded), books
            )
            check_tiny("redis", engine, guests)
        finally:
            engine.close()
            counter.close()


def database_path(
    args: argparse.Namespace, backend: Backend, directory: Path, floor: ScriptFloor
) -> None:
    """consume_guest counted in the database, against the raw SQL and the raw script."""
    with (
        common.scratch_database(backend, "guests_engine", directory) as url,
        common.scratch_database(backend, "guests_floor", directory) as floor_url,
    ):
        engine = common.open_engine(url, pool_size=max(args.threads))
        try:
            engine.apply_catalog(CATALOG)
            sql = SqlFloor(backend, floor_url)
            guests, books = Guests(floor.guests.run), Books()
            sql_guests, sql_books = Guests(floor.guests.run), Books()
            for threads in args.threads:
                for how in DATABASE_CROWDS:
                    compare(
                        f"consume {backend} guests={how} threads={threads}",
                        "uses",
                        guest_worker(engine_use(engine, guests), guests, how, books),
                        [
                            (
                                "raw SQL",
                                "uses",
                                guest_worker(sql.opener(sql_guests), sql_guests, how, sql_books),
                            ),
                            ("raw script", "calls", floor.worker(how)),
                        ],
                        threads=threads,
                        seconds=args.seconds,
                    )
            check(backend, sql_held(backend, url, "guest_windows", has_sessions=True), books)
            held = sql_held(backend, floor_url, "floor_guest_windows", has_sessions=False)
            check(f"{backend} raw SQL", held, sql_books)
            check_tiny(backend, engine, guests)
        finally:
            engine.close()


# The service


@dataclass(frozen=True, slots=True)
class Task:
    """One client process's share of one round of one call; its guests from `first_guest`."""

    how: service.Drive
    call: str
    run: str
    first_guest: int


@dataclass
class GuestTally(service.Tally):
    """A tally that also counts the guests a client used for the first time."""

    guests: int = 0

    def add(self, other: Self) -> None:
        """Fold another client's (or round's) tally in."""
        super().add(other)
        self.guests += other.guests


class GuestRequests:
    """A client's requests: each slot's guest comes back until it retires, or is new each time."""

    def __init__(self, task: Task, tally: GuestTally) -> None:
        self.task = task
        self.tally = tally
        self.guests = Guests(task.run)

    def next(self, slot: int, n: int) -> service.Request:
        """The n-th request of a slot."""
        task = self.task
        if task.call == FLOOR:
            return service.Request("GET", "/healthz")
        slots = task.how.slots
        if task.call == "consume":
            offset, first = (n // RETIRE_USES) * slots + slot, n % RETIRE_USES == 0
        else:
            offset, first = n * slots + slot, True
        assert offset < SERVICE_GUESTS_PER_TASK, "a client ran out of guest numbers"
        self.tally.guests += first
        guest = task.first_guest + offset
        headers = {"X-Forwarded-For": self.guests.ipv6(guest)}
        body = {"session_id": self.guests.session(guest)}
        return service.Request("POST", CONSUME_PATH, headers, json=body)

    def answered(self, response: httpx.Response) -> None:
        """Nothing to read: the status is tallied."""


def run_client(task: Task) -> GuestTally:
    """A client process's entry point; it counts its own CPU time too."""
    tally = GuestTally()
    return service.client_round(task.how, GuestRequests(task, tally), tally)


@dataclass
class Stage:
    """The service under measurement: its server, clients, key and the run's guests."""

    server: service.Server
    pool: Pool
    key: str
    guests: Guests
    args: argparse.Namespace
    floor_worker: Worker
    script: Rate = field(default_factory=lambda: Rate(0, 0.0))

    def measure(self, call: str) -> tuple[GuestTally, float]:
        """One round of a call from every client; after the floor's, the raw script's round."""
        args = self.args
        share = args.concurrency // args.clients
        how = service.Drive(
            url=self.server.url,
            slots=share,
            seconds=args.seconds / service.ROUNDS,
            headers={"Authorization": f"Bearer {self.key}"},
        )
        tasks = [
            Task(how, call, self.guests.run, self.guests.take(SERVICE_GUESTS_PER_TASK))
            for _ in range(args.clients)
        ]
        parts, cpu_s = service.measure(self.pool, self.server, run_client, tasks)
        if call == FLOOR:
            self.script += common.run_threads(
                self.floor_worker,
                threads=SERVICE_FLOOR_THREADS,
                seconds=args.seconds / service.ROUNDS,
            )
        return GuestTally.of(parts), cpu_s

    def tiny(self) -> None:
        """Callers at once on one new guest of the tiny quota, through the service."""
        n = self.guests.take()
        body = {"session_id": self.guests.session(n), "feature": TINY}
        headers = {"X-Forwarded-For": self.guests.ipv6(n)}

        async def calls() -> list[int]:
            async with httpx.AsyncClient(
                base_url=self.server.url,
                headers={"Authorization": f"Bearer {self.key}"},
                limits=httpx.Limits(max_connections=TINY_CALLERS),
                timeout=60.0,
            ) as client:
                answers = await asyncio.gather(
                    *(
                        client.post(CONSUME_PATH, json=body, headers=headers)
                        for _ in range(TINY_CALLERS)
                    )
                )
            return [answer.status_code for answer in answers]

        statuses = asyncio.run(calls())
        assert set(statuses) <= {200, 429}, f"tiny: answers other than 200 and 429: {statuses}"
        tiny_note("service", statuses.count(200), len(statuses))


def service_path(
    args: argparse.Namespace, backend: Backend, directory: Path, floor: ScriptFloor
) -> None:
    """POST /v1/guests/consume through `creditgate serve` counting in Redis."""
    guests = Guests(floor.guests.run)
    with common.scratch_database(backend, "guests_service", directory) as url:
        engine = common.open_engine(url)
        try:
            engine.apply_catalog(CATALOG)
            key = engine.create_key("write", name="bench")[1]
        finally:
            engine.close()
        env = {"CREDITGATE_REDIS_URL": args.redis, "CREDITGATE_TRUSTED_PROXIES": "127.0.0.1"}
        with (
            service.serving(url, workers=args.workers, directory=directory, env=env) as server,
            get_context("spawn").Pool(args.clients) as pool,
        ):
            stage = Stage(server, pool, key, guests, args, floor.worker("returning"))
            figures = service.alternate_calls(CALLS, stage.measure, GuestTally)
            service_report(figures, stage.script, label=f"{backend} workers={args.workers}")
            consumed = [f.tally for f in figures if f.call != FLOOR]
            books = Books(
                allowed=sum(t.statuses[200] for t in consumed),
                firsts=sum(t.guests for t in consumed),
            )
            held = redis_held(floor.client, PREFIX, f"bench-{guests.run}-*", f"{guests.net}:*")
            recorded = sql_held(backend, url, "guest_windows", has_sessions=True).recorded
            check(
                f"service (sessions recorded in {backend})", replace(held, recorded=recorded), books
            )
            stage.tiny()


def service_report(figures: list[service.Figure[GuestTally]], script: Rate, *, label: str) -> None:
    """One line per call, the guests' with the floor, the raw script and the two ratios."""
    floor = next(f for f in figures if f.call == FLOOR)

    def by_script(figure: service.Figure[GuestTally]) -> str:
        ratio = figure.per_s / script.per_s if script.per_s else 0.0
        return f" | raw script {script.per_s:,.0f} calls/s | ratio {ratio:.2f}"

    service.print_figures(figures, label, floor, compared=CALLS[1:], suffix=by_script)
    note(
        f"raw script: {SERVICE_FLOOR_THREADS} threads in this process, between the rounds;"
        f" {FLOOR}: the server spent {floor.cpu_ms:.2f} ms of CPU per request; ratios by"
        " server CPU alone: " + service.cpu_ratios(figures, floor)
    )
    service.insist_ok(figures)


# The run


def delete_keys(client: "redis.Redis", patterns: Sequence[str]) -> int:
    """Delete every key matching the patterns; how many went."""
    deleted = 0
    for pattern in patterns:
        batch: list[Any] = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) == 1000:
                deleted += cast(int, client.delete(*batch))
                batch = []
        if batch:
            deleted += cast(int, client.delete(*batch))
    return deleted


def main() -> None:
    """Run the guest-quota benchmark."""
    args = parse_args()
    chosen = common.backends(args.backend)
    run = secrets.token_hex(4)
    common.header("guests: guest uses per second, counted in Redis, the database, the service")
    client: redis.Redis = redis.Redis.from_url(args.redis)
    version = cast(dict[str, Any], client.info("server"))["redis_version"]
    note(f"redis {version} at {args.redis}; redis-py {redis.__version__}")
    floor = ScriptFloor(client, key_prefix(run, "floor"), Guests(run))
    guests = Guests(run)
    try:
        with common.scratch_dir(args.dir) as directory:
            if "redis" in args.paths:
                redis_path(args, chosen[0], directory, floor)
            if "database" in args.paths:
                for backend in chosen:
                    database_path(args, backend, directory, floor)
            if "service" in args.paths:
                service_path(args, chosen[0], directory, floor)
            held = redis_held(client, floor.prefix, "*", "*")
            check("raw script", held, floor.books)
    finally:
        served = [f"{PREFIX}*|s|bench-{run}-*", f"{PREFIX}*|n|{guests.net}:*"]
        patterns = [key_prefix(run, "*") + "*", *served]
        note(f"deleted the run's {delete_keys(client, patterns):,} Redis keys")
        client.close()
    common.footer()


if __name__ == "__main__":
    main()
