"""Plans and subscriptions: credits that renew every cycle, roll over, and fall back.

A **plan** sells credits per cycle at a price per billing interval (month, year), in a
currency's minor units. A **subscription** puts one account on one plan. Its periods are
counted from an anchor instant, never chained: the period after Jan 31 ends on the last
day of February (the 28th or, in a leap year, the 29th) and the next on Mar 31, because
each boundary is `anchor + n months` with the day clamped to the month's length.

**Cycles.** A plan grants its credits once per cycle. By default a cycle is a month, also
on yearly billing (a yearly Premium subscriber gets 1,200 credits each month, billed once a
year); a plan with `cycle = interval` grants once per billing period instead. Cycle
boundaries are billing boundaries' multiples, so billing changes (a downgrade, a
cancellation) take effect at a cycle boundary too.

**Rollover.** A cycle's credits are one lot (source `plan_cycle`) that expires at the
cycle's end. At the boundary, what is left of the ending cycle's lots is carried into the
next cycle of the same subscription as a new lot, by the plan's rule: `none` carries
nothing, `capped` at most `rollover_cap`, `full` all of it. Carried credits expire at the
end of the cycle they were carried into, and may be carried again; when the subscription
ends, nothing is carried.

**Changes.** Upgrading (another plan with more credits per cycle, or as many on a longer
interval) takes effect now: on the same interval and cycle length the period is kept and
the cycle is topped up to the new plan's credits at once (the difference to what the cycle
has granted so far), expiring with it; otherwise a new period starts now with the new
plan's full cycle. Anything else (fewer credits, a shorter interval, or the same plan on
another interval) is scheduled for the end of the billing period. Cancelling ends the subscription
at the end of its billing period; resuming undoes that. An ended subscription moves the
account to the default plan (when there is one), whose first cycle starts at that end.
"""

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from creditgate.domain.amounts import Credits
from creditgate.domain.errors import InvalidInput
from creditgate.domain.ids import AccountId
from creditgate.domain.limits import PLAN_PRICE_MINOR_MAX
from creditgate.domain.pricing import check_label

PLAN_KEY = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


class Interval(StrEnum):
    """How often a subscription is billed."""

    MONTH = "month"
    YEAR = "year"

    @property
    def months(self) -> int:
        """The interval's length in months."""
        return 12 if self is Interval.YEAR else 1


class Rollover(StrEnum):
    """What happens at a cycle's end to the cycle credits that are left."""

    NONE = "none"
    CAPPED = "capped"
    FULL = "full"


class Cycle(StrEnum):
    """How often a plan grants its credits: every month, or once per billing interval."""

    MONTH = "month"
    INTERVAL = "interval"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanSpec:
    """A plan as an admin or a catalog file writes it."""

    key: str
    name: str
    credits: Credits
    prices: Mapping[Interval, int]
    """Minor units of `currency` per interval; the intervals a plan is sold by. An empty
    mapping is a plan the app bills itself: it may be subscribed on either interval."""
    currency: str = "usd"
    description: str | None = None
    rollover: Rollover = Rollover.NONE
    rollover_cap: Credits | None = None
    cycle: Cycle = Cycle.MONTH
    is_active: bool = True
    is_default: bool = False

    def intervals(self) -> tuple[Interval, ...]:
        """The intervals this plan may be subscribed on, monthly first."""
        return tuple(i for i in Interval if not self.prices or i in self.prices)

    def cycle_months(self, interval: Interval) -> int:
        """The length of one cycle, in months, for a subscription on `interval`."""
        return interval.months if self.cycle is Cycle.INTERVAL else 1

    def carry(self, leftover_units: int) -> int:
        """How much of a cycle's leftover rolls into the next cycle."""
        if self.rollover is Rollover.FULL:
            return leftover_units
        if self.rollover is Rollover.CAPPED:
            assert self.rollover_cap is not None
            return min(leftover_units, self.rollover_cap.units)
        return 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan(PlanSpec):
    """A stored plan."""

    created_at: datetime
    updated_at: datetime

    def spec(self) -> PlanSpec:
        """The plan as written, without its timestamps."""
        return PlanSpec(
            key=self.key,
            name=self.name,
            credits=self.credits,
            prices=self.prices,
            currency=self.currency,
            description=self.description,
            rollover=self.rollover,
            rollover_cap=self.rollover_cap,
            cycle=self.cycle,
            is_active=self.is_active,
            is_default=self.is_default,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    """One account's subscription to a plan, as of its current cycle.

    `cycle_index` counts cycles from `anchor_at`; the current cycle is
    `[cycle_started_at, cycle_ends_at)`. `period_ends_at` is the end of the billing
    period, where a scheduled change (`next_plan`) or a cancellation takes effect.
    """

    id: int
    account_id: AccountId
    plan: str
    interval: Interval
    anchor_at: datetime
    cycle_months: int
    cycle_index: int
    cycle_started_at: datetime
    cycle_ends_at: datetime
    period_ends_at: datetime
    cancel_at_period_end: bool
    next_plan: str | None
    next_interval: Interval | None
    started_at: datetime
    ended_at: datetime | None
    provider_ref: str | None = None
    """The payment provider's subscription id when the provider bills it (its events then
    drive the subscription); None for a subscription the app manages."""
    paid_until: datetime | None = None
    """The end of the last billing period the provider said was paid."""
    is_awaiting_payment: bool = False
    """The current cycle starts a period the provider has not said is paid: its credits
    are granted when it does."""

    @property
    def is_live(self) -> bool:
        """Not ended."""
        return self.ended_at is None


def add_months(anchor: datetime, months: int) -> datetime:
    """`anchor` moved by whole months, the day clamped to the target month's length."""
    years, month0 = divmod(anchor.month - 1 + months, 12)
    year = anchor.year + years
    day = min(anchor.day, calendar.monthrange(year, month0 + 1)[1])
    return anchor.replace(year=year, month=month0 + 1, day=day)


def cycle_bounds(anchor: datetime, cycle_months: int, index: int) -> tuple[datetime, datetime]:
    """The start and end of cycle `index` of a subscription anchored at `anchor`."""
    return (
        add_months(anchor, cycle_months * index),
        add_months(anchor, cycle_months * (index + 1)),
    )


def period_end(anchor: datetime, interval: Interval, cycle_months: int, index: int) -> datetime:
    """The end of the billing period that holds cycle `index`."""
    cycles_per_period = interval.months // cycle_months
    period = index // cycles_per_period
    return add_months(anchor, interval.months * (period + 1))


def month_start(at: datetime) -> datetime:
    """The first instant of `at`'s calendar month (UTC): where an unplanned usage period starts."""
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def is_upgrade(
    current: PlanSpec, interval: Interval, new: PlanSpec, new_interval: Interval
) -> bool:
    """Whether a change takes effect now (an upgrade) or at the period's end (a downgrade).

    More credits per cycle is an upgrade; so is the same credits on a longer interval.
    """
    if new.credits != current.credits:
        return new.credits > current.credits
    return new_interval.months > interval.months


def check_plan_key(value: object, *, field: str = "plan") -> str:
    """A plan key: lowercase letters, digits, `_`, `.` and `-`, at most 64.

    Raises:
        InvalidInput: not such a key.
    """
    if not isinstance(value, str) or not PLAN_KEY.fullmatch(value):
        raise InvalidInput(
            field=field,
            reason="a key of lowercase letters, digits, '_', '.' and '-' (at most 64 characters)",
        )
    return value


def check_interval(value: object, *, field: str = "interval") -> Interval:
    """A billing interval by name.

    Raises:
        InvalidInput: not `month` or `year`.
    """
    if isinstance(value, Interval):
        return value
    if isinstance(value, str):
        try:
            return Interval(value)
        except ValueError:
            pass
    raise InvalidInput(field=field, reason="one of: month, year")


def _enum_field(enum: type[Rollover] | type[Cycle], value: object, field: str) -> str:
    allowed = [m.value for m in enum]
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(field=field, reason=f"one of: {', '.join(allowed)}")
    return value


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _prices(value: object, where: str) -> dict[Interval, int]:
    if not isinstance(value, Mapping):
        reason = "a table of interval = price in minor units"
        raise InvalidInput(field=where, reason=reason)
    prices: dict[Interval, int] = {}
    for name, amount in value.items():
        interval = check_interval(name, field=_at(where, str(name)))
        if type(amount) is not int or not 0 <= amount <= PLAN_PRICE_MINOR_MAX:
            reason = f"a whole number of minor units from 0 to {PLAN_PRICE_MINOR_MAX}"
            raise InvalidInput(field=_at(where, str(name)), reason=reason)
        prices[interval] = amount
    return dict(sorted(prices.items(), key=lambda item: item[0].months))


_PLAN_FIELDS = {
    "key",
    "name",
    "description",
    "credits",
    "prices",
    "currency",
    "rollover",
    "rollover_cap",
    "cycle",
    "active",
    "default",
}


def parse_plan(data: Mapping[str, object], where: str = "") -> PlanSpec:
    """A plan from its data form (a catalog file's `[[plans]]` table or a request body).

    Fields are named as `where.field` (`plans[2].credits`), or bare with no `where`.

    Raises:
        InvalidInput: the first bad field, naming it.
    """
    unknown = sorted(str(k) for k in data if k not in _PLAN_FIELDS)
    if unknown:
        raise InvalidInput(field=_at(where, unknown[0]), reason="is not a field here")
    key = check_plan_key(data.get("key"), field=_at(where, "key"))
    name = check_label(data.get("name"), field=_at(where, "name"), required=True)
    assert name is not None
    credits = Credits.parse(data.get("credits"), field=_at(where, "credits"))  # type: ignore[arg-type]
    if credits.units < 0:
        raise InvalidInput(field=_at(where, "credits"), reason="must not be negative")
    currency = data.get("currency", "usd")
    if not isinstance(currency, str) or not re.fullmatch(r"[a-z]{3}", currency):
        raise InvalidInput(field=_at(where, "currency"), reason="a lowercase ISO 4217 code (usd)")
    rollover = Rollover(_enum_field(Rollover, data.get("rollover", "none"), _at(where, "rollover")))
    cap = None
    if rollover is Rollover.CAPPED:
        cap = Credits.positive(data.get("rollover_cap"), field=_at(where, "rollover_cap"))  # type: ignore[arg-type]
    elif data.get("rollover_cap") is not None:
        reason = "only a capped rollover has a cap"
        raise InvalidInput(field=_at(where, "rollover_cap"), reason=reason)
    flags = {}
    for flag, default in (("active", True), ("default", False)):
        value = data.get(flag, default)
        if type(value) is not bool:
            raise InvalidInput(field=_at(where, flag), reason="must be true or false")
        flags[flag] = value
    if flags["default"] and not flags["active"]:
        raise InvalidInput(field=_at(where, "default"), reason="the default plan must be active")
    return PlanSpec(
        key=key,
        name=name,
        description=check_label(data.get("description"), field=_at(where, "description")),
        credits=credits,
        prices=_prices(data.get("prices", {}), _at(where, "prices")),
        currency=currency,
        rollover=rollover,
        rollover_cap=cap,
        cycle=Cycle(_enum_field(Cycle, data.get("cycle", "month"), _at(where, "cycle"))),
        is_active=flags["active"],
        is_default=flags["default"],
    )


def plan_data(spec: PlanSpec) -> dict[str, object]:
    """The data form of a plan: what `parse_plan` reads back to an equal spec."""
    data: dict[str, object] = {"key": spec.key, "name": spec.name}
    if spec.description is not None:
        data["description"] = spec.description
    data["credits"] = str(spec.credits)
    data["prices"] = {i.value: amount for i, amount in spec.prices.items()}
    if spec.currency != "usd":
        data["currency"] = spec.currency
    if spec.rollover is not Rollover.NONE:
        data["rollover"] = spec.rollover.value
    if spec.rollover_cap is not None:
        data["rollover_cap"] = str(spec.rollover_cap)
    if spec.cycle is not Cycle.MONTH:
        data["cycle"] = spec.cycle.value
    if not spec.is_active:
        data["active"] = False
    if spec.is_default:
        data["default"] = True
    return data


def same_plan(a: PlanSpec, b: PlanSpec) -> bool:
    """Whether two specs describe the same plan (prices compared as mappings)."""
    return plan_data(a) == plan_data(b)


def cycles_due(sub: Subscription, now: datetime) -> bool:
    """Whether the subscription's current cycle has ended at `now`."""
    return sub.is_live and sub.cycle_ends_at <= now


class SubscriptionStatus(StrEnum):
    """Where a subscription stands, as the console lists it."""

    ACTIVE = "active"
    """Live, paid up to its current cycle, renewing."""
    CANCELLING = "cancelling"
    """Live until its period ends, then ends."""
    AWAITING_PAYMENT = "awaiting_payment"
    """Live, its current cycle's credits waiting for the provider to say it was paid."""
    ENDED = "ended"


def subscription_status(subscription: Subscription) -> SubscriptionStatus:
    """The status of a subscription: ended, else awaiting payment, else cancelling or active."""
    if not subscription.is_live:
        return SubscriptionStatus.ENDED
    if subscription.is_awaiting_payment:
        return SubscriptionStatus.AWAITING_PAYMENT
    if subscription.cancel_at_period_end:
        return SubscriptionStatus.CANCELLING
    return SubscriptionStatus.ACTIVE
