"""Holds: set aside, then settle, release, extend or expire; each hold ends exactly once."""

from datetime import timedelta

import pytest

from creditgate import (
    AccountFrozen,
    Credits,
    Engine,
    EntryKind,
    Hold,
    HoldNotPending,
    HoldStatus,
    InsufficientCredits,
    ManualClock,
)
from tests.factories import MINUTE, funded_account

TTL = 5 * MINUTE


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def hold_of(engine: Engine, amount: int | str, account_id: str = "user_1", **kw: object) -> Hold:
    ttl = kw.pop("ttl", TTL)
    receipt = engine.hold(account_id, amount, ttl=ttl, **kw)  # type: ignore[arg-type]
    assert receipt.hold is not None
    return receipt.hold


class WorkFailed(Exception):
    pass


def test_hold_sets_credits_aside_without_changing_the_balance(
    engine: Engine, clock: ManualClock
) -> None:
    funded_account(engine, credits=10)

    receipt = engine.hold("user_1", 4, ttl=TTL, feature="llm.chat")

    assert receipt.hold is not None
    assert receipt.hold.status is HoldStatus.PENDING
    assert receipt.hold.amount == credits(4)
    assert receipt.hold.expires_at == clock.now() + TTL
    assert (receipt.entry.kind, receipt.entry.amount) == (EntryKind.HOLD, Credits(0))
    assert receipt.entry.held_delta == credits(4)
    assert receipt.entry.hold_id == receipt.hold.id
    assert receipt.balance.balance == credits(10)
    assert receipt.balance.held == credits(4)
    assert receipt.credits_remaining == credits(10 - 4)
    assert engine.verify().is_clean


def test_hold_raises_insufficient_credits_when_less_is_available(engine: Engine) -> None:
    funded_account(engine, credits=10)
    hold_of(engine, 6)

    with pytest.raises(InsufficientCredits) as raised:
        engine.hold("user_1", 5, ttl=TTL)

    assert raised.value.available == credits(10 - 6)
    assert engine.balance("user_1").held == credits(6)
    assert len(engine.history("user_1").items) == 2


def test_hold_raises_account_frozen_when_frozen(engine: Engine) -> None:
    funded_account(engine, credits=10)
    engine.update_account("user_1", is_frozen=True)

    with pytest.raises(AccountFrozen):
        engine.hold("user_1", 1, ttl=TTL)

    assert engine.balance("user_1").held == Credits(0)


def test_settle_captures_the_actual_cost_and_releases_the_rest(
    engine: Engine, clock: ManualClock
) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 5, feature="image.generate")

    receipt = engine.settle(hold.id, 3)

    assert (receipt.entry.kind, receipt.entry.amount) == (EntryKind.SETTLE, -credits(3))
    assert receipt.entry.held_delta == -credits(5)
    assert receipt.entry.cost == credits(3)
    assert receipt.entry.feature == "image.generate"
    assert receipt.balance.balance == credits(10 - 3)
    assert receipt.balance.held == Credits(0)
    assert receipt.hold is not None
    assert receipt.hold.status is HoldStatus.SETTLED
    assert receipt.hold.captured == credits(3)
    assert receipt.hold.ended_at == clock.now()
    assert engine.verify().is_clean


def test_settle_of_zero_takes_nothing_and_ends_the_hold(engine: Engine) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 5)

    receipt = engine.settle(hold.id, 0)

    assert receipt.balance.balance == credits(10)
    assert receipt.balance.held == Credits(0)
    assert engine.get_hold(hold.id).status is HoldStatus.SETTLED


def test_settle_above_the_hold_takes_the_extra_when_it_is_available(engine: Engine) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 5)

    receipt = engine.settle(hold.id, 7)

    assert receipt.credits_used == credits(7)
    assert receipt.balance.balance == credits(10 - 7)
    assert receipt.hold is not None
    assert receipt.hold.captured == credits(7)
    assert engine.verify().is_clean


def test_settle_above_the_hold_raises_insufficient_credits_and_leaves_it_pending(
    engine: Engine,
) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 5)

    with pytest.raises(InsufficientCredits) as raised:
        engine.settle(hold.id, 11)

    assert raised.value.required == credits(11)
    assert raised.value.available == credits(10)
    assert engine.get_hold(hold.id).status is HoldStatus.PENDING
    assert engine.balance("user_1").held == credits(5)
    assert engine.settle(hold.id, 5).balance.balance == credits(5)
    assert engine.verify().is_clean


def test_settle_above_the_hold_cannot_take_what_other_holds_set_aside(engine: Engine) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 5)
    hold_of(engine, 3)

    with pytest.raises(InsufficientCredits) as raised:
        engine.settle(hold.id, 8)

    assert raised.value.available == credits(10 - 3)


def test_settle_above_the_hold_raises_account_frozen_when_frozen(engine: Engine) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 5)
    engine.update_account("user_1", is_frozen=True)

    with pytest.raises(AccountFrozen):
        engine.settle(hold.id, 6)

    assert engine.get_hold(hold.id).status is HoldStatus.PENDING


def test_release_returns_everything_the_hold_set_aside(engine: Engine, clock: ManualClock) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 5, feature="video.generate")

    receipt = engine.release(hold.id)

    assert (receipt.entry.kind, receipt.entry.amount) == (EntryKind.RELEASE, Credits(0))
    assert receipt.entry.held_delta == -credits(5)
    assert receipt.balance.balance == credits(10)
    assert receipt.balance.held == Credits(0)
    assert receipt.hold is not None
    assert receipt.hold.status is HoldStatus.RELEASED
    assert receipt.hold.ended_at == clock.now()
    assert engine.verify().is_clean


@pytest.mark.parametrize(
    ("first", "second", "status"),
    [
        ("settle", "release", HoldStatus.SETTLED),
        ("release", "settle", HoldStatus.RELEASED),
    ],
)
def test_end_raises_hold_not_pending_when_the_hold_already_ended(
    engine: Engine, first: str, second: str, status: HoldStatus
) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 5)
    ends = {"settle": lambda: engine.settle(hold.id, 2), "release": lambda: engine.release(hold.id)}
    ends[first]()
    after_first = engine.balance("user_1")

    with pytest.raises(HoldNotPending) as raised:
        ends[second]()

    assert raised.value.fields() == {"hold_id": hold.id, "hold_status": status.value}
    assert engine.balance("user_1") == after_first
    assert engine.verify().is_clean


def test_balance_makes_an_expired_holds_credits_available_without_a_sweep(
    engine: Engine, clock: ManualClock
) -> None:
    funded_account(engine, credits=10)
    hold_of(engine, 8)
    clock.advance(TTL)

    balance = engine.balance("user_1")

    assert (balance.balance, balance.held, balance.available) == (
        credits(10),
        Credits(0),
        credits(10),
    )


def test_charge_spends_an_expired_holds_credits_without_a_sweep(
    engine: Engine, clock: ManualClock
) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 8)
    clock.advance(TTL)

    receipt = engine.charge("user_1", 10)

    assert receipt.credits_remaining == Credits(0)
    expiries = engine.history("user_1", kinds=["expire"]).items
    assert [(e.hold_id, e.held_delta) for e in expiries] == [(hold.id, -credits(8))]
    assert engine.verify().is_clean


def test_hold_is_still_pending_just_before_its_ttl(engine: Engine, clock: ManualClock) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 8)
    clock.advance(TTL - timedelta(microseconds=1))

    receipt = engine.settle(hold.id, 8)

    assert receipt.balance.balance == credits(2)


@pytest.mark.parametrize("end", ["settle", "release"])
def test_end_raises_hold_not_pending_once_the_ttl_has_passed(
    engine: Engine, clock: ManualClock, end: str
) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 5)
    clock.advance(TTL)

    with pytest.raises(HoldNotPending) as raised:
        engine.settle(hold.id, 5) if end == "settle" else engine.release(hold.id)

    assert raised.value.hold_status == "expired"
    assert engine.balance("user_1").balance == credits(10)
    assert engine.verify().is_clean


def test_extend_grows_a_pending_hold(engine: Engine) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 5)

    receipt = engine.extend(hold.id, 3)

    assert receipt.hold is not None
    assert receipt.hold.amount == credits(5 + 3)
    assert receipt.hold.expires_at == hold.expires_at
    assert (receipt.entry.kind, receipt.entry.held_delta) == (EntryKind.HOLD, credits(3))
    assert receipt.balance.held == credits(8)
    assert engine.settle(hold.id, 8).balance.balance == credits(2)
    assert engine.verify().is_clean


def test_extend_raises_insufficient_credits_beyond_what_is_available(engine: Engine) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 5)
    engine.charge("user_1", 2)

    with pytest.raises(InsufficientCredits) as raised:
        engine.extend(hold.id, 4)

    assert raised.value.available == credits(10 - 5 - 2)
    assert engine.get_hold(hold.id).amount == credits(5)
    assert engine.balance("user_1").held == credits(5)


def test_extend_with_a_ttl_restarts_the_holds_clock(engine: Engine, clock: ManualClock) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 5)
    clock.advance(4 * MINUTE)

    receipt = engine.extend(hold.id, 1, ttl=TTL)
    clock.advance(2 * MINUTE)

    assert receipt.hold is not None
    assert receipt.hold.expires_at == clock.now() - 2 * MINUTE + TTL
    assert engine.get_hold(hold.id).status is HoldStatus.PENDING


def test_extend_raises_hold_not_pending_once_the_ttl_has_passed(
    engine: Engine, clock: ManualClock
) -> None:
    funded_account(engine, credits=10)
    hold = hold_of(engine, 5)
    clock.advance(TTL)

    with pytest.raises(HoldNotPending) as raised:
        engine.extend(hold.id, 1, ttl=TTL)

    assert raised.value.hold_status == "expired"


def test_holding_settles_for_the_held_amount_on_success(engine: Engine) -> None:
    funded_account(engine, credits=10)

    with engine.holding("user_1", 4, ttl=TTL, feature="image.generate") as work:
        inside = engine.balance("user_1")

    assert inside.held == credits(4)
    assert work.receipt is not None
    assert work.receipt.entry.kind is EntryKind.SETTLE
    assert engine.get_hold(work.hold.id).captured == credits(4)
    assert engine.balance("user_1").balance == credits(10 - 4)
    assert engine.verify().is_clean


def test_holding_settles_for_the_actual_cost_it_was_given(engine: Engine) -> None:
    funded_account(engine, credits=10)

    with engine.holding("user_1", 4, ttl=TTL) as work:
        work.actual = credits("1.5")

    assert engine.get_hold(work.hold.id).captured == credits("1.5")
    assert engine.balance("user_1").balance == credits("8.5")


def test_holding_releases_and_reraises_when_the_work_fails(engine: Engine) -> None:
    funded_account(engine, credits=10)

    with pytest.raises(WorkFailed), engine.holding("user_1", 4, ttl=TTL) as work:
        raise WorkFailed

    assert engine.get_hold(work.hold.id).status is HoldStatus.RELEASED
    assert engine.balance("user_1").available == credits(10)
    assert engine.verify().is_clean


def test_holding_extends_while_the_work_runs(engine: Engine) -> None:
    funded_account(engine, credits=10)

    with engine.holding("user_1", 2, ttl=TTL) as work:
        grown = work.extend(3)

    assert grown.amount == credits(2 + 3)
    assert engine.get_hold(work.hold.id).captured == credits(5)
    assert engine.balance("user_1").balance == credits(10 - 5)


def test_holding_raises_before_the_block_when_credits_are_short(engine: Engine) -> None:
    funded_account(engine, credits=1)
    ran = []

    with pytest.raises(InsufficientCredits), engine.holding("user_1", 4, ttl=TTL):
        ran.append(True)

    assert ran == []
    assert len(engine.history("user_1").items) == 1


def test_settle_captures_a_lot_that_expired_while_the_hold_pinned_it(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 10, source="promo", expires_at=clock.now() + MINUTE)
    hold = hold_of(engine, 4, ttl=3 * MINUTE)
    clock.advance(2 * MINUTE)

    receipt = engine.settle(hold.id, 3)

    assert receipt.credits_used == credits(3)
    assert receipt.balance.balance == Credits(0)
    lifetime = engine.lifetime("user_1")
    assert (lifetime.spent, lifetime.expired) == (credits(3), credits(10 - 3))
    assert engine.verify().is_clean


def test_balance_counts_only_the_pinned_part_of_a_lot_that_expired_under_a_hold(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 10, source="promo", expires_at=clock.now() + MINUTE)
    hold_of(engine, 4, ttl=3 * MINUTE)
    clock.advance(2 * MINUTE)

    balance = engine.balance("user_1")

    assert (balance.balance, balance.held, balance.available) == (
        credits(4),
        credits(4),
        Credits(0),
    )


def test_release_lets_a_lot_that_expired_under_the_hold_expire(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 10, source="promo", expires_at=clock.now() + MINUTE)
    hold = hold_of(engine, 4, ttl=3 * MINUTE)
    clock.advance(2 * MINUTE)

    receipt = engine.release(hold.id)

    assert receipt.balance.balance == Credits(0)
    expiries = engine.history("user_1", kinds=["expire"]).items
    assert [e.amount for e in expiries] == [-credits(10)]
    assert engine.verify().is_clean


def test_settle_above_the_hold_cannot_take_a_lot_that_expired_under_it(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 10, source="promo", expires_at=clock.now() + MINUTE)
    hold = hold_of(engine, 4, ttl=3 * MINUTE)
    clock.advance(2 * MINUTE)

    with pytest.raises(InsufficientCredits) as raised:
        engine.settle(hold.id, 5)

    assert raised.value.available == credits(4)
    assert engine.get_hold(hold.id).status is HoldStatus.PENDING
