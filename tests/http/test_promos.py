"""Promo codes over HTTP: admins manage codes, write keys redeem them for an account.

Tests act on codes and accounts of their own in the module's shared world.
"""

from datetime import timedelta

from creditgate import Credits
from creditgate.domain.keys import Scope
from creditgate.schemas import PromoOut, ReceiptOut
from tests.conftest import START
from tests.factories import funded_account
from tests.http.fixtures import (
    PROMO,
    Service,
    fresh_id,
    service_fixture,  # noqa: F401
    snapshot,
)


def own_code(service: Service, **fields: object) -> str:
    """A promo code of the test's own, of 5 credits unless told otherwise."""
    code = fresh_id("CODE").upper()
    service.engine.create_promo(code, **{"credits": 5, **fields})  # type: ignore[arg-type]
    return code


def own_user(service: Service) -> str:
    """An account of the test's own, holding 10 credits."""
    user = fresh_id("user")
    funded_account(service.engine, user, 10)
    return user


def test_promos_answers_the_active_codes(service: Service) -> None:
    inactive = own_code(service, is_active=False)

    response = service.http.get("/v1/promos", headers=service.keys.header("admin"))

    assert response.status_code == 200
    assert response.json() == [
        PromoOut.of(p).model_dump(mode="json") for p in service.engine.promos()
    ]
    assert PROMO in [p["code"] for p in response.json()]
    assert inactive not in [p["code"] for p in response.json()]


def test_promos_with_include_inactive_answers_every_code(service: Service) -> None:
    inactive = own_code(service, is_active=False)

    response = service.http.get(
        "/v1/promos", params={"include_inactive": "true"}, headers=service.keys.header("admin")
    )

    assert inactive in [p["code"] for p in response.json()]


def test_promos_answer_403_to_a_read_key(service: Service) -> None:
    response = service.http.get("/v1/promos", headers=service.keys.header("read"))

    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def test_create_promo_stores_the_code_in_upper_case(service: Service) -> None:
    body = {
        "code": "summer-own",
        "credits": "12.5",
        "expires_after_days": 30,
        "starts_at": "2026-01-01T12:00:00Z",
        "ends_at": "2026-03-01T00:00:00+01:00",
        "max_redemptions": 100,
    }

    response = service.http.post("/v1/promos", json=body, headers=service.keys.header("admin"))

    assert response.status_code == 200, response.text
    assert response.json() == PromoOut.of(service.engine.get_promo("SUMMER-OWN")).model_dump(
        mode="json"
    )
    assert (response.json()["code"], response.json()["credits"]) == ("SUMMER-OWN", "12.5")
    assert response.json()["ends_at"] == "2026-02-28T23:00:00Z"
    assert response.json()["redeemed"] == 0


def test_create_promo_answers_409_and_changes_nothing_when_the_code_is_taken(
    service: Service,
) -> None:
    before = service.engine.promos(include_inactive=True)

    response = service.http.post(
        "/v1/promos",
        json={"code": PROMO.lower(), "credits": "3"},
        headers=service.keys.header("admin"),
    )

    assert (response.status_code, response.json()["code"]) == (409, "promo_exists")
    assert response.json()["key"] == PROMO
    assert service.engine.promos(include_inactive=True) == before


def test_create_promo_answers_422_naming_the_field_and_changes_nothing(service: Service) -> None:
    before = service.engine.promos(include_inactive=True)
    cases = [
        ({"code": "no", "credits": "1"}, "code"),
        ({"code": "bad code!", "credits": "1"}, "code"),
        ({"code": "OK-CODE", "credits": "0"}, "credits"),
        ({"code": "OK-CODE", "credits": "1", "max_redemptions": 0}, "max_redemptions"),
        ({"code": "OK-CODE", "credits": "1", "expires_after_days": 0}, "expires_after_days"),
        (
            {
                "code": "OK-CODE",
                "credits": "1",
                "starts_at": "2026-02-01T00:00:00Z",
                "ends_at": "2026-02-01T00:00:00Z",
            },
            "ends_at",
        ),
    ]

    answers = [
        service.http.post("/v1/promos", json=body, headers=service.keys.header("admin"))
        for body, _ in cases
    ]

    assert [(a.status_code, a.json()["field"]) for a in answers] == [(422, f) for _, f in cases]
    assert service.engine.promos(include_inactive=True) == before


def test_get_promo_answers_the_engines_code(service: Service) -> None:
    response = service.http.get(f"/v1/promos/{PROMO.lower()}", headers=service.keys.header("admin"))

    assert response.status_code == 200
    assert response.json() == PromoOut.of(service.engine.get_promo(PROMO)).model_dump(mode="json")


def test_update_promo_raises_its_maximum(service: Service) -> None:
    code = own_code(service, max_redemptions=1)

    response = service.http.patch(
        f"/v1/promos/{code}", json={"max_redemptions": 5}, headers=service.keys.header("admin")
    )

    assert response.status_code == 200, response.text
    assert response.json()["max_redemptions"] == 5
    assert service.engine.get_promo(code).max_redemptions == 5


def test_update_promo_answers_422_when_the_maximum_is_below_the_redemptions(
    service: Service,
) -> None:
    code = own_code(service, max_redemptions=3)
    service.engine.redeem(own_user(service), code)
    service.engine.redeem(own_user(service), code)
    before = service.engine.get_promo(code)

    response = service.http.patch(
        f"/v1/promos/{code}", json={"max_redemptions": 1}, headers=service.keys.header("admin")
    )

    assert (response.status_code, response.json()["field"]) == (422, "max_redemptions")
    assert service.engine.get_promo(code) == before


def test_redeem_grants_a_promo_lot_and_answers_the_receipt(service: Service) -> None:
    user = own_user(service)
    code = own_code(service, expires_after_days=7)

    response = service.http.post(
        f"/v1/accounts/{user}/redeem",
        json={"code": code.lower()},
        headers=service.keys.header("write"),
    )

    assert response.status_code == 200, response.text
    receipt = ReceiptOut.model_validate(response.json()).to_domain()
    assert (receipt.entry.source, receipt.entry.metadata) == ("promo", {"promo": code})
    assert receipt.balance.balance == Credits.parse(15)
    assert response.json()["credits_remaining"] == "15"
    assert service.engine.get_promo(code).redeemed == 1


def test_redeem_answers_409_promo_redeemed_and_changes_nothing_the_second_time(
    service: Service,
) -> None:
    user = own_user(service)
    code = own_code(service)
    service.http.post(
        f"/v1/accounts/{user}/redeem", json={"code": code}, headers=service.keys.header("write")
    )
    before = (snapshot(service.engine, user), service.engine.get_promo(code))

    response = service.http.post(
        f"/v1/accounts/{user}/redeem", json={"code": code}, headers=service.keys.header("write")
    )

    assert (response.status_code, response.json()["code"], response.json()["key"]) == (
        409,
        "promo_redeemed",
        code,
    )
    assert (snapshot(service.engine, user), service.engine.get_promo(code)) == before


def test_redeem_answers_409_with_the_reason_when_the_code_is_unavailable(
    service: Service,
) -> None:
    user = own_user(service)
    codes = {
        "inactive": own_code(service, is_active=False),
        "not_started": own_code(service, starts_at=START + timedelta(days=1)),
        "ended": own_code(service, ends_at=START),
    }
    before = snapshot(service.engine, user)

    answers = {
        reason: service.http.post(
            f"/v1/accounts/{user}/redeem", json={"code": code}, headers=service.keys.header("write")
        )
        for reason, code in codes.items()
    }

    assert {
        r: (a.status_code, a.json()["code"], a.json()["reason"]) for r, a in answers.items()
    } == {r: (409, "promo_unavailable", r) for r in codes}
    assert snapshot(service.engine, user) == before


def test_redeem_answers_404_promo_not_found_for_an_unknown_code(service: Service) -> None:
    user = own_user(service)
    before = snapshot(service.engine, user)

    response = service.http.post(
        f"/v1/accounts/{user}/redeem",
        json={"code": "nothing-here"},
        headers=service.keys.header("write"),
    )

    assert (response.status_code, response.json()["code"], response.json()["id"]) == (
        404,
        "promo_not_found",
        "NOTHING-HERE",
    )
    assert snapshot(service.engine, user) == before


def test_redeem_by_a_bound_key_reaches_only_its_own_account(service: Service) -> None:
    user, other = own_user(service), own_user(service)
    _, key = service.engine.create_key(Scope.WRITE, name="widget", account_id=user)
    headers = {"Authorization": f"Bearer {key}"}
    before = snapshot(service.engine, other)

    own = service.http.post(f"/v1/accounts/{user}/redeem", json={"code": PROMO}, headers=headers)
    theirs = service.http.post(
        f"/v1/accounts/{other}/redeem", json={"code": PROMO}, headers=headers
    )

    assert own.status_code == 200
    assert (theirs.status_code, theirs.json()["code"]) == (404, "account_not_found")
    assert snapshot(service.engine, other) == before
