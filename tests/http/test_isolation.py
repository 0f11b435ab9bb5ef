"""Tenant isolation: a key bound to one account sees that account and nothing else.

Another account, its holds and its entries answer 404, exactly as ids that do not exist,
and no answer carries their data. A bound key may not transfer at all (a transfer's
receipt shows both accounts), so every transfer it asks answers the same 403.
"""

from typing import Any

import pytest

from creditgate import AccountNotFound
from creditgate.domain.keys import Scope
from tests.http.fixtures import (
    FEATURE,
    THEIR_MARK,
    THEIR_SECRET,
    Route,
    Service,
    own_account,
    route,
    route_ids,
    routes,
    service_fixture,  # noqa: F401
    snapshot,
)

TRANSFER = route("POST /v1/transfers")
REACHING = routes(lambda r: r.reaches is not None)
FINDING = [r for r in REACHING if r is not TRANSFER]
"""The routes that answer 404 for another account's resource (a transfer answers 403)."""
REFER = route("POST /v1/accounts/{account_id}/referral")
"""Answers 404 for another account, and 403 for its own: a referral credits another account."""
READING = [r for r in FINDING if r.scope is Scope.READ]
WRITING = [r for r in FINDING if r.scope is not Scope.READ and r is not REFER]
ADMIN_ON_ACCOUNTS = [
    route("PATCH /v1/accounts/{account_id}"),
    route("POST /v1/accounts/{account_id}/adjustments"),
    route("PUT /v1/accounts/{account_id}/balance-alert"),
]
EVERY_ACCOUNT = [route("GET /v1/usage"), route("GET /v1/usage/totals")]


def shows_their_data(text: str) -> bool:
    """Whether an answer carries any figure or note of theirs."""
    return THEIR_MARK in text or THEIR_SECRET in text


def without_ids(problem: dict[str, Any]) -> dict[str, Any]:
    """A problem body without the id it names and the request's own id."""
    kept = {k: v for k, v in problem.items() if k not in ("id", "request_id")}
    if "id" in problem:
        kept["detail"] = problem["detail"].replace(repr(problem["id"]), "<id>")
    return kept


def refusal_code(target: Route) -> str:
    """The code a request about an id nothing has answers on this route."""
    return target.missing or "account_not_found"


@pytest.mark.parametrize("target", FINDING, ids=route_ids(FINDING))
def test_bound_key_answers_404_for_another_accounts_resource(
    service: Service, target: Route
) -> None:
    headers = service.world.bound_header()

    response = target.send(service.http, service.world.theirs, headers)

    assert (response.status_code, response.json()["code"]) == (404, refusal_code(target))


@pytest.mark.parametrize("target", REACHING, ids=route_ids(REACHING))
def test_bound_key_answer_about_another_account_equals_one_about_a_missing_id(
    service: Service, target: Route
) -> None:
    headers = service.world.bound_header()
    missing = target.send(service.http, service.world.missing, headers)

    response = target.send(service.http, service.world.theirs, headers)

    assert without_ids(response.json()) == without_ids(missing.json())


@pytest.mark.parametrize("target", REACHING, ids=route_ids(REACHING))
def test_bound_key_answer_about_another_account_shows_none_of_its_data(
    service: Service, target: Route
) -> None:
    headers = service.world.bound_header()

    response = target.send(service.http, service.world.theirs, headers)

    assert not shows_their_data(response.text)


@pytest.mark.parametrize("target", REACHING, ids=route_ids(REACHING))
def test_bound_key_changes_nothing_of_another_account(service: Service, target: Route) -> None:
    before = snapshot(service.engine)
    headers = service.world.bound_header()

    target.send(service.http, service.world.theirs, headers)

    assert snapshot(service.engine) == before


@pytest.mark.parametrize("target", READING, ids=route_ids(READING))
def test_bound_key_reads_its_own_account(service: Service, target: Route) -> None:
    headers = service.world.bound_header()

    response = target.send(service.http, service.world.ours, headers)

    assert response.status_code == 200, response.text


OWN_WRITES = [r for r in WRITING if r.id != "POST /v1/checkout"]
"""Writes a bound key makes on its own account here (a checkout needs Stripe: with the
fake of its API, test_checkout opens one)."""


@pytest.mark.parametrize("target", OWN_WRITES, ids=route_ids(OWN_WRITES))
def test_bound_key_writes_its_own_account(service: Service, target: Route) -> None:
    ids = own_account(service.engine)
    _, key = service.engine.create_key(Scope.WRITE, name="widget", account_id=ids.account_id)

    response = target.send(service.http, ids, {"Authorization": f"Bearer {key}"})

    assert response.status_code in (200, 204), response.text


def test_bound_key_answers_404_when_it_creates_another_account(service: Service) -> None:
    headers = service.world.bound_header()

    response = service.http.post("/v1/accounts", json={"account_id": "org_9"}, headers=headers)

    assert (response.status_code, response.json()["code"]) == (404, "account_not_found")
    with pytest.raises(AccountNotFound):
        service.engine.get_account("org_9")


@pytest.mark.parametrize("target", ADMIN_ON_ACCOUNTS, ids=route_ids(ADMIN_ON_ACCOUNTS))
def test_bound_key_meets_the_same_403_on_its_own_and_another_account(
    service: Service, target: Route
) -> None:
    headers = service.world.bound_header()
    own = target.send(service.http, service.world.ours, headers)

    other = target.send(service.http, service.world.theirs, headers)

    assert (other.status_code, other.json()["detail"]) == (own.status_code, own.json()["detail"])
    assert other.status_code == 403


@pytest.mark.parametrize("target", EVERY_ACCOUNT, ids=route_ids(EVERY_ACCOUNT))
def test_bound_key_naming_no_account_lists_its_own_usage_only(
    service: Service, target: Route
) -> None:
    ids = own_account(service.engine)
    service.engine.charge(ids.account_id, feature=FEATURE)
    _, key = service.engine.create_key(Scope.READ, name="widget", account_id=ids.account_id)
    headers = {"Authorization": f"Bearer {key}"}

    unnamed = service.http.get(target.path, headers=headers)
    named = service.http.get(target.path, params={"account_id": ids.account_id}, headers=headers)

    assert unnamed.status_code == 200
    assert unnamed.json() == named.json()
    assert '"credits":"2"' in unnamed.text
    assert not shows_their_data(unnamed.text)


def test_bound_key_reads_the_catalog(service: Service) -> None:
    headers = service.world.bound_header()

    response = service.http.get("/v1/features", headers=headers)

    assert response.status_code == 200
    assert [f["key"] for f in response.json()] == ["image.generate"]


def test_bound_key_transfer_answers_403_and_changes_nothing(service: Service) -> None:
    before = snapshot(service.engine)

    response = TRANSFER.send(service.http, service.world.ours, service.world.bound_header())

    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert not shows_their_data(response.text)
    assert snapshot(service.engine) == before


def test_bound_key_referral_for_its_own_account_answers_403_and_changes_nothing(
    service: Service,
) -> None:
    ids = own_account(service.engine)
    _, key = service.engine.create_key(Scope.WRITE, name="widget", account_id=ids.account_id)
    before = snapshot(service.engine, ids.account_id)

    response = REFER.send(service.http, ids, {"Authorization": f"Bearer {key}"})

    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert not shows_their_data(response.text)
    assert snapshot(service.engine, ids.account_id) == before
    assert ids.account_id not in [r.referee_id for r in service.engine.referrals(ids.counterparty)]


def test_bound_key_answers_404_for_a_transfer_from_another_account(service: Service) -> None:
    headers = service.world.bound_header()

    response = TRANSFER.send(service.http, service.world.theirs, headers)

    assert (response.status_code, response.json()["code"]) == (404, "account_not_found")
