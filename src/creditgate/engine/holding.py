"""`HeldWork`: the shape an app wraps around a generation.

    with engine.holding("user_1", 5, ttl=timedelta(minutes=2), feature="image.generate") as work:
        image = generate()          # raises: the hold is released, the error goes on
        work.actual = Credits.parse(3)   # optional: settle for less than the hold

On a clean exit the hold is settled for `actual` (the held amount unless set); on an
exception it is released and the exception propagates. Either end happens once.
"""

from types import TracebackType
from typing import Protocol, Self

from creditgate.domain.amounts import AmountLike, Credits
from creditgate.domain.errors import HoldNotPending
from creditgate.domain.holds import Hold
from creditgate.domain.ids import HoldId
from creditgate.domain.results import Receipt


class HoldEnds(Protocol):
    """What `HeldWork` needs of an engine or client."""

    def settle(
        self, hold_id: HoldId, actual: AmountLike, *, idempotency_key: str | None = None
    ) -> Receipt: ...
    def release(self, hold_id: HoldId, *, idempotency_key: str | None = None) -> Receipt: ...
    def extend(
        self, hold_id: HoldId, more: AmountLike, *, idempotency_key: str | None = None
    ) -> Receipt: ...


class HeldWork:
    """A pending hold around a unit of work; settles on success, releases on failure."""

    def __init__(self, ends: HoldEnds, hold: Hold) -> None:
        self._ends = ends
        self.hold = hold
        self.actual: Credits | None = None
        self.receipt: Receipt | None = None

    def extend(self, more: AmountLike) -> Hold:
        """Grow the hold while the work runs (a stream that outgrows its estimate)."""
        receipt = self._ends.extend(self.hold.id, more)
        assert receipt.hold is not None
        self.hold = receipt.hold
        return self.hold

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            actual = self.hold.amount if self.actual is None else self.actual
            self.receipt = self._ends.settle(self.hold.id, actual)
            return
        try:
            self.receipt = self._ends.release(self.hold.id)
        except HoldNotPending:
            # The ttl passed while the work failed: the hold already returned its credits.
            self.receipt = None
