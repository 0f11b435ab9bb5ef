"""The Stripe fake and the delivery signers, checked through the providers' own packages.

Tests of creditgate's payments trust the fake to answer as Stripe does, so these drive it with
the official `stripe` package, the client creditgate uses: if the fake's answers did not parse
into the package's objects, or its errors did not raise the package's exceptions, those tests
would prove nothing. Signed deliveries are checked with the verifiers the receivers use
(`stripe.Webhook.construct_event`, `svix.webhooks.Webhook.verify`). One fake serves the module.
"""

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe
from stripe.params.checkout import SessionCreateParams
from svix.webhooks import Webhook, WebhookVerificationError

from tests.fakes.signing import (
    clerk_user_created,
    clerk_user_deleted,
    stripe_delivery,
    stripe_signature,
    svix_delivery,
    svix_headers,
    svix_secret,
)
from tests.fakes.stripe_api import API_VERSION, FakeStripe, decode_form

WEBHOOK_SECRET = "whsec_test_fake_endpoint"
PERIOD_START = datetime(2026, 2, 1, tzinfo=UTC)
PERIOD_END = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


@pytest.fixture
def client(fake: FakeStripe) -> stripe.StripeClient:
    """The official client, pointed at the fake the way creditgate's settings will point it."""
    return stripe.StripeClient(
        fake.secret_key, base_addresses={"api": fake.url}, max_network_retries=0
    )


def pack_session(**overrides: Any) -> SessionCreateParams:
    """A Checkout Session for a credit pack: 2 x 499 cents."""
    params: SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 499,
                    "product_data": {"name": "500 credits"},
                },
                "quantity": 2,
            }
        ],
        "metadata": {"account_id": "u1", "pack": "p500"},
        "client_reference_id": "u1",
        "success_url": "https://app.example/paid",
        "cancel_url": "https://app.example/cancelled",
        "payment_intent_data": {
            "metadata": {"account_id": "u1"},
            "setup_future_usage": "off_session",
        },
    }
    params.update(overrides)  # type: ignore[typeddict-item]
    return params


def plan_session() -> SessionCreateParams:
    return {
        "mode": "subscription",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 2000,
                    "product_data": {"name": "Pro plan"},
                    "recurring": {"interval": "month"},
                },
                "quantity": 1,
            }
        ],
        "metadata": {"account_id": "u2"},
        "subscription_data": {"metadata": {"account_id": "u2", "plan": "pro"}},
        "success_url": "https://app.example/subscribed",
    }


def verified(body: bytes, signature: str) -> stripe.Event:
    """The event a receiver accepts, checked as it checks (the package's helper is untyped)."""
    event: stripe.Event = stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET)  # type: ignore[no-untyped-call]
    return event


def constructed(event: dict[str, Any]) -> stripe.Event:
    """`event` delivered and verified as a receiver verifies it."""
    body, headers = stripe_delivery(event, WEBHOOK_SECRET)
    return verified(body, headers["Stripe-Signature"])


# --- The API -------------------------------------------------------------------------------


def test_decode_form_nests_bracketed_keys_into_dicts_and_lists() -> None:
    text = (
        "line_items[0][price_data][unit_amount]=499&line_items[0][quantity]=2"
        "&line_items[1][quantity]=1&metadata[account_id]=u1&expand[]=a&expand[]=b&mode=payment"
    )

    assert decode_form(text) == {
        "line_items": [{"price_data": {"unit_amount": "499"}, "quantity": "2"}, {"quantity": "1"}],
        "metadata": {"account_id": "u1"},
        "expand": ["a", "b"],
        "mode": "payment",
    }


def test_create_session_answers_an_open_session_for_the_pack(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=pack_session())

    assert session.id.startswith("cs_test_")
    assert (session.amount_total, session.currency, session.mode) == (998, "usd", "payment")
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert session.metadata == {"account_id": "u1", "pack": "p500"}
    assert (session.client_reference_id, session.payment_intent, session.livemode) == (
        "u1",
        None,
        False,
    )
    assert session.url is not None
    assert session.url.startswith(fake.url)
    sent = fake.received("POST", "/v1/checkout/sessions")[-1]
    assert sent.params["line_items"][0]["price_data"]["unit_amount"] == "499"
    assert sent.params["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert sent.headers["stripe-version"] == API_VERSION


def test_retrieve_session_answers_the_stored_session(client: stripe.StripeClient) -> None:
    created = client.v1.checkout.sessions.create(params=pack_session())

    session = client.v1.checkout.sessions.retrieve(created.id, params={"expand": ["line_items"]})

    assert (session.id, session.amount_total) == (created.id, 998)
    assert session.line_items is not None
    assert [line.description for line in session.line_items.data] == ["500 credits"]


def test_retrieve_unknown_session_raises_not_found(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.retrieve("cs_test_missing")

    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")


def test_wrong_key_raises_authentication_error(fake: FakeStripe) -> None:
    wrong = stripe.StripeClient("sk_test_wrong", base_addresses={"api": fake.url})

    with pytest.raises(stripe.AuthenticationError) as raised:
        wrong.v1.checkout.sessions.create(params=pack_session())

    assert raised.value.http_status == 401
    assert fake.requests[-1].headers["authorization"] == "Bearer sk_test_wrong"


def test_wrong_key_answers_stripes_error_body(fake: FakeStripe) -> None:
    """The body, not only the status: creditgate may log or parse it without the package."""
    response = httpx.get(f"{fake.url}/v1/customers/cus_x", headers={"Authorization": "Bearer no"})

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "Invalid API Key" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("missing", "param"),
    [
        ({"line_items": []}, "line_items"),
        ({"success_url": ""}, "success_url"),
        ({"mode": ""}, "mode"),
    ],
)
def test_create_session_without_a_required_field_raises_invalid_request(
    client: stripe.StripeClient, missing: dict[str, Any], param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.create(params=pack_session(**missing))

    assert (raised.value.http_status, raised.value.param) == (400, param)


def test_create_session_refuses_a_one_time_price_in_subscription_mode(
    client: stripe.StripeClient,
) -> None:
    """A plan sold without `recurring` would be a one-off payment: Stripe refuses it."""
    params = pack_session(mode="subscription", payment_intent_data=None)

    with pytest.raises(stripe.InvalidRequestError, match="recurring price"):
        client.v1.checkout.sessions.create(params=params)


def test_payment_intent_with_one_idempotency_key_is_created_once(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    """A retried auto top-up must not charge twice: Stripe answers the first result again."""
    params: stripe.params.PaymentIntentCreateParams = {
        "amount": 1500,
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "confirm": True,
        "off_session": True,
        "metadata": {"account_id": "u1"},
    }
    options: stripe.RequestOptions = {"idempotency_key": "topup-u1-1"}
    before = len(fake.payment_intents)

    first = client.v1.payment_intents.create(params=params, options=options)
    second = client.v1.payment_intents.create(params=params, options=options)

    assert first.id == second.id
    assert (first.status, first.amount_received) == ("succeeded", 1500)
    assert len(fake.payment_intents) == before + 1
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create(params={**params, "amount": 1600}, options=options)


def test_declined_payment_intent_raises_card_error(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    fake.decline_next(1)
    params: stripe.params.PaymentIntentCreateParams = {
        "amount": 1500,
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "confirm": True,
        "off_session": True,
    }

    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create(params=params)
    after = client.v1.payment_intents.create(params=params)

    error = raised.value
    assert (error.http_status, error.code) == (402, "card_declined")
    assert error.error is not None
    assert error.error.decline_code == "insufficient_funds"
    assert error.error.payment_intent is not None
    assert error.error.payment_intent.status == "requires_payment_method"
    assert after.status == "succeeded"


# --- Events and signatures -----------------------------------------------------------------


def test_construct_event_accepts_a_signed_checkout_completion(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=pack_session())

    event = constructed(fake.complete_session(session.id))

    assert (event.type, event.api_version) == ("checkout.session.completed", API_VERSION)
    completed = event.data.object
    assert (completed["status"], completed["payment_status"]) == ("complete", "paid")
    intent = client.v1.payment_intents.retrieve(completed["payment_intent"])
    assert (intent.status, intent.amount, intent.metadata) == (
        "succeeded",
        998,
        {"account_id": "u1"},
    )
    assert intent.customer == completed["customer"]


def test_construct_event_refuses_a_tampered_body(fake: FakeStripe) -> None:
    """The signature covers the body: the fake's deliveries prove a receiver verifies it."""
    body, headers = stripe_delivery(fake.event("ping", {"id": "x"}), WEBHOOK_SECRET)

    with pytest.raises(stripe.SignatureVerificationError):
        verified(body.replace(b"ping", b"pong"), headers["Stripe-Signature"])


def test_stripe_signature_has_stripes_header_form() -> None:
    body = b'{"id": "evt_1", "object": "event"}'
    now = int(time.time())

    header = stripe_signature(body, WEBHOOK_SECRET, now)

    assert header.startswith(f"t={now},v1=")
    assert verified(body, header).id == "evt_1"


def test_api_version_is_the_installed_packages() -> None:
    """The fake renders one API version's shapes: the one the package pins."""
    assert stripe.api_version == API_VERSION


def test_delayed_payment_completes_unpaid_then_succeeds(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=pack_session())

    completed = fake.complete_session(session.id, paid=False)["data"]["object"]
    cleared = fake.async_payment_succeeded(session.id)

    assert completed["payment_status"] == "unpaid"
    assert fake.payment_intents[completed["payment_intent"]]["status"] == "succeeded"
    assert cleared["type"] == "checkout.session.async_payment_succeeded"
    assert cleared["data"]["object"]["payment_status"] == "paid"


def test_refunds_accumulate_on_the_charge(fake: FakeStripe, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=pack_session())
    intent_id = fake.complete_session(session.id)["data"]["object"]["payment_intent"]

    partial = fake.refund(intent_id, amount=300)["data"]["object"]
    rest = fake.refund(partial["id"])["data"]["object"]

    assert (partial["amount_refunded"], partial["refunded"]) == (300, False)
    assert (rest["amount_refunded"], rest["refunded"]) == (998, True)
    assert fake.charges[rest["id"]]["amount_refunded"] == 998
    with pytest.raises(ValueError, match="cannot refund"):
        fake.refund(intent_id, amount=1)


def test_dispute_names_the_charge_and_intent(fake: FakeStripe, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=pack_session())
    intent_id = fake.complete_session(session.id)["data"]["object"]["payment_intent"]

    event = fake.dispute(intent_id)

    dispute = event["data"]["object"]
    assert event["type"] == "charge.dispute.created"
    assert (dispute["payment_intent"], dispute["amount"], dispute["status"]) == (
        intent_id,
        998,
        "needs_response",
    )
    assert fake.charges[dispute["charge"]]["disputed"] is True


def test_invoice_paid_names_the_subscription_under_parent(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    """Since 2025-03-31 the subscription is under `parent`; periods paid for are on lines."""
    session = client.v1.checkout.sessions.create(params=plan_session())
    subscription_id = fake.complete_session(session.id)["data"]["object"]["subscription"]

    event = constructed(
        fake.invoice_paid(subscription_id, period_start=PERIOD_START, period_end=PERIOD_END)
    )

    invoice = event.data.object
    details = invoice["parent"]["subscription_details"]
    assert (details["subscription"], details["metadata"]) == (
        subscription_id,
        {"account_id": "u2", "plan": "pro"},
    )
    assert (invoice["billing_reason"], invoice["amount_paid"]) == ("subscription_cycle", 2000)
    assert invoice["lines"]["data"][0]["period"] == {
        "start": int(PERIOD_START.timestamp()),
        "end": int(PERIOD_END.timestamp()),
    }
    item = fake.subscriptions[subscription_id]["items"]["data"][0]
    assert item["current_period_end"] == int(PERIOD_END.timestamp())


def test_subscription_updated_reports_previous_attributes(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=plan_session())
    subscription_id = fake.complete_session(session.id)["data"]["object"]["subscription"]

    updated = fake.subscription_updated(subscription_id, cancel_at_period_end=True)
    deleted = fake.subscription_deleted(subscription_id)

    assert updated["data"]["object"]["cancel_at_period_end"] is True
    assert updated["data"]["previous_attributes"]["cancel_at_period_end"] is False
    assert updated["data"]["object"]["cancel_at"] is not None
    assert (deleted["type"], deleted["data"]["object"]["status"]) == (
        "customer.subscription.deleted",
        "canceled",
    )
    retrieved = client.v1.subscriptions.retrieve(subscription_id)
    assert retrieved.status == "canceled"


def test_svix_verify_accepts_a_signed_clerk_body() -> None:
    secret = svix_secret()
    body = json.dumps(clerk_user_created("user_1", email="ada@example.com")).encode()

    headers = svix_headers(secret, "msg_1", datetime.now(UTC), body)

    payload = Webhook(secret).verify(body, headers)
    assert (payload["type"], payload["data"]["id"]) == ("user.created", "user_1")
    primary = payload["data"]["primary_email_address_id"]
    emails = {e["id"]: e["email_address"] for e in payload["data"]["email_addresses"]}
    assert emails[primary] == "ada@example.com"


def test_svix_verify_refuses_another_secret_or_an_old_timestamp() -> None:
    secret = svix_secret()
    body, headers = svix_delivery(clerk_user_deleted("user_1"), secret)
    old = svix_headers(secret, "msg_2", datetime.now(UTC) - timedelta(minutes=10), body)

    assert Webhook(secret).verify(body, headers)["data"] == {
        "deleted": True,
        "id": "user_1",
        "object": "user",
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(svix_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, old)


def test_stripe_delivery_is_signed_with_the_current_time() -> None:
    """Receivers refuse signatures older than five minutes by their own clock."""
    _, headers = stripe_delivery({"id": "evt_1"}, WEBHOOK_SECRET)

    signed_at = int(headers["Stripe-Signature"].split(",")[0].removeprefix("t="))
    assert abs(signed_at - time.time()) < 5
