"""Transfers: atomic moves of credits between two accounts that keep their expiry."""

import pytest

from creditgate import (
    AccountFrozen,
    AccountNotFound,
    Balance,
    Credits,
    Engine,
    Entry,
    EntryKind,
    InsufficientCredits,
    InvalidInput,
    LotSource,
    ManualClock,
)
from tests.factories import DAY, MINUTE, funded_account


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def both(engine: Engine) -> tuple[tuple[Balance, tuple[Entry, ...]], ...]:
    return tuple((engine.balance(a), engine.history(a).items) for a in ("alice", "bob"))


def test_transfer_moves_credits_from_one_account_to_the_other(engine: Engine) -> None:
    funded_account(engine, "alice", credits=10)
    engine.create_account("bob")

    receipt = engine.transfer("alice", "bob", 4, metadata={"note": "gift"})

    assert (receipt.debit.kind, receipt.debit.amount) == (EntryKind.TRANSFER, -credits(4))
    assert (receipt.credit.kind, receipt.credit.amount) == (EntryKind.TRANSFER, credits(4))
    assert (receipt.debit.counterparty, receipt.credit.counterparty) == ("bob", "alice")
    assert receipt.credit.ref_entry_id == receipt.debit.id
    assert receipt.credit.source == LotSource.TRANSFER
    assert receipt.debit.metadata == receipt.credit.metadata == {"note": "gift"}
    assert receipt.from_balance.balance == credits(10 - 4)
    assert receipt.to_balance.balance == credits(4)
    assert engine.balance("bob").balance == credits(4)
    assert engine.verify().is_clean


def test_transfer_counts_in_both_accounts_lifetime(engine: Engine) -> None:
    funded_account(engine, "alice", credits=10)
    engine.create_account("bob")

    engine.transfer("alice", "bob", 4)

    assert engine.lifetime("alice").transferred_out == credits(4)
    assert engine.lifetime("bob").transferred_in == credits(4)
    assert engine.lifetime("bob").granted_by_source == {"transfer": credits(4)}


def test_transfer_keeps_the_credits_expiry(engine: Engine, clock: ManualClock) -> None:
    engine.create_account("alice")
    engine.grant("alice", 10, source="promo", expires_at=clock.now() + DAY)
    engine.create_account("bob")
    engine.transfer("alice", "bob", 4)
    clock.advance(DAY - MINUTE)
    before_expiry = engine.balance("bob").balance

    clock.advance(MINUTE)

    assert before_expiry == credits(4)
    assert engine.balance("bob").balance == Credits(0)
    assert engine.lifetime("bob").expired == credits(4)


def test_transfer_takes_the_senders_lots_in_burn_order(engine: Engine, clock: ManualClock) -> None:
    engine.create_account("alice")
    purchase = engine.grant("alice", 10, source="purchase").entry.moves[0].lot_id
    promo = engine.grant("alice", 3, source="promo", expires_at=clock.now() + DAY)
    engine.create_account("bob")

    receipt = engine.transfer("alice", "bob", 5)

    assert [(m.lot_id, m.amount) for m in receipt.debit.moves] == [
        (promo.entry.moves[0].lot_id, -credits(3)),
        (purchase, -credits(5 - 3)),
    ]


def test_transfer_gives_one_lot_per_source_lot_each_with_its_expiry(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("alice")
    engine.grant("alice", 10, source="purchase")
    engine.grant("alice", 3, source="promo", expires_at=clock.now() + DAY)
    engine.create_account("bob")
    receipt = engine.transfer("alice", "bob", 5)

    clock.advance(DAY)

    assert sorted(m.amount for m in receipt.credit.moves) == [credits(2), credits(3)]
    assert engine.balance("bob").balance == credits(5 - 3)
    assert engine.verify().is_clean


def test_transfer_refuses_the_same_account_and_writes_nothing(engine: Engine) -> None:
    funded_account(engine, "alice", credits=10)
    engine.create_account("bob")
    before = both(engine)

    with pytest.raises(InvalidInput) as raised:
        engine.transfer("alice", "alice", 1)

    assert raised.value.field == "to_account_id"
    assert both(engine) == before


def test_transfer_raises_insufficient_credits_and_writes_nothing(engine: Engine) -> None:
    funded_account(engine, "alice", credits=10)
    engine.create_account("bob")
    engine.hold("alice", 3, ttl=MINUTE)
    before = both(engine)

    with pytest.raises(InsufficientCredits) as raised:
        engine.transfer("alice", "bob", 8)

    assert raised.value.available == credits(10 - 3)
    assert both(engine) == before
    assert engine.verify().is_clean


def test_transfer_never_draws_on_the_senders_overdraft(engine: Engine) -> None:
    engine.create_account("alice", floor=-10)
    engine.grant("alice", 5)
    engine.create_account("bob")

    with pytest.raises(InsufficientCredits) as raised:
        engine.transfer("alice", "bob", 6)

    assert raised.value.available == credits(5)


def test_transfer_raises_account_frozen_when_the_sender_is_frozen(engine: Engine) -> None:
    funded_account(engine, "alice", credits=10)
    engine.create_account("bob")
    engine.update_account("alice", is_frozen=True)
    before = both(engine)

    with pytest.raises(AccountFrozen):
        engine.transfer("alice", "bob", 1)

    assert both(engine) == before


def test_transfer_raises_account_not_found_for_a_missing_receiver(engine: Engine) -> None:
    funded_account(engine, "alice", credits=10)
    before = (engine.balance("alice"), engine.history("alice").items)

    with pytest.raises(AccountNotFound):
        engine.transfer("alice", "nobody", 1)

    assert (engine.balance("alice"), engine.history("alice").items) == before


def test_transfer_repays_the_receivers_debt_first(engine: Engine) -> None:
    funded_account(engine, "alice", credits=10)
    engine.create_account("bob", floor=-5)
    engine.charge("bob", 3)

    receipt = engine.transfer("alice", "bob", 4)

    assert receipt.to_balance.debt == Credits(0)
    assert receipt.to_balance.balance == credits(4 - 3)
    assert engine.verify().is_clean
