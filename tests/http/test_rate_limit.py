from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from creditgate import Engine
from creditgate.app import create_app
from creditgate.settings import Settings
from tests.http.conftest import Keys


@pytest.fixture
def limited(engine: Engine) -> Iterator[TestClient]:
    settings = Settings(key_rate_per_s=0.01, key_burst=2)
    with TestClient(create_app(settings, engine=engine)) as client:
        yield client


def test_key_over_its_rate_answers_429_with_retry_after(
    engine: Engine, limited: TestClient, keys: Keys
) -> None:
    engine.create_account("user_1")
    for _ in range(2):
        assert limited.get("/v1/accounts/user_1", headers=keys.header("read")).status_code == 200

    response = limited.get("/v1/accounts/user_1", headers=keys.header("read"))

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "100"
    assert response.json()["code"] == "rate_limited"
    assert response.json()["retry_after_s"] == 100


def test_key_rate_is_counted_per_key(engine: Engine, limited: TestClient, keys: Keys) -> None:
    engine.create_account("user_1")
    for _ in range(3):
        limited.get("/v1/accounts/user_1", headers=keys.header("read"))

    response = limited.get("/v1/accounts/user_1", headers=keys.header("write"))

    assert response.status_code == 200


def test_rate_limited_charge_takes_nothing(engine: Engine, limited: TestClient, keys: Keys) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 10)
    for _ in range(2):
        limited.post(
            "/v1/accounts/user_1/charge", json={"amount": "1"}, headers=keys.header("write")
        )

    response = limited.post(
        "/v1/accounts/user_1/charge", json={"amount": "1"}, headers=keys.header("write")
    )

    assert response.status_code == 429
    assert str(engine.balance("user_1").balance) == "8"
