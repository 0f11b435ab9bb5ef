"""What falls due at an instant: holds past their ttl, lots past their expiry (pure)."""

from datetime import UTC, datetime, timedelta

from creditgate import Credits, Hold, HoldStatus, LotSource
from creditgate.domain.due import LotExpiry, plan_due
from creditgate.domain.ids import AccountId, HoldId, LotId
from creditgate.domain.lots import Lot

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def lot(
    lot_id: int,
    remaining: int = 10_000,
    *,
    expires_at: datetime | None = None,
    held: int = 0,
) -> Lot:
    return Lot(
        id=LotId(lot_id),
        source=LotSource.PROMO,
        amount=Credits(10_000),
        remaining=Credits(remaining),
        held=Credits(held),
        priority=0,
        expires_at=expires_at,
        created_at=START,
        metadata={},
    )


def hold(
    hold_id: int,
    *,
    expires_at: datetime,
    amount: int = 2000,
    status: HoldStatus = HoldStatus.PENDING,
) -> Hold:
    return Hold(
        id=HoldId(hold_id),
        account_id=AccountId("user_1"),
        amount=Credits(amount),
        status=status,
        captured=None,
        member_id=None,
        feature=None,
        metadata={},
        created_at=START,
        expires_at=expires_at,
        ended_at=None,
    )


def test_plan_due_is_empty_for_an_account_with_nothing() -> None:
    due = plan_due([], [], {}, START)

    assert due.is_empty
    assert due.withheld_units == 0
    assert due.next_due_at is None


def test_plan_due_is_empty_with_no_next_instant_for_lasting_lots() -> None:
    due = plan_due([lot(1), lot(2)], [], {}, START + 1000 * HOUR)

    assert due.is_empty
    assert due.next_due_at is None


def test_plan_due_names_the_next_expiry_when_nothing_is_due_yet() -> None:
    lots = [lot(1, expires_at=START + 3 * HOUR), lot(2, expires_at=START + 2 * HOUR)]

    due = plan_due(lots, [], {}, START)

    assert due.is_empty
    assert due.next_due_at == START + 2 * HOUR


def test_plan_due_expires_the_whole_remainder_of_an_expired_lot() -> None:
    expired = lot(1, 6000, expires_at=START + HOUR)

    due = plan_due([expired], [], {}, START + 2 * HOUR)

    assert due.lots == (LotExpiry(expired, 6000, START + HOUR),)
    assert due.next_due_at is None


def test_plan_due_expires_a_lot_at_the_instant_of_its_expiry() -> None:
    expired = lot(1, expires_at=START + HOUR)

    due = plan_due([expired], [], {}, START + HOUR)

    assert [e.lot.id for e in due.lots] == [1]


def test_plan_due_skips_an_expired_lot_with_nothing_left() -> None:
    due = plan_due([lot(1, 0, expires_at=START)], [], {}, START + HOUR)

    assert due.is_empty


def test_plan_due_orders_lot_expiries_by_effective_time_then_lot_id() -> None:
    lots = [
        lot(3, expires_at=START + 2 * HOUR),
        lot(2, expires_at=START + HOUR),
        lot(1, expires_at=START + 2 * HOUR),
    ]

    due = plan_due(lots, [], {}, START + 3 * HOUR)

    assert [e.lot.id for e in due.lots] == [2, 1, 3]


def test_plan_due_expires_pending_holds_past_their_ttl_in_expiry_order() -> None:
    holds = [hold(2, expires_at=START + 2 * HOUR), hold(1, expires_at=START + HOUR)]

    due = plan_due([], holds, {}, START + 3 * HOUR)

    assert [h.id for h in due.holds] == [1, 2]


def test_plan_due_ignores_ended_holds_and_names_the_live_ones_next() -> None:
    holds = [
        hold(1, expires_at=START - HOUR, status=HoldStatus.SETTLED),
        hold(2, expires_at=START + HOUR),
    ]

    due = plan_due([], holds, {}, START)

    assert due.is_empty
    assert due.next_due_at == START + HOUR


def test_plan_due_withholds_the_free_part_of_an_expired_lot_pinned_by_a_live_hold() -> None:
    expired = lot(1, 10_000, expires_at=START + HOUR, held=3000)
    live = hold(9, expires_at=START + 3 * HOUR, amount=3000)

    due = plan_due([expired], [live], {HoldId(9): {LotId(1): 3000}}, START + 2 * HOUR)

    assert due.lots == ()
    assert due.withheld_units == 7000
    assert due.next_due_at == START + HOUR


def test_plan_due_dates_a_pinned_lots_expiry_at_the_lot_expiry_when_its_hold_expires_later() -> (
    None
):
    expired = lot(1, 10_000, expires_at=START + HOUR, held=3000)
    late = hold(9, expires_at=START + 2 * HOUR, amount=3000)

    due = plan_due([expired], [late], {HoldId(9): {LotId(1): 3000}}, START + 3 * HOUR)

    assert [h.id for h in due.holds] == [9]
    assert due.lots == (LotExpiry(expired, 10_000, START + HOUR),)
    assert due.withheld_units == 0


def test_plan_due_keeps_the_lots_expiry_when_the_hold_expired_before_it() -> None:
    expiring = lot(1, 10_000, expires_at=START + 2 * HOUR, held=3000)
    early = hold(9, expires_at=START + HOUR, amount=3000)

    due = plan_due([expiring], [early], {HoldId(9): {LotId(1): 3000}}, START + 3 * HOUR)

    assert due.lots == (LotExpiry(expiring, 10_000, START + 2 * HOUR),)


def test_plan_due_withholds_while_any_live_hold_still_pins_the_lot() -> None:
    expired = lot(1, 10_000, expires_at=START + HOUR, held=5000)
    holds = [
        hold(8, expires_at=START + 2 * HOUR, amount=2000),
        hold(9, expires_at=START + 5 * HOUR, amount=3000),
    ]
    pins = {HoldId(8): {LotId(1): 2000}, HoldId(9): {LotId(1): 3000}}

    due = plan_due([expired], holds, pins, START + 3 * HOUR)

    assert [h.id for h in due.holds] == [8]
    assert due.lots == ()
    assert due.withheld_units == 7000
