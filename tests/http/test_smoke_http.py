from fastapi.testclient import TestClient

from creditgate import Engine
from tests.http.conftest import Keys


def test_charge_over_http_answers_credits_used_and_remaining(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 10)

    response = http.post(
        "/v1/accounts/user_1/charge", json={"amount": "2.5"}, headers=keys.header("write")
    )

    assert response.status_code == 200
    assert (response.json()["credits_used"], response.json()["credits_remaining"]) == ("2.5", "7.5")
