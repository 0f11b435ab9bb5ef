"""`HeldWork`: the shape an app wraps around a generation, for the engine and both clients.

    with ledger.holding("user_1", feature="chat", model="gpt-4o", quantity=max_tokens,
                        ttl=timedelta(minutes=2)) as work:
        reply = complete()          # raises: the hold is released as failed, the error goes on
        work.quantity = reply.usage # optional: settle for the tokens really used

On a clean exit the hold is settled for `quantity` (priced at the hold's price version) or
`actual` (the held amount when neither is set); on an exception it is released with the
exception as its failure, and the exception propagates. Either end happens once, and the
usage event carries how long the work took. The async form places the hold when the
`async with` block is entered.

It needs only the three ends of a hold, so it lives beside the engine and the client
rather than in either: one shape, whichever face holds.
"""

import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Protocol, Self

from creditgate.domain.amounts import AmountLike, Credits
from creditgate.domain.errors import HoldNotPending
from creditgate.domain.holds import Hold
from creditgate.domain.ids import HoldId
from creditgate.domain.limits import TEXT_LENGTH_MAX
from creditgate.domain.pricing import Quantity
from creditgate.domain.results import Receipt


class HoldEnds(Protocol):
    """What `HeldWork` needs of an engine or client."""

    def settle(
        self,
        hold_id: HoldId,
        actual: AmountLike | None = None,
        *,
        quantity: Quantity | dict[str, int] | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Settle the hold."""
        ...

    def release(
        self,
        hold_id: HoldId,
        *,
        failure: str | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Release the hold."""
        ...

    def extend(
        self, hold_id: HoldId, more: AmountLike, *, idempotency_key: str | None = None
    ) -> Receipt:
        """Grow the hold."""
        ...


class AsyncHoldEnds(Protocol):
    """What `AsyncHeldWork` needs of an async client."""

    async def settle(
        self,
        hold_id: HoldId,
        actual: AmountLike | None = None,
        *,
        quantity: Quantity | dict[str, int] | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Settle the hold."""
        ...

    async def release(
        self,
        hold_id: HoldId,
        *,
        failure: str | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Release the hold."""
        ...

    async def extend(
        self, hold_id: HoldId, more: AmountLike, *, idempotency_key: str | None = None
    ) -> Receipt:
        """Grow the hold."""
        ...


def failure_of(exc_type: type[BaseException], exc: BaseException | None) -> str:
    """The failure a released hold records: the exception, as printable bounded text."""
    failure = f"{exc_type.__name__}: {exc}"[:TEXT_LENGTH_MAX]
    return failure if failure.isprintable() else exc_type.__name__


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


class HeldWork:
    """A pending hold around a unit of work; settles on success, releases on failure."""

    def __init__(self, ends: HoldEnds, hold: Hold) -> None:
        self._ends = ends
        self.hold = hold
        self.actual: Credits | None = None
        self.quantity: Quantity | dict[str, int] | None = None
        self.receipt: Receipt | None = None
        self._started = time.perf_counter()

    def extend(self, more: AmountLike) -> Hold:
        """Grow the hold while the work runs (a stream that outgrows its estimate)."""
        receipt = self._ends.extend(self.hold.id, more)
        assert receipt.hold is not None
        self.hold = receipt.hold
        return self.hold

    def __enter__(self) -> Self:
        self._started = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        latency_ms = _elapsed_ms(self._started)
        if exc_type is None:
            if self.quantity is not None:
                self.receipt = self._ends.settle(
                    self.hold.id, quantity=self.quantity, latency_ms=latency_ms
                )
                return
            actual = self.hold.amount if self.actual is None else self.actual
            self.receipt = self._ends.settle(self.hold.id, actual, latency_ms=latency_ms)
            return
        try:
            self.receipt = self._ends.release(
                self.hold.id, failure=failure_of(exc_type, exc), latency_ms=latency_ms
            )
        except HoldNotPending:
            # The ttl passed while the work failed: the hold already returned its credits.
            self.receipt = None


class AsyncHeldWork:
    """`HeldWork` for `async with`: the hold is placed on entry."""

    hold: Hold
    """The pending hold; there is none before the block is entered."""

    def __init__(self, ends: AsyncHoldEnds, place: Callable[[], Awaitable[Receipt]]) -> None:
        self._ends = ends
        self._place = place
        self.actual: Credits | None = None
        self.quantity: Quantity | dict[str, int] | None = None
        self.receipt: Receipt | None = None
        self._started = time.perf_counter()

    async def extend(self, more: AmountLike) -> Hold:
        """Grow the hold while the work runs (a stream that outgrows its estimate)."""
        receipt = await self._ends.extend(self.hold.id, more)
        assert receipt.hold is not None
        self.hold = receipt.hold
        return self.hold

    async def __aenter__(self) -> Self:
        placed = await self._place()
        assert placed.hold is not None
        self.hold = placed.hold
        self._started = time.perf_counter()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        latency_ms = _elapsed_ms(self._started)
        if exc_type is None:
            if self.quantity is not None:
                self.receipt = await self._ends.settle(
                    self.hold.id, quantity=self.quantity, latency_ms=latency_ms
                )
                return
            actual = self.hold.amount if self.actual is None else self.actual
            self.receipt = await self._ends.settle(self.hold.id, actual, latency_ms=latency_ms)
            return
        try:
            self.receipt = await self._ends.release(
                self.hold.id, failure=failure_of(exc_type, exc), latency_ms=latency_ms
            )
        except HoldNotPending:
            # The ttl passed while the work failed: the hold already returned its credits.
            self.receipt = None
