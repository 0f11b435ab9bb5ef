"""`Idempotency-Key` on every ledger write: a retry answers the first result, once.

Each test acts on an account of its own in the module's shared world.
"""

import pytest

from tests.factories import funded_account
from tests.http.conftest import Keys
from tests.http.fixtures import (
    Route,
    Service,
    fresh_id,
    own_account,
    route_ids,
    routes,
    service_fixture,  # noqa: F401
    snapshot,
)

WRITES = routes(lambda r: r.other_body is not None)


def idempotent(keys: Keys, target: Route, key: str) -> dict[str, str]:
    """The headers of a call by a key of the route's scope, with an idempotency key."""
    return {**keys.header(target.scope), "Idempotency-Key": key}


def test_every_ledger_write_is_listed() -> None:
    assert [r.id for r in WRITES] == [
        "POST /v1/accounts/{account_id}/grants",
        "POST /v1/accounts/{account_id}/adjustments",
        "POST /v1/accounts/{account_id}/charge",
        "POST /v1/accounts/{account_id}/holds",
        "POST /v1/holds/{hold_id}/extend",
        "POST /v1/holds/{hold_id}/settle",
        "POST /v1/holds/{hold_id}/release",
        "POST /v1/entries/{entry_id}/refund",
        "POST /v1/transfers",
        "POST /v1/accounts/{account_id}/subscription",
        "POST /v1/accounts/{account_id}/redeem",
        "POST /v1/accounts/{account_id}/referral",
    ]


@pytest.mark.parametrize("target", WRITES, ids=route_ids(WRITES))
def test_ledger_write_replays_the_first_result_once_when_key_and_body_repeat(
    service: Service, target: Route
) -> None:
    ids = own_account(service.engine)
    headers = idempotent(service.keys, target, f"retry-{ids.account_id}")
    first = target.send(service.http, ids, headers)
    after_first = snapshot(service.engine, ids.account_id)

    again = target.send(service.http, ids, headers)

    assert (first.status_code, again.status_code) == (200, 200), first.text
    assert (first.headers.get("Idempotent-Replayed"), again.headers.get("Idempotent-Replayed")) == (
        None,
        "true",
    )
    assert again.json() == first.json()
    assert snapshot(service.engine, ids.account_id) == after_first


@pytest.mark.parametrize("target", WRITES, ids=route_ids(WRITES))
def test_ledger_write_answers_409_and_changes_nothing_when_the_key_comes_with_another_body(
    service: Service, target: Route
) -> None:
    assert target.other_body is not None
    ids = own_account(service.engine)
    headers = idempotent(service.keys, target, f"retry-{ids.account_id}")
    target.send(service.http, ids, headers)
    after_first = snapshot(service.engine, ids.account_id)

    response = target.send(service.http, ids, headers, body=target.other_body(ids))

    assert (response.status_code, response.json()["code"]) == (409, "idempotency_conflict")
    assert response.json()["key"] == f"retry-{ids.account_id}"
    assert "Idempotent-Replayed" not in response.headers
    assert snapshot(service.engine, ids.account_id) == after_first


def test_charge_takes_effect_twice_without_an_idempotency_key(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)
    headers = keys.header("write")
    http.post(f"/v1/accounts/{user}/charge", json={"amount": "1"}, headers=headers)

    again = http.post(f"/v1/accounts/{user}/charge", json={"amount": "1"}, headers=headers)

    assert "Idempotent-Replayed" not in again.headers
    assert str(engine.balance(user).balance) == "8"


def test_idempotency_key_over_200_characters_answers_422_naming_the_header(
    service: Service,
) -> None:
    before = snapshot(service.engine)
    headers = {**service.keys.header("write"), "Idempotency-Key": "k" * 201}

    response = service.http.post("/v1/accounts/org_1/grants", json={"amount": "1"}, headers=headers)

    assert (response.status_code, response.json()["field"]) == (422, "Idempotency-Key")
    assert snapshot(service.engine) == before
