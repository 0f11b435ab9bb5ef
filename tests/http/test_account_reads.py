"""An account's lots and holds over HTTP, checked against the engine.

Most tests read accounts of their own in the module's shared world; the one that moves the
clock takes an empty database of its own.
"""

from fastapi.testclient import TestClient

from creditgate import Engine, ManualClock
from creditgate.schemas import HoldPage, LotOut
from tests.conftest import START
from tests.factories import DAY, MINUTE, funded_account
from tests.http.conftest import Keys
from tests.http.fixtures import Service, fresh_id, own_account, service_fixture  # noqa: F401


def _lots_json(engine: Engine, account_id: str, *, include_spent: bool = False) -> list[object]:
    lots = engine.lots(account_id, include_spent=include_spent)
    return [LotOut.of(lot).model_dump(mode="json") for lot in lots]


def test_lots_answers_the_engines_lots_in_burn_order(service: Service) -> None:
    engine, http = service.engine, service.http
    ids = own_account(engine)
    engine.grant(ids.account_id, 5, source="promo", expires_at=START + 30 * DAY)
    engine.grant(ids.account_id, 3, source="bonus", priority=-1)

    response = http.get(f"/v1/accounts/{ids.account_id}/lots", headers=service.keys.header("read"))

    assert response.status_code == 200
    assert response.json() == _lots_json(engine, ids.account_id)
    assert [lot["source"] for lot in response.json()] == ["bonus", "promo", "purchase"]
    assert [lot["remaining"] for lot in response.json()] == ["3", "5", "97.5"]


def test_lots_lists_spent_lots_only_when_asked(service: Service) -> None:
    engine, http, headers = service.engine, service.http, service.keys.header("read")
    person = fresh_id("user")
    funded_account(engine, person, 4)
    engine.charge(person, 4)

    live = http.get(f"/v1/accounts/{person}/lots", headers=headers)
    every = http.get(f"/v1/accounts/{person}/lots?include_spent=true", headers=headers)

    assert live.json() == []
    assert every.json() == _lots_json(engine, person, include_spent=True)
    assert [(lot["amount"], lot["remaining"]) for lot in every.json()] == [("4", "0")]


def test_lots_show_an_expired_lot_as_spent_before_the_expiry_pass(
    engine: Engine, http: TestClient, keys: Keys, clock: ManualClock
) -> None:
    funded_account(engine, "user_1", 10)
    engine.grant("user_1", 5, source="promo", expires_at=START + DAY)
    clock.advance(2 * DAY)

    live = http.get("/v1/accounts/user_1/lots", headers=keys.header("read"))
    every = http.get("/v1/accounts/user_1/lots?include_spent=true", headers=keys.header("read"))

    assert [lot["source"] for lot in live.json()] == ["purchase"]
    assert [(lot["source"], lot["remaining"]) for lot in every.json()] == [
        ("promo", "0"),
        ("purchase", "10"),
    ]


def test_holds_answers_the_engines_holds_newest_first(service: Service) -> None:
    engine, http = service.engine, service.http
    ids = own_account(engine)
    second = engine.hold(ids.account_id, 1, ttl=MINUTE).hold
    assert second is not None

    response = http.get(f"/v1/accounts/{ids.account_id}/holds", headers=service.keys.header("read"))

    assert response.status_code == 200
    expected = HoldPage.of(engine.holds(ids.account_id))
    assert response.json() == expected.model_dump(mode="json")
    assert [h["id"] for h in response.json()["items"]] == [second.id, ids.hold_id]


def test_holds_filters_by_status_and_pages_with_the_next_cursor(service: Service) -> None:
    engine, http, headers = service.engine, service.http, service.keys.header("read")
    ids = own_account(engine)
    released = engine.hold(ids.account_id, 1, ttl=MINUTE).hold
    pending = engine.hold(ids.account_id, 2, ttl=MINUTE).hold
    assert released is not None
    assert pending is not None
    engine.release(released.id)
    url = f"/v1/accounts/{ids.account_id}/holds"

    first = http.get(url, params={"status": "pending", "limit": 1}, headers=headers).json()
    rest = http.get(
        url,
        params={"status": "pending", "limit": 1, "cursor": first["next_cursor"]},
        headers=headers,
    ).json()
    ended = http.get(url, params={"status": "released"}, headers=headers).json()

    assert [h["id"] for h in first["items"] + rest["items"]] == [pending.id, ids.hold_id]
    assert rest["next_cursor"] is None
    assert [(h["id"], h["status"]) for h in ended["items"]] == [(released.id, "released")]


def test_lots_and_holds_of_another_account_answer_404_to_a_bound_key(service: Service) -> None:
    headers = service.world.bound_header()
    theirs = service.world.theirs.account_id

    lots = service.http.get(f"/v1/accounts/{theirs}/lots", headers=headers)
    holds = service.http.get(f"/v1/accounts/{theirs}/holds", headers=headers)
    own = service.http.get(f"/v1/accounts/{service.world.ours.account_id}/holds", headers=headers)

    assert (lots.status_code, lots.json()["code"]) == (404, "account_not_found")
    assert (holds.status_code, holds.json()["code"]) == (404, "account_not_found")
    assert own.status_code == 200


def test_holds_answers_422_naming_an_unknown_status(service: Service) -> None:
    response = service.http.get(
        f"/v1/accounts/{service.world.ours.account_id}/holds",
        params={"status": "won"},
        headers=service.keys.header("read"),
    )

    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("invalid_input", "status")
