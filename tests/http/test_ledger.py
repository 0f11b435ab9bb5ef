"""Grants, adjustments, charges, refunds, entries and transfers over HTTP.

Most tests act on accounts of their own in the module's shared world; those that move the
clock or change the catalog take an empty database of their own.
"""

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from creditgate import Engine, ManualClock
from creditgate.domain.ids import EntryId
from creditgate.schemas import BalanceOut, EntryOut
from tests.factories import funded_account
from tests.http.conftest import Keys
from tests.http.fixtures import Service, fresh_id, service_fixture  # noqa: F401


def balance_json(engine: Engine, account_id: str) -> dict[str, object]:
    """The engine's balance of an account, as the wire shows it."""
    dumped: dict[str, object] = BalanceOut.of(engine.balance(account_id)).model_dump(mode="json")
    return dumped


def books(engine: Engine, account_id: str) -> tuple[object, ...]:
    """An account's balance and entries: what a failed request must leave alone."""
    return engine.balance(account_id), engine.history(account_id).items


def test_grant_adds_a_lot_and_answers_the_receipt(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    engine.create_account(user)

    response = http.post(
        f"/v1/accounts/{user}/grants",
        json={"amount": "12.5", "priority": 1, "metadata": {"order": "A-1"}},
        headers=keys.header("write"),
    )

    assert response.status_code == 200
    receipt = response.json()
    assert (receipt["entry"]["kind"], receipt["entry"]["amount"]) == ("grant", "12.5")
    assert (receipt["credits_used"], receipt["credits_remaining"]) == ("0", "12.5")
    assert receipt["balance"] == balance_json(engine, user)
    assert str(engine.balance(user).balance) == "12.5"


def test_grant_records_the_source_it_is_given(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    engine.create_account(user)

    response = http.post(
        f"/v1/accounts/{user}/grants",
        json={"amount": "100", "source": "purchase"},
        headers=keys.header("write"),
    )

    assert (response.status_code, response.json()["entry"]["source"]) == (200, "purchase")
    assert list(engine.lifetime(user).granted_by_source) == ["purchase"]


def test_grant_expires_at_the_instant_it_is_given(
    engine: Engine, http: TestClient, keys: Keys, clock: ManualClock
) -> None:
    engine.create_account("user_1")

    response = http.post(
        "/v1/accounts/user_1/grants",
        json={"amount": "100", "expires_at": "2026-02-01T00:00:00Z"},
        headers=keys.header("write"),
    )

    assert response.status_code == 200
    clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    assert str(engine.balance("user_1").available) == "0"


def test_adjust_records_a_signed_correction_with_reason_and_actor(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)

    response = http.post(
        f"/v1/accounts/{user}/adjustments",
        json={"amount": "-4", "reason": "duplicate purchase", "actor": "support@example.com"},
        headers=keys.header("admin"),
    )

    assert response.status_code == 200
    entry = response.json()["entry"]
    assert (entry["kind"], entry["amount"], entry["reason"], entry["actor"]) == (
        "adjust",
        "-4",
        "duplicate purchase",
        "support@example.com",
    )
    assert str(engine.balance(user).balance) == "6"


def test_adjust_answers_402_and_changes_nothing_beyond_what_is_available(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)
    before = books(engine, user)

    response = http.post(
        f"/v1/accounts/{user}/adjustments",
        json={"amount": "-25", "reason": "chargeback", "actor": "support"},
        headers=keys.header("admin"),
    )

    body = response.json()
    assert (response.status_code, body["code"]) == (402, "insufficient_credits")
    assert (body["required"], body["available"], body["shortfall"]) == ("25", "10", "15")
    assert books(engine, user) == before


def test_charge_answers_credits_used_and_remaining(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)

    response = http.post(
        f"/v1/accounts/{user}/charge",
        json={"amount": "2.5", "request_id": "gen-1", "metadata": {"prompt": "cat"}},
        headers=keys.header("write"),
    )

    assert response.status_code == 200
    receipt = response.json()
    assert (receipt["credits_used"], receipt["credits_remaining"]) == ("2.5", "7.5")
    assert receipt["balance"] == balance_json(engine, user)
    assert receipt["entry"] == EntryOut.of(engine.get_entry(receipt["entry"]["id"])).model_dump(
        mode="json"
    )
    assert str(engine.balance(user).available) == "7.5"


def test_charge_prices_a_feature_from_the_catalog(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    engine.create_feature("audio.speech", name="Speech")
    engine.set_price("audio.speech", {"rule": "per_block", "credits": "1", "block": 15})
    funded_account(engine, "user_1", 10)

    response = http.post(
        "/v1/accounts/user_1/charge",
        json={"feature": "audio.speech", "quantity": 40},
        headers=keys.header("write"),
    )

    assert response.status_code == 200
    receipt = response.json()
    assert (receipt["credits_used"], receipt["credits_remaining"]) == ("3", "7")
    assert (receipt["quote"]["amount"], receipt["quote"]["price_version"]) == ("3", 1)
    assert str(engine.balance("user_1").balance) == "7"


def test_charge_answers_402_with_amounts_as_strings_and_changes_nothing(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, "1.5")
    before = books(engine, user)

    response = http.post(
        f"/v1/accounts/{user}/charge", json={"amount": "4"}, headers=keys.header("write")
    )

    body = response.json()
    assert (response.status_code, body["code"]) == (402, "insufficient_credits")
    assert (body["required"], body["available"], body["shortfall"]) == ("4", "1.5", "2.5")
    assert books(engine, user) == before


def test_charge_answers_403_and_changes_nothing_when_the_account_is_frozen(
    service: Service,
) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)
    engine.update_account(user, is_frozen=True)
    before = books(engine, user)

    response = http.post(
        f"/v1/accounts/{user}/charge", json={"amount": "1"}, headers=keys.header("write")
    )

    assert (response.status_code, response.json()["code"]) == (403, "account_frozen")
    assert books(engine, user) == before


def test_charge_answers_402_when_a_member_passes_its_cap(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    org = fresh_id("org")
    engine.create_account(org, owner_kind="organization")
    engine.grant(org, 100)
    engine.add_member(org, "user_7", spend_cap="5")
    before = books(engine, org)

    response = http.post(
        f"/v1/accounts/{org}/charge",
        json={"amount": "6", "member_id": "user_7"},
        headers=keys.header("write"),
    )

    assert (response.status_code, response.json()["code"]) == (402, "member_cap_exceeded")
    assert books(engine, org) == before


def test_get_entry_answers_the_engines_entry(service: Service) -> None:
    entry_id = service.world.ours.entry_id

    response = service.http.get(f"/v1/entries/{entry_id}", headers=service.keys.header("read"))

    assert response.status_code == 200
    expected = EntryOut.of(service.engine.get_entry(EntryId(entry_id)))
    assert response.json() == expected.model_dump(mode="json")
    assert (response.json()["kind"], response.json()["amount"]) == ("charge", "-2.5")


def test_refund_gives_back_part_of_a_charge(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)
    charge = engine.charge(user, 4)

    response = http.post(
        f"/v1/entries/{charge.entry.id}/refund",
        json={"amount": "1.5", "reason": "generation failed"},
        headers=keys.header("write"),
    )

    assert response.status_code == 200
    entry = response.json()["entry"]
    assert (entry["kind"], entry["amount"], entry["ref_entry_id"]) == (
        "refund",
        "1.5",
        charge.entry.id,
    )
    assert str(engine.balance(user).balance) == "7.5"


def test_refund_without_an_amount_gives_back_the_whole_charge(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)
    charge = engine.charge(user, 4)

    response = http.post(
        f"/v1/entries/{charge.entry.id}/refund", json={}, headers=keys.header("write")
    )

    assert (response.status_code, response.json()["entry"]["amount"]) == (200, "4")
    assert str(engine.balance(user).balance) == "10"


def test_refund_answers_422_and_changes_nothing_beyond_what_the_charge_took(
    service: Service,
) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)
    charge = engine.charge(user, 4)
    before = books(engine, user)

    response = http.post(
        f"/v1/entries/{charge.entry.id}/refund", json={"amount": "5"}, headers=keys.header("write")
    )

    assert (response.status_code, response.json()["field"]) == (422, "amount")
    assert books(engine, user) == before


def test_refund_answers_422_for_an_entry_that_is_not_a_spend(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    grant = engine.grant(engine.create_account(user).id, 10)
    before = books(engine, user)

    response = http.post(
        f"/v1/entries/{grant.entry.id}/refund", json={}, headers=keys.header("write")
    )

    assert (response.status_code, response.json()["field"]) == (422, "entry_id")
    assert books(engine, user) == before


def test_transfer_moves_credits_and_answers_both_sides(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    other = fresh_id("user")
    funded_account(engine, user, 10)
    engine.create_account(other)

    response = http.post(
        "/v1/transfers",
        json={"from_account_id": user, "to_account_id": other, "amount": "3.5"},
        headers=keys.header("write"),
    )

    assert response.status_code == 200
    receipt = response.json()
    assert (receipt["debit"]["amount"], receipt["credit"]["amount"]) == ("-3.5", "3.5")
    assert receipt["from_balance"] == balance_json(engine, user)
    assert receipt["to_balance"] == balance_json(engine, other)
    assert (str(engine.balance(user).balance), str(engine.balance(other).balance)) == (
        "6.5",
        "3.5",
    )


def test_transfer_answers_402_and_changes_neither_account_when_credits_are_short(
    service: Service,
) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    other = fresh_id("user")
    funded_account(engine, user, 2)
    engine.create_account(other)
    before = books(engine, user), books(engine, other)

    response = http.post(
        "/v1/transfers",
        json={"from_account_id": user, "to_account_id": other, "amount": "3"},
        headers=keys.header("write"),
    )

    body = response.json()
    assert (response.status_code, body["required"], body["available"]) == (402, "3", "2")
    assert (books(engine, user), books(engine, other)) == before


def test_transfer_answers_422_naming_the_receiver_when_it_is_the_sender(
    service: Service,
) -> None:
    body = {"from_account_id": "org_1", "to_account_id": "org_1", "amount": "1"}

    response = service.http.post("/v1/transfers", json=body, headers=service.keys.header("write"))

    assert (response.status_code, response.json()["field"]) == (422, "to_account_id")
