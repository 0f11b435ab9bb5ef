"""Balance alerts over any walk of a balance: one event per crossing, never one per step.

Folding `level_of` and `crossings` over a random walk of available credits, a line is
crossed down again only after a `balance.recovered`, and the count of each downward event
is the count of the walk's falls past its line.
"""

from hypothesis import given
from hypothesis import strategies as st

from creditgate.domain.alerts import AlertLevel, crossings, level_of
from creditgate.domain.webhooks import EventType

LINE = 10_000

walks = st.lists(st.integers(min_value=-5_000, max_value=30_000), min_size=1, max_size=60)


def fold(walk: list[int]) -> list[EventType]:
    level = AlertLevel.OK
    raised: list[EventType] = []
    for available in walk:
        new = level_of(available_units=available, low_units=LINE)
        raised.extend(crossings(level, new))
        level = new
    return raised


@given(walks)
def test_a_line_is_crossed_down_again_only_after_a_recovery(walk: list[int]) -> None:
    raised = fold(walk)

    for down in (EventType.BALANCE_LOW, EventType.BALANCE_DEPLETED):
        since_recovery = 0
        for event in raised:
            if event is EventType.BALANCE_RECOVERED:
                since_recovery = 0
            elif event is down:
                since_recovery += 1
                assert since_recovery == 1, f"two {down} without a recovery between"


@given(walks)
def test_low_events_count_the_falls_below_the_line(walk: list[int]) -> None:
    falls = sum(
        1 for before, after in zip([LINE, *walk], walk, strict=False) if before >= LINE > after
    )

    raised = fold(walk)

    assert raised.count(EventType.BALANCE_LOW) == falls


@given(walks)
def test_depleted_events_count_the_falls_to_zero(walk: list[int]) -> None:
    falls = sum(
        1 for before, after in zip([LINE, *walk], walk, strict=False) if before > 0 >= after
    )

    raised = fold(walk)

    assert raised.count(EventType.BALANCE_DEPLETED) == falls
