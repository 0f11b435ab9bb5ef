"""Holds over HTTP: hold, read, extend, settle and release, against the engine.

Most tests act on accounts of their own in the module's shared world; those that move the
clock or change the catalog take an empty database of their own.
"""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from creditgate import Engine, ManualClock
from creditgate.domain.ids import HoldId
from creditgate.schemas import HoldOut
from tests.factories import MINUTE, funded_account
from tests.http.conftest import Keys
from tests.http.fixtures import Service, fresh_id, service_fixture  # noqa: F401

ENDS = ["extend", "settle", "release"]
END_BODIES = {"extend": {"more": "1"}, "settle": {"actual": "1"}, "release": {}}


def books(engine: Engine, account_id: str) -> tuple[object, ...]:
    """An account's balance and entries: what a failed request must leave alone."""
    return engine.balance(account_id), engine.history(account_id).items


def pending_hold(engine: Engine, account_id: str, amount: int | str = 5) -> HoldId:
    """A new account funded with 10 credits, with one pending hold of `amount`; its id."""
    funded_account(engine, account_id, 10)
    hold = engine.hold(account_id, amount, ttl=MINUTE).hold
    assert hold is not None
    return hold.id


def test_hold_sets_credits_aside_and_answers_the_hold(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)

    response = http.post(
        f"/v1/accounts/{user}/holds",
        json={"amount": "4", "ttl_s": 300, "metadata": {"job": "render-1"}},
        headers=keys.header("write"),
    )

    assert response.status_code == 200
    receipt = response.json()
    assert receipt["hold"] == HoldOut.of(engine.get_hold(receipt["hold"]["id"])).model_dump(
        mode="json"
    )
    assert (receipt["hold"]["status"], receipt["hold"]["amount"]) == ("pending", "4")
    assert receipt["hold"]["expires_at"] == "2026-01-01T12:05:00Z"
    assert (receipt["credits_used"], receipt["credits_remaining"]) == ("0", "6")
    assert (str(engine.balance(user).held), str(engine.balance(user).available)) == (
        "4",
        "6",
    )


def test_hold_answers_402_and_changes_nothing_when_credits_are_short(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 3)
    before = books(engine, user)

    response = http.post(
        f"/v1/accounts/{user}/holds",
        json={"amount": "4", "ttl_s": 300},
        headers=keys.header("write"),
    )

    body = response.json()
    assert (response.status_code, body["required"], body["available"], body["shortfall"]) == (
        402,
        "4",
        "3",
        "1",
    )
    assert books(engine, user) == before


def test_get_hold_answers_the_engines_hold(service: Service) -> None:
    hold_id = service.world.ours.hold_id

    response = service.http.get(f"/v1/holds/{hold_id}", headers=service.keys.header("read"))

    assert response.status_code == 200
    expected = HoldOut.of(service.engine.get_hold(HoldId(hold_id)))
    assert response.json() == expected.model_dump(mode="json")
    assert (response.json()["status"], response.json()["amount"]) == ("pending", "10")


def test_get_hold_reads_expired_once_its_ttl_has_passed(
    engine: Engine, http: TestClient, keys: Keys, clock: ManualClock
) -> None:
    hold_id = pending_hold(engine, "user_1")
    clock.advance(MINUTE + timedelta(seconds=1))

    response = http.get(f"/v1/holds/{hold_id}", headers=keys.header("read"))

    assert response.json()["status"] == "expired"


def test_extend_grows_the_hold(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    hold_id = pending_hold(engine, user, 5)

    response = http.post(
        f"/v1/holds/{hold_id}/extend", json={"more": "2.5"}, headers=keys.header("write")
    )

    assert response.status_code == 200
    assert response.json()["hold"]["amount"] == "7.5"
    assert str(engine.get_hold(hold_id).amount) == "7.5"
    assert str(engine.balance(user).available) == "2.5"


def test_extend_answers_402_and_changes_nothing_beyond_what_is_available(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    hold_id = pending_hold(engine, user, 5)
    before = books(engine, user)

    response = http.post(
        f"/v1/holds/{hold_id}/extend", json={"more": "6"}, headers=keys.header("write")
    )

    body = response.json()
    assert (response.status_code, body["required"], body["available"]) == (402, "6", "5")
    assert books(engine, user) == before


def test_settle_takes_the_actual_cost_and_frees_the_rest(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    hold_id = pending_hold(engine, user, 5)

    response = http.post(
        f"/v1/holds/{hold_id}/settle",
        json={"actual": "3.5", "latency_ms": 8200, "request_id": "job-9"},
        headers=keys.header("write"),
    )

    assert response.status_code == 200
    receipt = response.json()
    assert (receipt["credits_used"], receipt["credits_remaining"]) == ("3.5", "6.5")
    assert (receipt["hold"]["status"], receipt["hold"]["captured"]) == ("settled", "3.5")
    balance = engine.balance(user)
    assert (str(balance.balance), str(balance.held)) == ("6.5", "0")


def test_settle_prices_the_quantity_at_the_holds_price_version(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    engine.create_feature("audio.speech", name="Speech")
    engine.set_price("audio.speech", {"rule": "per_block", "credits": "1", "block": 15})
    funded_account(engine, "user_1", 10)
    hold = engine.hold("user_1", feature="audio.speech", quantity=90, ttl=MINUTE).hold
    assert hold is not None
    engine.set_price("audio.speech", {"rule": "per_block", "credits": "5", "block": 15})

    response = http.post(
        f"/v1/holds/{hold.id}/settle", json={"quantity": 40}, headers=keys.header("write")
    )

    assert (response.status_code, response.json()["credits_used"]) == (200, "3")
    assert str(engine.balance("user_1").balance) == "7"


def test_settle_answers_402_and_leaves_the_hold_pending_when_the_extra_is_short(
    service: Service,
) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    hold_id = pending_hold(engine, user, 5)
    before = books(engine, user)

    response = http.post(
        f"/v1/holds/{hold_id}/settle", json={"actual": "12"}, headers=keys.header("write")
    )

    assert (response.status_code, response.json()["code"]) == (402, "insufficient_credits")
    assert books(engine, user) == before
    assert engine.get_hold(hold_id).status == "pending"


def test_release_frees_the_hold_and_takes_nothing(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    hold_id = pending_hold(engine, user, 5)

    response = http.post(f"/v1/holds/{hold_id}/release", json={}, headers=keys.header("write"))

    assert response.status_code == 200
    assert (response.json()["credits_used"], response.json()["credits_remaining"]) == ("0", "10")
    assert engine.get_hold(hold_id).status == "released"
    assert str(engine.balance(user).available) == "10"


def test_release_with_a_failure_counts_a_failed_use(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    hold_id = pending_hold(engine, user, 5)

    http.post(
        f"/v1/holds/{hold_id}/release",
        json={"failure": "upstream timeout", "latency_ms": 30000},
        headers=keys.header("write"),
    )

    event = engine.usage(user, limit=1).items[0]
    assert (event.outcome, event.latency_ms) == ("failed", 30000)


@pytest.mark.parametrize("end", ENDS)
def test_hold_end_answers_409_and_changes_nothing_when_the_hold_is_over(
    service: Service, end: str
) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    hold_id = pending_hold(engine, user, 5)
    engine.release(hold_id)
    before = books(engine, user)

    response = http.post(
        f"/v1/holds/{hold_id}/{end}", json=END_BODIES[end], headers=keys.header("write")
    )

    assert (response.status_code, response.json()["code"]) == (409, "hold_not_pending")
    assert books(engine, user) == before
