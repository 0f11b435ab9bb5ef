"""Refunds of a charge or a settle: full or partial, never more than was taken, back to its lots."""

import pytest

from creditgate import (
    Credits,
    Engine,
    EntryKind,
    InvalidInput,
    ManualClock,
)
from creditgate.domain.ids import LotId
from tests.factories import DAY, MINUTE, funded_account


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def lot_of(engine: Engine, amount: int, **grant: object) -> LotId:
    receipt = engine.grant("user_1", amount, **grant)  # type: ignore[arg-type]
    return receipt.entry.moves[0].lot_id


def test_refund_gives_back_the_whole_charge(engine: Engine) -> None:
    funded_account(engine, credits=10)
    charge = engine.charge("user_1", 4, feature="image.generate")

    receipt = engine.refund(charge.entry.id, reason="generation failed")

    entry = receipt.entry
    assert (entry.kind, entry.amount) == (EntryKind.REFUND, credits(4))
    assert entry.ref_entry_id == charge.entry.id
    assert entry.feature == "image.generate"
    assert entry.reason == "generation failed"
    assert receipt.balance.balance == credits(10)
    assert engine.verify().is_clean


def test_refund_gives_back_part_of_a_charge(engine: Engine) -> None:
    funded_account(engine, credits=10)
    charge = engine.charge("user_1", 4)

    receipt = engine.refund(charge.entry.id, "1.5")

    assert receipt.entry.amount == credits("1.5")
    assert receipt.balance.balance == credits(10 - 4) + credits("1.5")
    assert engine.verify().is_clean


def test_refund_without_an_amount_gives_back_what_is_left(engine: Engine) -> None:
    funded_account(engine, credits=10)
    charge = engine.charge("user_1", 4)
    engine.refund(charge.entry.id, 1)

    receipt = engine.refund(charge.entry.id)

    assert receipt.entry.amount == credits(4 - 1)
    assert receipt.balance.balance == credits(10)


def test_refund_refuses_more_than_was_taken_in_total(engine: Engine) -> None:
    funded_account(engine, credits=10)
    charge = engine.charge("user_1", 4)
    engine.refund(charge.entry.id, 3)
    before = (engine.balance("user_1"), engine.history("user_1").items)

    with pytest.raises(InvalidInput) as raised:
        engine.refund(charge.entry.id, 2)

    assert raised.value.field == "amount"
    assert (engine.balance("user_1"), engine.history("user_1").items) == before
    assert engine.verify().is_clean


def test_refund_refuses_a_charge_that_was_fully_refunded(engine: Engine) -> None:
    funded_account(engine, credits=10)
    charge = engine.charge("user_1", 4)
    engine.refund(charge.entry.id)

    with pytest.raises(InvalidInput) as raised:
        engine.refund(charge.entry.id)

    assert raised.value.field == "amount"
    assert engine.balance("user_1").balance == credits(10)


def test_refund_gives_back_a_settled_hold(engine: Engine) -> None:
    funded_account(engine, credits=10)
    hold = engine.hold("user_1", 5, ttl=MINUTE).hold
    assert hold is not None
    settle = engine.settle(hold.id, 4)

    receipt = engine.refund(settle.entry.id)

    assert receipt.entry.amount == credits(4)
    assert receipt.balance.balance == credits(10)
    assert engine.verify().is_clean


def test_refund_refuses_an_entry_that_is_not_a_charge_or_settle(engine: Engine) -> None:
    funded_account(engine, credits=10)
    hold = engine.hold("user_1", 1, ttl=MINUTE)

    with pytest.raises(InvalidInput) as raised:
        engine.refund(hold.entry.id)

    assert raised.value.field == "entry_id"
    assert engine.balance("user_1").held == credits(1)


def test_refund_returns_credits_to_the_lots_they_came_from(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    lasting = lot_of(engine, 10)
    expiring = lot_of(engine, 3, expires_at=clock.now() + DAY)
    charge = engine.charge("user_1", 5)

    receipt = engine.refund(charge.entry.id)

    assert sorted((m.lot_id, m.amount) for m in receipt.entry.moves) == sorted(
        [(expiring, credits(3)), (lasting, credits(5 - 3))]
    )
    assert engine.verify().is_clean


def test_refund_of_part_returns_to_the_most_recently_burned_lot_first(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    lasting = lot_of(engine, 10)
    expiring = lot_of(engine, 3, expires_at=clock.now() + DAY)
    charge = engine.charge("user_1", 5)

    first = engine.refund(charge.entry.id, 1)
    second = engine.refund(charge.entry.id, 3)

    assert [(m.lot_id, m.amount) for m in first.entry.moves] == [(lasting, credits(1))]
    assert sorted((m.lot_id, m.amount) for m in second.entry.moves) == sorted(
        [(lasting, credits(5 - 3 - 1)), (expiring, credits(3 - (5 - 3 - 1)))]
    )


def test_refund_to_an_expired_lot_arrives_as_a_new_refund_lot_without_expiry(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    promo = lot_of(engine, 5, source="promo", expires_at=clock.now() + DAY)
    charge = engine.charge("user_1", 3)
    clock.advance(2 * DAY)

    receipt = engine.refund(charge.entry.id)
    clock.advance(3650 * DAY)

    (move,) = receipt.entry.moves
    assert move.lot_id != promo
    assert move.amount == credits(3)
    assert engine.balance("user_1").balance == credits(3)
    assert engine.lifetime("user_1").expired == credits(5 - 3)
    assert engine.charge("user_1", 3).credits_remaining == Credits(0)
    assert engine.verify().is_clean


def test_refund_to_a_lot_expiring_at_that_instant_arrives_as_a_new_lot(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    promo = lot_of(engine, 5, source="promo", expires_at=clock.now() + DAY)
    charge = engine.charge("user_1", 3)
    clock.advance(DAY)

    receipt = engine.refund(charge.entry.id)

    assert [m.lot_id for m in receipt.entry.moves] != [promo]
    assert receipt.balance.balance == credits(3)
    assert engine.verify().is_clean


def test_refund_repays_the_debt_its_charge_ran_up_first(engine: Engine) -> None:
    engine.create_account("user_1", floor=-10)
    engine.grant("user_1", 2)
    charge = engine.charge("user_1", 5)

    receipt = engine.refund(charge.entry.id, 3)

    assert receipt.balance.debt == Credits(0)
    assert receipt.entry.moves == ()
    assert receipt.balance.balance == credits(2 - 5 + 3)
    assert engine.verify().is_clean
