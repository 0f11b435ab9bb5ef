"""The guests' half of the `Engine`: quotas for people who have not signed up.

A mixin, like the plans', so `Engine` stays one object with one vocabulary. The quotas
are the catalog's (`[[guests]]`); the counts are kept by the engine's `GuestCounter` (the
database, or Redis when the service is given one). A store that cannot answer refuses the
guest with `Unavailable`: a guest never goes uncounted.
"""

import math
import uuid

from creditgate.domain.accounts import check_account_id
from creditgate.domain.errors import (
    AccountNotFound,
    GuestLinked,
    GuestQuotaExceeded,
    GuestsNotAllowed,
)
from creditgate.domain.guests import (
    Counter,
    GuestAllowance,
    GuestQuota,
    GuestSession,
    Verdict,
    check_session_id,
    counters,
    from_ms,
    judge,
    network_of,
    quotas_for,
    to_ms,
)
from creditgate.domain.inputs import check_key
from creditgate.domain.pricing import check_feature_key
from creditgate.engine.books import transaction
from creditgate.engine.clock import Clock
from creditgate.engine.guests import GuestCounter, QuotaCache, is_first_use
from creditgate.storage import guests as rows
from creditgate.storage.accounts import find_account
from creditgate.storage.database import Database


def _allowance(verdict: Verdict) -> GuestAllowance:
    reset = verdict.reset_at_ms
    return GuestAllowance(
        limit=verdict.limit,
        remaining=verdict.remaining,
        reset_at=None if reset is None else from_ms(reset),
    )


class GuestVerbs:
    """Guest quotas (mixed into `Engine`)."""

    db: Database
    clock: Clock
    guest_counter: GuestCounter
    guest_quota_cache: QuotaCache

    def _counters(self, session_id: object, ip: object, feature: object) -> tuple[Counter, ...]:
        sid = check_session_id(session_id)
        network = network_of(ip)
        key = None if feature is None else check_feature_key(feature)
        quotas = quotas_for(self.guest_quota_cache.get(self.db), key)
        if not quotas:
            raise GuestsNotAllowed(feature=key)
        return counters(quotas, sid, network)

    def consume_guest(
        self,
        session_id: str,
        ip: str,
        *,
        feature: str | None = None,
        idempotency_key: str | None = None,
    ) -> GuestAllowance:
        """Count one use by a guest (by session and by network), or refuse it.

        `feature` names what the guest uses: its own quota counts, and so does the
        every-feature quota. A retry with the same `idempotency_key` while the first use is
        in its window counts nothing again and answers what is left now.

        Raises:
            InvalidInput: a bad session id, address, feature or key.
            GuestsNotAllowed: no quota covers the feature.
            GuestQuotaExceeded: a window is full; it says when the guest may go again.
            Unavailable: the counts' store (Redis) cannot answer.
        """
        counted = self._counters(session_id, ip, feature)
        sid = check_session_id(session_id)
        use_id = check_key(idempotency_key) or uuid.uuid4().hex
        now_ms = to_ms(self.clock.now())
        taken = self.guest_counter.take(counted, now_ms, use_id, sid)
        pairs = list(zip(counted, taken.windows, strict=True))
        verdict = judge(pairs, now_ms, taking=not taken.replayed)
        if not verdict.allowed:
            assert verdict.reset_at_ms is not None
            raise GuestQuotaExceeded(
                limit=verdict.limit,
                retry_after_s=math.ceil(verdict.retry_after_ms / 1000),
                reset_at=from_ms(verdict.reset_at_ms),
            )
        if not taken.session_noted and is_first_use(counted, taken):
            # The session's first use in its window: remember the session once, for the
            # guest-to-sign-up conversion (later sightings change nothing).
            with self.db.write() as conn:
                rows.note_session(conn, sid, from_ms(now_ms))
        return _allowance(verdict)

    def guest_status(
        self, session_id: str, ip: str, *, feature: str | None = None
    ) -> GuestAllowance:
        """What a guest may still do, counting nothing.

        Raises:
            InvalidInput: a bad session id, address or feature.
            GuestsNotAllowed: no quota covers the feature.
            Unavailable: the counts' store (Redis) cannot answer.
        """
        counted = self._counters(session_id, ip, feature)
        now_ms = to_ms(self.clock.now())
        windows = self.guest_counter.look(counted, now_ms)
        return _allowance(judge(list(zip(counted, windows, strict=True)), now_ms, taking=False))

    def guest_quotas(self) -> tuple[GuestQuota, ...]:
        """The guest quotas in force: every feature's first, then each feature's own."""
        self.guest_quota_cache.clear()
        return self.guest_quota_cache.get(self.db)

    def link_guest(self, session_id: str, account_id: str) -> GuestSession:
        """Link a guest's session to the account the guest signed up as (once).

        Linking again to the same account changes nothing; a session never seen is
        recorded now and linked.

        Raises:
            InvalidInput: a bad session or account id.
            AccountNotFound: no account has this id.
            GuestLinked: the session is linked to another account.
        """
        sid = check_session_id(session_id)
        checked = check_account_id(account_id)
        with transaction(self.db, self.clock) as books:
            account = find_account(books.conn, checked)
            if account is None:
                raise AccountNotFound(checked)
            rows.note_session(books.conn, sid, books.now)
            session = rows.find_session(books.conn, sid, lock=True)
            assert session is not None
            if session.account_id is None:
                rows.link_session(books.conn, sid, account.pk, books.now)
            elif session.account_id != checked:
                raise GuestLinked(session_id=sid)
            found = rows.find_session(books.conn, sid)
            assert found is not None
            return found

    def get_guest_session(self, session_id: str) -> GuestSession | None:
        """A guest session as first seen and linked, or None when never seen."""
        sid = check_session_id(session_id)
        with self.db.read() as conn:
            return rows.find_session(conn, sid)

    def prune_guest_windows(self) -> int:
        """Delete the database's guest windows that hold no live use; how many went."""
        with transaction(self.db, self.clock) as books:
            return rows.prune_windows(books.conn, books.now)
