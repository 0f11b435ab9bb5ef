"""Promo codes through the Engine: create and change codes, redeem them once per account.

The rules are the domain's (`creditgate.domain.promos`): a code is redeemable while active,
inside `[starts_at, ends_at)` and below its maximum; each account redeems it once; a
refused redemption changes nothing, neither the account nor the code's count.
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

import pytest

from creditgate import (
    AccountNotFound,
    Credits,
    Engine,
    EntryKind,
    IdempotencyConflict,
    InvalidInput,
    LotSource,
    ManualClock,
    PromoExists,
    PromoNotFound,
    PromoRedeemed,
    PromoUnavailable,
)
from tests.conftest import START
from tests.factories import DAY, MINUTE, funded_account

RACERS = 50
MAX_REDEMPTIONS = 10
SAME_ACCOUNT_RACERS = 8

ON_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
"""Races whose naive form fails only where writers of different accounts run in parallel."""

T = TypeVar("T")


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def books(engine: Engine, *account_ids: str) -> tuple[object, ...]:
    """Everything a redemption could change on these accounts, and every code."""
    return (
        tuple(engine.balance(a) for a in account_ids),
        tuple(engine.history(a, limit=500).items for a in account_ids),
        engine.promos(include_inactive=True),
    )


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


# Codes


def test_create_promo_stores_every_field_with_the_code_in_upper_case(engine: Engine) -> None:
    created = engine.create_promo(
        "Spring-25",
        credits="12.5",
        expires_after_days=30,
        starts_at=START,
        ends_at=START + 10 * DAY,
        max_redemptions=100,
        is_active=False,
    )

    assert created == engine.get_promo("spring-25")
    assert (created.code, created.credits, created.redeemed) == ("SPRING-25", credits("12.5"), 0)
    assert (created.expires_after_days, created.max_redemptions, created.is_active) == (
        30,
        100,
        False,
    )
    assert (created.starts_at, created.ends_at) == (START, START + 10 * DAY)


def test_create_promo_raises_promo_exists_whatever_the_case(engine: Engine) -> None:
    engine.create_promo("WELCOME", credits=5)

    with pytest.raises(PromoExists) as raised:
        engine.create_promo("welcome", credits=9)

    assert raised.value.key == "WELCOME"
    assert engine.get_promo("WELCOME").credits == credits(5)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"code": "ab"}, "code"),
        ({"code": "x" * 65}, "code"),
        ({"code": "NO SPACES"}, "code"),
        ({"code": "ÉTÉ-25"}, "code"),
        ({"credits": 0}, "credits"),
        ({"credits": "0.0001"}, "credits"),
        ({"expires_after_days": 0}, "expires_after_days"),
        ({"expires_after_days": 36_501}, "expires_after_days"),
        ({"max_redemptions": 0}, "max_redemptions"),
        ({"max_redemptions": True}, "max_redemptions"),
        ({"starts_at": START.replace(tzinfo=None)}, "starts_at"),
        ({"starts_at": START, "ends_at": START}, "ends_at"),
        ({"is_active": "yes"}, "is_active"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_create_promo_refuses_bad_input_and_stores_nothing(
    engine: Engine, fields: dict[str, object], field: str
) -> None:
    given: dict[str, object] = {"code": "GOOD-CODE", "credits": 5, **fields}

    with pytest.raises(InvalidInput) as raised:
        engine.create_promo(**given)  # type: ignore[arg-type]

    assert raised.value.field == field
    assert engine.promos(include_inactive=True) == ()


def test_promos_lists_active_codes_by_code_unless_inactive_ones_are_asked_for(
    engine: Engine,
) -> None:
    engine.create_promo("ZETA", credits=1)
    engine.create_promo("ALPHA", credits=1)
    engine.create_promo("OFF", credits=1, is_active=False)

    active = [p.code for p in engine.promos()]
    every = [p.code for p in engine.promos(include_inactive=True)]

    assert (active, every) == (["ALPHA", "ZETA"], ["ALPHA", "OFF", "ZETA"])


def test_get_promo_raises_promo_not_found_for_an_unknown_code(engine: Engine) -> None:
    with pytest.raises(PromoNotFound) as raised:
        engine.get_promo("nothing")

    assert raised.value.id == "NOTHING"


def test_update_promo_changes_only_the_fields_given(engine: Engine, clock: ManualClock) -> None:
    engine.create_promo("SALE", credits=5, max_redemptions=3, ends_at=START + DAY)
    clock.advance(MINUTE)

    updated = engine.update_promo("sale", credits=8, is_active=False)

    assert (updated.credits, updated.is_active) == (credits(8), False)
    assert (updated.max_redemptions, updated.ends_at) == (3, START + DAY)
    assert updated.updated_at == START + MINUTE
    assert updated == engine.get_promo("SALE")


def test_update_promo_refuses_a_maximum_below_the_redemptions_made(engine: Engine) -> None:
    engine.create_promo("SALE", credits=5, max_redemptions=3)
    for user in ("user_1", "user_2"):
        engine.create_account(user)
        engine.redeem(user, "SALE")
    before = engine.get_promo("SALE")

    with pytest.raises(InvalidInput) as raised:
        engine.update_promo("SALE", max_redemptions=1)

    assert raised.value.field == "max_redemptions"
    assert engine.get_promo("SALE") == before
    assert engine.update_promo("SALE", max_redemptions=2).max_redemptions == 2


def test_update_promo_refuses_a_window_that_ends_before_it_starts(engine: Engine) -> None:
    engine.create_promo("SALE", credits=5, starts_at=START + DAY)

    with pytest.raises(InvalidInput) as raised:
        engine.update_promo("SALE", ends_at=START)

    assert raised.value.field == "ends_at"


def test_update_promo_raises_promo_not_found_for_an_unknown_code(engine: Engine) -> None:
    with pytest.raises(PromoNotFound):
        engine.update_promo("NOTHING", credits=1)


# Redeeming


def test_redeem_grants_a_promo_lot_with_the_code_in_its_metadata(engine: Engine) -> None:
    funded_account(engine, credits=10)
    engine.create_promo("WELCOME-5", credits="5.5")

    receipt = engine.redeem("user_1", "welcome-5")

    assert (receipt.entry.kind, receipt.entry.source) == (EntryKind.GRANT, LotSource.PROMO.value)
    assert (receipt.entry.amount, receipt.entry.metadata) == (
        credits("5.5"),
        {"promo": "WELCOME-5"},
    )
    assert receipt.balance.balance == credits("15.5")
    assert engine.lifetime("user_1").granted_by_source["promo"] == credits("5.5")
    assert engine.get_promo("WELCOME-5").redeemed == 1
    assert engine.verify().problems == ()


def test_redeem_grants_a_lot_that_expires_after_the_codes_days(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    engine.create_promo("SHORT", credits=5, expires_after_days=7)
    engine.redeem("user_1", "SHORT")

    clock.advance(7 * DAY - MINUTE)
    before_expiry = engine.balance("user_1").balance
    clock.advance(MINUTE)

    assert (before_expiry, engine.balance("user_1").balance) == (credits(5), credits(0))


def test_redeem_grants_once_per_account(engine: Engine) -> None:
    engine.create_account("user_1")
    engine.create_promo("ONCE", credits=5)
    engine.redeem("user_1", "ONCE")
    before = books(engine, "user_1")

    with pytest.raises(PromoRedeemed) as raised:
        engine.redeem("user_1", "once")

    assert raised.value.key == "ONCE"
    assert books(engine, "user_1") == before


def test_redeem_raises_promo_not_found_and_changes_nothing_for_an_unknown_code(
    engine: Engine,
) -> None:
    engine.create_account("user_1")
    before = books(engine, "user_1")

    with pytest.raises(PromoNotFound):
        engine.redeem("user_1", "NOTHING")

    assert books(engine, "user_1") == before


def test_redeem_raises_account_not_found_and_counts_nothing(engine: Engine) -> None:
    engine.create_promo("SALE", credits=5)

    with pytest.raises(AccountNotFound):
        engine.redeem("nobody", "SALE")

    assert engine.get_promo("SALE").redeemed == 0


def test_redeem_of_an_inactive_code_is_refused_as_inactive_and_changes_nothing(
    engine: Engine,
) -> None:
    engine.create_account("user_1")
    engine.create_promo("PAUSED", credits=5, is_active=False)
    before = books(engine, "user_1")

    with pytest.raises(PromoUnavailable) as raised:
        engine.redeem("user_1", "PAUSED")

    assert (raised.value.key, raised.value.reason) == ("PAUSED", "inactive")
    assert books(engine, "user_1") == before


def test_redeem_follows_the_window_to_the_instant(engine: Engine, clock: ManualClock) -> None:
    """Redeemable from `starts_at` itself until just before `ends_at`."""
    starts_at, ends_at = START + DAY, START + 2 * DAY
    engine.create_promo("WINDOW", credits=1, starts_at=starts_at, ends_at=ends_at)
    outcomes: dict[str, str] = {}
    for name, at in {
        "just before the start": starts_at - timedelta(microseconds=1),
        "at the start": starts_at,
        "just before the end": ends_at - timedelta(microseconds=1),
        "at the end": ends_at,
    }.items():
        clock.set(at)
        engine.create_account(name)
        try:
            engine.redeem(name, "WINDOW")
        except PromoUnavailable as error:
            outcomes[name] = error.reason
        else:
            outcomes[name] = "granted"

    assert outcomes == {
        "just before the start": "not_started",
        "at the start": "granted",
        "just before the end": "granted",
        "at the end": "ended",
    }
    assert engine.get_promo("WINDOW").redeemed == 2


def test_redeem_beyond_the_maximum_is_refused_as_used_up_and_changes_nothing(
    engine: Engine,
) -> None:
    engine.create_promo("TWO", credits=1, max_redemptions=2)
    for user in ("user_1", "user_2", "user_3"):
        engine.create_account(user)
    engine.redeem("user_1", "TWO")
    engine.redeem("user_2", "TWO")
    before = books(engine, "user_3")

    with pytest.raises(PromoUnavailable) as raised:
        engine.redeem("user_3", "TWO")

    assert raised.value.reason == "used_up"
    assert books(engine, "user_3") == before
    assert engine.get_promo("TWO").redeemed == 2


def test_redeem_tells_an_account_that_redeemed_a_used_up_code_that_it_did(engine: Engine) -> None:
    engine.create_account("user_1")
    engine.create_promo("ONE", credits=1, max_redemptions=1)
    engine.redeem("user_1", "ONE")

    with pytest.raises(PromoRedeemed):
        engine.redeem("user_1", "ONE")


def test_redeem_grants_the_credits_the_code_has_when_it_is_redeemed(engine: Engine) -> None:
    for user in ("user_1", "user_2"):
        engine.create_account(user)
    engine.create_promo("GROWS", credits=1)
    engine.redeem("user_1", "GROWS")
    engine.update_promo("GROWS", credits=3)

    receipt = engine.redeem("user_2", "GROWS")

    assert (engine.balance("user_1").balance, receipt.balance.balance) == (credits(1), credits(3))


def test_redeem_on_a_frozen_account_grants_the_credits(engine: Engine) -> None:
    engine.create_account("user_1")
    engine.update_account("user_1", is_frozen=True)
    engine.create_promo("SALE", credits=5)

    receipt = engine.redeem("user_1", "SALE")

    assert receipt.balance.balance == credits(5)


@pytest.mark.parametrize(
    ("act", "field"),
    [
        (lambda e: e.redeem("user_1", "ab"), "code"),
        (lambda e: e.redeem("user_1", "BAD CODE"), "code"),
        (lambda e: e.redeem("user_1", 5), "code"),
        (lambda e: e.redeem("", "SALE"), "account_id"),
        (lambda e: e.redeem("user_1", "SALE", idempotency_key=""), "idempotency_key"),
    ],
    ids=["short", "space", "not text", "no account", "empty key"],
)
def test_redeem_refuses_bad_input_and_changes_nothing(
    engine: Engine, act: Callable[[Engine], object], field: str
) -> None:
    engine.create_account("user_1")
    engine.create_promo("SALE", credits=5)
    before = books(engine, "user_1")

    with pytest.raises(InvalidInput) as raised:
        act(engine)

    assert raised.value.field == field
    assert books(engine, "user_1") == before


def test_redeem_replays_the_first_receipt_for_the_same_key(engine: Engine) -> None:
    engine.create_account("user_1")
    engine.create_promo("SALE", credits=5)
    first = engine.redeem("user_1", "SALE", idempotency_key="redeem-1")

    again = engine.redeem("user_1", "sale", idempotency_key="redeem-1")

    assert again == first
    assert engine.balance("user_1").balance == credits(5)
    assert engine.get_promo("SALE").redeemed == 1


def test_redeem_raises_idempotency_conflict_for_the_same_key_with_another_code(
    engine: Engine,
) -> None:
    engine.create_account("user_1")
    engine.create_promo("SALE", credits=5)
    engine.create_promo("OTHER", credits=7)
    engine.redeem("user_1", "SALE", idempotency_key="redeem-1")
    before = books(engine, "user_1")

    with pytest.raises(IdempotencyConflict):
        engine.redeem("user_1", "OTHER", idempotency_key="redeem-1")

    assert books(engine, "user_1") == before


def test_redeem_after_a_refusal_with_a_key_takes_effect_once_the_code_allows_it(
    engine: Engine,
) -> None:
    """A refused redemption stores nothing under its key: the retry is a fresh request."""
    engine.create_account("user_1")
    engine.create_promo("LATER", credits=5, is_active=False)
    with pytest.raises(PromoUnavailable):
        engine.redeem("user_1", "LATER", idempotency_key="redeem-1")
    engine.update_promo("LATER", is_active=True)

    receipt = engine.redeem("user_1", "LATER", idempotency_key="redeem-1")

    assert receipt.balance.balance == credits(5)


# Concurrency


@ON_POSTGRESQL
def test_redeem_never_passes_the_maximum_when_50_accounts_race_for_10(engine: Engine) -> None:
    """50 accounts race for a code of 10 redemptions: exactly 10 are granted, 40 refused.

    Checked once against a naive variant (the claim read the code's count, compared it with
    the maximum in Python and wrote count + 1 back, instead of one conditional UPDATE): the
    racers all read a count below the maximum, 50 of 50 were granted, and the count stored
    said 1 to 6 in three runs, the racers' writes overwriting one another. PostgreSQL only:
    SQLite runs one writer at a time, so there the naive form cannot fail.
    """
    users = [f"user_{i}" for i in range(RACERS)]
    for user in users:
        engine.create_account(user)
    engine.create_promo("LIMITED", credits=3, max_redemptions=MAX_REDEMPTIONS)

    outcomes = race(RACERS, lambda i: engine.redeem(users[i], "LIMITED"))

    granted = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, PromoUnavailable) and o.reason == "used_up"]
    assert (len(granted), len(refused)) == (MAX_REDEMPTIONS, RACERS - MAX_REDEMPTIONS)
    assert engine.get_promo("LIMITED").redeemed == MAX_REDEMPTIONS
    balances = [engine.balance(user).balance for user in users]
    assert sum(b.units for b in balances) == credits(3 * MAX_REDEMPTIONS).units
    assert engine.verify().problems == ()


def test_redeem_grants_once_when_one_account_races_itself(engine: Engine) -> None:
    """Eight redemptions of one code by one account at once: one grant, seven refusals."""
    engine.create_account("user_1")
    engine.create_promo("ONCE", credits=5)

    outcomes = race(SAME_ACCOUNT_RACERS, lambda _: engine.redeem("user_1", "ONCE"))

    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    assert sum(isinstance(o, PromoRedeemed) for o in outcomes) == SAME_ACCOUNT_RACERS - 1
    assert engine.balance("user_1").balance == credits(5)
    assert engine.get_promo("ONCE").redeemed == 1
