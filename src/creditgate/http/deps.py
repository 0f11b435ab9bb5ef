"""What routes depend on: the engine, the calling key and its scope, the idempotency key.

The key comes in `Authorization: Bearer cg_…` (or `X-API-Key`). A key bound to one
account reaches only that account: any other answers 404, exactly as if it did not exist,
so guessing ids reveals nothing.
"""

import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from creditgate.domain.errors import (
    AccountNotFound,
    EntryNotFound,
    HoldNotFound,
    RateLimited,
    TokenExpired,
    Unauthenticated,
)
from creditgate.domain.guests import Network, client_ip
from creditgate.domain.ids import EntryId, HoldId
from creditgate.domain.keys import ApiKey, Scope
from creditgate.domain.rates import Bucket, take
from creditgate.domain.widgets import WidgetClaims
from creditgate.engine import Engine
from creditgate.engine.idempotency import noticing_replays

REPLAYED_HEADER = "Idempotent-Replayed"


async def engine(request: Request) -> Engine:
    """The app's engine.

    Dependencies that do no I/O are `async`: FastAPI runs a plain `def` dependency in a
    worker thread, and each such hop costs a call more than the work it wraps.
    """
    found: Engine = request.app.state.engine
    return found


Engines = Annotated[Engine, Depends(engine)]


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer cg_…`")
_header_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: cg_…`")


async def client_address(request: Request) -> str:
    """The calling client's address: the peer's, or what trusted proxies forwarded.

    `X-Forwarded-For` counts only when the peer is one of the configured trusted proxies;
    from anyone else it is ignored, so a client cannot name its own address. The key check
    and a guest route both depend on it; FastAPI works it out once per request.
    """
    peer = request.client.host if request.client is not None else ""
    proxies: tuple[Network, ...] = request.app.state.trusted_proxies
    return client_ip(peer, request.headers.getlist("x-forwarded-for"), proxies)


ClientAddress = Annotated[str, Depends(client_address)]


def _caller(
    request: Request,
    engine: Engines,
    address: ClientAddress,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_header_key)],
) -> ApiKey:
    text = bearer.credentials if bearer is not None else header_key
    if not text:
        raise Unauthenticated("an API key is required: 'Authorization: Bearer <key>'")
    guard: FailureGuard = request.app.state.auth_failures
    guard.check(address)
    try:
        key = engine.authenticate(text)
    except Unauthenticated:
        guard.failed(address)
        raise
    request.state.key_prefix = key.prefix
    limiter: KeyLimiter | None = request.app.state.limiter
    if limiter is not None:
        limiter.take(key.prefix)
    return key


_widget_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="WidgetToken",
    description="`Authorization: Bearer cgw.…`: a widget token the app's back end minted",
)


def _widget(
    request: Request,
    engine: Engines,
    address: ClientAddress,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_widget_bearer)],
) -> WidgetClaims:
    if bearer is None:
        raise Unauthenticated("a widget token is required: 'Authorization: Bearer <token>'")
    guard: FailureGuard = request.app.state.auth_failures
    guard.check(address)
    try:
        claims = engine.widget_claims(bearer.credentials)
    except TokenExpired:
        # A page left open past its token's life is not an attack: not counted.
        raise
    except Unauthenticated:
        guard.failed(address)
        raise
    limiter: KeyLimiter | None = request.app.state.limiter
    if limiter is not None:
        # A guest's tokens are minted freely, so a guest is limited by address instead.
        limiter.take(f"widget:{claims.account_id or address}")
    return claims


Widget = Annotated[WidgetClaims, Depends(_widget)]
"""The calling widget's token, checked: whose figures it reads, until when."""


class KeyLimiter:
    """Token buckets per API key, in this worker: each of N workers allows the rate.

    A guard against a runaway caller, not a quota: quotas that must hold across workers
    live in shared storage.
    """

    def __init__(self, *, rate_per_s: float, burst: int) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    def take(self, prefix: str) -> None:
        """Take one call from the key's bucket.

        Raises:
            RateLimited: the key's bucket is empty.
        """
        with self._lock:
            bucket, wait_s = take(
                self._buckets.get(prefix),
                now_s=time.monotonic(),
                rate_per_s=self.rate_per_s,
                burst=self.burst,
            )
            self._buckets[prefix] = bucket
        if wait_s is not None:
            raise RateLimited(limit_per_s=self.rate_per_s, retry_after_s=wait_s)


class FailureGuard:
    """Failed API-key attempts per client address, in this worker: past the burst, 429.

    Each failure takes a token from the address's bucket (`burst` tokens, earned back
    over `window_s`); an address with none left is refused before its key is even looked
    at, whatever the key. Other addresses, and their valid keys, are not slowed at all.
    Kept per worker, like the key limiter: a guard against guessing and noise, not a quota.
    """

    BUCKETS_MAX = 100_000
    """Addresses remembered at most; past it, those whose buckets have refilled are dropped."""

    def __init__(self, *, burst: int, window_s: int) -> None:
        self.burst = burst
        self.rate_per_s = burst / window_s
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        """Refuse an address that has used up its failed attempts.

        Raises:
            RateLimited: the address has no failed attempt left for now.
        """
        with self._lock:
            bucket = self._buckets.get(address)
            if bucket is None:
                return
            now_s = time.monotonic()
            _, wait_s = take(
                Bucket(tokens=bucket.tokens, at_s=bucket.at_s),
                now_s=now_s,
                rate_per_s=self.rate_per_s,
                burst=self.burst,
            )
        if wait_s is not None:
            raise RateLimited(limit_per_s=self.rate_per_s, retry_after_s=wait_s)

    def failed(self, address: str) -> None:
        """Count one failed attempt from the address."""
        now_s = time.monotonic()
        with self._lock:
            if len(self._buckets) >= self.BUCKETS_MAX:
                self._forget_refilled(now_s)
            bucket, _ = take(
                self._buckets.get(address),
                now_s=now_s,
                rate_per_s=self.rate_per_s,
                burst=self.burst,
            )
            self._buckets[address] = bucket

    def _forget_refilled(self, now_s: float) -> None:
        full_after_s = self.burst / self.rate_per_s
        self._buckets = {
            address: bucket
            for address, bucket in self._buckets.items()
            if now_s - bucket.at_s < full_after_s
        }


def scoped(scope: Scope) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency: the calling key, which must have at least `scope`."""

    async def dependency(key: Annotated[ApiKey, Depends(_caller)]) -> ApiKey:
        key.require(scope)
        return key

    return dependency


Reader = Annotated[ApiKey, Depends(scoped(Scope.READ))]
Writer = Annotated[ApiKey, Depends(scoped(Scope.WRITE))]
Admin = Annotated[ApiKey, Depends(scoped(Scope.ADMIN))]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=(
            "Makes the call safe to retry: the same key and request answer the first result"
            " (with `Idempotent-Replayed: true`); the same key with another request is a 409."
        ),
        max_length=200,
    ),
]


def reach(key: ApiKey, account_id: str) -> str:
    """The account id, if the key may touch it.

    Raises:
        AccountNotFound: the key is bound to another account.
    """
    if not key.may_see(account_id):
        raise AccountNotFound(account_id)
    return account_id


def reach_hold(key: ApiKey, engine: Engine, hold_id: HoldId) -> None:
    """Refuse a hold of another account to a key bound to one.

    Raises:
        HoldNotFound: the key is bound to another account.
    """
    if key.account_id is not None and engine.get_hold(hold_id).account_id != key.account_id:
        raise HoldNotFound(hold_id)


def reach_entry(key: ApiKey, engine: Engine, entry_id: EntryId) -> None:
    """Refuse an entry of another account to a key bound to one.

    Raises:
        EntryNotFound: the key is bound to another account.
    """
    if key.account_id is not None and engine.get_entry(entry_id).account_id != key.account_id:
        raise EntryNotFound(entry_id)


@contextmanager
def replays(response: Response) -> Iterator[None]:
    """Say `Idempotent-Replayed: true` when the call inside answered a stored result."""
    with noticing_replays() as replay:
        yield
    if replay.happened:
        response.headers[REPLAYED_HEADER] = "true"
