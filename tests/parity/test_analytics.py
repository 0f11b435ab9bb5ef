"""Analytics figures: equal on both faces, and refused alike."""

from datetime import datetime, timedelta

import pytest

from creditgate import InvalidInput, Ledger
from tests.factories import ANALYTICS_DAY_1, ANALYTICS_NOW, analytics_scene
from tests.parity.conftest import ON_SQLITE_ONLY, Faces

SINCE = ANALYTICS_DAY_1
UNTIL = ANALYTICS_DAY_1 + timedelta(days=7)


def _figures(ledger: Ledger) -> tuple[object, ...]:
    return (
        ledger.spend_by_feature(since=SINCE, until=UNTIL),
        ledger.spend_by_model(since=SINCE, until=UNTIL),
        ledger.generations_by_model(since=SINCE, until=UNTIL),
        ledger.latency_by_model(since=SINCE, until=UNTIL),
        ledger.grants_by_source(since=SINCE, until=UNTIL),
        ledger.revenue_by_pack(since=SINCE, until=UNTIL),
        ledger.top_spenders(since=SINCE, until=UNTIL, limit=2),
        ledger.guest_conversion(since=SINCE, until=UNTIL),
        ledger.welcome_usage(since=SINCE, until=UNTIL),
    )


def test_analytics_figures_are_equal_on_both_faces(faces: Faces) -> None:
    for at, step in analytics_scene():
        faces.clock.set(at)
        faces.arrange(step)
    faces.clock.set(ANALYTICS_NOW)

    embedded, remote = faces.both(_figures)

    assert embedded == remote
    assert all(remote)


@ON_SQLITE_ONLY
@pytest.mark.parametrize(
    ("since", "until", "field"),
    [(UNTIL, SINCE, "until"), (SINCE, SINCE + timedelta(days=367), "until")],
    ids=["reversed", "longer_than_366_days"],
)
def test_analytics_bad_range_raises_equal_invalid_input(
    faces: Faces, since: datetime, until: datetime, field: str
) -> None:
    embedded, remote = faces.each(lambda ledger: ledger.welcome_usage(since=since, until=until))

    assert embedded == remote
    assert isinstance(remote, InvalidInput)
    assert remote.field == field
