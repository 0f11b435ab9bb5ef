"""The catalog over HTTP: features, versioned prices, quotes and catalog files.

Most tests act on features of their own in the module's shared world; applying a whole
catalog file takes an empty database of its own.
"""

import pytest
from fastapi.testclient import TestClient

from creditgate import Engine, FeatureNotFound
from creditgate.domain.catalog import catalog_data
from creditgate.schemas import FeatureOut, PriceOut, QuoteOut
from tests.factories import funded_account
from tests.http.conftest import Keys
from tests.http.fixtures import (
    CATALOG,
    Service,
    fresh_id,
    service_fixture,  # noqa: F401
    snapshot,
)


def priced(engine: Engine, key: str, credits: str = "2") -> None:
    """A feature with a flat price."""
    engine.create_feature(key, name=key.title())
    engine.set_price(key, {"rule": "flat", "credits": credits})


def test_features_answers_every_feature(service: Service) -> None:
    response = service.http.get("/v1/features", headers=service.keys.header("read"))

    assert response.status_code == 200
    assert response.json() == [
        FeatureOut.of(f).model_dump(mode="json") for f in service.engine.features()
    ]
    assert "image.generate" in [f["key"] for f in response.json()]


def test_create_feature_adds_it_to_the_catalog(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    feature = fresh_id("feature")
    body = {"key": feature, "name": "Upscaling", "category": "Image"}

    response = http.post("/v1/features", json=body, headers=keys.header("admin"))

    assert response.status_code == 200
    expected = FeatureOut.of(engine.get_feature(feature))
    assert response.json() == expected.model_dump(mode="json")
    assert (response.json()["category"], response.json()["is_active"]) == ("Image", True)


def test_create_feature_answers_409_and_changes_nothing_when_the_key_is_taken(
    service: Service,
) -> None:
    before = snapshot(service.engine)
    body = {"key": "image.generate", "name": "Something else"}

    response = service.http.post("/v1/features", json=body, headers=service.keys.header("admin"))

    assert (response.status_code, response.json()["code"]) == (409, "feature_exists")
    assert response.json()["key"] == "image.generate"
    assert snapshot(service.engine) == before


def test_get_feature_answers_the_engines_feature(service: Service) -> None:
    response = service.http.get("/v1/features/image.generate", headers=service.keys.header("read"))

    assert response.status_code == 200
    expected = FeatureOut.of(service.engine.get_feature("image.generate"))
    assert response.json() == expected.model_dump(mode="json")


def test_update_feature_deactivates_it_so_it_is_not_charged(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    feature = fresh_id("feature")
    priced(engine, feature)

    response = http.patch(
        f"/v1/features/{feature}",
        json={"is_active": False, "name": "Images"},
        headers=keys.header("admin"),
    )

    assert (response.status_code, response.json()["is_active"]) == (200, False)
    updated = engine.get_feature(feature)
    assert (updated.is_active, updated.name) == (False, "Images")


def test_delete_feature_deletes_one_never_used(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    feature = fresh_id("feature")
    priced(engine, feature)

    response = http.delete(f"/v1/features/{feature}", headers=keys.header("admin"))

    assert (response.status_code, response.json()) == (200, {"deleted": True})
    with pytest.raises(FeatureNotFound):
        engine.get_feature(feature)


def test_delete_feature_deactivates_one_used_by_a_charge(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    feature = fresh_id("feature")
    priced(engine, feature)
    funded_account(engine, user, 10)
    engine.charge(user, feature=feature)

    response = http.delete(f"/v1/features/{feature}", headers=keys.header("admin"))

    assert (response.status_code, response.json()) == (200, {"deleted": False})
    assert not engine.get_feature(feature).is_active


def test_prices_answers_the_prices_in_force(service: Service) -> None:
    response = service.http.get(
        "/v1/features/image.generate/prices", headers=service.keys.header("read")
    )

    assert response.status_code == 200
    assert response.json() == [
        PriceOut.of(p).model_dump(mode="json") for p in service.engine.prices("image.generate")
    ]
    assert [p["rule"] for p in response.json()] == [{"rule": "flat", "credits": "2"}]


def test_price_history_answers_every_version_oldest_first(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    feature = fresh_id("feature")
    priced(engine, feature, credits="2")
    engine.set_price(feature, {"rule": "flat", "credits": "3"})

    response = http.get(f"/v1/features/{feature}/prices/history", headers=keys.header("read"))

    assert response.status_code == 200
    assert response.json() == [
        PriceOut.of(p).model_dump(mode="json") for p in engine.price_history(feature)
    ]
    assert [(p["version"], p["rule"]["credits"]) for p in response.json()] == [(1, "2"), (2, "3")]


def test_set_price_makes_a_new_version_that_charges_from_now(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    feature = fresh_id("feature")
    priced(engine, feature, credits="2")

    response = http.post(
        f"/v1/features/{feature}/prices",
        json={"rule": {"rule": "flat", "credits": "3"}, "minimum": "1"},
        headers=keys.header("admin"),
    )

    assert response.status_code == 200
    assert (response.json()["version"], response.json()["minimum"]) == (2, "1")
    assert str(engine.quote(feature).amount) == "3"


def test_set_price_takes_an_effective_instant(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    feature = fresh_id("feature")
    priced(engine, feature, credits="2")

    response = http.post(
        f"/v1/features/{feature}/prices",
        json={"rule": {"rule": "flat", "credits": "3"}, "effective_from": "2026-02-01T00:00:00Z"},
        headers=keys.header("admin"),
    )

    assert response.json()["effective_from"] == "2026-02-01T00:00:00Z"
    assert str(engine.quote(feature).amount) == "2"


def test_retire_price_stops_pricing_the_model(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    feature = fresh_id("feature")
    priced(engine, feature)

    response = http.post(
        f"/v1/features/{feature}/prices/retire", json={}, headers=keys.header("admin")
    )

    assert (response.status_code, response.json()["rule"]) == (200, None)
    assert engine.prices(feature) == ()
    assert [p.rule is None for p in engine.price_history(feature)] == [False, True]


def test_retire_price_takes_an_effective_instant(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    feature = fresh_id("feature")
    priced(engine, feature)

    response = http.post(
        f"/v1/features/{feature}/prices/retire",
        json={"effective_from": "2026-02-01T00:00:00Z"},
        headers=keys.header("admin"),
    )

    assert response.json()["effective_from"] == "2026-02-01T00:00:00Z"
    assert str(engine.quote(feature).amount) == "2"


def test_retire_price_answers_422_naming_a_model_without_a_price(service: Service) -> None:
    before = snapshot(service.engine)

    response = service.http.post(
        "/v1/features/image.generate/prices/retire",
        json={"model": "flux-pro"},
        headers=service.keys.header("admin"),
    )

    assert (response.status_code, response.json()["field"]) == (422, "model")
    assert snapshot(service.engine) == before


def test_quote_answers_the_cost_version_and_breakdown(service: Service) -> None:
    response = service.http.post(
        "/v1/quote", json={"feature": "image.generate"}, headers=service.keys.header("read")
    )

    assert response.status_code == 200
    expected = QuoteOut.of(service.engine.quote("image.generate"))
    assert response.json() == expected.model_dump(mode="json")
    assert (response.json()["amount"], response.json()["breakdown"]) == ("2", "2 credits per call")


def test_quote_takes_token_counts_as_the_quantity(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    feature = fresh_id("feature")
    engine.create_feature(feature, name="Chat")
    engine.set_price(feature, {"rule": "tokens", "input": "1", "output": "3", "per_tokens": 1000})

    response = http.post(
        "/v1/quote",
        json={"feature": feature, "quantity": {"input": 1200, "output": 300}},
        headers=keys.header("read"),
    )

    assert (response.status_code, response.json()["amount"]) == (200, "2.1")


def test_quote_prices_at_a_past_instant(service: Service) -> None:
    response = service.http.post(
        "/v1/quote",
        json={"feature": "image.generate", "at": "2026-01-01T12:00:00Z"},
        headers=service.keys.header("read"),
    )

    assert (response.status_code, response.json()["amount"]) == (200, "2")


def test_export_catalog_answers_the_catalog_file(service: Service) -> None:
    response = service.http.get("/v1/catalog", headers=service.keys.header("read"))

    assert response.status_code == 200
    assert response.json() == catalog_data(service.engine.export_catalog())
    assert "image.generate" in [f["key"] for f in response.json()["features"]]


def test_apply_catalog_makes_the_catalog_match_the_file(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    priced(engine, "image.generate", credits="5")

    response = http.put("/v1/catalog", json=CATALOG, headers=keys.header("admin"))

    assert response.status_code == 200
    assert {c["kind"] for c in response.json()} >= {"set_welcome", "create_feature"}
    assert catalog_data(engine.export_catalog()) == CATALOG


def test_apply_catalog_dry_run_lists_the_changes_and_makes_none(service: Service) -> None:
    before = snapshot(service.engine), service.engine.export_catalog()

    response = service.http.put(
        "/v1/catalog",
        params={"dry_run": "true"},
        json=CATALOG,
        headers=service.keys.header("admin"),
    )

    assert response.status_code == 200
    assert [c["kind"] for c in response.json()] != []
    assert (snapshot(service.engine), service.engine.export_catalog()) == before


def test_apply_catalog_answers_422_and_changes_nothing_when_the_file_is_invalid(
    service: Service,
) -> None:
    before = snapshot(service.engine), service.engine.export_catalog()
    invalid = {**CATALOG, "surprise": 1}

    response = service.http.put("/v1/catalog", json=invalid, headers=service.keys.header("admin"))

    assert (response.status_code, response.json()["code"]) == (422, "invalid_input")
    assert response.json()["field"].endswith("surprise")
    assert (snapshot(service.engine), service.engine.export_catalog()) == before
