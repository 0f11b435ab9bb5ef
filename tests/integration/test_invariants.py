"""One test per invariant of the design, each checked with its own SQL, not through verify.

Invariants 3 (append-only), 6 (a hold ends once) and 8 (one expire entry per lot) have
their named tests in test_correctness_rules.py, where they race concurrent writers.
"""

import random
from datetime import timedelta

import pytest
from sqlalchemy import text

from creditgate import (
    Engine,
    HoldNotPending,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidInput,
    ManualClock,
)
from creditgate.domain.ids import HoldId
from creditgate.storage.database import Database
from tests.factories import funded_account


def scalar(database: Database, sql: str) -> int:
    with database.read() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def churn(engine: Engine, clock: ManualClock, seed: int) -> None:
    """A seeded mix of every operation, with clock jumps past expiries and ttls."""
    rng = random.Random(seed)
    charges = []
    holds: list[HoldId] = []
    for _ in range(120):
        step = rng.randrange(7)
        try:
            if step == 0:
                expires = clock.now() + timedelta(hours=rng.randint(1, 48))
                engine.grant("user_1", rng.randint(1, 20), source="promo", expires_at=expires)
            elif step == 1:
                charges.append(
                    engine.charge("user_1", f"{rng.randint(1, 9000) / 1000:.3f}").entry.id
                )
            elif step == 2:
                receipt = engine.hold("user_1", rng.randint(1, 10), ttl=timedelta(minutes=30))
                assert receipt.hold is not None
                holds.append(receipt.hold.id)
            elif step == 3 and holds:
                engine.settle(holds.pop(rng.randrange(len(holds))), rng.randint(0, 12))
            elif step == 4 and charges:
                engine.refund(charges[rng.randrange(len(charges))], "0.5")
            elif step == 5:
                clock.advance(timedelta(minutes=rng.choice([5, 45, 600])))
            else:
                engine.expire()
        except (InsufficientCredits, InvalidInput, HoldNotPending):
            pass


@pytest.fixture
def churned(engine: Engine, clock: ManualClock) -> Engine:
    funded_account(engine, credits=40, expires_at=clock.now() + timedelta(hours=20))
    churn(engine, clock, seed=7)
    engine.expire()
    return engine


def test_balance_never_goes_below_its_floor(churned: Engine, database: Database) -> None:
    lowest = scalar(database, "SELECT MIN(balance_after) FROM entries")

    assert lowest >= 0
    assert churned.balance("user_1").balance.units >= 0


def test_balance_is_sum_of_entries_and_of_lots_and_held_is_sum_of_pending_holds(
    churned: Engine, database: Database
) -> None:
    balance = churned.balance("user_1")

    entries = scalar(database, "SELECT SUM(amount) FROM entries")
    lots = scalar(database, "SELECT SUM(remaining) FROM lots")
    pending = scalar(
        database, "SELECT COALESCE(SUM(amount), 0) FROM holds WHERE status = 'pending'"
    )

    assert balance.balance.units == entries == lots
    assert balance.held.units == pending


def test_idempotency_key_takes_effect_at_most_once(engine: Engine, database: Database) -> None:
    funded_account(engine, credits=10)
    first = engine.charge("user_1", 3, idempotency_key="req-1")

    again = engine.charge("user_1", 3, idempotency_key="req-1")
    with pytest.raises(IdempotencyConflict):
        engine.charge("user_1", 4, idempotency_key="req-1")

    assert again == first
    assert scalar(database, "SELECT COUNT(*) FROM entries WHERE kind = 'charge'") == 1


def test_external_event_grants_at_most_once_when_its_id_is_the_key(
    engine: Engine, database: Database
) -> None:
    engine.create_account("user_1")

    for _ in range(3):
        engine.grant("user_1", 25, source="purchase", idempotency_key="evt_1NXa")

    assert scalar(database, "SELECT COUNT(*) FROM lots") == 1
    assert engine.balance("user_1").balance.units == 25_000


def test_refunds_never_add_up_to_more_than_the_charge(engine: Engine, database: Database) -> None:
    funded_account(engine, credits=10)
    charge = engine.charge("user_1", 4).entry.id
    engine.refund(charge, "1.5")
    engine.refund(charge, "2")

    with pytest.raises(InvalidInput):
        engine.refund(charge, "0.501")
    engine.refund(charge)

    refunded = scalar(database, f"SELECT SUM(amount) FROM entries WHERE ref_entry_id = {charge}")
    assert refunded == 4_000
    with pytest.raises(InvalidInput):
        engine.refund(charge, "0.001")
