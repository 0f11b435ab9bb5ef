"""Who keeps guest counts: the `GuestCounter` protocol, and the database's counter.

The rule lives in the domain (`creditgate.domain.guests`); a counter only has to read the
live windows of a use's counters and record the use on all of them, in one atomic step,
exactly when every one is below its limit and the use id is new. The database keeps them
when no Redis is configured (embedded mode, a single service); Redis keeps them in
`creditgate.integrations.redis_quota` when one is.
"""

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from creditgate.domain.guests import Counter, GuestQuota, Window, admits, from_ms, live
from creditgate.engine import catalog
from creditgate.storage import guests as rows
from creditgate.storage.database import Database


@dataclass(frozen=True, slots=True)
class Taken:
    """What a counter found and did.

    Each counter's window before the use, and whether the use id was already there (a
    retry) or the use was recorded now.
    """

    windows: tuple[Window, ...]
    replayed: bool
    recorded: bool
    session_noted: bool = False
    """Whether the counter recorded the session's first sighting itself (in its own
    transaction); if not, and this was the session's first use, the engine records it."""


def is_first_use(counters: Sequence[Counter], taken: Taken) -> bool:
    """Whether a recorded use was its session's first in every window it counts in."""
    pairs = zip(counters, taken.windows, strict=True)
    return taken.recorded and all(w.count == 0 for c, w in pairs if c.by_session)


class GuestCounter(Protocol):
    """Keeps guest counts; both methods raise `Unavailable` when the store cannot answer."""

    def take(self, counters: Sequence[Counter], now_ms: int, use_id: str, session_id: str) -> Taken:
        """Record a use on every counter if all are below their limits and `use_id` is new.

        `session_id` is the guest's: a counter that writes the database may record the
        session's first sighting in the same transaction (`Taken.session_noted`).
        """
        ...

    def look(self, counters: Sequence[Counter], now_ms: int) -> tuple[Window, ...]:
        """Each counter's live window, recording nothing."""
        ...


class DatabaseCounter:
    """Guest counts in the database: one locked row per counter, one transaction per use."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def take(self, counters: Sequence[Counter], now_ms: int, use_id: str, session_id: str) -> Taken:
        """See `GuestCounter.take`; the session's first sighting is written with the use."""
        now = from_ms(now_ms)
        with self.db.write() as conn:
            stored = rows.lock_windows(conn, [c.key for c in counters], now)
            kept = {
                c.key: [(t, u) for t, u in stored[c.key] if t > now_ms - c.window_ms]
                for c in counters
            }
            windows = tuple(live([t for t, _ in kept[c.key]], c, now_ms) for c in counters)
            replayed = any(u == use_id for uses in kept.values() for _, u in uses)
            recorded = not replayed and admits(list(zip(counters, windows, strict=True)))
            if recorded:
                for uses in kept.values():
                    uses.append((now_ms, use_id))
            # A window changes when a use is recorded or an old one has left it; a refusal
            # that trimmed nothing writes nothing.
            changed = {
                c.key: (kept[c.key], from_ms(max(t for t, _ in kept[c.key]) + c.window_ms))
                for c in counters
                if kept[c.key] and (recorded or len(kept[c.key]) != len(stored[c.key]))
            }
            rows.save_windows(conn, changed)
            taken = Taken(windows, replayed, recorded, session_noted=True)
            if is_first_use(counters, taken):
                rows.note_session(conn, session_id, now)
        return taken

    def look(self, counters: Sequence[Counter], now_ms: int) -> tuple[Window, ...]:
        """See `GuestCounter.look`."""
        with self.db.read() as conn:
            stored = rows.read_windows(conn, [c.key for c in counters])
        return tuple(live([t for t, _ in stored.get(c.key, [])], c, now_ms) for c in counters)


class QuotaCache:
    """The catalog's guest quotas, read at most once a second per engine.

    A guest call must not pay a database read where Redis counts it: quotas change
    rarely, so another worker's change shows here within `ttl_s`, and this engine's own
    catalog writes show at once (they clear the cache).
    """

    def __init__(self, ttl_s: float = 1.0) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._quotas: tuple[GuestQuota, ...] = ()

    def get(self, db: Database) -> tuple[GuestQuota, ...]:
        """The quotas, read again when the last read is older than `ttl_s`."""
        at = time.monotonic()
        with self._lock:
            if self._read_at is not None and at - self._read_at < self.ttl_s:
                return self._quotas
        with db.read() as conn:
            quotas = catalog.guest_quotas(conn)
        with self._lock:
            self._read_at, self._quotas = at, quotas
        return quotas

    def clear(self) -> None:
        """Forget the quotas: the next call reads them."""
        with self._lock:
            self._read_at = None
