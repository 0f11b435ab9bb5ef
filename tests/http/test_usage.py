"""Usage events and their totals over HTTP, against the engine."""

from creditgate.schemas import UsagePage, UsageTotalOut
from tests.http.fixtures import Service, service_fixture  # noqa: F401


def test_usage_answers_one_accounts_events_newest_first(service: Service) -> None:
    response = service.http.get(
        "/v1/usage", params={"account_id": "org_1"}, headers=service.keys.header("read")
    )

    assert response.status_code == 200
    expected = UsagePage.of(service.engine.usage("org_1"))
    assert response.json() == expected.model_dump(mode="json")
    assert [(e["account_id"], e["credits"]) for e in response.json()["items"]] == [("org_1", "2.5")]


def test_usage_filters_by_outcome(service: Service) -> None:
    response = service.http.get(
        "/v1/usage",
        params={"account_id": "org_1", "outcome": "succeeded"},
        headers=service.keys.header("read"),
    )

    assert [e["outcome"] for e in response.json()["items"]] == ["succeeded"]


def test_usage_without_an_account_answers_every_accounts_events(service: Service) -> None:
    response = service.http.get("/v1/usage", headers=service.keys.header("read"))

    assert response.status_code == 200
    assert response.json() == UsagePage.of(service.engine.usage()).model_dump(mode="json")
    assert {e["account_id"] for e in response.json()["items"]} == {"org_1", "org_2"}


def test_usage_pages_with_the_next_cursor(service: Service) -> None:
    headers = service.keys.header("read")
    first = service.http.get("/v1/usage", params={"limit": 1}, headers=headers).json()

    rest = service.http.get(
        "/v1/usage", params={"limit": 50, "cursor": first["next_cursor"]}, headers=headers
    ).json()

    every = service.engine.usage().items
    assert [e["id"] for e in first["items"] + rest["items"]] == [e.id for e in every]


def test_usage_totals_answers_events_and_credits_by_feature_model_and_outcome(
    service: Service,
) -> None:
    response = service.http.get(
        "/v1/usage/totals", params={"account_id": "org_1"}, headers=service.keys.header("read")
    )

    assert response.status_code == 200
    assert response.json() == [
        UsageTotalOut.of(t).model_dump(mode="json") for t in service.engine.usage_totals("org_1")
    ]
    assert [(t["outcome"], t["events"], t["credits"]) for t in response.json()] == [
        ("succeeded", 1, "2.5")
    ]
