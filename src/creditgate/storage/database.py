"""The engine factory: each database's durability and locking settings, pinned here.

SQLite: WAL journal, `synchronous=FULL` unless configured otherwise (NORMAL survives a
process crash but not a power cut), foreign keys on, a busy timeout, and every write
transaction opened with `BEGIN IMMEDIATE`. The driver's own deferred BEGIN is disabled:
a deferred transaction that reads first and writes later cannot be saved by the busy
timeout and fails with "database is locked". Within one process, writers also queue on a
lock, so threads wait in order instead of polling the file lock.

PostgreSQL: psycopg 3 with a connection pool, `synchronous_commit=on`, READ COMMITTED;
writers of one account serialize on its row (`SELECT ... FOR UPDATE`).
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from creditgate.storage.catalog import PriceCache
from creditgate.storage.revision_cache import RevisionCache

SQLITE_BUSY_TIMEOUT_S = 30.0


class SqliteSync(StrEnum):
    """SQLite's `synchronous` setting: FULL survives power loss, NORMAL only process crashes."""

    FULL = "FULL"
    NORMAL = "NORMAL"


class Database:
    """One database, SQLite file or PostgreSQL server, with its transactions.

    `write()` is the unit of work of every use case; `read()` a consistent snapshot.
    """

    def __init__(
        self,
        url: str,
        *,
        sqlite_sync: SqliteSync = SqliteSync.FULL,
        pool_size: int = 10,
        echo: bool = False,
    ) -> None:
        self.url = make_url(_normalize(url))
        self.price_cache = PriceCache()
        """Price rows by catalog revision, for priced calls (see `storage.catalog`)."""
        self.revision_cache = RevisionCache()
        """The default alert line and the webhook listeners, by catalog revision."""
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.pool_size = pool_size
        """Connections kept open: a service runs at most this many database calls at once."""
        self._write_lock = threading.Lock() if self.is_sqlite else None
        if self.is_sqlite:
            self.engine = _sqlite_engine(
                self.url.render_as_string(False), sqlite_sync, echo, pool_size
            )
        else:
            self.engine = create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_recycle=1800,
                connect_args={"options": "-c synchronous_commit=on -c timezone=UTC"},
                echo=echo,
            )

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        if self._write_lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._write_lock, self._sqlite_transaction("BEGIN IMMEDIATE") as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot (a deferred transaction on SQLite: it takes no write lock)."""
        if self.is_sqlite:
            with self._sqlite_transaction("BEGIN") as conn:
                yield conn
            return
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _sqlite_transaction(self, begin: str) -> Iterator[Connection]:
        """Emit our own BEGIN: the driver runs in autocommit mode and never begins one itself.

        Sending it here, rather than from an engine "begin" event, keeps SQLAlchemy's
        per-statement event dispatch off the hot path.
        """
        with self.engine.connect() as conn:
            conn.exec_driver_sql(begin)
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def dispose(self) -> None:
        """Close every pooled connection (call before forking, and at exit)."""
        self.engine.dispose()


def _normalize(url: str) -> str:
    """Accept a bare file path or a PostgreSQL URL without a driver name."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_engine(url: str, sync: SqliteSync, echo: bool, pool_size: int) -> Engine:
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        pool_size=pool_size,
        max_overflow=pool_size,
        echo=echo,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: object) -> None:
        # Autocommit at the driver level: our "begin" hook below emits the BEGIN itself.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={sync.value}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    return engine
