"""The analytics figures' pure parts: the range and limit checks, p95's rank, the ratios."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from creditgate import (
    Credits,
    GuestConversion,
    InvalidInput,
    ModelGenerations,
    ModelLatency,
    PackRevenue,
    WelcomeUsage,
)
from creditgate.domain.analytics import Period, check_period, check_top, nearest_rank

SINCE = datetime(2026, 1, 1, tzinfo=UTC)


def test_check_period_converts_both_ends_to_utc() -> None:
    paris = timezone(timedelta(hours=1))

    found = check_period(
        datetime(2026, 1, 1, 1, tzinfo=paris), datetime(2026, 1, 2, 1, tzinfo=paris)
    )

    assert found == Period(since=SINCE, until=SINCE + timedelta(days=1))
    assert found.since.tzinfo is UTC


def test_check_period_allows_366_days_and_no_more() -> None:
    allowed = check_period(SINCE, SINCE + timedelta(days=366))

    with pytest.raises(InvalidInput, match="until: at most 366 days after since"):
        check_period(SINCE, SINCE + timedelta(days=366, microseconds=1))
    assert allowed.until - allowed.since == timedelta(days=366)


def test_check_period_refuses_an_empty_or_reversed_range() -> None:
    for until in (SINCE, SINCE - timedelta(microseconds=1)):
        with pytest.raises(InvalidInput, match="until: must be after since"):
            check_period(SINCE, until)


@pytest.mark.parametrize("limit", [1, 10, 100])
def test_check_top_answers_a_limit_within_bounds(limit: int) -> None:
    assert check_top(limit) == limit


@pytest.mark.parametrize("limit", [0, 101, True, 5.0, "5", None])
def test_check_top_refuses_anything_else(limit: object) -> None:
    with pytest.raises(InvalidInput, match="limit: an integer from 1 to 100"):
        check_top(limit)


@pytest.mark.parametrize(
    ("count", "rank"), [(1, 1), (2, 2), (19, 19), (20, 19), (21, 20), (100, 95), (101, 96)]
)
def test_nearest_rank_of_p95_is_the_ceiling_of_95_percent_of_the_count(
    count: int, rank: int
) -> None:
    assert nearest_rank(count, 95) == rank


def test_nearest_rank_agrees_with_its_definition_for_every_count_to_a_thousand() -> None:
    for count in range(1, 1001):
        rank = nearest_rank(count, 95)

        # The least rank r such that at least 95 % of the values are at or below it.
        assert 100 * rank >= 95 * count > 100 * (rank - 1)


def test_ratios_are_zero_when_there_is_nothing_to_divide() -> None:
    generations = ModelGenerations(model=None, succeeded=0, failed=0, released=0, refused=3)
    latency = ModelLatency(model=None, events=0, total_ms=0, p95_ms=0)
    guests = GuestConversion(sessions=0, linked=0)
    zero = Credits(0)
    welcome = WelcomeUsage(lots=0, granted=zero, spent=zero, expired=zero, unused=zero)

    ratios = (generations.failure_rate, latency.average_ms, guests.rate, welcome.spent_share)

    assert ratios == (0.0, 0.0, 0.0, 0.0)


def test_figures_derive_their_totals_and_ratios_from_their_counts() -> None:
    generations = ModelGenerations(model="veo", succeeded=6, failed=2, released=0, refused=9)
    revenue = PackRevenue(
        pack="creator", currency="usd", purchases=2, gross_minor=2998, refunded_minor=1499
    )

    assert (generations.generations, generations.failure_rate) == (8, 0.25)
    assert revenue.net_minor == 1499
