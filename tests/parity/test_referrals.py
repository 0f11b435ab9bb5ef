"""Referrals through both faces: equal referrals, equal catalog changes, equal refusals."""

from collections.abc import Callable

import pytest

from creditgate import (
    AccountNotFound,
    CreditgateError,
    Engine,
    IdempotencyConflict,
    InvalidInput,
    Ledger,
    Referral,
    ReferralExists,
    ReferralsOff,
)
from tests.parity.conftest import ON_SQLITE_ONLY, Faces

FILE = {
    "referrals": {"referrer_credits": "50", "referee_credits": "20.5", "condition": "signup"},
    "features": [],
}


def _people(engine: Engine) -> None:
    for account_id in ("alice", "bob", "carol", "dave"):
        engine.create_account(account_id)


def _offering(engine: Engine) -> None:
    _people(engine)
    engine.apply_catalog(FILE)


def test_apply_catalog_with_referrals_answers_equal_changes(faces: Faces) -> None:
    embedded, remote = faces.both(
        lambda ledger: (
            ledger.apply_catalog(FILE, dry_run=True),
            ledger.apply_catalog(FILE),
            ledger.export_catalog(),
            ledger.apply_catalog({"features": []}),
        )
    )

    assert embedded == remote
    assert remote[1][0].referrals == remote[2].referrals
    assert remote[3][0].referrals is None


def test_refer_and_referrals_answer_equally(faces: Faces) -> None:
    faces.arrange(_offering)

    embedded, remote = faces.both(
        lambda ledger: (
            ledger.refer("bob", "alice", idempotency_key="signup-bob"),
            ledger.refer("bob", "alice", idempotency_key="signup-bob"),
            ledger.refer("carol", "alice"),
            ledger.referrals("alice"),
            ledger.balance("alice"),
            ledger.history("bob").items,
        )
    )

    assert embedded == remote
    assert [r.referee_id for r in remote[3]] == ["bob", "carol"]


def _refusals(ledger: Ledger) -> list[object]:
    outcomes: list[object] = []
    acts: list[Callable[[], object]] = [
        lambda: ledger.refer("bob", "nobody"),
        lambda: ledger.refer("nobody", "alice"),
        lambda: ledger.refer("bob", "bob"),
        lambda: ledger.refer("bob", "alice", idempotency_key="k"),
        lambda: ledger.refer("bob", "carol"),
        lambda: ledger.refer("bob", "carol", idempotency_key="k"),
        lambda: ledger.referrals("nobody"),
        lambda: ledger.apply_catalog({"features": []}),
        lambda: ledger.refer("dave", "alice"),
    ]
    for act in acts:
        try:
            outcomes.append(act())
        except CreditgateError as error:
            outcomes.append(error)
    return outcomes


def test_refused_referral_calls_raise_equal_errors(faces: Faces) -> None:
    faces.arrange(_offering)

    embedded, remote = faces.both(_refusals)

    assert embedded == remote
    assert [type(o) for o in remote] == [
        AccountNotFound,
        AccountNotFound,
        InvalidInput,
        Referral,
        ReferralExists,
        IdempotencyConflict,
        AccountNotFound,
        tuple,
        ReferralsOff,
    ]


BAD_INPUT = {
    "refer_itself": lambda ledger: ledger.refer("alice", "alice"),
    "refer_referee_empty": lambda ledger: ledger.refer("", "alice"),
    "refer_referrer_empty": lambda ledger: ledger.refer("bob", ""),
    "refer_key_not_ascii": lambda ledger: ledger.refer("bob", "alice", idempotency_key="clé"),
    "referrals_account_id_empty": lambda ledger: ledger.referrals(""),
    "apply_catalog_referrals_nothing_offered": lambda ledger: ledger.apply_catalog(
        {"referrals": {"referrer_credits": "0"}, "features": []}
    ),
}
"""Inputs both faces refuse alike, and before anything is written."""


@ON_SQLITE_ONLY
@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_referral_input_raises_equal_invalid_input(faces: Faces, name: str) -> None:
    faces.arrange(_offering)

    embedded, remote = faces.each(BAD_INPUT[name])

    assert isinstance(remote, InvalidInput)
    assert embedded == remote
