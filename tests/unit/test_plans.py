"""Plans, pure: month arithmetic, cycle and billing boundaries, the plan's data form."""

import calendar
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditgate import Credits, Cycle, Interval, InvalidInput, PlanSpec, Rollover
from creditgate.domain.plans import (
    add_months,
    cycle_bounds,
    is_upgrade,
    parse_plan,
    period_end,
    plan_data,
)

JAN_31 = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
JAN_31_LEAP = datetime(2028, 1, 31, 9, 30, tzinfo=UTC)
FEB_29 = datetime(2028, 2, 29, 9, 30, tzinfo=UTC)
MID_MONTH = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def at(year: int, month: int, day: int, anchor: datetime = JAN_31) -> datetime:
    """A date at the anchor's time of day."""
    return anchor.replace(year=year, month=month, day=day)


def spec(
    credits: int = 100,
    *,
    rollover: Rollover = Rollover.NONE,
    cap: int | None = None,
    prices: Mapping[Interval, int] | None = None,
) -> PlanSpec:
    return PlanSpec(
        key="plan",
        name="Plan",
        credits=Credits.parse(credits),
        prices={Interval.MONTH: 1000, Interval.YEAR: 10_000} if prices is None else prices,
        rollover=rollover,
        rollover_cap=None if cap is None else Credits.parse(cap),
    )


def plan_fields(**changes: object) -> dict[str, object]:
    """The data form of a valid plan, with `changes` (None removes a field)."""
    data: dict[str, object] = {"key": "pro", "name": "Pro", "credits": "1000"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# add_months


def test_add_months_clamps_jan_31_to_the_last_day_of_february() -> None:
    assert add_months(JAN_31, 1) == at(2026, 2, 28)


def test_add_months_clamps_jan_31_to_feb_29_in_a_leap_year() -> None:
    assert add_months(JAN_31_LEAP, 1) == at(2028, 2, 29)


def test_add_months_keeps_the_anchor_day_when_the_target_month_has_it() -> None:
    """Jan 31 + 2 months is Mar 31, not Mar 28: the clamp of February does not carry on."""
    assert add_months(JAN_31, 2) == at(2026, 3, 31)


def test_add_months_clamps_feb_29_to_feb_28_a_year_later() -> None:
    assert add_months(FEB_29, 12) == at(2029, 2, 28)


def test_add_months_crosses_a_year_end() -> None:
    december = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)

    assert add_months(december, 1) == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    assert add_months(december, 14) == datetime(2028, 2, 15, 8, 0, tzinfo=UTC)


def test_add_months_keeps_the_time_of_day_and_the_time_zone() -> None:
    moved = add_months(JAN_31, 1)

    assert (moved.hour, moved.minute, moved.tzinfo) == (9, 30, UTC)


def test_add_months_of_zero_is_the_anchor() -> None:
    assert add_months(JAN_31, 0) == JAN_31


# cycle_bounds and period_end


def test_cycle_bounds_count_monthly_cycles_from_the_anchor_never_chained() -> None:
    """Each boundary is anchor + n months: Feb 28, then Mar 31 (not Mar 28), then Apr 30."""
    assert cycle_bounds(JAN_31, 1, 0) == (JAN_31, at(2026, 2, 28))
    assert cycle_bounds(JAN_31, 1, 1) == (at(2026, 2, 28), at(2026, 3, 31))
    assert cycle_bounds(JAN_31, 1, 2) == (at(2026, 3, 31), at(2026, 4, 30))
    assert cycle_bounds(JAN_31, 1, 12) == (at(2027, 1, 31), at(2027, 2, 28))


def test_cycle_bounds_of_a_yearly_cycle_span_twelve_months() -> None:
    assert cycle_bounds(FEB_29, 12, 0) == (FEB_29, at(2029, 2, 28, FEB_29))
    assert cycle_bounds(FEB_29, 12, 3) == (at(2031, 2, 28, FEB_29), at(2032, 2, 29, FEB_29))


def test_period_end_of_a_monthly_subscription_is_its_cycle_end() -> None:
    for index in range(14):
        assert period_end(JAN_31, Interval.MONTH, 1, index) == cycle_bounds(JAN_31, 1, index)[1]


def test_period_end_of_a_yearly_subscription_with_monthly_cycles_is_the_year_end() -> None:
    """Twelve monthly cycles share one billing period; the thirteenth starts the next one."""
    year_end = at(2027, 1, 31)

    ends = [period_end(JAN_31, Interval.YEAR, 1, index) for index in range(12)]

    assert ends == [year_end] * 12
    assert period_end(JAN_31, Interval.YEAR, 1, 12) == at(2028, 1, 31)
    assert period_end(JAN_31, Interval.YEAR, 1, 23) == at(2028, 1, 31)
    assert period_end(JAN_31, Interval.YEAR, 1, 24) == at(2029, 1, 31)


def test_period_end_of_a_yearly_subscription_with_yearly_cycles_is_its_cycle_end() -> None:
    assert period_end(JAN_31, Interval.YEAR, 12, 0) == at(2027, 1, 31)
    assert period_end(JAN_31, Interval.YEAR, 12, 1) == at(2028, 1, 31)


def test_period_end_is_always_a_cycle_boundary() -> None:
    """Billing changes take effect at a cycle boundary: every period end is one of them."""
    boundaries = {cycle_bounds(MID_MONTH, 1, index)[1] for index in range(40)}

    for index in range(36):
        assert period_end(MID_MONTH, Interval.YEAR, 1, index) in boundaries


@given(
    anchor=st.datetimes(
        min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2200, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    n=st.integers(min_value=0, max_value=600),
    cycle_months=st.sampled_from([1, 12]),
)
def test_cycle_boundaries_increase_strictly_and_never_drift(
    anchor: datetime, n: int, cycle_months: int
) -> None:
    """Boundary n is the anchor's day clamped in the month n cycles on, whatever came before.

    A chained computation (each boundary from the previous one) would drift after a short
    month: Jan 31 -> Feb 28 -> Mar 28. Computed from the anchor, it cannot.
    """
    start, end = cycle_bounds(anchor, cycle_months, n)
    year, month0 = divmod(anchor.year * 12 + anchor.month - 1 + cycle_months * (n + 1), 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]

    assert start < end
    assert end == anchor.replace(year=year, month=month0 + 1, day=min(anchor.day, last_day))
    assert cycle_bounds(anchor, cycle_months, n + 1)[0] == end
    assert timedelta(days=28 * cycle_months) <= end - start <= timedelta(days=31 * cycle_months)


# parse_plan and plan_data


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"key": "Pro"}, "key"),
        ({"key": "pro plan"}, "key"),
        ({"key": None}, "key"),
        ({"credits": "-1"}, "credits"),
        ({"rollover": "capped"}, "rollover_cap"),
        ({"rollover": "capped", "rollover_cap": "0"}, "rollover_cap"),
        ({"rollover_cap": "50"}, "rollover_cap"),
        ({"rollover": "full", "rollover_cap": "50"}, "rollover_cap"),
        ({"rollover": "some"}, "rollover"),
        ({"default": True, "active": False}, "default"),
        ({"colour": "red"}, "colour"),
        ({"prices": {"week": 100}}, "prices.week"),
        ({"prices": {"month": 9.99}}, "prices.month"),
        ({"prices": {"month": -1}}, "prices.month"),
        ({"prices": {"month": True}}, "prices.month"),
        ({"cycle": "week"}, "cycle"),
        ({"currency": "USD"}, "currency"),
        ({"active": "yes"}, "active"),
        ({"name": None}, "name"),
    ],
)
def test_parse_plan_refuses_a_bad_field_naming_it(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_plan(plan_fields(**changes))

    assert raised.value.field == field


def test_parse_plan_fills_in_the_defaults() -> None:
    parsed = parse_plan(plan_fields())

    assert parsed == PlanSpec(
        key="pro",
        name="Pro",
        credits=Credits.parse(1000),
        prices={},
        currency="usd",
        rollover=Rollover.NONE,
        rollover_cap=None,
        cycle=Cycle.MONTH,
        is_active=True,
        is_default=False,
    )
    assert parsed.intervals() == (Interval.MONTH, Interval.YEAR)


def test_parse_plan_sorts_prices_monthly_first() -> None:
    parsed = parse_plan(plan_fields(prices={"year": 15_000, "month": 1500}))

    assert list(parsed.prices) == [Interval.MONTH, Interval.YEAR]
    assert parsed.intervals() == (Interval.MONTH, Interval.YEAR)


def test_parse_plan_sold_yearly_only_is_subscribed_yearly_only() -> None:
    assert parse_plan(plan_fields(prices={"year": 15_000})).intervals() == (Interval.YEAR,)


@pytest.mark.parametrize(
    "data",
    [
        plan_fields(),
        plan_fields(
            description="For teams",
            credits="1200.5",
            prices={"month": 1500, "year": 15_000},
            currency="eur",
            rollover="capped",
            rollover_cap="250.25",
            cycle="interval",
            default=True,
        ),
        plan_fields(credits="0", rollover="full", active=False),
    ],
)
def test_plan_data_is_read_back_by_parse_plan_to_an_equal_spec(data: dict[str, object]) -> None:
    """The data form writes what differs from a default (and always the prices)."""
    parsed = parse_plan(data)

    assert parse_plan(plan_data(parsed)) == parsed
    assert plan_data(parsed) == {"prices": {}, **data}


# PlanSpec.carry and cycle_months


@pytest.mark.parametrize(
    ("rollover", "cap", "leftover", "carried"),
    [
        (Rollover.NONE, None, 40_000, 0),
        (Rollover.FULL, None, 40_000, 40_000),
        (Rollover.FULL, None, 0, 0),
        (Rollover.CAPPED, 25, 40_000, 25_000),
        (Rollover.CAPPED, 25, 25_000, 25_000),
        (Rollover.CAPPED, 25, 10_500, 10_500),
        (Rollover.CAPPED, 25, 0, 0),
    ],
)
def test_carry_follows_the_rollover_rule(
    rollover: Rollover, cap: int | None, leftover: int, carried: int
) -> None:
    assert spec(rollover=rollover, cap=cap).carry(leftover) == carried


def test_cycle_months_is_one_month_by_default_also_on_yearly_billing() -> None:
    monthly_cycles = spec()
    yearly_cycles = PlanSpec(
        key="plan", name="Plan", credits=Credits.parse(1), prices={}, cycle=Cycle.INTERVAL
    )

    assert monthly_cycles.cycle_months(Interval.MONTH) == 1
    assert monthly_cycles.cycle_months(Interval.YEAR) == 1
    assert yearly_cycles.cycle_months(Interval.MONTH) == 1
    assert yearly_cycles.cycle_months(Interval.YEAR) == 12


# is_upgrade


@pytest.mark.parametrize(
    ("current", "interval", "new", "new_interval", "upgrade"),
    [
        (100, Interval.MONTH, 500, Interval.MONTH, True),
        (500, Interval.MONTH, 100, Interval.MONTH, False),
        (100, Interval.YEAR, 500, Interval.MONTH, True),
        (500, Interval.MONTH, 100, Interval.YEAR, False),
        (100, Interval.MONTH, 100, Interval.YEAR, True),
        (100, Interval.YEAR, 100, Interval.MONTH, False),
        (100, Interval.MONTH, 100, Interval.MONTH, False),
    ],
)
def test_is_upgrade_means_more_credits_or_the_same_on_a_longer_interval(
    current: int, interval: Interval, new: int, new_interval: Interval, upgrade: bool
) -> None:
    assert is_upgrade(spec(current), interval, spec(new), new_interval) is upgrade
