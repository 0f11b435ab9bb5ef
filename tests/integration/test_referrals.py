"""Referrals through the Engine: recorded once per referee, bonuses granted once.

The terms come from the catalog's `[referrals]`. On `signup` both lots are granted when
the referral is recorded; on `first_purchase` the referral waits until a purchase's
transaction calls `reward_first_purchase`, which these tests call as a purchase would:
inside `transaction`, with the referee locked.
"""

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TypeVar

import pytest

from creditgate import (
    AccountNotFound,
    ChangeKind,
    Credits,
    Engine,
    IdempotencyConflict,
    InvalidInput,
    LotSource,
    ManualClock,
    Referral,
    ReferralCondition,
    ReferralExists,
    ReferralsOff,
    ReferralStatus,
    ReferralTerms,
)
from creditgate.domain.catalog import catalog_data
from creditgate.engine.books import transaction
from creditgate.engine.referrals import lock_referee, reward_first_purchase
from tests.factories import MINUTE

SIGNUP = ReferralCondition.SIGNUP
FIRST_PURCHASE = ReferralCondition.FIRST_PURCHASE
RACERS = 2
ROUNDS = 10
PURCHASE_RACERS = 8

ON_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
"""Races whose naive form fails only where writers run in parallel."""

T = TypeVar("T")


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def offer(
    engine: Engine,
    condition: ReferralCondition = SIGNUP,
    referrer: int | str = 50,
    referee: int | str = 20,
) -> None:
    """Set the catalog's referral terms."""
    terms = ReferralTerms(
        referrer_credits=credits(referrer), referee_credits=credits(referee), condition=condition
    )
    engine.apply_catalog(replace(engine.export_catalog(), referrals=terms))


def accounts(engine: Engine, *account_ids: str) -> None:
    for account_id in account_ids:
        engine.create_account(account_id)


def books(engine: Engine, *account_ids: str) -> tuple[object, ...]:
    """Everything a referral could change on these accounts."""
    return (
        tuple(engine.balance(a) for a in account_ids),
        tuple(engine.history(a, limit=500).items for a in account_ids),
        tuple(engine.referrals(a) for a in account_ids),
    )


def pay_purchase(engine: Engine, account_id: str) -> None:
    """What a paid purchase's transaction does for referrals: the referee locked, then reward."""
    with transaction(engine.db, engine.clock) as purchase:
        reward_first_purchase(purchase, purchase.lock(account_id))


def fail_after_the_reward(engine: Engine, account_id: str) -> None:
    """A purchase's transaction that rewards the referral, then fails before it commits."""
    with transaction(engine.db, engine.clock) as purchase:
        reward_first_purchase(purchase, purchase.lock(account_id))
        raise RuntimeError("the purchase failed after the reward")


def referring(engine: Engine, referee: str, referrers: Sequence[str]) -> Callable[[int], Referral]:
    """The work of racer `i`: record that `referrers[i]` referred `referee`."""
    return lambda i: engine.refer(referee, referrers[i])


def race(workers: int, work: Callable[[int], T]) -> list[T | Exception]:
    """Run `work(i)` on `workers` threads that start together; their results or errors."""
    barrier = threading.Barrier(workers)

    def started(index: int) -> T | Exception:
        barrier.wait()
        try:
            return work(index)
        except Exception as error:  # noqa: BLE001 - the outcome under test
            return error

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(started, range(workers)))


# The catalog's terms

FILE = {
    "welcome": {"credits": "10"},
    "referrals": {"referrer_credits": "50", "referee_credits": "20", "condition": "signup"},
    "features": [],
}
"""A catalog file with referral terms, in the form an export writes."""


def test_apply_catalog_stores_the_referrals_table_and_export_writes_it_back(
    engine: Engine,
) -> None:
    changes = engine.apply_catalog(FILE)

    assert [c.kind for c in changes] == [ChangeKind.SET_WELCOME, ChangeKind.SET_REFERRALS]
    assert catalog_data(engine.export_catalog()) == FILE
    assert engine.apply_catalog(FILE) == ()


def test_apply_catalog_dry_run_lists_the_referral_change_and_stores_nothing(
    engine: Engine,
) -> None:
    changes = engine.apply_catalog(FILE, dry_run=True)

    assert ChangeKind.SET_REFERRALS in [c.kind for c in changes]
    assert engine.export_catalog().referrals is None


def test_apply_catalog_without_a_referrals_table_turns_referrals_off(engine: Engine) -> None:
    engine.apply_catalog(FILE)
    accounts(engine, "alice", "bob")

    changes = engine.apply_catalog({"features": []})

    assert ChangeKind.SET_REFERRALS in [c.kind for c in changes]
    with pytest.raises(ReferralsOff):
        engine.refer("bob", "alice")


# Recording


def test_refer_on_signup_grants_both_bonuses_as_referral_lots(engine: Engine) -> None:
    accounts(engine, "alice", "bob")
    offer(engine, SIGNUP, referrer=50, referee="20.5")

    referral = engine.refer("bob", "alice")

    assert (referral.referee_id, referral.referrer_id) == ("bob", "alice")
    assert (referral.status, referral.granted_at) == (ReferralStatus.GRANTED, engine.clock.now())
    assert (referral.referrer_credits, referral.referee_credits) == (credits(50), credits("20.5"))
    alice, bob = (engine.history(a).items[0] for a in ("alice", "bob"))
    assert (alice.source, alice.amount, alice.metadata) == (
        LotSource.REFERRAL.value,
        credits(50),
        {"referral": "referrer", "referee": "bob"},
    )
    assert (bob.source, bob.amount, bob.metadata) == (
        LotSource.REFERRAL.value,
        credits("20.5"),
        {"referral": "referee", "referrer": "alice"},
    )
    assert engine.verify().problems == ()


def test_refer_records_a_referee_once_however_often_it_is_recorded(engine: Engine) -> None:
    accounts(engine, "alice", "carol", "bob")
    offer(engine, SIGNUP)
    engine.refer("bob", "alice")
    before = books(engine, "alice", "carol", "bob")

    refusals = []
    for referrer in ("alice", "carol", "alice"):
        with pytest.raises(ReferralExists) as raised:
            engine.refer("bob", referrer)
        refusals.append(raised.value.account_id)

    assert refusals == ["bob", "bob", "bob"]
    assert books(engine, "alice", "carol", "bob") == before
    assert engine.lifetime("alice").granted_by_source["referral"] == credits(50)


def test_refer_replays_the_first_referral_for_the_same_key(engine: Engine) -> None:
    accounts(engine, "alice", "carol", "bob")
    offer(engine, SIGNUP)
    first = engine.refer("bob", "alice", idempotency_key="signup-bob")

    again = engine.refer("bob", "alice", idempotency_key="signup-bob")

    assert again == first
    assert engine.balance("alice").balance == credits(50)
    with pytest.raises(IdempotencyConflict):
        engine.refer("bob", "carol", idempotency_key="signup-bob")


def test_refer_on_first_purchase_leaves_the_referral_pending(engine: Engine) -> None:
    accounts(engine, "alice", "bob")
    offer(engine, FIRST_PURCHASE)

    referral = engine.refer("bob", "alice")

    assert (referral.status, referral.granted_at) == (ReferralStatus.PENDING, None)
    assert (engine.balance("alice").balance, engine.balance("bob").balance) == (
        credits(0),
        credits(0),
    )


def test_refer_grants_no_lot_to_a_side_offered_nothing(engine: Engine) -> None:
    accounts(engine, "alice", "bob")
    offer(engine, SIGNUP, referrer=10, referee=0)

    engine.refer("bob", "alice")

    assert engine.balance("alice").balance == credits(10)
    assert engine.history("bob").items == ()


@pytest.mark.parametrize(
    ("referee", "referrer", "error", "field"),
    [
        ("alice", "alice", InvalidInput, "referrer"),
        ("", "alice", InvalidInput, "referee_id"),
        ("bob", "", InvalidInput, "referrer"),
        ("nobody", "alice", AccountNotFound, None),
        ("bob", "nobody", AccountNotFound, None),
    ],
    ids=["itself", "no referee id", "no referrer id", "unknown referee", "unknown referrer"],
)
def test_refer_refuses_and_changes_nothing(
    engine: Engine, referee: str, referrer: str, error: type[Exception], field: str | None
) -> None:
    accounts(engine, "alice", "bob")
    offer(engine, SIGNUP)
    before = books(engine, "alice", "bob")

    with pytest.raises(error) as raised:
        engine.refer(referee, referrer)

    assert getattr(raised.value, "field", None) == field
    assert books(engine, "alice", "bob") == before


def test_refer_raises_referrals_off_when_the_catalog_offers_none(engine: Engine) -> None:
    accounts(engine, "alice", "bob")

    with pytest.raises(ReferralsOff):
        engine.refer("bob", "alice")

    assert engine.referrals("alice") == ()


def test_referrals_lists_the_referrers_referrals_oldest_first_with_their_state(
    engine: Engine, clock: ManualClock
) -> None:
    accounts(engine, "alice", "bob", "carol", "dave")
    offer(engine, SIGNUP)
    engine.refer("bob", "alice")
    clock.advance(MINUTE)
    offer(engine, FIRST_PURCHASE, referrer=5, referee=1)
    engine.refer("carol", "alice")
    engine.refer("dave", "bob")

    listed = engine.referrals("alice")

    assert [(r.referee_id, r.status, r.referrer_credits) for r in listed] == [
        ("bob", ReferralStatus.GRANTED, credits(50)),
        ("carol", ReferralStatus.PENDING, credits(5)),
    ]
    with pytest.raises(AccountNotFound):
        engine.referrals("nobody")


# The first purchase


@pytest.mark.parametrize("referrer_first", [True, False], ids=["referrer older", "referee older"])
def test_reward_first_purchase_grants_both_bonuses_once(
    engine: Engine, referrer_first: bool
) -> None:
    """Once however many purchases are paid; the referrer's id above or below the referee's."""
    accounts(engine, *(("alice", "bob") if referrer_first else ("bob", "alice")))
    offer(engine, FIRST_PURCHASE)
    engine.refer("bob", "alice")

    for _ in range(3):
        pay_purchase(engine, "bob")

    assert (engine.balance("alice").balance, engine.balance("bob").balance) == (
        credits(50),
        credits(20),
    )
    (referral,) = engine.referrals("alice")
    assert (referral.status, referral.granted_at) == (ReferralStatus.GRANTED, engine.clock.now())
    assert engine.verify().problems == ()


def test_reward_first_purchase_pays_the_terms_the_referral_was_recorded_under(
    engine: Engine,
) -> None:
    accounts(engine, "alice", "bob")
    offer(engine, FIRST_PURCHASE, referrer=50, referee=20)
    engine.refer("bob", "alice")
    offer(engine, SIGNUP, referrer=1, referee=1)

    pay_purchase(engine, "bob")

    assert (engine.balance("alice").balance, engine.balance("bob").balance) == (
        credits(50),
        credits(20),
    )


def test_reward_first_purchase_pays_a_pending_referral_after_referrals_are_turned_off(
    engine: Engine,
) -> None:
    accounts(engine, "alice", "bob")
    offer(engine, FIRST_PURCHASE)
    engine.refer("bob", "alice")
    engine.apply_catalog(replace(engine.export_catalog(), referrals=None))

    pay_purchase(engine, "bob")

    assert engine.balance("alice").balance == credits(50)


def test_reward_first_purchase_does_nothing_for_an_account_nobody_referred(
    engine: Engine,
) -> None:
    accounts(engine, "alice", "bob")
    offer(engine, FIRST_PURCHASE)
    engine.refer("bob", "alice")
    before = books(engine, "alice", "bob")

    pay_purchase(engine, "alice")

    assert books(engine, "alice", "bob") == before


def test_reward_first_purchase_writes_nothing_when_the_purchase_fails_after_it(
    engine: Engine,
) -> None:
    """The reward is part of the purchase's transaction: a purchase that fails takes it back."""
    accounts(engine, "alice", "bob")
    offer(engine, FIRST_PURCHASE)
    engine.refer("bob", "alice")
    before = books(engine, "alice", "bob")

    with pytest.raises(RuntimeError):
        fail_after_the_reward(engine, "bob")

    assert books(engine, "alice", "bob") == before
    pay_purchase(engine, "bob")
    assert engine.balance("alice").balance == credits(50)


@pytest.mark.parametrize("referrer_first", [True, False], ids=["referrer older", "referee older"])
def test_lock_referee_takes_both_locks_so_the_reward_needs_no_other(
    engine: Engine, referrer_first: bool
) -> None:
    accounts(engine, *(("alice", "bob") if referrer_first else ("bob", "alice")))
    offer(engine, FIRST_PURCHASE)
    engine.refer("bob", "alice")

    with transaction(engine.db, engine.clock) as purchase:
        row = lock_referee(purchase, "bob")
        reward_first_purchase(purchase, row)

    assert row.account.id == "bob"
    assert (engine.balance("alice").balance, engine.balance("bob").balance) == (
        credits(50),
        credits(20),
    )


def test_lock_referee_raises_account_not_found_for_an_unknown_account(engine: Engine) -> None:
    with pytest.raises(AccountNotFound), transaction(engine.db, engine.clock) as purchase:
        lock_referee(purchase, "nobody")


# Concurrency


@ON_POSTGRESQL
@pytest.mark.parametrize("condition", [SIGNUP, FIRST_PURCHASE])
def test_refer_records_one_of_two_referrals_of_one_referee_made_at_once(
    engine: Engine, condition: ReferralCondition
) -> None:
    """Two referrers record the same referee at the same instant, for ten referees in turn:
    each referee is referred once, the other referral refused, the bonuses paid once.

    Checked once against a naive variant (accounts read without their row locks, the
    referral looked for by a SELECT and then inserted, the table's key on the referee
    dropped), three runs each: on `signup`, 27 of 30 races ended with a racer failing on an
    IntegrityError of the referee's entry numbering instead of a clean refusal; on
    `first_purchase`, where recording posts no entry, 5 or 6 of the 10 referees came out
    referred twice in each run.
    """
    referrers = ("alice", "carol")
    referees = [f"user_{i}" for i in range(ROUNDS)]
    accounts(engine, *referrers, *referees)
    offer(engine, condition)

    outcomes = [race(RACERS, referring(engine, referee, referrers)) for referee in referees]
    for referee in referees:
        pay_purchase(engine, referee)

    kinds = [sorted(type(o).__name__ for o in pair) for pair in outcomes]
    assert kinds == [["Referral", "ReferralExists"]] * ROUNDS
    assert sum(len(engine.referrals(r)) for r in referrers) == ROUNDS
    assert [engine.balance(r).balance for r in referees] == [credits(20)] * ROUNDS
    assert sum(engine.balance(r).balance.units for r in referrers) == credits(50 * ROUNDS).units
    assert engine.verify().problems == ()


@ON_POSTGRESQL
def test_reward_first_purchase_grants_once_when_purchases_are_paid_at_once(
    engine: Engine,
) -> None:
    """Eight purchases of the referee paid at once: the bonuses are granted once.

    Checked once against a naive variant (accounts read without their row locks, the
    referral marked granted by an unconditional UPDATE): in three runs of three, purchases
    failed on an IntegrityError of the accounts' entry numbering, two writers having read
    the referral pending and granted it.
    """
    accounts(engine, "alice", "bob")
    offer(engine, FIRST_PURCHASE)
    engine.refer("bob", "alice")

    outcomes = race(PURCHASE_RACERS, lambda _: pay_purchase(engine, "bob"))

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert (engine.balance("alice").balance, engine.balance("bob").balance) == (
        credits(50),
        credits(20),
    )
