"""The burn order and how spends and captures split across lots (pure, no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from creditgate import Credits, InvalidInput, LotSource
from creditgate.domain.ids import LotId
from creditgate.domain.limits import PRIORITY_MAX
from creditgate.domain.lots import Burn, Lot, burn_key, check_priority, plan_burn, plan_capture

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def lot(
    lot_id: int,
    units: int = 10_000,
    *,
    remaining: int | None = None,
    held: int = 0,
    priority: int = 0,
    expires_at: datetime | None = None,
    created_at: datetime = NOW - DAY,
) -> Lot:
    return Lot(
        id=LotId(lot_id),
        source=LotSource.PURCHASE,
        amount=Credits(units),
        remaining=Credits(units if remaining is None else remaining),
        held=Credits(held),
        priority=priority,
        expires_at=expires_at,
        created_at=created_at,
        metadata={},
    )


def burn_order(lots: list[Lot]) -> list[int]:
    return [found.id for found in sorted(lots, key=burn_key)]


def test_burn_key_puts_lower_priority_first() -> None:
    lots = [lot(1, priority=0, expires_at=NOW + HOUR), lot(2, priority=-10)]

    order = burn_order(lots)

    assert order == [2, 1]


def test_burn_key_puts_soonest_expiry_first_within_a_priority() -> None:
    lots = [lot(1, expires_at=NOW + 2 * DAY), lot(2, expires_at=NOW + DAY)]

    order = burn_order(lots)

    assert order == [2, 1]


def test_burn_key_puts_never_expiring_lots_last_within_a_priority() -> None:
    lots = [
        lot(1, created_at=NOW - 3 * DAY),
        lot(2, expires_at=NOW + 365 * DAY, created_at=NOW - HOUR),
    ]

    order = burn_order(lots)

    assert order == [2, 1]


def test_burn_key_puts_oldest_first_when_expiries_are_equal() -> None:
    lots = [
        lot(1, expires_at=NOW + DAY, created_at=NOW - HOUR),
        lot(2, expires_at=NOW + DAY, created_at=NOW - DAY),
    ]

    order = burn_order(lots)

    assert order == [2, 1]


def test_burn_key_puts_oldest_first_among_never_expiring_lots() -> None:
    lots = [lot(1, created_at=NOW - HOUR), lot(2, created_at=NOW - DAY)]

    order = burn_order(lots)

    assert order == [2, 1]


def test_burn_key_breaks_full_ties_by_lot_id() -> None:
    lots = [lot(3), lot(1), lot(2)]

    order = burn_order(lots)

    assert order == [1, 2, 3]


def test_burn_key_ranks_priority_above_expiry_and_age() -> None:
    lots = [
        lot(1, priority=1, expires_at=NOW + HOUR, created_at=NOW - 9 * DAY),
        lot(2, priority=0, created_at=NOW - HOUR),
        lot(3, priority=0, expires_at=NOW + DAY, created_at=NOW - HOUR),
        lot(4, priority=-1, created_at=NOW),
    ]

    order = burn_order(lots)

    assert order == [4, 3, 2, 1]


def test_plan_burn_takes_from_lots_in_burn_order() -> None:
    lots = [lot(1, 5000), lot(2, 3000, expires_at=NOW + DAY), lot(3, 4000, priority=-1)]

    burn = plan_burn(lots, 8000, now=NOW)

    assert burn.moves == ((LotId(3), 4000), (LotId(2), 3000), (LotId(1), 1000))
    assert burn.uncovered_units == 0
    assert burn.covered_units == 8000


def test_plan_burn_stops_at_the_first_lot_that_covers_the_rest() -> None:
    lots = [lot(1, 5000), lot(2, 5000)]

    burn = plan_burn(lots, 2000, now=NOW)

    assert burn.moves == ((LotId(1), 2000),)


def test_plan_burn_leaves_the_rest_uncovered_when_lots_are_short() -> None:
    lots = [lot(1, 1000), lot(2, 500)]

    burn = plan_burn(lots, 2000, now=NOW)

    assert burn.covered_units == 1500
    assert burn.uncovered_units == 500


def test_plan_burn_skips_a_lot_that_expires_at_now() -> None:
    lots = [lot(1, 5000, expires_at=NOW), lot(2, 5000)]

    burn = plan_burn(lots, 1000, now=NOW)

    assert burn.moves == ((LotId(2), 1000),)


def test_plan_burn_skips_a_lot_that_has_expired() -> None:
    lots = [lot(1, 5000, expires_at=NOW - HOUR)]

    burn = plan_burn(lots, 1000, now=NOW)

    assert burn.moves == ()
    assert burn.uncovered_units == 1000


def test_plan_burn_takes_only_the_free_part_of_a_pinned_lot() -> None:
    lots = [lot(1, 5000, held=4000), lot(2, 5000)]

    burn = plan_burn(lots, 3000, now=NOW)

    assert burn.moves == ((LotId(1), 1000), (LotId(2), 2000))


def test_plan_burn_skips_empty_and_fully_pinned_lots() -> None:
    lots = [lot(1, 5000, remaining=0), lot(2, 5000, held=5000), lot(3, 5000)]

    burn = plan_burn(lots, 1000, now=NOW)

    assert burn.moves == ((LotId(3), 1000),)


def test_plan_burn_of_zero_moves_nothing() -> None:
    burn = plan_burn([lot(1)], 0, now=NOW)

    assert burn == Burn(moves=(), uncovered_units=0)


def test_plan_capture_takes_pinned_lots_in_burn_order() -> None:
    pins = [(lot(1), 3000), (lot(2, expires_at=NOW + DAY), 2000)]

    moves = plan_capture(pins, 4000)

    assert moves == ((LotId(2), 2000), (LotId(1), 2000))


def test_plan_capture_takes_a_pinned_lot_even_after_it_expired() -> None:
    pins = [(lot(1, expires_at=NOW - HOUR, held=2000), 2000)]

    moves = plan_capture(pins, 1500)

    assert moves == ((LotId(1), 1500),)


def test_plan_capture_of_zero_moves_nothing() -> None:
    moves = plan_capture([(lot(1), 3000)], 0)

    assert moves == ()


def test_plan_capture_refuses_more_than_was_pinned() -> None:
    with pytest.raises(AssertionError):
        plan_capture([(lot(1), 3000)], 3001)


def test_is_live_is_false_from_the_instant_of_expiry() -> None:
    expiring = lot(1, expires_at=NOW)

    assert expiring.is_live(NOW - timedelta(microseconds=1))
    assert not expiring.is_live(NOW)


def test_is_live_is_true_forever_without_expiry() -> None:
    lasting = lot(1)

    assert lasting.is_live(NOW + 10_000 * DAY)


def test_free_is_the_remainder_not_pinned() -> None:
    pinned = lot(1, 5000, remaining=4000, held=1500)

    assert pinned.free == Credits(2500)


@pytest.mark.parametrize("value", [0, -5, PRIORITY_MAX, -PRIORITY_MAX])
def test_check_priority_accepts_an_int_within_range(value: int) -> None:
    checked = check_priority(value)

    assert checked == value


@pytest.mark.parametrize("value", [PRIORITY_MAX + 1, -PRIORITY_MAX - 1, 1.0, "1", True, None])
def test_check_priority_refuses_a_bad_priority(value: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_priority(value)

    assert raised.value.field == "priority"
