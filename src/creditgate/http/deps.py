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
    Unauthenticated,
)
from creditgate.domain.ids import EntryId, HoldId
from creditgate.domain.keys import ApiKey, Scope
from creditgate.domain.rates import Bucket, take
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


def _caller(
    request: Request,
    engine: Engines,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_header_key)],
) -> ApiKey:
    text = bearer.credentials if bearer is not None else header_key
    if not text:
        raise Unauthenticated("an API key is required: 'Authorization: Bearer <key>'")
    key = engine.authenticate(text)
    request.state.key_prefix = key.prefix
    limiter: KeyLimiter | None = request.app.state.limiter
    if limiter is not None:
        limiter.take(key.prefix)
    return key


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
