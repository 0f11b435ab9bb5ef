"""Authentication and scopes: every route wants a live key of at least its scope."""

import pytest

from creditgate.domain.keys import Scope
from tests.factories import funded_account
from tests.http.fixtures import (
    ROUTES,
    Route,
    Service,
    fresh_id,
    route,
    route_ids,
    routes,
    service_fixture,  # noqa: F401
    snapshot,
)

UNKNOWN_KEY = "cg_0123456789_" + "x" * 40
LOWER = {Scope.WRITE: "read", Scope.ADMIN: "write"}
ABOVE_READ = routes(lambda r: r.scope is not Scope.READ)


def bad_credentials(service: Service) -> dict[str, dict[str, str]]:
    """Headers of each kind of caller without a valid key."""
    return {
        "missing": {},
        "malformed": {"Authorization": "Bearer not-a-key"},
        "unknown": {"Authorization": f"Bearer {UNKNOWN_KEY}"},
        "revoked": {"Authorization": f"Bearer {service.revoked}"},
    }


@pytest.mark.parametrize("target", ROUTES, ids=route_ids(ROUTES))
def test_route_answers_401_when_the_key_is_missing_malformed_unknown_or_revoked(
    service: Service, target: Route
) -> None:
    before = snapshot(service.engine)
    credentials = bad_credentials(service)

    answers = {
        kind: target.send(service.http, service.world.ours, headers)
        for kind, headers in credentials.items()
    }

    assert {k: (r.status_code, r.json()["code"]) for k, r in answers.items()} == dict.fromkeys(
        credentials, (401, "unauthenticated")
    )
    assert snapshot(service.engine) == before


@pytest.mark.parametrize(
    ("kind", "detail"),
    [
        ("missing", "an API key is required: 'Authorization: Bearer <key>'"),
        ("malformed", "the API key is malformed"),
        ("unknown", "the API key is not valid"),
        ("revoked", "the API key has been revoked"),
    ],
)
def test_unauthenticated_problem_says_why_and_asks_for_a_bearer_key(
    service: Service, kind: str, detail: str
) -> None:
    headers = bad_credentials(service)[kind]

    response = service.http.get("/v1/accounts/org_1/balance", headers=headers)

    assert response.json()["detail"] == detail
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("target", ABOVE_READ, ids=route_ids(ABOVE_READ))
def test_route_answers_403_when_the_key_scope_is_below_the_route_scope(
    service: Service, target: Route
) -> None:
    before = snapshot(service.engine)
    lower = service.keys.header(LOWER[target.scope])

    response = target.send(service.http, service.world.ours, lower)

    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert response.json()["detail"] == (
        f"this key's scope is {LOWER[target.scope]}; the call needs {target.scope}"
    )
    assert snapshot(service.engine) == before


@pytest.mark.parametrize("scope", ["read", "write", "admin"])
def test_read_route_answers_every_scope(service: Service, scope: str) -> None:
    balance = route("GET /v1/accounts/{account_id}/balance")

    response = balance.send(service.http, service.world.ours, service.keys.header(scope))

    assert response.status_code == 200


def test_write_route_answers_an_admin_key(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)

    response = http.post(
        f"/v1/accounts/{user}/charge", json={"amount": "1"}, headers=keys.header("admin")
    )

    assert response.status_code == 200
    assert str(engine.balance(user).balance) == "9"


def test_key_authenticates_in_the_x_api_key_header(service: Service) -> None:
    headers = {"X-API-Key": service.keys.read}

    response = service.http.get("/v1/accounts/org_1/balance", headers=headers)

    assert response.status_code == 200


def test_bearer_key_wins_over_the_x_api_key_header(service: Service) -> None:
    headers = {
        "Authorization": f"Bearer {service.keys.read}",
        "X-API-Key": service.keys.admin,
    }

    response = service.http.post("/v1/expire", headers=headers)

    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def test_revoked_key_answers_401_from_the_next_call(service: Service) -> None:
    engine, http = service.engine, service.http
    user = fresh_id("user")
    funded_account(engine, user, 10)
    made, text = engine.create_key("write", name="to revoke")
    headers = {"Authorization": f"Bearer {text}"}
    assert http.get(f"/v1/accounts/{user}/balance", headers=headers).status_code == 200

    engine.revoke_key(made.id)
    response = http.post(f"/v1/accounts/{user}/charge", json={"amount": "1"}, headers=headers)

    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")
    assert str(engine.balance(user).balance) == "10"
