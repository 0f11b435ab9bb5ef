"""Referrals over HTTP: record who referred an account, and list an account's referrals.

Tests act on accounts of their own in the module's shared world. The world's referrals
wait for a purchase; tests that need them granted at sign-up set those terms first.
"""

from collections.abc import Iterator
from dataclasses import replace

import pytest

from creditgate import Credits, ReferralCondition
from creditgate.schemas import ReferralOut
from tests.factories import funded_account
from tests.http.fixtures import (
    REFERRAL_TERMS,
    Service,
    fresh_id,
    service_fixture,  # noqa: F401
    snapshot,
)


def own_user(service: Service) -> str:
    """An account of the test's own, holding 10 credits."""
    user = fresh_id("user")
    funded_account(service.engine, user, 10)
    return user


def terms(service: Service, condition: ReferralCondition) -> None:
    """Set the catalog's referral terms: 1 credit to each side, on `condition`."""
    wanted = replace(REFERRAL_TERMS, condition=condition)
    service.engine.apply_catalog(replace(service.engine.export_catalog(), referrals=wanted))


@pytest.fixture
def on_signup(service: Service) -> Iterator[None]:
    """Referrals granted when recorded, for this test; the world's terms after it."""
    terms(service, ReferralCondition.SIGNUP)
    yield
    terms(service, ReferralCondition.FIRST_PURCHASE)


@pytest.mark.usefixtures("on_signup")
def test_refer_on_signup_grants_both_bonuses_and_answers_the_referral(service: Service) -> None:
    referrer, referee = own_user(service), own_user(service)

    response = service.http.post(
        f"/v1/accounts/{referee}/referral",
        json={"referrer": referrer},
        headers=service.keys.header("write"),
    )

    assert response.status_code == 200, response.text
    referral = ReferralOut.model_validate(response.json()).to_domain()
    assert referral == service.engine.referrals(referrer)[0]
    assert (response.json()["status"], response.json()["referrer_credits"]) == ("granted", "1")
    balances = [service.engine.balance(a).balance for a in (referrer, referee)]
    assert balances == [Credits.parse(11), Credits.parse(11)]


def test_refer_on_first_purchase_answers_a_pending_referral_and_moves_no_balance(
    service: Service,
) -> None:
    referrer, referee = own_user(service), own_user(service)
    before = snapshot(service.engine, referrer, referee)

    response = service.http.post(
        f"/v1/accounts/{referee}/referral",
        json={"referrer": referrer},
        headers=service.keys.header("write"),
    )

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["granted_at"]) == ("pending", None)
    assert response.json()["condition"] == "first_purchase"
    assert snapshot(service.engine, referrer, referee) == before


def test_refer_answers_409_referral_exists_and_changes_nothing_the_second_time(
    service: Service,
) -> None:
    referrer, other, referee = own_user(service), own_user(service), own_user(service)
    service.engine.refer(referee, referrer)
    before = (snapshot(service.engine, referrer, other, referee), service.engine.referrals(other))

    response = service.http.post(
        f"/v1/accounts/{referee}/referral",
        json={"referrer": other},
        headers=service.keys.header("write"),
    )

    assert (response.status_code, response.json()["code"], response.json()["account_id"]) == (
        409,
        "referral_exists",
        referee,
    )
    after = (snapshot(service.engine, referrer, other, referee), service.engine.referrals(other))
    assert after == before


def test_refer_answers_422_when_the_account_refers_itself(service: Service) -> None:
    user = own_user(service)

    response = service.http.post(
        f"/v1/accounts/{user}/referral",
        json={"referrer": user},
        headers=service.keys.header("write"),
    )

    assert (response.status_code, response.json()["field"]) == (422, "referrer")
    assert service.engine.referrals(user) == ()


def test_refer_answers_404_when_the_referrer_does_not_exist(service: Service) -> None:
    user = own_user(service)
    before = snapshot(service.engine, user)

    response = service.http.post(
        f"/v1/accounts/{user}/referral",
        json={"referrer": "nobody"},
        headers=service.keys.header("write"),
    )

    assert (response.status_code, response.json()["code"], response.json()["id"]) == (
        404,
        "account_not_found",
        "nobody",
    )
    assert snapshot(service.engine, user) == before


def test_refer_answers_409_referrals_off_when_the_catalog_offers_none(service: Service) -> None:
    referrer, referee = own_user(service), own_user(service)
    service.engine.apply_catalog(replace(service.engine.export_catalog(), referrals=None))

    try:
        response = service.http.post(
            f"/v1/accounts/{referee}/referral",
            json={"referrer": referrer},
            headers=service.keys.header("write"),
        )
    finally:
        terms(service, ReferralCondition.FIRST_PURCHASE)

    assert (response.status_code, response.json()["code"]) == (409, "referrals_off")
    assert service.engine.referrals(referrer) == ()


def test_referrals_answers_the_accounts_referrals_oldest_first(service: Service) -> None:
    referrer, first, second = own_user(service), own_user(service), own_user(service)
    service.engine.refer(first, referrer)
    service.engine.refer(second, referrer)

    response = service.http.get(
        f"/v1/accounts/{referrer}/referrals", headers=service.keys.header("read")
    )

    assert response.status_code == 200
    assert [r["referee_id"] for r in response.json()] == [first, second]
    assert response.json() == [
        ReferralOut.of(r).model_dump(mode="json") for r in service.engine.referrals(referrer)
    ]


def test_referrals_answers_404_for_an_unknown_account(service: Service) -> None:
    response = service.http.get(
        "/v1/accounts/nobody/referrals", headers=service.keys.header("read")
    )

    assert (response.status_code, response.json()["code"]) == (404, "account_not_found")
