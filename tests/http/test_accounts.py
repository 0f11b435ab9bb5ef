"""Accounts, members, balances and history over HTTP, checked against the engine.

Most tests act on accounts of their own in the module's shared world; one that changes the
catalog takes an empty database of its own.
"""

from datetime import timedelta

from fastapi.testclient import TestClient

from creditgate import Credits, Engine
from creditgate.schemas import (
    AccountOut,
    BalanceOut,
    CheckOut,
    EntryPage,
    LifetimeOut,
    MemberOut,
)
from tests.conftest import START
from tests.factories import funded_account, organization
from tests.http.conftest import Keys
from tests.http.fixtures import Service, fresh_id, service_fixture  # noqa: F401


def test_create_account_answers_the_new_account(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    person = fresh_id("user")
    body = {"account_id": person, "floor": "-5", "metadata": {"plan": "pro"}}

    response = http.post("/v1/accounts", json=body, headers=keys.header("write"))

    assert response.status_code == 200
    assert response.json() == AccountOut.of(engine.get_account(person)).model_dump(mode="json")
    assert (response.json()["id"], response.json()["floor"]) == (person, "-5")


def test_create_account_makes_an_organizations_wallet_when_asked(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    org = fresh_id("org")
    body = {"account_id": org, "owner_kind": "organization"}

    response = http.post("/v1/accounts", json=body, headers=keys.header("write"))

    assert (response.status_code, response.json()["owner_kind"]) == (200, "organization")
    assert engine.get_account(org).owner_kind == "organization"


def test_create_account_answers_the_existing_account_unchanged(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    person = fresh_id("user")
    engine.create_account(person, metadata={"plan": "pro"})

    response = http.post(
        "/v1/accounts",
        json={"account_id": person, "metadata": {"plan": "free"}},
        headers=keys.header("write"),
    )

    assert response.status_code == 200
    assert response.json()["metadata"] == {"plan": "pro"}
    assert engine.get_account(person).metadata == {"plan": "pro"}


def test_get_account_answers_the_engines_account(service: Service) -> None:
    response = service.http.get("/v1/accounts/org_1", headers=service.keys.header("read"))

    assert response.status_code == 200
    expected = AccountOut.of(service.engine.get_account("org_1"))
    assert response.json() == expected.model_dump(mode="json")


def test_update_account_freezes_it(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)

    response = http.patch(
        f"/v1/accounts/{user}", json={"is_frozen": True}, headers=keys.header("admin")
    )

    assert (response.status_code, response.json()["is_frozen"]) == (200, True)
    assert engine.get_account(user).is_frozen


def test_get_balance_answers_decimal_strings_of_the_engines_balance(service: Service) -> None:
    response = service.http.get("/v1/accounts/org_1/balance", headers=service.keys.header("read"))

    assert response.status_code == 200
    assert response.json() == BalanceOut.of(service.engine.balance("org_1")).model_dump(mode="json")
    assert {k: response.json()[k] for k in ("balance", "held", "available")} == {
        "balance": "97.5",
        "held": "10",
        "available": "87.5",
    }


def test_balance_at_answers_the_balance_of_a_past_instant(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)
    before = START - timedelta(hours=1)

    response = http.get(
        f"/v1/accounts/{user}/balance_at",
        params={"at": before.isoformat()},
        headers=keys.header("read"),
    )

    assert response.status_code == 200
    assert response.json() == {
        "account_id": user,
        "at": "2026-01-01T11:00:00Z",
        "balance": str(engine.balance_at(user, before)),
    }
    assert response.json()["balance"] == "0"


def test_lifetime_answers_the_engines_figures(service: Service) -> None:
    response = service.http.get("/v1/accounts/org_1/lifetime", headers=service.keys.header("read"))

    assert response.status_code == 200
    assert response.json() == LifetimeOut.of(service.engine.lifetime("org_1")).model_dump(
        mode="json"
    )
    assert (response.json()["granted"], response.json()["spent"]) == ("100", "2.5")


def test_history_answers_the_entries_newest_first(service: Service) -> None:
    response = service.http.get("/v1/accounts/org_1/entries", headers=service.keys.header("read"))

    assert response.status_code == 200
    expected = EntryPage.of(service.engine.history("org_1"))
    assert response.json() == expected.model_dump(mode="json")
    assert [e["kind"] for e in response.json()["items"]] == ["hold", "charge", "grant"]


def test_history_filters_by_kind(service: Service) -> None:
    response = service.http.get(
        "/v1/accounts/org_1/entries",
        params=[("kinds", "charge"), ("kinds", "grant")],
        headers=service.keys.header("read"),
    )

    assert [e["kind"] for e in response.json()["items"]] == ["charge", "grant"]


def test_history_pages_with_the_next_cursor(service: Service) -> None:
    headers = service.keys.header("read")
    first = service.http.get("/v1/accounts/org_1/entries?limit=2", headers=headers).json()

    rest = service.http.get(
        "/v1/accounts/org_1/entries",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=headers,
    ).json()

    assert [e["kind"] for e in first["items"] + rest["items"]] == ["hold", "charge", "grant"]
    assert rest["next_cursor"] is None


def test_check_answers_whether_the_account_can_pay(service: Service) -> None:
    response = service.http.post(
        "/v1/accounts/org_1/check",
        json={"feature": "image.generate"},
        headers=service.keys.header("read"),
    )

    assert response.status_code == 200
    expected = CheckOut.of(service.engine.check("org_1", "image.generate"))
    assert response.json() == expected.model_dump(mode="json")
    assert (response.json()["has_enough"], response.json()["required"]) == (True, "2")


def test_check_answers_200_and_has_enough_false_when_credits_are_short(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    engine.create_feature("video.generate", name="Video")
    engine.set_price("video.generate", {"rule": "flat", "credits": "20"})
    funded_account(engine, "user_1", 5)

    response = http.post(
        "/v1/accounts/user_1/check",
        json={"feature": "video.generate"},
        headers=keys.header("read"),
    )

    assert response.status_code == 200
    assert {k: response.json()[k] for k in ("has_enough", "required", "available")} == {
        "has_enough": False,
        "required": "20",
        "available": "5",
    }


def test_members_answers_the_wallets_members(service: Service) -> None:
    response = service.http.get("/v1/accounts/org_1/members", headers=service.keys.header("read"))

    assert response.status_code == 200
    assert response.json() == [
        MemberOut.of(m).model_dump(mode="json") for m in service.engine.members("org_1")
    ]
    assert [m["member_id"] for m in response.json()] == ["member_1"]


def test_add_member_lets_a_person_spend_up_to_a_cap(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    person = fresh_id("user")
    org = fresh_id("org")
    organization(engine, org, 100)

    response = http.put(
        f"/v1/accounts/{org}/members/{person}",
        json={"spend_cap": "40"},
        headers=keys.header("write"),
    )

    assert response.status_code == 200
    assert response.json() == {
        "account_id": org,
        "member_id": person,
        "spend_cap": "40",
        "spent": "0",
        "cap_period": None,
        "period_started_at": None,
    }
    assert [(m.member_id, str(m.spend_cap)) for m in engine.members(org)] == [(person, "40")]


def test_add_member_caps_a_person_per_month(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    person = fresh_id("user")
    org = fresh_id("org")
    organization(engine, org, 100)

    response = http.put(
        f"/v1/accounts/{org}/members/{person}",
        json={"spend_cap": "40", "cap_period": "month"},
        headers=keys.header("write"),
    )

    assert response.status_code == 200, response.text
    assert response.json()["cap_period"] == "month"
    (member,) = engine.members(org)
    assert (member.cap_period, member.spend_cap) == ("month", Credits.parse(40))


def test_add_member_answers_422_on_a_persons_account(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    person = fresh_id("user")
    funded_account(engine, user, 10)

    response = http.put(
        f"/v1/accounts/{user}/members/{person}", json={}, headers=keys.header("write")
    )

    assert (response.status_code, response.json()["field"]) == (422, "account_id")
    assert engine.members(user) == ()


def test_remove_member_answers_204_and_stops_the_person_spending(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    person = fresh_id("user")
    org = fresh_id("org")
    organization(engine, org, 100, person)

    response = http.delete(f"/v1/accounts/{org}/members/{person}", headers=keys.header("write"))

    assert (response.status_code, response.content) == (204, b"")
    assert engine.members(org) == ()
