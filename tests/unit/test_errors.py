"""The error tree: codes, typed fields, messages and equality."""

import pytest

from creditgate import (
    AccountFrozen,
    AccountNotFound,
    Conflict,
    CreditgateError,
    Credits,
    EntryNotFound,
    Forbidden,
    HoldNotFound,
    HoldNotPending,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidInput,
    MemberCapExceeded,
    MemberNotFound,
    NotFound,
)


def test_invalid_input_carries_field_and_reason() -> None:
    error = InvalidInput(field="amount", reason="must be greater than zero")

    assert error.code == "invalid_input"
    assert error.fields() == {"field": "amount", "reason": "must be greater than zero"}
    assert str(error) == "amount: must be greater than zero"


def test_insufficient_credits_computes_the_shortfall() -> None:
    error = InsufficientCredits(required=Credits(5000), available=Credits(1500))

    assert error.shortfall == Credits(3500)
    assert error.fields() == {"required": "5", "available": "1.5", "shortfall": "3.5"}
    assert error.code == "insufficient_credits"


def test_member_cap_exceeded_is_insufficient_credits_with_its_own_code() -> None:
    error = MemberCapExceeded(required=Credits(3000), available=Credits(1000))

    assert isinstance(error, InsufficientCredits)
    assert error.code == "member_cap_exceeded"
    assert error.shortfall == Credits(2000)


def test_account_frozen_is_forbidden_and_names_the_account() -> None:
    error = AccountFrozen(account_id="user_1")

    assert isinstance(error, Forbidden)
    assert error.fields() == {"account_id": "user_1"}
    assert "user_1" in str(error)


def test_hold_not_pending_is_a_conflict_with_hold_id_and_status() -> None:
    error = HoldNotPending(hold_id=12, hold_status="settled")

    assert isinstance(error, Conflict)
    assert error.fields() == {"hold_id": 12, "hold_status": "settled"}
    assert error.code == "hold_not_pending"


def test_idempotency_conflict_is_a_conflict_with_the_key() -> None:
    error = IdempotencyConflict(key="k-1")

    assert isinstance(error, Conflict)
    assert error.fields() == {"key": "k-1"}
    assert "k-1" in str(error)


@pytest.mark.parametrize(
    ("cls", "code", "entity"),
    [
        (AccountNotFound, "account_not_found", "account"),
        (MemberNotFound, "member_not_found", "member"),
        (HoldNotFound, "hold_not_found", "hold"),
        (EntryNotFound, "entry_not_found", "entry"),
    ],
)
def test_not_found_names_its_entity_and_id(cls: type[NotFound], code: str, entity: str) -> None:
    error = cls(42)

    assert isinstance(error, NotFound)
    assert error.code == code
    assert error.fields() == {"id": 42}
    assert str(error) == f"{entity} 42 was not found"


def test_every_error_is_a_creditgate_error() -> None:
    errors: list[CreditgateError] = [
        InvalidInput(field="f", reason="r"),
        AccountNotFound("a"),
        IdempotencyConflict(key="k"),
        HoldNotPending(hold_id=1, hold_status="released"),
        InsufficientCredits(required=Credits(2), available=Credits(1)),
        AccountFrozen(account_id="a"),
    ]

    assert all(isinstance(e, CreditgateError) for e in errors)
    assert all(e.detail == str(e) for e in errors)


def test_errors_of_one_class_with_equal_fields_are_equal() -> None:
    first = InsufficientCredits(required=Credits(5000), available=Credits(1000))
    second = InsufficientCredits(required=Credits(5000), available=Credits(1000))

    assert first == second
    assert hash(first) == hash(second)


def test_errors_with_different_fields_are_not_equal() -> None:
    first = InvalidInput(field="amount", reason="r")
    second = InvalidInput(field="ttl", reason="r")

    assert first != second


def test_errors_of_different_classes_are_not_equal() -> None:
    parent = InsufficientCredits(required=Credits(3), available=Credits(1))
    child = MemberCapExceeded(required=Credits(3), available=Credits(1))

    assert parent != child
    assert child != parent


def test_an_error_is_not_equal_to_something_else() -> None:
    error = AccountNotFound("user_1")

    assert error != "account 'user_1' was not found"
    assert error != Exception("account 'user_1' was not found")
