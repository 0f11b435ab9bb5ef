"""Guest windows and sessions in the database: the quota's keeper when there is no Redis.

A window is one row per counter, locked for the use: on PostgreSQL the rows are created
if absent and then locked `FOR UPDATE` in key order (so two uses sharing counters queue,
and never deadlock); on SQLite the write transaction's `BEGIN IMMEDIATE` already admits one
writer. Each use is stored as `[instant_ms, use_id]`, so a retried use is recognised by
its id while it is in the window.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from creditgate.domain.guests import GuestSession
from creditgate.domain.ids import AccountId
from creditgate.storage.dialects import insert_if_absent
from creditgate.storage.tables import accounts, guest_sessions, guest_windows

Uses = list[tuple[int, str]]
"""A window's uses: (instant in ms, use id), oldest first."""


def lock_windows(conn: Connection, keys: Sequence[str], now: datetime) -> dict[str, Uses]:
    """The uses of each counter, its row created if absent and locked, in key order."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    absent = [{"key": key, "uses": [], "expires_at": now} for key in sorted(keys)]
    conn.execute(dialect.insert(guest_windows).values(absent).on_conflict_do_nothing())
    rows = conn.execute(
        select(guest_windows.c.key, guest_windows.c.uses)
        .where(guest_windows.c.key.in_(sorted(keys)))
        .order_by(guest_windows.c.key)
        .with_for_update()
    ).all()
    return {row.key: [(int(t), str(u)) for t, u in row.uses] for row in rows}


def read_windows(conn: Connection, keys: Sequence[str]) -> dict[str, Uses]:
    """The uses of each counter that has any (a look, without a lock)."""
    rows = conn.execute(
        select(guest_windows.c.key, guest_windows.c.uses).where(guest_windows.c.key.in_(keys))
    ).all()
    return {row.key: [(int(t), str(u)) for t, u in row.uses] for row in rows}


def save_windows(conn: Connection, windows: Mapping[str, tuple[Uses, datetime]]) -> None:
    """Write each counter's uses and the instant its last use leaves the window."""
    for key, (uses, expires_at) in windows.items():
        conn.execute(
            update(guest_windows)
            .where(guest_windows.c.key == key)
            .values(uses=[[t, u] for t, u in uses], expires_at=expires_at)
        )


def prune_windows(conn: Connection, now: datetime) -> int:
    """Delete the windows whose every use has left them; how many were deleted."""
    result = conn.execute(
        delete(guest_windows)
        .where(guest_windows.c.expires_at <= now)
        .returning(guest_windows.c.key)
    )
    return len(result.all())


def note_session(conn: Connection, session_id: str, now: datetime) -> None:
    """Record a guest session the first time it is seen (once: later calls change nothing)."""
    insert_if_absent(conn, guest_sessions, {"session_id": session_id, "first_seen_at": now})


def find_session(conn: Connection, session_id: str, *, lock: bool = False) -> GuestSession | None:
    """A guest session by the app's id, with the account it was linked to."""
    stmt: Any = (
        select(guest_sessions, accounts.c.external_id)
        .outerjoin(accounts, accounts.c.id == guest_sessions.c.account_id)
        .where(guest_sessions.c.session_id == session_id)
    )
    if lock:
        stmt = stmt.with_for_update(of=guest_sessions)
    row = conn.execute(stmt).one_or_none()
    if row is None:
        return None
    return GuestSession(
        session_id=row.session_id,
        first_seen_at=row.first_seen_at,
        account_id=None if row.external_id is None else AccountId(row.external_id),
        linked_at=row.linked_at,
    )


def link_session(conn: Connection, session_id: str, account_pk: int, now: datetime) -> None:
    """Link a guest session to the account its guest signed up as."""
    conn.execute(
        update(guest_sessions)
        .where(guest_sessions.c.session_id == session_id)
        .values(account_id=account_pk, linked_at=now)
    )
