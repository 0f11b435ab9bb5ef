"""`HeldWork`: the shape an app wraps around a generation.

    with engine.holding("user_1", feature="chat", model="gpt-4o", quantity=max_tokens,
                        ttl=timedelta(minutes=2)) as work:
        reply = complete()          # raises: the hold is released as failed, the error goes on
        work.quantity = reply.usage # optional: settle for the tokens really used

On a clean exit the hold is settled for `quantity` (priced at the hold's price version) or
`actual` (the held amount when neither is set); on an exception it is released with the
exception as its failure, and the exception propagates. Either end happens once, and the
usage event carries how long the work took.
"""

import time
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
    ) -> Receipt: ...
    def release(
        self,
        hold_id: HoldId,
        *,
        failure: str | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt: ...
    def extend(
        self, hold_id: HoldId, more: AmountLike, *, idempotency_key: str | None = None
    ) -> Receipt: ...


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
        latency_ms = int((time.perf_counter() - self._started) * 1000)
        if exc_type is None:
            if self.quantity is not None:
                self.receipt = self._ends.settle(
                    self.hold.id, quantity=self.quantity, latency_ms=latency_ms
                )
                return
            actual = self.hold.amount if self.actual is None else self.actual
            self.receipt = self._ends.settle(self.hold.id, actual, latency_ms=latency_ms)
            return
        failure = f"{exc_type.__name__}: {exc}"[:TEXT_LENGTH_MAX]
        if not failure.isprintable():
            failure = exc_type.__name__
        try:
            self.receipt = self._ends.release(self.hold.id, failure=failure, latency_ms=latency_ms)
        except HoldNotPending:
            # The ttl passed while the work failed: the hold already returned its credits.
            self.receipt = None
