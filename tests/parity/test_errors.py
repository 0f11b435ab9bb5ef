"""Every domain error comes back from the service as an equal exception.

The service writes a problem with `http.problems.from_error`; the client reads it back
with `client.problems.error_of`. Both are the real code, joined here without a socket,
for every class of the tree; the live tests below check the same over HTTP.
"""

import inspect
import json
from datetime import UTC, datetime

import pytest

from creditgate import (
    AccountFrozen,
    AccountNotFound,
    Client,
    Conflict,
    CreditgateError,
    Credits,
    EntryNotFound,
    FeatureExists,
    FeatureNotFound,
    Forbidden,
    GuestLinked,
    GuestQuotaExceeded,
    GuestsNotAllowed,
    HoldNotFound,
    HoldNotPending,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidInput,
    KeyNotFound,
    MemberCapExceeded,
    MemberNotFound,
    NotFound,
    PackClaimed,
    PackExists,
    PackNotFound,
    PlanExists,
    PlanNotFound,
    PromoExists,
    PromoNotFound,
    PromoRedeemed,
    PromoUnavailable,
    ProviderFailed,
    PurchaseNotFound,
    RateLimited,
    ReferralExists,
    ReferralsOff,
    SignatureInvalid,
    SubscriptionNotFound,
    TokenExpired,
    Unauthenticated,
    Unavailable,
    WebhookDeliveryNotFound,
    WebhookEndpointNotFound,
)
from creditgate.client.problems import CLASSES, error_of
from creditgate.domain import errors
from creditgate.http.problems import from_error
from tests.factories import funded_account
from tests.parity.conftest import ON_SQLITE_ONLY, Faces

SAMPLES: list[CreditgateError] = [
    CreditgateError("the call failed"),
    InvalidInput(field="amount", reason="an amount has at most 3 decimal places"),
    NotFound("thing_1"),
    AccountNotFound("user_1"),
    MemberNotFound("user_7"),
    HoldNotFound(7),
    EntryNotFound(9),
    FeatureNotFound("image.generate"),
    KeyNotFound(3),
    PlanNotFound("pro"),
    SubscriptionNotFound("user_1"),
    Conflict("the state forbids it"),
    IdempotencyConflict(key="job-1"),
    FeatureExists(key="image.generate"),
    PlanExists(key="basic"),
    PromoNotFound("SPRING-25"),
    PromoExists(key="SPRING-25"),
    PromoUnavailable(key="SPRING-25", reason="used_up"),
    PromoRedeemed(key="SPRING-25"),
    PackNotFound("creator"),
    PurchaseNotFound(12),
    PackExists(key="creator"),
    PackClaimed(key="starter"),
    ReferralExists(account_id="user_2"),
    ReferralsOff(),
    HoldNotPending(hold_id=4, hold_status="settled"),
    InsufficientCredits(required=Credits.parse("2.5"), available=Credits.parse("0.125")),
    MemberCapExceeded(required=Credits.parse(40), available=Credits.parse(-1)),
    RateLimited(limit_per_s=2.5, retry_after_s=3),
    GuestQuotaExceeded(
        limit=3, retry_after_s=75600, reset_at=datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    ),
    GuestsNotAllowed(feature="video.generate"),
    GuestLinked(session_id="sess_1"),
    Unauthenticated("the API key is malformed"),
    TokenExpired("the widget token has expired"),
    Forbidden("this key's scope is read; the call needs write"),
    AccountFrozen(account_id="user_1"),
    SignatureInvalid(provider="stripe", reason="the timestamp is outside the window"),
    ProviderFailed(provider="stripe", reason="card_declined"),
    Unavailable(service="stripe", reason="no Stripe secret key is configured"),
    WebhookEndpointNotFound(3),
    WebhookDeliveryNotFound(5),
]
"""One error of every class in `domain/errors.py`."""


def _round_trip(error: CreditgateError) -> CreditgateError:
    response = from_error(error)
    return error_of(response.status_code, bytes(response.body))


def test_samples_name_every_error_class() -> None:
    classes = {
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, CreditgateError)
    }

    sampled = {type(sample) for sample in SAMPLES}

    assert sampled == classes
    assert set(CLASSES.values()) == classes


@pytest.mark.parametrize("error", SAMPLES, ids=lambda error: type(error).__name__)
def test_error_of_answers_an_equal_error_of_the_same_class(error: CreditgateError) -> None:
    read = _round_trip(error)

    assert type(read) is type(error)
    assert read == error
    assert str(read) == str(error)


def test_error_of_answers_the_amounts_of_insufficient_credits() -> None:
    error = InsufficientCredits(required=Credits.parse("2.5"), available=Credits.parse(1))

    read = _round_trip(error)

    assert isinstance(read, InsufficientCredits)
    assert (read.required, read.available, read.shortfall) == (
        Credits.parse("2.5"),
        Credits.parse(1),
        Credits.parse("1.5"),
    )


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (404, {"code": "coupon_not_found", "detail": "x", "id": "pro"}, NotFound("pro")),
        (409, {"code": "plan_taken", "detail": "taken"}, Conflict("taken")),
        (
            422,
            {"code": "bad_plan", "detail": "plan: no", "field": "plan", "reason": "no"},
            InvalidInput(field="plan", reason="no"),
        ),
        (
            402,
            {"code": "plan_short", "detail": "x", "required": "3", "available": "1"},
            InsufficientCredits(required=Credits.parse(3), available=Credits.parse(1)),
        ),
        (403, {"code": "plan_closed", "detail": "closed"}, Forbidden("closed")),
        (401, {"code": "expired_key", "detail": "expired"}, Unauthenticated("expired")),
        (500, {"code": "internal_error", "detail": "the server failed"}, None),
    ],
    ids=["404", "409", "422", "402", "403", "401", "500"],
)
def test_error_of_falls_back_to_the_status_base_class_when_the_code_is_unknown(
    status: int, body: dict[str, object], expected: CreditgateError | None
) -> None:
    read = error_of(status, json.dumps(body).encode())

    assert read == (expected or CreditgateError("the server failed"))


def test_error_of_answers_a_base_error_with_the_detail_when_the_fields_are_missing() -> None:
    body = {"code": "route_not_found", "detail": "Not Found"}

    read = error_of(404, json.dumps(body).encode())

    assert read == CreditgateError("Not Found")


def test_error_of_answers_the_base_class_when_a_field_has_another_kind() -> None:
    body = {"code": "hold_not_pending", "detail": "hold 4 has ended", "hold_id": 4, "status": 409}

    read = error_of(409, json.dumps(body).encode())

    assert read == Conflict("hold 4 has ended")


def test_error_of_answers_a_base_error_when_the_body_is_not_a_problem() -> None:
    read = error_of(502, b"<html>Bad gateway</html>", reason_phrase="Bad Gateway")

    assert read == CreditgateError("HTTP 502 Bad Gateway")


def test_from_error_keeps_the_http_status_in_the_problem_when_the_hold_is_not_pending() -> None:
    response = from_error(HoldNotPending(hold_id=4, hold_status="settled"))

    body = json.loads(bytes(response.body))

    assert body["status"] == response.status_code == 409


@ON_SQLITE_ONLY
def test_balance_raises_unauthenticated_when_the_key_is_unknown(faces: Faces) -> None:
    with (
        Client(faces.base_url, "cg_0123456789_" + "x" * 32, retries=0) as stranger,
        pytest.raises(Unauthenticated) as raised,
    ):
        stranger.balance("user_1")

    assert raised.value.detail


@ON_SQLITE_ONLY
def test_charge_raises_forbidden_when_the_key_only_reads(faces: Faces) -> None:
    faces.arrange(lambda engine: funded_account(engine, "user_1", 10))
    read_key = faces.served.create_key("read", name="reader")[1]

    with Client(faces.base_url, read_key, retries=0) as reader, pytest.raises(Forbidden) as raised:
        reader.charge("user_1", 1)

    assert raised.value == Forbidden("this key's scope is read; the call needs write")
