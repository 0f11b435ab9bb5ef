"""Promo codes through both faces: equal codes, equal receipts, equal refusals."""

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from creditgate import (
    AsyncClient,
    CreditgateError,
    Engine,
    IdempotencyConflict,
    InvalidInput,
    Ledger,
    PromoExists,
    PromoNotFound,
    PromoRedeemed,
    PromoUnavailable,
    Receipt,
)
from tests.conftest import START
from tests.parity.conftest import ON_SQLITE_ONLY, Faces

DAY = timedelta(days=1)


def _codes(engine: Engine) -> None:
    """An account and three codes: open, capped at one, and not yet valid."""
    now = engine.clock.now()
    engine.create_account("user_1")
    engine.create_account("user_2")
    engine.create_promo("OPEN", credits="2.5", expires_after_days=30)
    engine.create_promo("ONE", credits=1, max_redemptions=1)
    engine.create_promo("SOON", credits=1, starts_at=now + DAY, ends_at=now + 2 * DAY)


def test_create_promo_answers_equal_codes(faces: Faces) -> None:
    now = faces.clock.now()

    embedded, remote = faces.both(
        lambda ledger: ledger.create_promo(
            "spring-25",
            credits="12.5",
            expires_after_days=30,
            starts_at=now,
            ends_at=now + DAY,
            max_redemptions=100,
            is_active=False,
        )
    )

    assert embedded == remote
    assert remote.code == "SPRING-25"


def test_promo_reads_and_changes_answer_equally(faces: Faces) -> None:
    faces.arrange(_codes)

    embedded, remote = faces.both(
        lambda ledger: (
            ledger.update_promo("open", credits=3, max_redemptions=5, is_active=False),
            ledger.get_promo("Open"),
            ledger.promos(),
            ledger.promos(include_inactive=True),
        )
    )

    assert embedded == remote
    assert [p.code for p in remote[3]] == ["ONE", "OPEN", "SOON"]


def test_redeem_answers_equal_receipts(faces: Faces) -> None:
    faces.arrange(_codes)

    embedded, remote = faces.both(
        lambda ledger: (
            ledger.redeem("user_1", "open", idempotency_key="redeem-1"),
            ledger.redeem("user_1", "OPEN", idempotency_key="redeem-1"),
            ledger.redeem("user_2", "one"),
            ledger.get_promo("ONE"),
        )
    )

    assert embedded == remote
    assert remote[0] == remote[1]
    assert remote[0].entry.metadata == {"promo": "OPEN"}


def _refusals(ledger: Ledger) -> list[object]:
    outcomes: list[object] = []
    acts: list[Callable[[], object]] = [
        lambda: ledger.redeem("user_1", "nothing"),
        lambda: ledger.redeem("user_1", "SOON"),
        lambda: ledger.redeem("user_1", "ONE"),
        lambda: ledger.redeem("user_1", "ONE"),
        lambda: ledger.redeem("user_2", "ONE"),
        lambda: ledger.redeem("user_1", "OPEN", idempotency_key="k"),
        lambda: ledger.redeem("user_1", "ONE", idempotency_key="k"),
        lambda: ledger.create_promo("one", credits=3),
        lambda: ledger.get_promo("NOTHING"),
        lambda: ledger.update_promo("ONE", max_redemptions=1, credits=0),
    ]
    for act in acts:
        try:
            outcomes.append(act())
        except CreditgateError as error:
            outcomes.append(error)
    return outcomes


def test_refused_promo_calls_raise_equal_errors(faces: Faces) -> None:
    faces.arrange(_codes)

    embedded, remote = faces.both(_refusals)

    assert embedded == remote
    assert [type(o) for o in remote] == [
        PromoNotFound,
        PromoUnavailable,
        Receipt,
        PromoRedeemed,
        PromoUnavailable,
        Receipt,
        IdempotencyConflict,
        PromoExists,
        PromoNotFound,
        InvalidInput,
    ]


BAD_INPUT = {
    "redeem_code_too_short": lambda ledger: ledger.redeem("user_1", "ab"),
    "redeem_code_with_a_space": lambda ledger: ledger.redeem("user_1", "TWO WORDS"),
    "redeem_account_id_empty": lambda ledger: ledger.redeem("", "OPEN"),
    "redeem_key_empty": lambda ledger: ledger.redeem("user_1", "OPEN", idempotency_key=""),
    "get_promo_code_not_ascii": lambda ledger: ledger.get_promo("ÉTÉ-25"),
    "create_promo_credits_zero": lambda ledger: ledger.create_promo("NEW", credits=0),
    "create_promo_days_zero": lambda ledger: ledger.create_promo(
        "NEW", credits=1, expires_after_days=0
    ),
    "create_promo_maximum_zero": lambda ledger: ledger.create_promo(
        "NEW", credits=1, max_redemptions=0
    ),
    "create_promo_ends_before_it_starts": lambda ledger: ledger.create_promo(
        "NEW", credits=1, starts_at=START + DAY, ends_at=START
    ),
    "create_promo_starts_at_naive": lambda ledger: ledger.create_promo(
        "NEW", credits=1, starts_at=START.replace(tzinfo=None)
    ),
    "update_promo_maximum_too_large": lambda ledger: ledger.update_promo(
        "ONE", max_redemptions=10**10
    ),
    "update_promo_code_too_long": lambda ledger: ledger.update_promo("X" * 65, credits=1),
}
"""Inputs both faces refuse alike, and before anything is written."""


@ON_SQLITE_ONLY
@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_promo_input_raises_equal_invalid_input(faces: Faces, name: str) -> None:
    faces.arrange(_codes)

    embedded, remote = faces.each(BAD_INPUT[name])

    assert isinstance(remote, InvalidInput)
    assert embedded == remote


@ON_SQLITE_ONLY
def test_redeem_answers_equal_receipts_through_the_async_client(faces: Faces) -> None:
    faces.arrange(_codes)
    expected = faces.engine.redeem("user_1", "OPEN")

    async def main() -> Receipt | CreditgateError:
        async with AsyncClient(faces.base_url, faces.api_key) as client:
            try:
                return await client.redeem("user_1", "open")
            except CreditgateError as error:
                return error

    assert asyncio.run(main()) == expected
