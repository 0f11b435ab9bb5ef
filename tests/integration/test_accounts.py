"""Accounts: create-or-get by the app's id, owner kinds, and settings (freeze, unlimited, floor)."""

from datetime import timedelta

import pytest

from creditgate import (
    AccountFrozen,
    AccountNotFound,
    Credits,
    Engine,
    InvalidInput,
    ManualClock,
    OwnerKind,
)
from tests.factories import funded_account


def test_create_account_returns_a_new_user_account_with_defaults(
    engine: Engine, clock: ManualClock
) -> None:
    account = engine.create_account("user_1")

    assert account.id == "user_1"
    assert account.owner_kind is OwnerKind.USER
    assert account.floor == Credits(0)
    assert not account.is_unlimited
    assert not account.is_frozen
    assert account.created_at == clock.now()
    assert account.metadata == {}


def test_create_account_starts_with_an_empty_balance_and_ledger(engine: Engine) -> None:
    engine.create_account("user_1")

    balance = engine.balance("user_1")

    assert (balance.balance, balance.held, balance.available) == (Credits(0),) * 3
    assert engine.history("user_1").items == ()


def test_create_account_accepts_the_organization_owner_kind(engine: Engine) -> None:
    account = engine.create_account("org_1", owner_kind="organization")

    assert account.owner_kind is OwnerKind.ORGANIZATION


def test_create_account_stores_floor_unlimited_and_metadata(engine: Engine) -> None:
    account = engine.create_account(
        "user_1", floor="-2.5", is_unlimited=True, metadata={"plan": "pro"}
    )

    assert account.floor == Credits.parse("-2.5")
    assert account.is_unlimited
    assert account.metadata == {"plan": "pro"}


def test_create_account_returns_the_existing_account_unchanged_when_called_again(
    engine: Engine, clock: ManualClock
) -> None:
    first = engine.create_account("user_1", floor=-5, metadata={"v": 1})
    clock.advance(timedelta(hours=1))

    again = engine.create_account(
        "user_1", owner_kind="organization", floor=0, is_unlimited=True, metadata={"v": 2}
    )

    assert again == first


def test_create_account_keeps_the_balance_when_called_again(engine: Engine) -> None:
    funded_account(engine, credits=40)

    engine.create_account("user_1")

    assert engine.balance("user_1").balance == Credits.parse(40)
    assert len(engine.history("user_1").items) == 1
    assert engine.verify().is_clean


def test_get_account_returns_what_create_account_returned(engine: Engine) -> None:
    created = engine.create_account("user_1", floor=-1, metadata={"a": [1, 2]})

    found = engine.get_account("user_1")

    assert found == created


def test_get_account_raises_account_not_found_when_missing(engine: Engine) -> None:
    with pytest.raises(AccountNotFound) as raised:
        engine.get_account("nobody")

    assert raised.value.id == "nobody"


def test_update_account_freezing_stops_spending(engine: Engine) -> None:
    funded_account(engine, credits=10)
    engine.update_account("user_1", is_frozen=True)

    with pytest.raises(AccountFrozen) as raised:
        engine.charge("user_1", 1)

    assert raised.value.account_id == "user_1"


def test_update_account_unfreezing_allows_spending_again(engine: Engine) -> None:
    funded_account(engine, credits=10)
    engine.update_account("user_1", is_frozen=True)

    engine.update_account("user_1", is_frozen=False)
    receipt = engine.charge("user_1", 1)

    assert receipt.credits_remaining == Credits.parse(9)
    assert engine.verify().is_clean


def test_update_account_makes_the_account_unlimited(engine: Engine) -> None:
    funded_account(engine, credits=10)

    account = engine.update_account("user_1", is_unlimited=True)
    receipt = engine.charge("user_1", 50)

    assert account.is_unlimited
    assert receipt.entry.amount == Credits(0)
    assert engine.balance("user_1").balance == Credits.parse(10)


def test_update_account_changes_the_floor(engine: Engine) -> None:
    funded_account(engine, credits=10)

    account = engine.update_account("user_1", floor=-20)
    engine.charge("user_1", 30)

    assert account.floor == Credits.parse(-20)
    assert engine.balance("user_1").balance == Credits.parse(-20)
    assert engine.verify().is_clean


def test_update_account_keeps_the_settings_it_was_not_given(engine: Engine) -> None:
    engine.create_account("user_1", floor=-3, metadata={"k": "v"})

    account = engine.update_account("user_1", is_frozen=True)

    assert account.floor == Credits.parse(-3)
    assert account.metadata == {"k": "v"}
    assert not account.is_unlimited


def test_update_account_replaces_the_metadata(engine: Engine) -> None:
    engine.create_account("user_1", metadata={"old": 1})

    account = engine.update_account("user_1", metadata={"new": 2})

    assert account.metadata == {"new": 2}


def test_update_account_refuses_a_floor_above_a_negative_balance(engine: Engine) -> None:
    engine.create_account("user_1", floor=-10)
    engine.charge("user_1", 6)

    with pytest.raises(InvalidInput) as raised:
        engine.update_account("user_1", floor=-5)

    assert raised.value.field == "floor"
    assert engine.get_account("user_1").floor == Credits.parse(-10)


def test_update_account_writes_no_entry(engine: Engine) -> None:
    funded_account(engine, credits=10)

    engine.update_account("user_1", is_frozen=True, floor=-1, metadata={"x": 1})

    assert len(engine.history("user_1").items) == 1
    assert engine.verify().is_clean
