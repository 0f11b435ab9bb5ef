"""Shared fixtures: real databases (SQLite file and PostgreSQL), a manual clock, an engine.

Each test gets an empty, migrated database: on SQLite a copy of a template file made once
per session; on PostgreSQL one database per session, emptied before each test (cloning a
database per test cost more than the tests). PostgreSQL tests skip
with a reason when no server answers, and fail instead when CI=true.
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from creditgate import Engine, ManualClock
from creditgate.integrations.redis_quota import RedisCounter
from creditgate.storage import migrate
from creditgate.storage.database import Database
from creditgate.storage.tables import LEDGER_TABLES, metadata

hypothesis_settings.register_profile("dev", max_examples=50, deadline=None)
# CI runs three times the examples of a local run, the same ones every time; a longer hunt
# is `HYPOTHESIS_PROFILE=hunt` (1,000 examples, new ones each run).
hypothesis_settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True)
hypothesis_settings.register_profile("hunt", max_examples=1000, deadline=None)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")
)

REDIS_URL = os.environ.get("CREDITGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_ADMIN_URL = os.environ.get(
    "CREDITGATE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI") == "true"
BACKENDS = ["sqlite", "postgresql"]
KEPT_TABLES = {"creditgate_meta"}
START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {type(exc).__name__}"
    return None


def _pg_url(database: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that each test's database is cloned from."""
    problem = _pg_reachable()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"{problem} (CI=true: PostgreSQL tests must run)")
        pytest.skip(problem)
    name = f"cg_tpl_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(_pg_url(name))
    migrate.upgrade(db)
    db.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test's database is copied from."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(str(path))
    migrate.upgrade(db)
    db.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


def _fresh_sqlite(template: Path, tmp_path: Path) -> str:
    path = tmp_path / "creditgate.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def pg_database(pg_template: str) -> Iterator[str]:
    """One PostgreSQL database for the session, emptied before each test that uses it."""
    name = f"cg_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_pg(url: str) -> None:
    """Empty every table but the schema's own records, and restore the ledger's triggers.

    TRUNCATE runs with triggers off for this session only: the append-only triggers refuse
    it, as they should for anyone else. A test that disabled them gets them back here.
    """
    tables = ", ".join(t.name for t in metadata.sorted_tables if t.name not in KEPT_TABLES)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '30s'"))
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))
        for table in LEDGER_TABLES:
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database for this test, on each backend."""
    if request.param == "sqlite":
        return _fresh_sqlite(request.getfixturevalue("sqlite_template"), tmp_path)
    url = _pg_url(request.getfixturevalue("pg_database"))
    _empty_pg(url)
    return url


@pytest.fixture
def backend(db_url: str) -> str:
    """ "sqlite" or "postgresql": the backend of this test's database."""
    return "sqlite" if db_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when the test says so."""
    return ManualClock(START)


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """The test's database, disposed after the test."""
    db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def engine(database: Database, clock: ManualClock) -> Engine:
    """An engine on the test's database, driven by the manual clock."""
    return Engine(database, clock=clock, upgrade=False)


def _redis_problem() -> str | None:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"Redis at {REDIS_URL} is not reachable: {type(exc).__name__}"
    finally:
        client.close()
    return None


@pytest.fixture
def redis_counter() -> Iterator[RedisCounter]:
    """Guest counts in the Redis of the tests, under keys of this test's own, deleted after.

    Skips with a reason when no Redis answers, and fails instead when CI=true.
    """
    problem = _redis_problem()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"{problem} (CI=true: Redis tests must run)")
        pytest.skip(problem)
    prefix = f"cgtest:{uuid.uuid4().hex[:12]}:"
    counter = RedisCounter.from_url(REDIS_URL, prefix=prefix)
    yield counter
    keys = list(counter.client.scan_iter(match=f"{prefix}*"))
    if keys:
        counter.client.delete(*keys)
    counter.close()
