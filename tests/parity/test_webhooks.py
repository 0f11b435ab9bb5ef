"""Balance alerts and webhook endpoints through both faces: equal results, equal refusals.

Signing secrets and event ids are random, so they are compared by form, not by value.
"""

from collections.abc import Callable
from dataclasses import replace

import pytest

from creditgate import (
    CreditgateError,
    InvalidInput,
    Ledger,
    WebhookDelivery,
    WebhookDeliveryNotFound,
    WebhookEndpointNotFound,
)
from tests.factories import funded_account
from tests.parity.conftest import ON_SQLITE_ONLY, Faces

URL = "https://hooks.example.com/creditgate"


def test_endpoints_answer_equal_endpoints(faces: Faces) -> None:
    def act(ledger: Ledger) -> tuple[object, ...]:
        endpoint, secret = ledger.create_webhook_endpoint(
            URL, event_types=["balance.low", "hold.expired"], description="alerts"
        )
        changed = ledger.update_webhook_endpoint(endpoint.id, event_types=["*"], is_enabled=False)
        rotated = ledger.rotate_webhook_secret(endpoint.id)
        listed = ledger.webhook_endpoints()
        found = ledger.get_webhook_endpoint(endpoint.id)
        ledger.delete_webhook_endpoint(endpoint.id)
        gone = ledger.webhook_endpoints()
        forms = (secret.startswith("whsec_"), rotated.startswith("whsec_"), secret != rotated)
        return endpoint, changed, listed, found, gone, forms

    embedded, remote = faces.both(act)

    assert embedded == remote
    assert remote[-1] == (True, True, True)


def _without_ids(delivery: WebhookDelivery) -> WebhookDelivery:
    return replace(delivery, event=replace(delivery.event, id="evt_"))


def test_deliveries_and_redelivery_answer_equally(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.create_webhook_endpoint(URL))
    faces.arrange(lambda engine: funded_account(engine, credits=10))

    def act(ledger: Ledger) -> tuple[object, ...]:
        page = ledger.webhook_deliveries(1, limit=1)
        again = ledger.redeliver_webhook(page.items[0].id)
        return tuple(_without_ids(d) for d in page.items), page.next_cursor, _without_ids(again)

    embedded, remote = faces.both(act)

    assert embedded == remote


def test_balance_alerts_answer_equally(faces: Faces) -> None:
    faces.arrange(lambda engine: funded_account(engine, credits=5))

    embedded, remote = faces.both(
        lambda ledger: (
            ledger.balance_alert("user_1"),
            ledger.set_balance_alert("user_1", low="7.5"),
            ledger.set_balance_alert("user_1", low=None),
        )
    )

    assert embedded == remote
    assert str(remote[1].low) == "7.5"


@ON_SQLITE_ONLY
@pytest.mark.parametrize(
    ("act", "error"),
    [
        (lambda ledger: ledger.get_webhook_endpoint(999), WebhookEndpointNotFound(999)),
        (lambda ledger: ledger.delete_webhook_endpoint(999), WebhookEndpointNotFound(999)),
        (lambda ledger: ledger.rotate_webhook_secret(999), WebhookEndpointNotFound(999)),
        (lambda ledger: ledger.webhook_deliveries(999), WebhookEndpointNotFound(999)),
        (lambda ledger: ledger.redeliver_webhook(999), WebhookDeliveryNotFound(999)),
        (
            lambda ledger: ledger.create_webhook_endpoint("ftp://x.example"),
            InvalidInput(field="url", reason="must be an http or https URL with a host"),
        ),
        (
            lambda ledger: ledger.create_webhook_endpoint(URL, event_types=[]),
            InvalidInput(field="event_types", reason='a non-empty list of event types, or ["*"]'),
        ),
        (
            lambda ledger: ledger.set_balance_alert("user_1", low=0),
            InvalidInput(field="low", reason="must be greater than zero"),
        ),
        (lambda ledger: ledger.get_webhook_endpoint(0), None),
    ],
    ids=[
        "get",
        "delete",
        "rotate",
        "deliveries",
        "redeliver",
        "url",
        "event types",
        "line",
        "id",
    ],
)
def test_refusals_are_equal_errors(
    faces: Faces, act: Callable[[Ledger], object], error: CreditgateError | None
) -> None:
    faces.arrange(lambda engine: funded_account(engine, credits=5))

    embedded, remote = faces.each(act)

    assert embedded == remote
    if error is not None:
        assert embedded == error
