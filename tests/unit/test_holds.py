"""Hold states at an instant and the checks on a hold's life (pure, no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from creditgate import Credits, Hold, HoldNotPending, HoldStatus, InvalidInput
from creditgate.domain.holds import check_pending, check_ttl
from creditgate.domain.ids import AccountId, HoldId
from creditgate.domain.limits import HOLD_TTL_MAX, HOLD_TTL_MIN

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


def hold(status: HoldStatus = HoldStatus.PENDING, *, expires_at: datetime = NOW + TTL) -> Hold:
    return Hold(
        id=HoldId(7),
        account_id=AccountId("user_1"),
        amount=Credits(5000),
        status=status,
        captured=None,
        member_id=None,
        feature=None,
        metadata={},
        created_at=NOW,
        expires_at=expires_at,
        ended_at=None,
    )


def test_status_at_is_pending_before_the_ttl_passes() -> None:
    status = hold().status_at(NOW + TTL - timedelta(microseconds=1))

    assert status is HoldStatus.PENDING


def test_status_at_is_expired_from_the_instant_the_ttl_passes() -> None:
    status = hold().status_at(NOW + TTL)

    assert status is HoldStatus.EXPIRED


@pytest.mark.parametrize("ended", [HoldStatus.SETTLED, HoldStatus.RELEASED, HoldStatus.EXPIRED])
def test_status_at_keeps_an_ended_status_past_the_ttl(ended: HoldStatus) -> None:
    status = hold(ended).status_at(NOW + 2 * TTL)

    assert status is ended


def test_check_pending_accepts_a_pending_hold_within_its_ttl() -> None:
    check_pending(hold(), NOW)


@pytest.mark.parametrize("ended", [HoldStatus.SETTLED, HoldStatus.RELEASED, HoldStatus.EXPIRED])
def test_check_pending_refuses_an_ended_hold(ended: HoldStatus) -> None:
    with pytest.raises(HoldNotPending) as raised:
        check_pending(hold(ended), NOW)

    assert raised.value.hold_id == 7
    assert raised.value.hold_status == ended.value


def test_check_pending_refuses_a_pending_hold_past_its_ttl() -> None:
    with pytest.raises(HoldNotPending) as raised:
        check_pending(hold(), NOW + TTL)

    assert raised.value.hold_status == "expired"


@pytest.mark.parametrize("ttl", [HOLD_TTL_MIN, TTL, HOLD_TTL_MAX])
def test_check_ttl_accepts_a_duration_within_range(ttl: timedelta) -> None:
    checked = check_ttl(ttl)

    assert checked == ttl


@pytest.mark.parametrize(
    "ttl",
    [
        timedelta(0),
        timedelta(seconds=-1),
        HOLD_TTL_MIN - timedelta(microseconds=1),
        HOLD_TTL_MAX + timedelta(microseconds=1),
        60,
        60.0,
        "PT1M",
        None,
    ],
)
def test_check_ttl_refuses_a_bad_duration(ttl: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_ttl(ttl)

    assert raised.value.field == "ttl"
