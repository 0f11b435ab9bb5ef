"""Console sessions: a random id in an HTTP-only cookie, mapped in memory to an admin key.

The cookie holds only the id (256 random bits), never the API key: a stolen cookie dies
at sign-out or expiry, and the key's secret never reaches the browser's storage. Sessions
live in the worker that made them, so a deployment with several workers needs sticky
routing for the console (the API itself stays stateless).
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

SESSION_TTL = timedelta(hours=8)
"""How long a sign-in lasts."""
SESSIONS_MAX = 10_000
"""Sessions kept per worker; the oldest go first beyond it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """One signed-in admin: which key, the form token, and when it ends."""

    key_id: int
    key_prefix: str
    csrf: str
    expires_at: datetime

    def is_csrf(self, token: str | None) -> bool:
        """Whether a form's token is this session's, compared in constant time."""
        return token is not None and hmac.compare_digest(token, self.csrf)


class Sessions:
    """The worker's live sessions, found by the cookie's id."""

    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}

    def open(self, *, key_id: int, key_prefix: str, now: datetime) -> tuple[str, Session]:
        """A new session for a key: its cookie id and the session."""
        while len(self._by_id) >= SESSIONS_MAX:
            self._by_id.pop(next(iter(self._by_id)))
        session_id = secrets.token_urlsafe(32)
        session = Session(
            key_id=key_id,
            key_prefix=key_prefix,
            csrf=secrets.token_urlsafe(32),
            expires_at=now + SESSION_TTL,
        )
        self._by_id[session_id] = session
        return session_id, session

    def find(self, session_id: str | None, now: datetime) -> Session | None:
        """The live session with this id, or None (an expired one is dropped)."""
        if session_id is None:
            return None
        session = self._by_id.get(session_id)
        if session is None:
            return None
        if session.expires_at <= now:
            del self._by_id[session_id]
            return None
        return session

    def close(self, session_id: str | None) -> None:
        """End a session; ending one that is gone is harmless."""
        if session_id is not None:
            self._by_id.pop(session_id, None)
