"""Clocks: the only place creditgate reads the wall clock.

Every use case takes the time from a `Clock`, so tests drive renewals, expiries and
ttls across a simulated year with `ManualClock` in milliseconds.
"""

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where the engine reads the current instant."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """The wall clock, in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to: for tests and simulations."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        assert self._now.tzinfo is not None

    def now(self) -> datetime:
        """The instant the clock was last set to."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` and return the new instant."""
        assert delta >= timedelta(0), "time does not run backwards"
        self._now += delta
        return self._now

    def set(self, at: datetime) -> None:
        """Jump to `at` (never backwards)."""
        assert at >= self._now, "time does not run backwards"
        self._now = at
