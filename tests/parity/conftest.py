"""Two faces, two fresh databases: the embedded engine, and the client over a live service.

The embedded `Engine` runs on the test's database; the service runs (uvicorn, loopback) on
a second, equally fresh one. Both engines read the test's one manual clock, so the same
calls made in the same order number their rows alike and stamp them alike: results and
errors compare with `==`.

`Faces.arrange` sets the same state up on both databases straight through each engine
(for steps that are not what the test is about); `Faces.each` acts through the embedded
engine and then through the client, and answers both outcomes: a result or the domain
error raised.
"""

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, text

from creditgate import Client, CreditgateError, Engine, Ledger, ManualClock
from creditgate.app import create_app
from creditgate.settings import Settings
from creditgate.storage.database import Database
from creditgate.storage.tables import metadata
from tests.conftest import BACKENDS, KEPT_TABLES, PG_ADMIN_URL, _fresh_sqlite, _pg_url
from tests.servers import live

T = TypeVar("T")

ON_SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
"""For tests of the client's own mechanics: errors and their problem bodies, the wire's
checks, retries, the event loop. What the database does in them is what the integration
tests already prove on both backends, so one backend is enough; results that carry rows
(entries, holds, pages, figures) are compared on both."""


def outcome(act: Callable[[Ledger], T], ledger: Ledger) -> T | CreditgateError:
    """The result of `act` on `ledger`, or the domain error it raised."""
    try:
        return act(ledger)
    except CreditgateError as error:
        return error


@dataclass(frozen=True)
class Faces:
    """The embedded engine and the client, each over its own database, on one clock."""

    engine: Engine
    served: Engine
    """The engine behind the service: for arranging state and reading it back, never acting."""
    client: Client
    clock: ManualClock
    base_url: str
    api_key: str

    def arrange(self, step: Callable[[Engine], object]) -> None:
        """The same setup on both databases, straight through each engine."""
        step(self.engine)
        step(self.served)

    def each(self, act: Callable[[Ledger], T]) -> tuple[T | CreditgateError, T | CreditgateError]:
        """`act` through the embedded engine, then through the client: both outcomes."""
        return outcome(act, self.engine), outcome(act, self.client)

    def both(self, act: Callable[[Ledger], T]) -> tuple[T, T]:
        """`act` through each face, which must both succeed: both results."""
        return act(self.engine), act(self.client)


class PgDatabase:
    """A migrated PostgreSQL database for the whole run, emptied before each test that uses it.

    Emptied by DELETE with triggers off and sequences set back, not by TRUNCATE: on tables
    of a few rows this is several times faster (TRUNCATE makes new files for every table
    and index), and a parity test empties two databases.
    """

    def __init__(self, template: str, role: str) -> None:
        self.name = f"cg_{role}_{uuid.uuid4().hex[:12]}"
        self.url = _pg_url(self.name)
        self._admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}" TEMPLATE "{template}"'))
        self._engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://"))
        with self._engine.connect() as conn:
            found = conn.execute(text("SELECT schemaname || '.' || sequencename FROM pg_sequences"))
            self._sequences = [str(row[0]) for row in found]
        self._tables = [
            table for table in reversed(metadata.sorted_tables) if table.name not in KEPT_TABLES
        ]

    def empty(self) -> str:
        """Empty every table but the schema's own records; ids start again at 1."""
        with self._engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '30s'"))
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in self._tables:
                conn.execute(table.delete())
            for sequence in self._sequences:
                conn.execute(text("SELECT setval(:sequence, 1, false)"), {"sequence": sequence})
        return self.url

    def drop(self) -> None:
        """Drop the database."""
        self._engine.dispose()
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._admin.dispose()


@pytest.fixture(scope="session")
def pg_pair(pg_template: str) -> Iterator[dict[str, PgDatabase]]:
    """The embedded side's and the served side's PostgreSQL databases."""
    pair = {role: PgDatabase(pg_template, role) for role in ("embedded", "served")}
    yield pair
    for database in pair.values():
        database.drop()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The embedded side's empty, migrated database, on each backend."""
    if request.param == "sqlite":
        return _fresh_sqlite(request.getfixturevalue("sqlite_template"), tmp_path)
    pair: dict[str, PgDatabase] = request.getfixturevalue("pg_pair")
    return pair["embedded"].empty()


@pytest.fixture
def served_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """The served side's empty, migrated database, on the test's backend."""
    if backend == "sqlite":
        path = tmp_path / "served.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    pair: dict[str, PgDatabase] = request.getfixturevalue("pg_pair")
    return pair["served"].empty()


@pytest.fixture
def served(served_url: str, clock: ManualClock) -> Iterator[Engine]:
    """The engine behind the service, on the test's clock."""
    database = Database(served_url)
    yield Engine(database, clock=clock, upgrade=False)
    database.dispose()


API_KEY = "cg_0badc0ffee_parity-admin-key-of-every-served-database"
"""The service's admin key, stored in each test's served database: one client serves all."""


@pytest.fixture
def api_key(served: Engine) -> str:
    """An admin key of the service: the parity scenarios use every verb."""
    return served.create_key("admin", name="parity admin", text=API_KEY)[1]


@dataclass
class Service:
    """One live service for the whole run, pointed at each test's served engine in turn."""

    app: FastAPI
    url: str
    idle: Engine
    """The engine it serves between tests: an empty database nobody writes."""


@pytest.fixture(scope="session")
def service(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service, started once: starting and stopping uvicorn per test costs 0.4 s."""
    path = tmp_path_factory.mktemp("idle") / "idle.db"
    shutil.copyfile(sqlite_template, path)
    idle = Engine(f"sqlite:///{path}", upgrade=False)
    # The client runs on this machine: trusting it as a proxy lets a guest's address
    # travel in X-Forwarded-For, as from an app's back end.
    app = create_app(Settings(trusted_proxies=("127.0.0.1",)), engine=idle)
    with live(app) as url:
        yield Service(app=app, url=url, idle=idle)
    idle.close()


@pytest.fixture
def base_url(service: Service, served: Engine) -> Iterator[str]:
    """The live service, serving `served` for this test.

    `create_app(engine=...)` keeps its engine in `app.state.engine`, where every request
    finds it; pointing it at this test's engine is `create_app(engine=served)` without a
    new server.
    """
    service.app.state.engine = served
    yield service.url
    service.app.state.engine = service.idle


@pytest.fixture(scope="session")
def shared_client(service: Service) -> Iterator[Client]:
    """One client for the whole run (making one costs 50 ms): no retries, the admin key."""
    with Client(service.url, API_KEY, retries=0) as opened:
        yield opened


@pytest.fixture
def client(shared_client: Client, base_url: str, api_key: str) -> Client:
    """The client of the live service, once it serves this test's database."""
    return shared_client


@pytest.fixture
def faces(
    engine: Engine, served: Engine, client: Client, clock: ManualClock, base_url: str, api_key: str
) -> Faces:
    """The embedded engine and the client, side by side."""
    return Faces(
        engine=engine,
        served=served,
        client=client,
        clock=clock,
        base_url=base_url,
        api_key=api_key,
    )
