"""Expiry: decided at query time; the expiry pass writes one expire entry per lot, once."""

import pytest

from creditgate import (
    Credits,
    Engine,
    EntryKind,
    ExpirePass,
    HoldStatus,
    InsufficientCredits,
    ManualClock,
)
from tests.factories import DAY, MINUTE, funded_account


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def test_charge_never_spends_an_expired_lot_before_the_pass_runs(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 5, source="promo", expires_at=clock.now() + DAY)
    clock.advance(DAY)

    with pytest.raises(InsufficientCredits) as raised:
        engine.charge("user_1", 1)

    assert raised.value.available == Credits(0)
    assert engine.verify().is_clean


def test_balance_leaves_out_an_expired_lot_before_the_pass_runs(
    engine: Engine, clock: ManualClock
) -> None:
    funded_account(engine, credits=2)
    engine.grant("user_1", 5, source="promo", expires_at=clock.now() + DAY)
    clock.advance(DAY)

    balance = engine.balance("user_1")

    assert (balance.balance, balance.available) == (credits(2), credits(2))


def test_expire_writes_one_entry_per_expired_lot_with_a_remainder(
    engine: Engine, clock: ManualClock
) -> None:
    start = clock.now()
    engine.create_account("user_1")
    spent = engine.grant("user_1", 1, source="promo", expires_at=start + DAY).entry.moves[0].lot_id
    first = (
        engine.grant("user_1", 5, source="welcome", expires_at=start + DAY).entry.moves[0].lot_id
    )
    second = engine.grant("user_1", 3, source="promo", expires_at=start + 2 * DAY)
    engine.grant("user_1", 10, source="purchase")
    engine.charge("user_1", 2)
    clock.advance(3 * DAY)

    result = engine.expire()

    expiries = engine.history("user_1", kinds=["expire"]).items
    by_lot = {e.moves[0].lot_id: (e.amount, e.effective_at, e.source) for e in expiries}
    assert spent not in by_lot
    assert by_lot == {
        first: (-credits(5 - 1), start + DAY, "welcome"),
        second.entry.moves[0].lot_id: (-credits(3), start + 2 * DAY, "promo"),
    }
    assert result == ExpirePass(
        accounts=1, lots_expired=2, holds_expired=0, credits_expired=credits(4 + 3)
    )
    assert engine.balance("user_1").balance == credits(10)
    assert engine.verify().is_clean


def test_expire_run_twice_writes_nothing_more(engine: Engine, clock: ManualClock) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 5, source="promo", expires_at=clock.now() + DAY)
    clock.advance(DAY)
    engine.expire()
    entries = engine.history("user_1").items

    again = engine.expire()

    assert again == ExpirePass(
        accounts=0, lots_expired=0, holds_expired=0, credits_expired=Credits(0)
    )
    assert engine.history("user_1").items == entries
    assert engine.verify().is_clean


def test_expire_writes_nothing_before_anything_is_due(engine: Engine, clock: ManualClock) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 5, source="promo", expires_at=clock.now() + DAY)
    clock.advance(DAY - MINUTE)

    result = engine.expire()

    assert result.lots_expired == 0
    assert engine.history("user_1", kinds=["expire"]).items == ()


def test_expire_writes_nothing_for_an_expiry_a_later_write_already_recorded(
    engine: Engine, clock: ManualClock
) -> None:
    funded_account(engine, credits=10)
    engine.grant("user_1", 5, source="promo", expires_at=clock.now() + DAY)
    clock.advance(DAY)
    engine.charge("user_1", 1)

    result = engine.expire()

    assert result.lots_expired == 0
    assert len(engine.history("user_1", kinds=["expire"]).items) == 1
    assert engine.verify().is_clean


def test_expire_ends_a_hold_past_its_ttl_through_one_expire_entry(
    engine: Engine, clock: ManualClock
) -> None:
    funded_account(engine, credits=10)
    hold = engine.hold("user_1", 4, ttl=MINUTE).hold
    assert hold is not None
    clock.advance(2 * MINUTE)

    result = engine.expire()

    (entry,) = engine.history("user_1", kinds=["expire"]).items
    assert (entry.kind, entry.hold_id, entry.amount) == (EntryKind.EXPIRE, hold.id, Credits(0))
    assert entry.held_delta == -credits(4)
    assert entry.effective_at == hold.expires_at
    assert (result.holds_expired, result.lots_expired) == (1, 0)
    assert engine.get_hold(hold.id).status is HoldStatus.EXPIRED
    assert engine.balance("user_1").held == Credits(0)
    assert engine.expire().holds_expired == 0
    assert engine.verify().is_clean


def test_expire_visits_every_account_with_something_due(engine: Engine, clock: ManualClock) -> None:
    for n in range(3):
        engine.create_account(f"user_{n}")
        engine.grant(f"user_{n}", n + 1, source="promo", expires_at=clock.now() + DAY)
    engine.create_account("lasting")
    engine.grant("lasting", 9, source="purchase")
    clock.advance(DAY)

    result = engine.expire()

    assert (result.accounts, result.lots_expired) == (3, 3)
    assert result.credits_expired == credits(1 + 2 + 3)
    assert engine.balance("lasting").balance == credits(9)
    assert engine.verify().is_clean


def test_expire_waits_for_a_hold_that_pins_an_expired_lot(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 10, source="promo", expires_at=clock.now() + MINUTE)
    hold = engine.hold("user_1", 4, ttl=5 * MINUTE).hold
    assert hold is not None
    clock.advance(2 * MINUTE)

    result = engine.expire()

    assert result.lots_expired == 0
    assert engine.settle(hold.id, 4).balance.balance == Credits(0)
    assert engine.lifetime("user_1").expired == credits(10 - 4)
    assert engine.verify().is_clean


def test_expire_writes_a_pinned_lot_once_its_hold_has_expired_too(
    engine: Engine, clock: ManualClock
) -> None:
    start = clock.now()
    engine.create_account("user_1")
    engine.grant("user_1", 10, source="promo", expires_at=start + MINUTE)
    engine.hold("user_1", 4, ttl=5 * MINUTE)
    clock.advance(10 * MINUTE)

    result = engine.expire()

    (lot_expiry,) = [e for e in engine.history("user_1", kinds=["expire"]).items if e.amount]
    assert (result.holds_expired, result.lots_expired) == (1, 1)
    assert result.credits_expired == credits(10)
    assert lot_expiry.effective_at == start + MINUTE
    assert engine.balance_at("user_1", start + 3 * MINUTE) == credits(4)
    assert engine.balance_at("user_1", start + 5 * MINUTE) == Credits(0)
    assert engine.balance("user_1").balance == Credits(0)
    assert engine.verify().is_clean
