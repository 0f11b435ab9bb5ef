"""Shared settings the write path consults, cached per catalog revision.

Every write transaction may need two shared things besides prices: the catalog's default
low-balance line (to move an account's alert level) and which webhook endpoints listen to
which events (to know whether an event is worth writing). Both change rarely, and every
change of either renews the catalog's revision, which each write already reads with its
account's row. So a value cached under a revision is right for as long as the row says
that revision: the write path asks the database nothing more.
"""

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")


class RevisionCache:
    """Values loaded from shared tables, kept under the catalog revision they were read at."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revision: str | None = None
        self._values: dict[str, Any] = {}

    def get(
        self, conn: Connection, revision: str | None, name: str, load: Callable[[Connection], T]
    ) -> T:
        """The value `name` as of `revision` (the one read with the account), loaded once.

        What is loaded after the revision was read is at least as new as it, so it is never
        older than that revision's settings (as in `PriceCache`).
        """
        with self._lock:
            if revision != self._revision:
                self._revision, self._values = revision, {}
            elif name in self._values:
                found: T = self._values[name]
                return found
        value = load(conn)
        with self._lock:
            if revision == self._revision:
                self._values[name] = value
        return value
