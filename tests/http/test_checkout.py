"""A checkout end to end, against a local fake of Stripe's HTTP API.

The service opens the session with the official `stripe` package at the fake; the fake
completes it and builds the event Stripe would send; the event is signed by Stripe's own
code and delivered to the webhook; the balance and the purchase are read over HTTP.
"""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from creditgate import Engine, ManualClock
from creditgate.app import create_app
from creditgate.domain.plans import add_months
from creditgate.settings import Settings
from tests.fakes.signing import stripe_delivery
from tests.fakes.stripe_api import FakeStripe
from tests.http.conftest import Keys

WEBHOOK_SECRET = "whsec_checkout_test"
BODY = {
    "account_id": "user_1",
    "pack": "creator",
    "success_url": "https://app.example/credits?paid=1",
    "cancel_url": "https://app.example/credits",
    "customer_email": "ada@example.com",
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as served:
        yield served


@pytest.fixture
def http(engine: Engine, fake: FakeStripe) -> Iterator[TestClient]:
    """The service with Stripe at the fake, the Creator pack, and a customer."""
    settings = Settings(
        stripe_secret_key=SecretStr(fake.secret_key),
        stripe_api_base=fake.url,
        stripe_webhook_secret=SecretStr(WEBHOOK_SECRET),
    )
    engine.create_pack(
        "creator",
        name="Creator",
        credits=110,
        bonus_credits=10,
        price_minor=1499,
        badge="best value",
    )
    engine.create_account("user_1")
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as client:
        yield client


def test_checkout_through_the_stripe_fake_grants_once_paid(
    http: TestClient, fake: FakeStripe, keys: Keys
) -> None:
    opened = http.post("/v1/checkout", json=BODY, headers=keys.header("write"))
    assert opened.status_code == 200, opened.text
    session_id = opened.json()["purchase"]["reference"]
    sent = fake.received("POST", "/v1/checkout/sessions")[-1].params
    url = fake.sessions[session_id]["url"]
    event = fake.complete_session(session_id)

    body, headers = stripe_delivery(event, WEBHOOK_SECRET)
    delivered = http.post("/v1/webhooks/stripe", content=body, headers=headers)
    balance = http.get("/v1/accounts/user_1/balance", headers=keys.header("read"))
    purchases = http.get("/v1/accounts/user_1/purchases", headers=keys.header("read"))

    assert opened.json()["url"] == url
    assert opened.json()["purchase"]["status"] == "pending"
    assert sent["metadata"] == {"account_id": "user_1", "pack": "creator"}
    assert sent["line_items"][0]["price_data"]["unit_amount"] == "1499"
    assert sent["customer_email"] == "ada@example.com"
    assert delivered.json()["outcome"] == "applied"
    assert balance.json()["balance"] == "120"
    [purchase] = purchases.json()["items"]
    assert (purchase["status"], purchase["credits"], purchase["payment_ref"]) == (
        "paid",
        "120",
        fake.sessions[session_id]["payment_intent"],
    )


def test_checkout_of_an_unknown_pack_answers_404_and_calls_stripe_not(
    http: TestClient, fake: FakeStripe, keys: Keys
) -> None:
    before = len(fake.requests)

    response = http.post(
        "/v1/checkout", json={**BODY, "pack": "nothing"}, headers=keys.header("write")
    )

    assert (response.status_code, response.json()["code"]) == (404, "pack_not_found")
    assert len(fake.requests) == before


def test_checkout_that_stripe_refuses_answers_502_and_records_no_purchase(
    http: TestClient, engine: Engine, keys: Keys
) -> None:
    response = http.post(
        "/v1/checkout", json={**BODY, "success_url": ""}, headers=keys.header("write")
    )

    assert (response.status_code, response.json()["code"]) == (502, "provider_failed")
    assert engine.purchases("user_1").items == ()


def test_plan_checkout_through_the_stripe_fake_grants_each_paid_period(
    engine: Engine, clock: ManualClock, keys: Keys
) -> None:
    """Subscribe through Checkout; the first invoice starts the plan, the next one renews it."""
    engine.create_plan("basic", name="Basic", credits=500, prices={"month": 1500})
    engine.create_account("user_2")
    with FakeStripe(clock=clock.now) as stripe_fake:
        settings = Settings(
            stripe_secret_key=SecretStr(stripe_fake.secret_key),
            stripe_api_base=stripe_fake.url,
            stripe_webhook_secret=SecretStr(WEBHOOK_SECRET),
        )
        app = create_app(settings, engine=engine)
        with TestClient(app, raise_server_exceptions=False) as http:
            body = {**BODY, "account_id": "user_2", "pack": None, "plan": "basic"}
            opened = http.post(
                "/v1/checkout",
                json={k: v for k, v in body.items() if v is not None},
                headers=keys.header("write"),
            )
            assert opened.status_code == 200, opened.text
            session_id = opened.json()["purchase"]["reference"]
            completed = stripe_fake.complete_session(session_id)
            session = completed["data"]["object"]
            first_invoice = stripe_fake.event(
                "invoice.paid", stripe_fake.invoices[session["invoice"]]
            )

            outcomes = [
                http.post("/v1/webhooks/stripe", content=raw, headers=signed).json()["outcome"]
                for raw, signed in (
                    stripe_delivery(completed, WEBHOOK_SECRET),
                    stripe_delivery(first_invoice, WEBHOOK_SECRET),
                )
            ]
            after_first = http.get("/v1/accounts/user_2/balance", headers=keys.header("read"))
            subscription = engine.subscription("user_2")
            assert subscription is not None
            clock.set(subscription.cycle_ends_at + timedelta(minutes=30))
            waiting = http.get("/v1/accounts/user_2/subscription", headers=keys.header("read"))
            renewal = stripe_fake.invoice_paid(
                session["subscription"],
                period_start=subscription.cycle_ends_at,
                period_end=add_months(subscription.anchor_at, 2),
            )
            signed, signature = stripe_delivery(renewal, WEBHOOK_SECRET)
            renewed = http.post("/v1/webhooks/stripe", content=signed, headers=signature)
            after_renewal = http.get("/v1/accounts/user_2/balance", headers=keys.header("read"))

    assert outcomes == ["applied", "applied"]
    assert after_first.json()["balance"] == "500"
    assert waiting.json()["is_awaiting_payment"] is True
    assert renewed.json()["outcome"] == "applied"
    assert after_renewal.json()["balance"] == "500"
    purchase = engine.purchases("user_2").items[0]
    assert (purchase.kind.value, purchase.status.value) == ("plan", "paid")
    assert engine.verify().problems == ()
