"""Charges: atomic across lots, all or nothing, frozen and unlimited accounts, overdraft floors."""

import pytest

from creditgate import (
    AccountFrozen,
    Balance,
    Credits,
    Engine,
    Entry,
    EntryKind,
    InsufficientCredits,
    Lifetime,
    ManualClock,
)
from tests.factories import MINUTE, funded_account


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def state(engine: Engine, account_id: str) -> tuple[Balance, tuple[Entry, ...], Lifetime]:
    """Everything a reader can see of an account."""
    return (
        engine.balance(account_id),
        engine.history(account_id).items,
        engine.lifetime(account_id),
    )


def test_charge_takes_the_amount_and_reports_used_and_remaining(engine: Engine) -> None:
    funded_account(engine, credits=10)

    receipt = engine.charge("user_1", "2.5")

    assert receipt.credits_used == credits("2.5")
    assert receipt.credits_remaining == credits("7.5")
    assert engine.balance("user_1").balance == credits("7.5")
    assert engine.verify().is_clean


def test_charge_writes_a_charge_entry_with_feature_cost_and_metadata(
    engine: Engine, clock: ManualClock
) -> None:
    funded_account(engine, credits=10)

    receipt = engine.charge("user_1", 3, feature="image.generate", metadata={"model": "sdxl"})

    entry = receipt.entry
    assert (entry.kind, entry.seq) == (EntryKind.CHARGE, 2)
    assert entry.amount == -credits(3)
    assert entry.cost == credits(3)
    assert entry.balance_after == credits(7)
    assert entry.held_after == Credits(0)
    assert entry.feature == "image.generate"
    assert entry.metadata == {"model": "sdxl"}
    assert entry.created_at == entry.effective_at == clock.now()
    assert engine.get_entry(entry.id) == entry


def test_charge_takes_across_lots_in_one_entry(engine: Engine, clock: ManualClock) -> None:
    engine.create_account("user_1")
    first = engine.grant("user_1", 3, expires_at=clock.now() + MINUTE).entry.moves[0].lot_id
    second = engine.grant("user_1", 4).entry.moves[0].lot_id

    receipt = engine.charge("user_1", 5)

    assert [(m.lot_id, m.amount) for m in receipt.entry.moves] == [
        (first, -credits(3)),
        (second, -credits(5 - 3)),
    ]
    assert receipt.credits_remaining == credits(3 + 4 - 5)
    assert engine.verify().is_clean


def test_charge_is_exact_to_the_smallest_unit(engine: Engine) -> None:
    funded_account(engine, credits=1)
    for _ in range(3):
        engine.charge("user_1", "0.333")

    balance = engine.balance("user_1").balance

    assert balance == Credits(1)
    assert str(balance) == "0.001"


def test_charge_raises_insufficient_credits_with_required_available_and_shortfall(
    engine: Engine,
) -> None:
    funded_account(engine, credits=10)
    engine.charge("user_1", 7)

    with pytest.raises(InsufficientCredits) as raised:
        engine.charge("user_1", "4.5")

    assert raised.value.required == credits("4.5")
    assert raised.value.available == credits(10 - 7)
    assert raised.value.shortfall == credits("4.5") - credits(3)


def test_charge_writes_nothing_when_credits_are_short(engine: Engine) -> None:
    funded_account(engine, credits=3)
    engine.grant("user_1", 2, source="promo")
    before = state(engine, "user_1")

    with pytest.raises(InsufficientCredits):
        engine.charge("user_1", 6)

    assert state(engine, "user_1") == before
    assert engine.verify().is_clean


def test_charge_counts_held_credits_as_unavailable(engine: Engine) -> None:
    funded_account(engine, credits=10)
    engine.hold("user_1", 7, ttl=MINUTE)

    with pytest.raises(InsufficientCredits) as raised:
        engine.charge("user_1", 4)

    assert raised.value.available == credits(10 - 7)


def test_charge_raises_account_frozen_and_writes_nothing(engine: Engine) -> None:
    funded_account(engine, credits=10)
    engine.update_account("user_1", is_frozen=True)
    before = state(engine, "user_1")

    with pytest.raises(AccountFrozen):
        engine.charge("user_1", 1)

    assert state(engine, "user_1") == before


def test_charge_on_an_unlimited_account_records_the_cost_with_amount_zero(engine: Engine) -> None:
    engine.create_account("admin", is_unlimited=True)

    receipt = engine.charge("admin", 25, feature="video.generate")

    assert receipt.entry.amount == Credits(0)
    assert receipt.entry.cost == credits(25)
    assert receipt.entry.moves == ()
    assert receipt.balance.balance == Credits(0)
    assert engine.history("admin", feature="video.generate").items == (receipt.entry,)
    assert engine.verify().is_clean


def test_charge_on_an_unlimited_account_leaves_its_lots_alone(engine: Engine) -> None:
    engine.create_account("admin", is_unlimited=True)
    engine.grant("admin", 5)

    receipt = engine.charge("admin", 50)

    assert receipt.balance.balance == credits(5)
    assert engine.lifetime("admin").spent == Credits(0)


def test_charge_with_a_floor_lets_the_balance_go_negative_down_to_the_floor(
    engine: Engine,
) -> None:
    engine.create_account("user_1", floor=-10)
    engine.grant("user_1", 5)

    receipt = engine.charge("user_1", 15)

    assert receipt.balance.balance == credits(-10)
    assert receipt.balance.debt == credits(10)
    assert receipt.entry.amount == -credits(15)
    assert [m.amount for m in receipt.entry.moves] == [-credits(5)]
    assert engine.verify().is_clean


def test_charge_with_a_floor_raises_insufficient_credits_below_the_floor(engine: Engine) -> None:
    engine.create_account("user_1", floor=-10)
    engine.grant("user_1", 5)
    before = state(engine, "user_1")

    with pytest.raises(InsufficientCredits) as raised:
        engine.charge("user_1", "15.001")

    assert raised.value.available == credits(5 + 10)
    assert raised.value.shortfall == Credits(1)
    assert state(engine, "user_1") == before
