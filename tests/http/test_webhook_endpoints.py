"""Outgoing webhooks over HTTP: endpoints, their delivery logs, redelivery; admin keys only.

Each test has a database of its own (endpoints hear every account, so a shared world would
have tests hear each other's events).
"""

import pytest
from fastapi.testclient import TestClient

from creditgate import Engine
from creditgate.schemas import WebhookDeliveryOut, WebhookEndpointOut
from tests.factories import funded_account
from tests.http.conftest import Keys

URL = "https://hooks.example.com/creditgate"


def made(http: TestClient, keys: Keys, **body: object) -> dict[str, object]:
    """Register an endpoint over HTTP; its JSON (with the secret)."""
    response = http.post(
        "/v1/webhook-endpoints", json={"url": URL, **body}, headers=keys.header("admin")
    )
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def test_create_webhook_endpoint_answers_the_endpoint_and_its_secret_once(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    body = {"url": URL, "event_types": ["balance.low", "balance.depleted"], "description": "mail"}

    response = http.post("/v1/webhook-endpoints", json=body, headers=keys.header("admin"))
    listed = http.get("/v1/webhook-endpoints", headers=keys.header("admin"))

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["secret"].startswith("whsec_")
    (stored,) = engine.webhook_endpoints()
    assert answer["endpoint"] == WebhookEndpointOut.of(stored).model_dump(mode="json")
    assert stored.event_types == ("balance.depleted", "balance.low")
    assert listed.json() == [answer["endpoint"]]
    assert "secret" not in listed.text


def test_create_webhook_endpoint_listens_to_every_type_by_default(
    http: TestClient, keys: Keys
) -> None:
    answer = made(http, keys)

    assert answer["endpoint"]["event_types"] == ["*"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.example.com/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": URL, "event_types": ["balance.gone"]}, "event_types"),
        ({"url": URL, "event_types": []}, "event_types"),
        ({"url": URL, "event_types": ["*", "balance.low"]}, "event_types"),
        ({"url": URL, "description": "\x00"}, "description"),
    ],
    ids=["scheme", "not a url", "unknown type", "no types", "wildcard and more", "control"],
)
def test_create_webhook_endpoint_answers_422_for_a_bad_url_or_event_type(
    engine: Engine, http: TestClient, keys: Keys, body: dict[str, object], field: str
) -> None:
    response = http.post("/v1/webhook-endpoints", json=body, headers=keys.header("admin"))

    assert (response.status_code, response.json()["field"]) == (422, field)
    assert engine.webhook_endpoints() == ()


@pytest.mark.parametrize("scope", ["read", "write"])
def test_webhook_endpoints_answer_403_below_admin(http: TestClient, keys: Keys, scope: str) -> None:
    response = http.get("/v1/webhook-endpoints", headers=keys.header(scope))

    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def test_get_webhook_endpoint_answers_the_engines_endpoint(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    endpoint, _ = engine.create_webhook_endpoint(URL)

    response = http.get(f"/v1/webhook-endpoints/{endpoint.id}", headers=keys.header("admin"))

    assert response.status_code == 200
    assert response.json() == WebhookEndpointOut.of(endpoint).model_dump(mode="json")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/webhook-endpoints/4242"),
        ("PATCH", "/v1/webhook-endpoints/4242"),
        ("DELETE", "/v1/webhook-endpoints/4242"),
        ("POST", "/v1/webhook-endpoints/4242/rotate-secret"),
        ("GET", "/v1/webhook-endpoints/4242/deliveries"),
        ("POST", "/v1/webhook-deliveries/4242/redeliver"),
    ],
)
def test_route_answers_404_for_an_unknown_endpoint_or_delivery(
    http: TestClient, keys: Keys, method: str, path: str
) -> None:
    body = {"is_enabled": True} if method == "PATCH" else None

    response = http.request(method, path, json=body, headers=keys.header("admin"))

    assert response.status_code == 404
    assert response.json()["id"] == 4242
    assert response.json()["code"] in ("webhook_endpoint_not_found", "webhook_delivery_not_found")


def test_webhook_endpoint_path_answers_422_for_an_id_that_is_not_positive(
    http: TestClient, keys: Keys
) -> None:
    response = http.get("/v1/webhook-endpoints/0", headers=keys.header("admin"))

    assert (response.status_code, response.json()["field"]) == (422, "endpoint_id")


def test_update_webhook_endpoint_disables_and_enables_it_again(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    endpoint, _ = engine.create_webhook_endpoint(URL)
    path = f"/v1/webhook-endpoints/{endpoint.id}"

    off = http.patch(path, json={"is_enabled": False}, headers=keys.header("admin"))
    on = http.patch(
        f"/v1/webhook-endpoints/{endpoint.id}",
        json={"is_enabled": True, "event_types": ["hold.expired"], "description": "holds"},
        headers=keys.header("admin"),
    )

    assert (off.json()["is_enabled"], off.json()["disabled_reason"]) == (
        False,
        "disabled by the app",
    )
    assert on.status_code == 200, on.text
    assert (on.json()["is_enabled"], on.json()["disabled_reason"]) == (True, None)
    assert (on.json()["event_types"], on.json()["description"]) == (["hold.expired"], "holds")
    assert on.json() == WebhookEndpointOut.of(engine.get_webhook_endpoint(endpoint.id)).model_dump(
        mode="json"
    )


def test_delete_webhook_endpoint_answers_204_and_forgets_it(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    endpoint, _ = engine.create_webhook_endpoint(URL)

    response = http.delete(f"/v1/webhook-endpoints/{endpoint.id}", headers=keys.header("admin"))

    assert (response.status_code, response.content) == (204, b"")
    assert engine.webhook_endpoints() == ()


def test_rotate_webhook_secret_answers_a_new_secret(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    endpoint, first = engine.create_webhook_endpoint(URL)

    response = http.post(
        f"/v1/webhook-endpoints/{endpoint.id}/rotate-secret", headers=keys.header("admin")
    )

    assert response.status_code == 200
    assert response.json()["secret"].startswith("whsec_")
    assert response.json()["secret"] != first


def test_webhook_deliveries_answers_the_delivery_log_newest_first_in_pages(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    endpoint, _ = engine.create_webhook_endpoint(URL, event_types=["credits.granted"])
    funded_account(engine, credits=10)
    engine.grant("user_1", 5)

    first = http.get(
        f"/v1/webhook-endpoints/{endpoint.id}/deliveries",
        params={"limit": 1},
        headers=keys.header("admin"),
    )
    cursor = first.json()["next_cursor"]
    second = http.get(
        f"/v1/webhook-endpoints/{endpoint.id}/deliveries",
        params={"limit": 1, "cursor": cursor},
        headers=keys.header("admin"),
    )

    assert first.status_code == 200, first.text
    everything = engine.webhook_deliveries(endpoint.id).items
    assert first.json()["items"] == [WebhookDeliveryOut.of(everything[0]).model_dump(mode="json")]
    assert second.json() == {
        "items": [WebhookDeliveryOut.of(everything[1]).model_dump(mode="json")],
        "next_cursor": None,
    }
    assert [i["event"]["data"]["amount"] for i in first.json()["items"]] == ["5"]


def test_redeliver_webhook_makes_a_delivery_due_now(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    endpoint, _ = engine.create_webhook_endpoint(URL, event_types=["credits.granted"])
    funded_account(engine, credits=10)
    (delivery,) = engine.webhook_deliveries(endpoint.id).items

    response = http.post(
        f"/v1/webhook-deliveries/{delivery.id}/redeliver", headers=keys.header("admin")
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending"
    assert response.json()["next_attempt_at"] == engine.clock.now().isoformat().replace(
        "+00:00", "Z"
    )
