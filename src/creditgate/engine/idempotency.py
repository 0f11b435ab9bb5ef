"""Run once: an idempotency key, scoped by account and operation, claimed with the effect.

The key is looked up after the account's lock is taken, so a concurrent duplicate waits
for the first request to commit and then answers its stored result; the key's row is
inserted in the same transaction as the effect, so a failure loses neither or both.
The request is fingerprinted (SHA-256 of its canonical JSON): the same key with a
different request is an `IdempotencyConflict`.
"""

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import TypeAdapter

from creditgate.domain.errors import IdempotencyConflict
from creditgate.engine.books import Books
from creditgate.storage.accounts import AccountRow
from creditgate.storage.idempotency import find_key, insert_key

R = TypeVar("R")


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


@dataclass(slots=True)
class Replay:
    """Whether a call made inside `noticing_replays` answered a stored result."""

    happened: bool = False


_watch: ContextVar[Replay | None] = ContextVar("creditgate_replay", default=None)


@contextmanager
def noticing_replays() -> Iterator[Replay]:
    """Notice whether the engine calls in this block replayed a stored result.

    The service says so in its `Idempotent-Replayed` header. A context variable rather than
    a second return value keeps every engine method's result the same for every face.
    """
    replay = Replay()
    token = _watch.set(replay)
    try:
        yield replay
    finally:
        _watch.reset(token)


def _adapter(result_type: type[R]) -> TypeAdapter[R]:
    """A cached (de)serializer of one result type: building one costs milliseconds."""
    adapter = _ADAPTERS.get(result_type)
    if adapter is None:
        adapter = _ADAPTERS[result_type] = TypeAdapter(result_type)
    return adapter


def fingerprint(operation: str, request: dict[str, Any]) -> str:
    """A stable digest of one request: same operation and fields, same fingerprint."""
    canonical = json.dumps([operation, request], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def once(
    books: Books,
    row: AccountRow,
    *,
    operation: str,
    key: str | None,
    request: dict[str, Any],
    result_type: type[R],
    effect: Callable[[], R],
) -> R:
    """Run `effect` unless this key already ran it; then answer the stored result.

    Raises:
        IdempotencyConflict: the key was used for a different request.
    """
    if key is None:
        return effect()
    digest = fingerprint(operation, request)
    stored = find_key(books.conn, row.pk, operation, key)
    if stored is not None:
        if stored.fingerprint != digest:
            raise IdempotencyConflict(key=key)
        replay = _watch.get()
        if replay is not None:
            replay.happened = True
        return _adapter(result_type).validate_json(stored.result)
    result = effect()
    insert_key(
        books.conn,
        account_pk=row.pk,
        operation=operation,
        key=key,
        fingerprint=digest,
        result=_adapter(result_type).dump_json(result).decode(),
        now=books.now,
    )
    return result
