"""404 for ids that name nothing: accounts, members, holds, entries and features."""

import pytest

from tests.http.fixtures import (
    Route,
    Service,
    route_ids,
    routes,
    service_fixture,  # noqa: F401
    snapshot,
)

NAMING = routes(lambda r: r.missing is not None)


@pytest.mark.parametrize("target", NAMING, ids=route_ids(NAMING))
def test_route_answers_404_when_its_id_names_nothing(service: Service, target: Route) -> None:
    before = snapshot(service.engine)

    response = target.send(service.http, service.world.missing, service.keys.header("admin"))

    assert (response.status_code, response.json()["code"]) == (404, target.missing)
    assert snapshot(service.engine) == before


@pytest.mark.parametrize("target", NAMING, ids=route_ids(NAMING))
def test_not_found_problem_names_the_missing_id(service: Service, target: Route) -> None:
    missing = service.world.missing

    response = target.send(service.http, missing, service.keys.header("admin"))

    assert response.json()["id"] in (
        missing.account_id,
        missing.hold_id,
        missing.entry_id,
        missing.feature,
        missing.plan,
        missing.promo,
        missing.pack,
    )


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/v1/accounts/org_1/charge", {"feature": "no.such.feature"}, "feature_not_found"),
        ("/v1/accounts/org_1/holds", {"feature": "no.such.feature", "ttl_s": 60},
         "feature_not_found"),
        ("/v1/accounts/org_1/check", {"feature": "no.such.feature"}, "feature_not_found"),
        ("/v1/transfers", {"from_account_id": "org_1", "to_account_id": "nobody",
                           "amount": "1"}, "account_not_found"),
    ],
    ids=["charge", "hold", "check", "transfer to"],
)  # fmt: skip
def test_route_answers_404_when_the_body_names_nothing(
    service: Service, path: str, body: dict[str, object], code: str
) -> None:
    before = snapshot(service.engine)

    response = service.http.post(path, json=body, headers=service.keys.header("write"))

    assert (response.status_code, response.json()["code"]) == (404, code)
    assert snapshot(service.engine) == before


def test_remove_member_answers_404_when_the_person_is_not_a_member(service: Service) -> None:
    before = snapshot(service.engine)

    response = service.http.delete(
        "/v1/accounts/org_1/members/stranger", headers=service.keys.header("write")
    )

    assert (response.status_code, response.json()["code"]) == (404, "member_not_found")
    assert response.json()["id"] == "stranger"
    assert snapshot(service.engine) == before
