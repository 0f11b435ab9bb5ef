"""Idempotency keys: the same key and request answer the first result with one effect.

Every mutating method is tried: a replay changes nothing and returns an equal result; the
same key with a different request is an IdempotencyConflict and changes nothing either.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta, timezone
from decimal import Decimal

import pytest

from creditgate import (
    Balance,
    Credits,
    Engine,
    Entry,
    Hold,
    IdempotencyConflict,
    InsufficientCredits,
    ManualClock,
)
from tests.factories import DAY, MINUTE, funded_account

Act = Callable[[str], object]


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def state(engine: Engine) -> tuple[tuple[Balance, tuple[Entry, ...]], ...]:
    """What a reader can see of both accounts."""
    return tuple((engine.balance(a), engine.history(a).items) for a in ("user_1", "user_2"))


def pending(engine: Engine, amount: int) -> Hold:
    hold = engine.hold("user_1", amount, ttl=MINUTE).hold
    assert hold is not None
    return hold


def grant_acts(engine: Engine) -> tuple[Act, Act]:
    return (
        lambda key: engine.grant("user_1", 5, source="promo", idempotency_key=key),
        lambda key: engine.grant("user_1", 6, source="promo", idempotency_key=key),
    )


def adjust_acts(engine: Engine) -> tuple[Act, Act]:
    return (
        lambda key: engine.adjust("user_1", 2, reason="fix", actor="ops", idempotency_key=key),
        lambda key: engine.adjust("user_1", 2, reason="other", actor="ops", idempotency_key=key),
    )


def charge_acts(engine: Engine) -> tuple[Act, Act]:
    return (
        lambda key: engine.charge("user_1", 3, feature="f", idempotency_key=key),
        lambda key: engine.charge("user_1", 3, feature="g", idempotency_key=key),
    )


def hold_acts(engine: Engine) -> tuple[Act, Act]:
    return (
        lambda key: engine.hold("user_1", 3, ttl=MINUTE, idempotency_key=key),
        lambda key: engine.hold("user_1", 3, ttl=2 * MINUTE, idempotency_key=key),
    )


def extend_acts(engine: Engine) -> tuple[Act, Act]:
    hold = pending(engine, 3)
    return (
        lambda key: engine.extend(hold.id, 1, idempotency_key=key),
        lambda key: engine.extend(hold.id, 2, idempotency_key=key),
    )


def settle_acts(engine: Engine) -> tuple[Act, Act]:
    hold = pending(engine, 3)
    return (
        lambda key: engine.settle(hold.id, 2, idempotency_key=key),
        lambda key: engine.settle(hold.id, 1, idempotency_key=key),
    )


def release_acts(engine: Engine) -> tuple[Act, Act]:
    first, second = pending(engine, 3), pending(engine, 4)
    return (
        lambda key: engine.release(first.id, idempotency_key=key),
        lambda key: engine.release(second.id, idempotency_key=key),
    )


def refund_acts(engine: Engine) -> tuple[Act, Act]:
    charge = engine.charge("user_1", 5)
    return (
        lambda key: engine.refund(charge.entry.id, 1, idempotency_key=key),
        lambda key: engine.refund(charge.entry.id, 2, idempotency_key=key),
    )


def transfer_acts(engine: Engine) -> tuple[Act, Act]:
    return (
        lambda key: engine.transfer("user_1", "user_2", 3, idempotency_key=key),
        lambda key: engine.transfer("user_1", "user_2", 4, idempotency_key=key),
    )


@dataclass(frozen=True)
class Method:
    name: str
    acts: Callable[[Engine], tuple[Act, Act]]


METHODS = [
    Method("grant", grant_acts),
    Method("adjust", adjust_acts),
    Method("charge", charge_acts),
    Method("hold", hold_acts),
    Method("extend", extend_acts),
    Method("settle", settle_acts),
    Method("release", release_acts),
    Method("refund", refund_acts),
    Method("transfer", transfer_acts),
]


@pytest.fixture
def accounts(engine: Engine) -> Engine:
    funded_account(engine, "user_1", credits=100)
    engine.create_account("user_2")
    return engine


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_replay_returns_the_first_result_with_one_effect(accounts: Engine, method: Method) -> None:
    act, _ = method.acts(accounts)
    first = act("key-1")
    after_first = state(accounts)

    again = act("key-1")

    assert again == first
    assert state(accounts) == after_first
    assert accounts.verify().is_clean


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_same_key_with_a_different_request_raises_idempotency_conflict(
    accounts: Engine, method: Method
) -> None:
    act, different = method.acts(accounts)
    act("key-1")
    after_first = state(accounts)

    with pytest.raises(IdempotencyConflict) as raised:
        different("key-1")

    assert raised.value.key == "key-1"
    assert state(accounts) == after_first
    assert accounts.verify().is_clean


@pytest.mark.parametrize("spelling", ["3.000", Decimal("3.0")])
def test_charge_replays_when_the_same_amount_is_spelled_differently(
    accounts: Engine, spelling: str | Decimal
) -> None:
    first = accounts.charge("user_1", "3", idempotency_key="key-1")

    again = accounts.charge("user_1", spelling, idempotency_key="key-1")

    assert again == first
    assert accounts.balance("user_1").balance == credits(100 - 3)


def test_charge_replay_returns_the_first_result_after_the_balance_moved(accounts: Engine) -> None:
    first = accounts.charge("user_1", 3, idempotency_key="key-1")
    accounts.charge("user_1", 10)

    again = accounts.charge("user_1", 3, idempotency_key="key-1")

    assert again.credits_remaining == credits(100 - 3)
    assert again.entry.id == first.entry.id
    assert accounts.balance("user_1").balance == credits(100 - 3 - 10)


def test_keys_are_scoped_per_account(accounts: Engine) -> None:
    accounts.grant("user_2", 10)
    accounts.charge("user_1", 3, idempotency_key="key-1")

    other = accounts.charge("user_2", 3, idempotency_key="key-1")

    assert other.entry.account_id == "user_2"
    assert accounts.balance("user_1").balance == credits(100 - 3)
    assert accounts.balance("user_2").balance == credits(10 - 3)


def test_keys_are_scoped_per_operation(accounts: Engine) -> None:
    accounts.grant("user_1", 3, idempotency_key="key-1")

    charge = accounts.charge("user_1", 3, idempotency_key="key-1")

    assert charge.credits_used == credits(3)
    assert accounts.balance("user_1").balance == credits(100 + 3 - 3)
    assert len(accounts.history("user_1").items) == 3


def test_failed_request_does_not_use_up_its_key(accounts: Engine) -> None:
    with pytest.raises(InsufficientCredits):
        accounts.charge("user_1", 150, idempotency_key="key-1")
    accounts.grant("user_1", 50)

    receipt = accounts.charge("user_1", 150, idempotency_key="key-1")

    assert receipt.credits_remaining == Credits(0)
    assert accounts.verify().is_clean


def test_grant_replays_when_expires_at_is_the_same_instant_in_another_zone(
    accounts: Engine, clock: ManualClock
) -> None:
    expires_at = clock.now() + DAY
    first = accounts.grant("user_1", 5, expires_at=expires_at, idempotency_key="key-1")
    elsewhere = expires_at.astimezone(timezone(timedelta(hours=2)))

    again = accounts.grant("user_1", 5, expires_at=elsewhere, idempotency_key="key-1")

    assert again == first
    assert accounts.balance("user_1").balance == credits(100 + 5)
