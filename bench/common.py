"""Shared by the benchmarks: arguments, scratch databases, the hand-written floor, timing, output.

The floor is the least a correct charge can cost with the same driver: one transaction with
a conditional UPDATE of the account row and one INSERT of an entry, on a two-table schema of
its own in a separate database (or file). Every figure is printed next to the floor measured
in the same run, alternating rounds so that a slow minute of the machine hits both alike.
"""

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

# A script's own directory comes first on sys.path, and bench/http.py would shadow the standard
# library's `http`, which creditgate's client imports (through httpx): search bench/ last.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [entry for entry in sys.path if entry != _HERE] + [_HERE]

import psycopg  # noqa: E402
from sqlalchemy import Connection, text  # noqa: E402

from creditgate import Clock, Engine  # noqa: E402
from creditgate.engine import GuestCounter  # noqa: E402
from creditgate.storage.database import Database, SqliteSync  # noqa: E402

Backend = Literal["sqlite", "postgresql"]
BACKENDS: tuple[Backend, ...] = ("sqlite", "postgresql")

PG_ADMIN_URL = os.environ.get(
    "CREDITGATE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
"""A PostgreSQL server where the benchmarks may create (and drop) `cg_bench_*` databases."""

GRANT_CREDITS = 1_000_000_000
"""Each benchmark account starts with this many credits: no run can exhaust them."""

WARMUP_OPS = 20
"""Operations each thread runs before the clock starts (prepared statements, pool, caches)."""

ROUNDS = 4
"""A measured pair (engine, floor) runs as this many alternating rounds."""

Op = Callable[[int], None]
"""One operation; it receives its iteration number within the thread."""

Worker = Callable[[int], AbstractContextManager[Op]]
"""Opens, inside a thread (by index), whatever that thread's operations need."""


# Arguments


def parse_args(
    description: str,
    *,
    seconds: float | None,
    threads: Sequence[int] | None,
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    """The arguments every benchmark takes; defaults keep `make bench` within its budget.

    A script that measures no rate for a time (`seconds` None) or runs no threads (`threads`
    None) takes no `--seconds` or `--threads`.
    """
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    if seconds is not None:
        parser.add_argument(
            "--seconds",
            type=float,
            default=seconds,
            help=f"measured seconds per figure, engine and floor each (default {seconds})",
        )
    if threads is not None:
        parser.add_argument(
            "--threads",
            type=int,
            nargs="+",
            default=list(threads),
            help=f"thread counts to run (default {' '.join(map(str, threads))})",
        )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="directory for the SQLite files (default: a temporary directory)",
    )
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def backends(choice: str) -> tuple[Backend, ...]:
    """The backends named by `--backend`."""
    return BACKENDS if choice == "both" else tuple(b for b in BACKENDS if b == choice)


# The machine


def machine() -> list[str]:
    """What the figures were measured on: CPUs, memory, Python, SQLite, PostgreSQL."""
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f"{kib / 2**20:.1f} GiB"
    return [
        f"date {datetime.now(UTC).strftime('%Y-%m-%d %H:%M')} UTC",
        f"cpu {model} x {os.cpu_count()} | memory {memory} | {platform.platform()}",
        f"python {platform.python_version()} | sqlite {sqlite3.sqlite_version}"
        f" | postgresql {_pg_version()} | psycopg {psycopg.__version__}",
    ]


def _pg_version() -> str:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error:
        return "unreachable"
    return "unknown" if row is None else str(row[0])


_STARTED = time.perf_counter()


def header(title: str) -> None:
    """Print the benchmark's name, the machine, and how busy it is."""
    print(f"# {title}")
    for line in machine():
        print(f"# {line}")
    print(f"# postgresql settings: {pg_settings()}")
    print(f"# {load()} at start", flush=True)


def footer() -> None:
    """Print how long the run took and how busy the machine was at its end.

    Other work on the machine moves these figures a lot: a load average well above zero
    before the run means the figures are pessimistic.
    """
    print(f"# done in {time.perf_counter() - _STARTED:.0f} s; {load()} at end", flush=True)


def load() -> str:
    """The load averages over 1, 5 and 15 minutes."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


# Scratch databases


@contextmanager
def scratch_dir(directory: Path | None) -> Iterator[Path]:
    """Where the SQLite files go: the given directory, or a temporary one removed after."""
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        yield directory
        return
    with tempfile.TemporaryDirectory(prefix="cg_bench_") as made:
        yield Path(made)


@contextmanager
def scratch_database(backend: Backend, name: str, directory: Path) -> Iterator[str]:
    """A new, empty database for one benchmark: its URL, dropped (or deleted) afterwards."""
    if backend == "sqlite":
        path = directory / f"{name}.db"
        _remove_sqlite(path)
        try:
            yield f"sqlite:///{path}"
        finally:
            _remove_sqlite(path)
        return
    database = f"cg_bench_{name}_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield pg_url(database)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def pg_url(database: str) -> str:
    """The admin URL pointed at another database."""
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def sqlite_path(url: str) -> Path:
    """The file behind a `sqlite:///` URL."""
    assert url.startswith("sqlite:///")
    return Path(url.removeprefix("sqlite:///"))


def analyze(backend: Backend, url: str) -> None:
    """Refresh planner statistics and checkpoint, so the load's writes stay out of the figures."""
    with floor_connection(backend, url) as conn:
        if isinstance(conn, psycopg.Connection):
            conn.commit()
            conn.autocommit = True
            conn.execute("ANALYZE")
            conn.execute("CHECKPOINT")
        else:
            conn.execute("ANALYZE")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def move_sequences(conn: Connection, tables: Sequence[str]) -> None:
    """Move PostgreSQL's id sequences past rows inserted with their ids (copies of rows)."""
    for table in tables:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        )


def open_engine(
    url: str,
    *,
    sync: SqliteSync = SqliteSync.FULL,
    pool_size: int = 10,
    clock: Clock | None = None,
    guest_counter: GuestCounter | None = None,
) -> Engine:
    """The public Engine on `url`, with SQLite's synchronous setting pinned (not read from env).

    `clock` is the engine's time (a `ManualClock` to make a population due at once);
    `guest_counter` keeps its guest counts (None: the database).
    """
    database = Database(url, sqlite_sync=sync, pool_size=pool_size)
    return Engine(database, clock=clock, guest_counter=guest_counter)


def account_name(index: int) -> str:
    """The app's id of benchmark account `index`."""
    return f"bench_{index:05d}"


def make_accounts(engine: Engine, count: int) -> list[str]:
    """Create `count` accounts through the public API, each with a grant no run exhausts."""
    names = [account_name(i) for i in range(count)]
    for name in names:
        engine.create_account(name)
        engine.grant(name, GRANT_CREDITS, source="purchase")
    return names


def pick(thread: int, iteration: int, *, threads: int, accounts: int) -> int:
    """The account an operation uses: threads never share one unless there is only one.

    With many accounts each thread cycles through its own slice of them, so no two threads
    wait on the same row; with one account every operation contends for it.
    """
    if accounts == 1:
        return 0
    share = accounts // threads
    assert share >= 1, "more threads than accounts"
    return thread * share + iteration % share


# Timing


@dataclass(frozen=True, slots=True)
class Rate:
    """Operations completed in a measured span, and the CPU this process spent on them."""

    ops: int
    seconds: float
    cpu_s: float = 0.0
    """This process's CPU time (all its threads) over the span: 0 when not measured."""
    sys_s: float = 0.0
    """The part of `cpu_s` spent in the kernel: writing and syncing files, sockets."""

    @property
    def per_s(self) -> float:
        """Operations per second."""
        return self.ops / self.seconds if self.seconds > 0 else 0.0

    def __add__(self, other: "Rate") -> "Rate":
        return Rate(
            self.ops + other.ops,
            self.seconds + other.seconds,
            self.cpu_s + other.cpu_s,
            self.sys_s + other.sys_s,
        )

    @property
    def cpu_ms(self) -> float:
        """This process's CPU milliseconds per operation."""
        return self.cpu_s * 1000 / self.ops if self.ops else 0.0

    @property
    def sys_ms(self) -> float:
        """The kernel's share of `cpu_ms`."""
        return self.sys_s * 1000 / self.ops if self.ops else 0.0


def run_threads(worker: Worker, *, threads: int, seconds: float) -> Rate:
    """Run `threads` threads of operations for `seconds`; count what they completed.

    Each thread opens its worker and warms up before a barrier; the clock runs from the
    barrier until every thread has seen the deadline and finished its last operation.
    """
    counts = [0] * threads
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)
    stop = threading.Event()

    def body(index: int) -> None:
        try:
            with worker(index) as op:
                for i in range(WARMUP_OPS):
                    op(-1 - i)
                barrier.wait()
                done = 0
                while not stop.is_set():
                    op(done)
                    done += 1
                counts[index] = done
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(exc)
            barrier.abort()

    pool = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    with suppress(threading.BrokenBarrierError):
        barrier.wait()
    started = time.perf_counter()
    cpu_started = os.times()
    while not errors and time.perf_counter() - started < seconds:
        time.sleep(min(0.05, seconds / 20))
    stop.set()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu_ended = os.times()
    user = cpu_ended.user - cpu_started.user
    system = cpu_ended.system - cpu_started.system
    if errors:
        raise errors[0]
    return Rate(sum(counts), elapsed, user + system, system)


def alternate(
    first: Worker, second: Worker, *, threads: int, seconds: float, rounds: int = ROUNDS
) -> tuple[Rate, Rate]:
    """Measure two workers in alternating rounds, `seconds` in all for each."""
    a, b = alternate_all([first, second], threads=threads, seconds=seconds, rounds=rounds)
    return a, b


def alternate_all(
    workers: Sequence[Worker], *, threads: int, seconds: float, rounds: int = ROUNDS
) -> list[Rate]:
    """Measure several workers in alternating rounds (in order), `seconds` in all for each."""
    rates = [Rate(0, 0.0) for _ in workers]
    for _ in range(rounds):
        for i, worker in enumerate(workers):
            rates[i] += run_threads(worker, threads=threads, seconds=seconds / rounds)
    return rates


def report(
    label: str,
    figure: Rate,
    floor: Rate,
    *,
    unit: str,
    target: float | None,
    floor_label: str = "floor",
    target_label: str = "target",
    floor_unit: str = "ops",
    others: Sequence[tuple[str, Rate, str]] = (),
) -> None:
    """Print `label: N unit/s | floor F ops/s | ratio R | gap G ms`, the CPU, and any target.

    The gap is the wall time one more operation of the figure costs over one of the floor.
    `floor_label` names what the figure is measured against (`floor` unless the script
    compares with something else), `floor_unit` what the reference counts (`ops`), and
    `target_label` how the target reads (`target 0.50`). `others` are more references, each
    (label, rate, unit), printed after it with their ratios: `| label F unit/s | ratio R`.
    When both rates were timed by `run_threads`, the line ends with this process's CPU per
    operation, the kernel's share of it, and the cores it kept busy, figure/floor:
    `| cpu 0.68/0.07 ms per op (kernel 0.20/0.04) on 0.86/0.43 cores`. The kernel's share
    is writing and syncing files and talking to sockets; the rest is Python and the drivers.
    One process's threads share one interpreter lock, so a figure near 1 core is bound by
    Python.
    """
    ratio = figure.per_s / floor.per_s if floor.per_s else 0.0
    gap_ms = (1 / figure.per_s - 1 / floor.per_s) * 1000 if ratio else 0.0
    line = (
        f"{label}: {figure.per_s:,.0f} {unit}/s | {floor_label} {floor.per_s:,.0f} {floor_unit}/s"
        f" | ratio {ratio:.2f} | gap {gap_ms:+.2f} ms"
    )
    for other_label, other, other_unit in others:
        other_ratio = figure.per_s / other.per_s if other.per_s else 0.0
        line += f" | {other_label} {other.per_s:,.0f} {other_unit}/s | ratio {other_ratio:.2f}"
    if figure.cpu_s and floor.cpu_s:
        line += (
            f" | cpu {figure.cpu_ms:.3f}/{floor.cpu_ms:.3f} ms per op"
            f" (kernel {figure.sys_ms:.3f}/{floor.sys_ms:.3f})"
            f" on {figure.cpu_s / figure.seconds:.2f}/{floor.cpu_s / floor.seconds:.2f} cores"
        )
    if target is not None:
        line += f" | {target_label} {target:.2f} {'met' if ratio >= target else 'MISSED'}"
    print(line, flush=True)


def note(text: str) -> None:
    """Print a comment line (setup steps, how a ledger was seeded, durations)."""
    print(f"# {text}", flush=True)


# The floor: a minimal correct charge, written by hand with the same driver


class Floor:
    """A two-table ledger (accounts, entries) in its own database, charged by hand.

    SQLite: the stdlib sqlite3 driver with the engine's pragmas (WAL, synchronous=FULL,
    foreign keys, busy timeout), `BEGIN IMMEDIATE`, and threads queued on one process lock
    as the engine's do. PostgreSQL: psycopg 3 directly, one connection per thread,
    synchronous_commit=on, READ COMMITTED. The charge is one transaction: a conditional
    UPDATE of the account row (the balance may not go below zero) and one INSERT of an entry.
    """

    def __init__(self, backend: Backend, url: str, *, accounts: int) -> None:
        self.backend = backend
        self.url = url
        self._lock = threading.Lock()
        with self._connect() as conn:
            _create_floor_schema(conn, backend, accounts)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection | psycopg.Connection]:
        return floor_connection(self.backend, self.url)

    def once(self) -> None:
        """One charge of the first account, on a connection of its own."""
        with self._connect() as conn:
            if isinstance(conn, sqlite3.Connection):
                _sqlite_floor_charge(conn, 1, 1)
            else:
                _pg_floor_charge(conn, 1, 1)

    def worker(self, *, threads: int, accounts: int) -> Worker:
        """Threads that charge 1 unit per operation, spread as `pick` says."""

        @contextmanager
        def open_(index: int) -> Iterator[Op]:
            with self._connect() as conn:

                def op(iteration: int) -> None:
                    account = pick(index, iteration, threads=threads, accounts=accounts) + 1
                    if isinstance(conn, sqlite3.Connection):
                        with self._lock:
                            _sqlite_floor_charge(conn, account, 1)
                    else:
                        _pg_floor_charge(conn, account, 1)

                yield op

        return open_


_FLOOR_UPDATE = (
    "UPDATE floor_accounts SET balance = balance - {p} WHERE id = {p} AND balance >= {p}"
    " RETURNING balance"
)
_FLOOR_INSERT = (
    "INSERT INTO floor_entries (account_id, amount, balance_after, created_at)"
    " VALUES ({p}, {p}, {p}, {p})"
)
_SQLITE_UPDATE = _FLOOR_UPDATE.format(p="?")
_SQLITE_INSERT = _FLOOR_INSERT.format(p="?")
_PG_UPDATE = _FLOOR_UPDATE.format(p="%s")
_PG_INSERT = _FLOOR_INSERT.format(p="%s")


def floor_connection(
    backend: Backend, url: str
) -> AbstractContextManager[sqlite3.Connection | psycopg.Connection]:
    """A connection of the floor's own driver and settings (stdlib sqlite3, or psycopg 3).

    Any database will do: the floor's, or an engine's when a script reads it by hand.
    """
    if backend == "sqlite":
        return _sqlite_floor_connection(sqlite_path(url))
    return _pg_floor_connection(url)


@contextmanager
def _sqlite_floor_connection(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        yield conn
    finally:
        conn.close()


@contextmanager
def _pg_floor_connection(url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(url, options="-c synchronous_commit=on -c timezone=UTC") as conn:
        yield conn


def _sqlite_floor_charge(conn: sqlite3.Connection, account: int, units: int) -> None:
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(_SQLITE_UPDATE, (units, account, units)).fetchone()
        assert row is not None, "the floor's accounts never run out"
        conn.execute(_SQLITE_INSERT, (account, -units, row[0], now))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _pg_floor_charge(conn: psycopg.Connection, account: int, units: int) -> None:
    with conn.transaction():
        row = conn.execute(_PG_UPDATE, (units, account, units)).fetchone()
        assert row is not None, "the floor's accounts never run out"
        conn.execute(_PG_INSERT, (account, -units, row[0], datetime.now(UTC)))


def _create_floor_schema(
    conn: sqlite3.Connection | psycopg.Connection, backend: Backend, accounts: int
) -> None:
    serial = "INTEGER PRIMARY KEY" if backend == "sqlite" else "BIGSERIAL PRIMARY KEY"
    stamp = "TEXT" if backend == "sqlite" else "TIMESTAMPTZ"
    statements = [
        "CREATE TABLE floor_accounts (id BIGINT PRIMARY KEY,"
        " balance BIGINT NOT NULL CHECK (balance >= 0))",
        f"CREATE TABLE floor_entries (id {serial},"
        " account_id BIGINT NOT NULL REFERENCES floor_accounts (id),"
        f" amount BIGINT NOT NULL, balance_after BIGINT NOT NULL, created_at {stamp} NOT NULL)",
    ]
    rows = [(i + 1, GRANT_CREDITS * 1000) for i in range(accounts)]
    if isinstance(conn, sqlite3.Connection):
        for statement in statements:
            conn.execute(statement)
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO floor_accounts VALUES (?, ?)", rows)
        conn.execute("COMMIT")
        return
    with conn.transaction():
        for statement in statements:
            conn.execute(statement)
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO floor_accounts VALUES (%s, %s)", rows)


def pg_settings() -> str:
    """The PostgreSQL server's durability settings, for the record."""
    names = ("synchronous_commit", "fsync", "wal_sync_method", "shared_buffers")
    values: list[str] = []
    try:
        with psycopg.connect(PG_ADMIN_URL) as conn:
            for name in names:
                row = conn.execute(f"SHOW {name}").fetchone()
                values.append(f"{name}={'?' if row is None else row[0]}")
    except psycopg.Error:
        return "unreachable"
    return " ".join(values)


# The suite shared by charge.py and hold_settle.py

MANY_ACCOUNTS = 1000
"""Accounts in the "many" case, shared out among the threads so that none share one."""

EngineOp = Callable[[Engine, str], None]
"""One benchmarked operation through the public API, on the account with this app id."""


def engine_worker(engine: Engine, names: Sequence[str], op: EngineOp, *, threads: int) -> Worker:
    """Threads that run `op` on the accounts `pick` assigns them."""
    count = len(names)

    def run(index: int) -> AbstractContextManager[Op]:
        def one(iteration: int) -> None:
            op(engine, names[pick(index, iteration, threads=threads, accounts=count)])

        return nullcontext(one)

    return run


WAL_SAMPLE_OPS = 40
"""Operations per WAL count: few enough that no automatic checkpoint restarts the log."""


def wal_pages(url: str, op: Callable[[], None]) -> float:
    """The pages one operation writes to a SQLite file's WAL: its commit's share of the fsync.

    The log is emptied by a checkpoint first; `PRAGMA wal_checkpoint` then reports the
    frames (pages) the operations appended.
    """
    with floor_connection("sqlite", url) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        for _ in range(WAL_SAMPLE_OPS):
            op()
        row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert row is not None
    return float(row[1]) / WAL_SAMPLE_OPS


def is_targeted(backend: Backend, threads: int) -> bool:
    """Where the 0.5 target applies: SQLite with 1 thread, PostgreSQL with 8."""
    return (backend, threads) in {("sqlite", 1), ("postgresql", 8)}


def suite(args: argparse.Namespace, *, label: str, unit: str, op: EngineOp) -> None:
    """For each backend, thread count, and many or one hot account: `op` against the floor."""
    with scratch_dir(args.dir) as directory:
        for backend in backends(args.backend):
            slug = label.replace("+", "_")
            with (
                scratch_database(backend, f"{slug}_engine", directory) as url,
                scratch_database(backend, f"{slug}_floor", directory) as floor_url,
            ):
                _suite_on(args, backend, url, floor_url, label=label, unit=unit, op=op)


def _suite_on(
    args: argparse.Namespace,
    backend: Backend,
    url: str,
    floor_url: str,
    *,
    label: str,
    unit: str,
    op: EngineOp,
) -> None:
    started = time.perf_counter()
    engine = open_engine(url, pool_size=max(args.threads))
    try:
        names = make_accounts(engine, MANY_ACCOUNTS)
        floor = Floor(backend, floor_url, accounts=MANY_ACCOUNTS)
        note(
            f"{backend}: {MANY_ACCOUNTS} accounts made through the public API"
            f" in {time.perf_counter() - started:.1f} s"
        )
        for threads in args.threads:
            for mode, count in (("many", MANY_ACCOUNTS), ("hot", 1)):
                figure, base = alternate(
                    engine_worker(engine, names[:count], op, threads=threads),
                    floor.worker(threads=threads, accounts=count),
                    threads=threads,
                    seconds=args.seconds,
                )
                target = 0.5 if is_targeted(backend, threads) else None
                report(
                    f"{label} {backend} threads={threads} accounts={mode}",
                    figure,
                    base,
                    unit=unit,
                    target=target,
                )
        if backend == "sqlite":
            pages = wal_pages(url, lambda: op(engine, names[0]))
            floor_pages = wal_pages(floor_url, floor.once)
            note(
                f"sqlite: pages written to the WAL: {pages:.1f} per {label} by the engine,"
                f" {floor_pages:.1f} per charge by the floor (each commit syncs its pages)"
            )
        checked = engine.verify()
        assert checked.is_clean, f"verify found problems: {checked.problems[:3]}"
        note(f"{backend}: verify clean after the run ({checked.entries:,} entries)")
    finally:
        engine.close()
