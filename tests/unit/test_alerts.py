"""Balance alerts' pure rules: the level of a balance, and what a move between levels raises."""

import pytest

from creditgate.domain.alerts import AlertLevel, crossings, level_of
from creditgate.domain.webhooks import EventType

OK, LOW, DEPLETED = AlertLevel.OK, AlertLevel.LOW, AlertLevel.DEPLETED


@pytest.mark.parametrize(
    ("available", "level"),
    [(10_000, OK), (10_001, OK), (9_999, LOW), (1, LOW), (0, DEPLETED), (-5, DEPLETED)],
)
def test_level_of_is_low_below_the_line_and_depleted_at_zero(
    available: int, level: AlertLevel
) -> None:
    found = level_of(available_units=available, low_units=10_000)

    assert found is level


@pytest.mark.parametrize("available", [-1, 0, 1])
def test_level_of_is_ok_without_a_line(available: int) -> None:
    found = level_of(available_units=available, low_units=None)

    assert found is OK


@pytest.mark.parametrize(
    ("old", "new", "raised"),
    [
        (OK, OK, ()),
        (LOW, LOW, ()),
        (DEPLETED, DEPLETED, ()),
        (OK, LOW, (EventType.BALANCE_LOW,)),
        (LOW, DEPLETED, (EventType.BALANCE_DEPLETED,)),
        (OK, DEPLETED, (EventType.BALANCE_LOW, EventType.BALANCE_DEPLETED)),
        (LOW, OK, (EventType.BALANCE_RECOVERED,)),
        (DEPLETED, LOW, (EventType.BALANCE_RECOVERED,)),
        (DEPLETED, OK, (EventType.BALANCE_RECOVERED,)),
    ],
)
def test_crossings_raise_one_event_per_line_down_and_one_recovery_up(
    old: AlertLevel, new: AlertLevel, raised: tuple[EventType, ...]
) -> None:
    found = crossings(old, new)

    assert found == raised
