"""The providers' webhooks over HTTP: signed by Stripe's and Svix's own code, or refused.

Deliveries are signed with the real clock (the providers' packages judge the window by
it), while the ledger runs on the test's manual clock. Every refused delivery answers 400
(503 without a secret), never a 5xx, and grants nothing.
"""

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from creditgate import AccountNotFound, Credits, Engine
from creditgate.app import create_app
from creditgate.settings import Settings
from tests.fakes.signing import (
    clerk_user_created,
    clerk_user_deleted,
    stripe_delivery,
    stripe_signature,
    svix_delivery,
    svix_headers,
    svix_secret,
)
from tests.fakes.stripe_api import FakeStripe

STRIPE_SECRET = "whsec_test_stripe_endpoint_secret"
CLERK_SECRET = svix_secret()
PRICE = 1499


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as served:
        yield served


@pytest.fixture
def http(engine: Engine, fake: FakeStripe) -> Iterator[TestClient]:
    """The service with both webhook secrets and Stripe's API at the fake."""
    settings = Settings(
        stripe_secret_key=SecretStr(fake.secret_key),
        stripe_api_base=fake.url,
        stripe_webhook_secret=SecretStr(STRIPE_SECRET),
        clerk_webhook_secret=SecretStr(CLERK_SECRET),
    )
    engine.create_pack("creator", name="Creator", credits=110, bonus_credits=10, price_minor=PRICE)
    engine.create_account("user_1")
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as client:
        yield client


def paid_checkout(fake: FakeStripe, account_id: str = "user_1") -> dict[str, Any]:
    """A Creator checkout opened at the fake as creditgate opens one, and paid."""
    session = fake.client().v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": PRICE,
                        "product_data": {"name": "Creator"},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": "https://app.example/ok",
            "metadata": {"account_id": account_id, "pack": "creator"},
        }
    )
    return fake.complete_session(session.id)


def post_stripe(http: TestClient, body: bytes, headers: dict[str, Any]) -> Any:
    return http.post("/v1/webhooks/stripe", content=body, headers=headers)


def test_stripe_event_signed_by_stripe_grants_the_pack(
    http: TestClient, engine: Engine, fake: FakeStripe
) -> None:
    body, headers = stripe_delivery(paid_checkout(fake), STRIPE_SECRET)

    response = http.post("/v1/webhooks/stripe", content=body, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "applied"
    assert engine.balance("user_1").balance == Credits.parse(120)


def test_stripe_event_delivered_again_answers_duplicate_and_grants_nothing_more(
    http: TestClient, engine: Engine, fake: FakeStripe
) -> None:
    event = paid_checkout(fake)
    answers = [post_stripe(http, *stripe_delivery(event, STRIPE_SECRET)).json() for _ in range(3)]

    assert [a["outcome"] for a in answers] == ["applied", "duplicate", "duplicate"]
    assert engine.balance("user_1").balance == Credits.parse(120)


def test_refund_event_takes_back_the_purchase(
    http: TestClient, engine: Engine, fake: FakeStripe
) -> None:
    event = paid_checkout(fake)
    post_stripe(http, *stripe_delivery(event, STRIPE_SECRET))
    refund = fake.refund(event["data"]["object"]["payment_intent"])

    response = post_stripe(http, *stripe_delivery(refund, STRIPE_SECRET))

    assert response.json()["outcome"] == "applied"
    assert engine.balance("user_1").balance == Credits.parse(0)
    assert engine.purchases("user_1").items[0].status.value == "refunded"


def test_unknown_event_type_answers_2xx_and_is_recorded(
    http: TestClient, engine: Engine, fake: FakeStripe
) -> None:
    event = fake.event("customer.created", fake.create_customer(email="a@example.com"))

    response = post_stripe(http, *stripe_delivery(event, STRIPE_SECRET))

    assert (response.status_code, response.json()["outcome"]) == (200, "recorded")
    assert [e.type for e in engine.provider_events()] == ["customer.created"]


def flipped(data: bytes, at: int) -> bytes:
    """`data` with one byte changed."""
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def tampered_stripe(body: bytes, headers: dict[str, str]) -> dict[str, tuple[bytes, str]]:
    """A signed delivery with one thing wrong, by what is wrong."""
    signature = headers["Stripe-Signature"]
    timestamp = int(signature.split(",")[0][2:])
    now = int(time.time())
    return {
        "body byte": (flipped(body, len(body) // 2), signature),
        "signature byte": (body, signature[:-1] + ("0" if signature[-1] != "0" else "1")),
        "timestamp": (body, signature.replace(f"t={timestamp}", f"t={timestamp + 1}")),
        "wrong secret": (body, stripe_signature(body, "whsec_other", now)),
        "stale": (body, stripe_signature(body, STRIPE_SECRET, now - 360)),
        "future": (body, stripe_signature(body, STRIPE_SECRET, now + 360)),
        "missing": (body, ""),
        "not utf-8": (b"\xff" + body, signature),
    }


@pytest.mark.parametrize(
    "wrong",
    [
        "body byte",
        "signature byte",
        "timestamp",
        "wrong secret",
        "stale",
        "future",
        "missing",
        "not utf-8",
    ],
)
def test_stripe_delivery_with_one_thing_wrong_answers_400_and_grants_nothing(
    http: TestClient, engine: Engine, fake: FakeStripe, wrong: str
) -> None:
    body, headers = stripe_delivery(paid_checkout(fake), STRIPE_SECRET)
    bad_body, bad_signature = tampered_stripe(body, headers)[wrong]

    response = post_stripe(
        http, bad_body, {"Content-Type": "application/json", "Stripe-Signature": bad_signature}
    )

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "signature_invalid"
    assert engine.balance("user_1").balance == Credits.parse(0)
    assert engine.provider_events() == ()


def test_stripe_delivery_without_a_configured_secret_is_refused_with_503(
    engine: Engine, fake: FakeStripe
) -> None:
    engine.create_pack("creator", name="Creator", credits=110, price_minor=PRICE)
    engine.create_account("user_1")
    with TestClient(create_app(Settings(), engine=engine)) as http:
        response = post_stripe(http, *stripe_delivery(paid_checkout(fake), STRIPE_SECRET))

    assert (response.status_code, response.json()["code"]) == (503, "unavailable")
    assert engine.provider_events() == ()


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.text(max_size=120) | st.from_regex(r"t=-?[0-9]{0,12}(,v[0-9]=[0-9a-f]{0,70})*"))
def test_stripe_malformed_signature_headers_answer_400_never_5xx(
    http: TestClient, engine: Engine, header: str
) -> None:
    body = json.dumps({"id": "evt_x", "type": "charge.refunded", "data": {"object": {}}}).encode()
    headers: dict[str, Any] = {"Content-Type": "application/json"}
    if header.strip():
        headers["Stripe-Signature"] = header.strip().encode()

    response = post_stripe(http, body, headers)

    assert response.status_code == 400, response.text
    assert engine.provider_events() == ()


def test_clerk_user_created_creates_the_account_with_its_welcome(
    http: TestClient, engine: Engine
) -> None:
    engine.apply_catalog({"welcome": {"credits": "50"}})
    body, headers = svix_delivery(clerk_user_created("user_clerk_1"), CLERK_SECRET)

    response = http.post("/v1/webhooks/clerk", content=body, headers=headers)
    again = http.post("/v1/webhooks/clerk", content=body, headers=headers)

    assert (response.status_code, response.json()["outcome"]) == (200, "applied")
    assert again.json()["outcome"] == "duplicate"
    assert engine.balance("user_clerk_1").balance == Credits.parse(50)


def test_clerk_resent_user_created_with_a_new_message_id_grants_no_second_welcome(
    http: TestClient, engine: Engine
) -> None:
    engine.apply_catalog({"welcome": {"credits": "50"}})
    payload = clerk_user_created("user_clerk_2")

    outcomes = [
        http.post("/v1/webhooks/clerk", content=body, headers=headers).json()["outcome"]
        for body, headers in (svix_delivery(payload, CLERK_SECRET) for _ in range(3))
    ]

    assert outcomes == ["applied", "no_change", "no_change"]
    assert engine.balance("user_clerk_2").balance == Credits.parse(50)


def test_clerk_user_deleted_freezes_the_account(http: TestClient, engine: Engine) -> None:
    body, headers = svix_delivery(clerk_user_deleted("user_1"), CLERK_SECRET)

    response = http.post("/v1/webhooks/clerk", content=body, headers=headers)

    assert response.json()["outcome"] == "applied"
    assert engine.get_account("user_1").is_frozen


def tampered_svix(body: bytes, headers: dict[str, str]) -> dict[str, tuple[bytes, dict[str, str]]]:
    now = datetime.now(UTC)
    resigned = svix_headers(CLERK_SECRET, headers["svix-id"], now - timedelta(minutes=6), body)
    future = svix_headers(CLERK_SECRET, headers["svix-id"], now + timedelta(minutes=6), body)
    other = svix_headers(svix_secret(), headers["svix-id"], now, body)
    return {
        "body byte": (flipped(body, len(body) // 2), headers),
        "signature byte": (
            body,
            {**headers, "svix-signature": headers["svix-signature"][:-3] + "AAA"},
        ),
        "id": (body, {**headers, "svix-id": headers["svix-id"] + "x"}),
        "timestamp": (body, {**headers, "svix-timestamp": str(int(now.timestamp()) + 1)}),
        "wrong secret": (body, {**headers, **other}),
        "stale": (body, {**headers, **resigned}),
        "future": (body, {**headers, **future}),
        "missing": (body, {"Content-Type": "application/json"}),
    }


@pytest.mark.parametrize(
    "wrong",
    [
        "body byte",
        "signature byte",
        "id",
        "timestamp",
        "wrong secret",
        "stale",
        "future",
        "missing",
    ],
)
def test_clerk_delivery_with_one_thing_wrong_answers_400_and_creates_nothing(
    http: TestClient, engine: Engine, wrong: str
) -> None:
    body, headers = svix_delivery(clerk_user_created("user_clerk_3"), CLERK_SECRET)
    bad_body, bad_headers = tampered_svix(body, headers)[wrong]

    response = http.post("/v1/webhooks/clerk", content=bad_body, headers=bad_headers)

    assert (response.status_code, response.json()["code"]) == (400, "signature_invalid")
    assert engine.provider_events() == ()
    with pytest.raises(AccountNotFound):
        engine.get_account("user_clerk_3")


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    msg_id=st.text(max_size=40),
    timestamp=st.text(max_size=20) | st.integers().map(str),
    signature=st.text(max_size=120) | st.from_regex(r"(v[0-9],[A-Za-z0-9+/=]{0,60} ?){0,3}"),
)
def test_clerk_malformed_svix_headers_answer_400_never_5xx(
    http: TestClient, engine: Engine, msg_id: str, timestamp: str, signature: str
) -> None:
    body = json.dumps(clerk_user_created("user_clerk_4")).encode()
    raw = {"svix-id": msg_id, "svix-timestamp": timestamp, "svix-signature": signature}
    headers: dict[str, Any] = {"Content-Type": "application/json"}
    headers.update({k: v.strip().encode() for k, v in raw.items() if v.strip()})

    response = http.post("/v1/webhooks/clerk", content=body, headers=headers)

    assert response.status_code == 400, response.text
    assert engine.provider_events() == ()
