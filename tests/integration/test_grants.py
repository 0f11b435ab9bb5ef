"""Grants: lots by source, with expiry and priority; the burn order; debt repaid first."""

from creditgate import (
    Credits,
    Engine,
    EntryKind,
    ManualClock,
)
from creditgate.domain.ids import LotId
from creditgate.domain.lots import GRANTABLE_SOURCES
from tests.factories import DAY, MINUTE


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def lot_of(engine: Engine, account_id: str, amount: int, **grant: object) -> LotId:
    """Grant a lot and return its id (the lot its grant entry filled)."""
    receipt = engine.grant(account_id, amount, **grant)  # type: ignore[arg-type]
    (move,) = receipt.entry.moves
    return move.lot_id


def burned(engine: Engine, account_id: str, amount: int) -> list[tuple[LotId, Credits]]:
    """Charge and say which lots gave how much, in the order they burned."""
    receipt = engine.charge(account_id, amount)
    return [(m.lot_id, -m.amount) for m in receipt.entry.moves]


def test_grant_adds_a_lot_and_writes_one_grant_entry(engine: Engine, clock: ManualClock) -> None:
    engine.create_account("user_1")

    receipt = engine.grant("user_1", "12.5", source="purchase", metadata={"order": "o-1"})

    entry = receipt.entry
    assert (entry.kind, entry.seq, entry.amount) == (EntryKind.GRANT, 1, credits("12.5"))
    assert entry.balance_after == credits("12.5")
    assert entry.source == "purchase"
    assert entry.metadata == {"order": "o-1"}
    assert entry.created_at == clock.now()
    assert [m.amount for m in entry.moves] == [credits("12.5")]
    assert receipt.balance.balance == credits("12.5")
    assert receipt.credits_used == Credits(0)
    assert engine.verify().is_clean


def test_grant_records_each_grantable_source(engine: Engine) -> None:
    engine.create_account("user_1")
    sources = sorted(GRANTABLE_SOURCES)

    receipts = [engine.grant("user_1", n, source=s) for n, s in enumerate(sources, start=1)]

    assert [r.entry.source for r in receipts] == [s.value for s in sources]
    assert engine.lifetime("user_1").granted_by_source == {
        s.value: credits(n) for n, s in enumerate(sources, start=1)
    }


def test_grant_with_expiry_counts_until_the_instant_it_expires(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 7, source="promo", expires_at=clock.now() + DAY)
    clock.advance(DAY - MINUTE)
    before = engine.balance("user_1").balance

    clock.advance(MINUTE)

    assert before == credits(7)
    assert engine.balance("user_1").balance == Credits(0)


def test_grant_to_a_frozen_account_is_allowed(engine: Engine) -> None:
    engine.create_account("user_1")
    engine.update_account("user_1", is_frozen=True)

    receipt = engine.grant("user_1", 4)

    assert receipt.balance.balance == credits(4)
    assert engine.verify().is_clean


def test_charge_burns_the_lower_priority_first(engine: Engine) -> None:
    engine.create_account("user_1")
    purchased = lot_of(engine, "user_1", 10, source="purchase")
    promo = lot_of(engine, "user_1", 10, source="promo", priority=-10)

    moves = burned(engine, "user_1", 4)

    assert moves == [(promo, credits(4))]
    assert purchased != promo


def test_charge_burns_the_lower_priority_first_even_if_it_expires_later(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    lot_of(engine, "user_1", 10, source="plan_cycle", expires_at=clock.now() + DAY)
    promo = lot_of(
        engine, "user_1", 10, source="promo", priority=-1, expires_at=clock.now() + 9 * DAY
    )

    moves = burned(engine, "user_1", 4)

    assert moves == [(promo, credits(4))]


def test_charge_burns_the_soonest_expiry_first(engine: Engine, clock: ManualClock) -> None:
    engine.create_account("user_1")
    lot_of(engine, "user_1", 10, expires_at=clock.now() + 3 * DAY)
    soon = lot_of(engine, "user_1", 10, expires_at=clock.now() + DAY)

    moves = burned(engine, "user_1", 4)

    assert moves == [(soon, credits(4))]


def test_charge_burns_expiring_lots_before_never_expiring_ones(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    lot_of(engine, "user_1", 10, source="purchase")
    expiring = lot_of(engine, "user_1", 10, source="plan_cycle", expires_at=clock.now() + 365 * DAY)

    moves = burned(engine, "user_1", 4)

    assert moves == [(expiring, credits(4))]


def test_charge_burns_the_oldest_first_when_priority_and_expiry_are_equal(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    older = lot_of(engine, "user_1", 10)
    clock.advance(MINUTE)
    lot_of(engine, "user_1", 10)

    moves = burned(engine, "user_1", 4)

    assert moves == [(older, credits(4))]


def test_charge_spans_lots_in_burn_order(engine: Engine, clock: ManualClock) -> None:
    engine.create_account("user_1")
    lasting = lot_of(engine, "user_1", 10, source="purchase")
    later = lot_of(engine, "user_1", 3, source="welcome", expires_at=clock.now() + 2 * DAY)
    sooner = lot_of(engine, "user_1", 2, source="promo", expires_at=clock.now() + DAY)
    first = lot_of(engine, "user_1", 1, source="referral", priority=-5)

    moves = burned(engine, "user_1", 8)

    assert moves == [
        (first, credits(1)),
        (sooner, credits(2)),
        (later, credits(3)),
        (lasting, credits(8 - 1 - 2 - 3)),
    ]
    assert engine.balance("user_1").balance == credits(16 - 8)
    assert engine.verify().is_clean


def test_grant_repays_debt_before_filling_the_lot(engine: Engine) -> None:
    engine.create_account("user_1", floor=-10)
    engine.grant("user_1", 5)
    engine.charge("user_1", 8)

    receipt = engine.grant("user_1", 10)

    debt = 8 - 5
    assert [m.amount for m in receipt.entry.moves] == [credits(10 - debt)]
    assert receipt.balance.debt == Credits(0)
    assert receipt.balance.balance == credits(5 - 8 + 10)
    assert engine.verify().is_clean


def test_grant_smaller_than_the_debt_repays_part_of_it(engine: Engine) -> None:
    engine.create_account("user_1", floor=-10)
    engine.charge("user_1", 8)

    receipt = engine.grant("user_1", 5)

    assert receipt.entry.moves == ()
    assert receipt.balance.debt == credits(8 - 5)
    assert receipt.balance.balance == credits(-3)
    assert engine.verify().is_clean


def test_grant_after_repaying_debt_leaves_only_the_rest_in_its_lot(engine: Engine) -> None:
    engine.create_account("user_1", floor=-10)
    engine.charge("user_1", 4)
    lot = lot_of(engine, "user_1", 6)

    receipt = engine.charge("user_1", 2)

    assert [(m.lot_id, m.amount) for m in receipt.entry.moves] == [(lot, -credits(2))]
    assert receipt.balance.balance == credits(-4 + 6 - 2)
    assert receipt.balance.debt == Credits(0)
    assert engine.verify().is_clean
