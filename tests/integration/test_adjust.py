"""Adjust: a signed correction by an operator, with its reason and actor on the ledger."""

import pytest

from creditgate import Credits, Engine, EntryKind, InsufficientCredits, InvalidInput, LotSource
from tests.factories import funded_account


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def test_adjust_up_adds_an_adjustment_lot_with_reason_and_actor(engine: Engine) -> None:
    funded_account(engine, credits=10)

    receipt = engine.adjust("user_1", "2.5", reason="outage credit", actor="ops@example.com")

    entry = engine.get_entry(receipt.entry.id)
    assert (entry.kind, entry.amount) == (EntryKind.ADJUST, credits("2.5"))
    assert (entry.reason, entry.actor) == ("outage credit", "ops@example.com")
    assert entry.source == LotSource.ADJUSTMENT
    assert [m.amount for m in entry.moves] == [credits("2.5")]
    assert receipt.balance.balance == credits("12.5")
    assert engine.verify().is_clean


def test_adjust_down_takes_credits_with_reason_and_actor(engine: Engine) -> None:
    funded_account(engine, credits=10)

    receipt = engine.adjust("user_1", "-4", reason="duplicate grant", actor="admin")

    entry = engine.get_entry(receipt.entry.id)
    assert (entry.kind, entry.amount) == (EntryKind.ADJUST, -credits(4))
    assert (entry.reason, entry.actor) == ("duplicate grant", "admin")
    assert [m.amount for m in entry.moves] == [-credits(4)]
    assert receipt.balance.balance == credits(10 - 4)
    assert engine.verify().is_clean


def test_adjust_down_raises_insufficient_credits_beyond_what_is_available(
    engine: Engine,
) -> None:
    funded_account(engine, credits=3)

    with pytest.raises(InsufficientCredits) as raised:
        engine.adjust("user_1", -4, reason="clawback", actor="admin")

    assert raised.value.available == credits(3)
    assert engine.balance("user_1").balance == credits(3)
    assert len(engine.history("user_1").items) == 1


def test_adjust_refuses_zero(engine: Engine) -> None:
    funded_account(engine, credits=3)

    with pytest.raises(InvalidInput) as raised:
        engine.adjust("user_1", 0, reason="nothing", actor="admin")

    assert raised.value.field == "amount"
    assert len(engine.history("user_1").items) == 1


def test_adjust_counts_in_lifetime_as_adjusted(engine: Engine) -> None:
    funded_account(engine, credits=10)
    engine.adjust("user_1", 3, reason="bonus", actor="admin")

    engine.adjust("user_1", -1, reason="fix", actor="admin")

    lifetime = engine.lifetime("user_1")
    assert lifetime.adjusted == credits(3 - 1)
    assert lifetime.granted_by_source == {"adjustment": credits(3), "purchase": credits(10)}


def test_adjust_up_repays_debt_first(engine: Engine) -> None:
    engine.create_account("user_1", floor=-10)
    engine.charge("user_1", 4)

    receipt = engine.adjust("user_1", 6, reason="goodwill", actor="support")

    assert receipt.balance.debt == Credits(0)
    assert [m.amount for m in receipt.entry.moves] == [credits(6 - 4)]
    assert engine.verify().is_clean
