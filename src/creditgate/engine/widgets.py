"""The widget keys as this engine knows them: read from the database at most every few seconds.

Every widget call checks a token, so the live keys are cached per engine. A token that names
a key the cache has not seen makes it read again at once (another worker may have made the
key); a retirement by another worker is seen within `ttl_s`, and at once on this one.
"""

import secrets
import threading
import time

from creditgate.engine.clock import Clock
from creditgate.storage import widget_keys as rows
from creditgate.storage.database import Database

SECRET_BYTES = 32
"""Bytes of randomness in a signing key: HMAC-SHA256's own block of strength."""


class KeyRing:
    """The live widget keys by id, and the one new tokens are signed with (the newest)."""

    def __init__(self, ttl_s: float = 5.0) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._keys: dict[int, bytes] = {}

    def keys(self, db: Database, *, wanted: int | None = None) -> dict[int, bytes]:
        """The live keys; read again when stale, or when `wanted` is not among them."""
        at = time.monotonic()
        with self._lock:
            fresh = self._read_at is not None and at - self._read_at < self.ttl_s
            if fresh and (wanted is None or wanted in self._keys):
                return self._keys
        with db.read() as conn:
            keys = rows.live_keys(conn)
        with self._lock:
            self._read_at, self._keys = at, keys
        return keys

    def signing_key(self, db: Database, clock: Clock) -> tuple[int, bytes]:
        """The newest live key, made first when there is none."""
        keys = self.keys(db)
        if not keys:
            with db.write() as conn:
                keys = rows.live_keys(conn)
                if not keys:
                    secret = secrets.token_bytes(SECRET_BYTES)
                    keys = {rows.insert_key(conn, secret=secret, now=clock.now()): secret}
            self.clear()
        newest = max(keys)
        return newest, keys[newest]

    def clear(self) -> None:
        """Forget the keys: the next call reads them."""
        with self._lock:
            self._read_at = None
