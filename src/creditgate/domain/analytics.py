"""Usage analytics: the figures an admin console charts, over a range of time.

Every figure covers the half-open range [since, until) in UTC, at most
`ANALYTICS_RANGE_MAX` long; a day is a UTC calendar day. The figures are computed by the
database (grouped in SQL) and arrive here as results; this module owns their shapes, the
checks of a request for them, and the definitions that are not a plain sum:

- **credits spent** are the credits of usage events that succeeded (a charge, a settled
  hold), at their price: an unlimited account's use counts at its price, and a refund
  later does not change the event.
- **generations** of a model are its events that started work: succeeded, failed and
  released; refused events (the engine refused the spend) are counted apart. The
  **failure rate** is failed / generations.
- **latency** counts events that succeeded and recorded a `latency_ms`. The average is
  their total over their count; **p95 is the nearest rank**: sorted ascending, the value
  at rank ceil(95 n / 100) (1-based), so it is always a latency that was measured
  (`nearest_rank`; PostgreSQL's `percentile_disc(0.95)` picks the same rank).
- **welcome credits used**: of the welcome lots granted in the range, `unused` is what
  they still hold and may be spent (not past their expiry), `expired` is what left them
  by expiry (their expire entries, and the remainder of a lot past its expiry whose
  entry the expiry pass has not written yet), and `spent` is the rest: amount - unused -
  expired, i.e. what charges, settled holds, transfers out and negative adjustments took
  (and a debt repaid from the lot when it was granted).

Boundaries: standard library only. Ratios are floats computed from exact integer counts
and amounts (amounts themselves stay `Credits`).
"""

from dataclasses import dataclass
from datetime import date, datetime

from creditgate.domain.amounts import Credits
from creditgate.domain.errors import InvalidInput
from creditgate.domain.ids import AccountId
from creditgate.domain.inputs import check_instant
from creditgate.domain.limits import ANALYTICS_RANGE_MAX, TOP_ACCOUNTS_MAX
from creditgate.domain.lots import LotSource

P95_PERCENT = 95
"""The percentile of the latency figure."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """A checked range of time [since, until), both in UTC."""

    since: datetime
    until: datetime


def check_period(since: object, until: object) -> Period:
    """The range [since, until) of a figure.

    Raises:
        InvalidInput: a time that is not timezone-aware, `until` not after `since`, or a
            range longer than ANALYTICS_RANGE_MAX.
    """
    start = check_instant(since, field="since")
    end = check_instant(until, field="until")
    if end <= start:
        raise InvalidInput(field="until", reason="must be after since")
    if end - start > ANALYTICS_RANGE_MAX:
        raise InvalidInput(
            field="until", reason=f"at most {ANALYTICS_RANGE_MAX.days} days after since"
        )
    return Period(since=start, until=end)


def check_top(limit: object) -> int:
    """How many accounts the top spenders figure lists.

    Raises:
        InvalidInput: not a whole number from 1 to TOP_ACCOUNTS_MAX.
    """
    if type(limit) is not int or not 1 <= limit <= TOP_ACCOUNTS_MAX:
        raise InvalidInput(field="limit", reason=f"an integer from 1 to {TOP_ACCOUNTS_MAX}")
    return limit


def nearest_rank(count: int, percent: int) -> int:
    """The 1-based rank of the `percent` percentile of `count` sorted values: ceil(p n / 100).

    The storage layer computes the same rank in SQL: as `(percent * n + 99) / 100` on
    SQLite, and by `percentile_disc` on PostgreSQL, which takes rank ceil(p n / 100) too.
    """
    assert count >= 1
    assert 0 < percent <= 100
    return (percent * count + 99) // 100


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureSpend:
    """Credits spent on one feature on one UTC day (`feature` None: uses of no feature)."""

    day: date
    feature: str | None
    events: int
    credits: Credits


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpend:
    """Credits spent on one model on one UTC day (`model` None: uses that named none)."""

    day: date
    model: str | None
    events: int
    credits: Credits


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelGenerations:
    """A model's events by outcome: generations, and how many of them failed."""

    model: str | None
    succeeded: int
    failed: int
    released: int
    refused: int

    @property
    def generations(self) -> int:
        """Events that started work: succeeded, failed or released (not refused)."""
        return self.succeeded + self.failed + self.released

    @property
    def failure_rate(self) -> float:
        """The share of generations that failed: failed / generations (0 when none)."""
        return _ratio(self.failed, self.generations)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelLatency:
    """The latency of a model's successful events that recorded one."""

    model: str | None
    events: int
    total_ms: int
    p95_ms: int
    """The nearest-rank 95th percentile (see the module docstring)."""

    @property
    def average_ms(self) -> float:
        """The mean latency: total_ms / events (0 when none)."""
        return _ratio(self.total_ms, self.events)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceGrants:
    """Grant entries of one lot source: how many, and the credits they granted."""

    source: LotSource
    grants: int
    credits: Credits


@dataclass(frozen=True, slots=True, kw_only=True)
class PackRevenue:
    """Paid purchases of one pack in one currency, in that currency's minor units.

    `gross_minor` is what they were paid, `refunded_minor` what has been refunded of them
    since (by the payment provider's figures), `net_minor` the difference.
    """

    pack: str
    currency: str
    purchases: int
    gross_minor: int
    refunded_minor: int

    @property
    def net_minor(self) -> int:
        """What the purchases kept: gross_minor - refunded_minor."""
        return self.gross_minor - self.refunded_minor


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSpend:
    """The credits one account spent (usage events that succeeded)."""

    account_id: AccountId
    events: int
    credits: Credits


@dataclass(frozen=True, slots=True, kw_only=True)
class GuestConversion:
    """Guest sessions first seen in the range, and how many signed up (linked an account)."""

    sessions: int
    linked: int

    @property
    def rate(self) -> float:
        """The share of sessions that signed up: linked / sessions (0 when none)."""
        return _ratio(self.linked, self.sessions)


@dataclass(frozen=True, slots=True, kw_only=True)
class WelcomeUsage:
    """What became of the welcome lots granted in the range (see the module docstring)."""

    lots: int
    granted: Credits
    spent: Credits
    expired: Credits
    unused: Credits

    @property
    def spent_share(self) -> float:
        """The share of the welcome credits spent: spent / granted (0 when none)."""
        return _ratio(self.spent.units, self.granted.units)
