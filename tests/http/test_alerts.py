"""Balance alerts over HTTP: read by any key that reaches the account, set by admin keys."""

from fastapi.testclient import TestClient

from creditgate import Engine
from creditgate.schemas import BalanceAlertOut
from tests.factories import funded_account
from tests.http.conftest import Keys


def test_balance_alert_is_set_read_and_cleared(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    funded_account(engine, credits=5)

    never = http.get("/v1/accounts/user_1/balance-alert", headers=keys.header("read"))
    made = http.put(
        "/v1/accounts/user_1/balance-alert", json={"low": "10"}, headers=keys.header("admin")
    )
    shown = http.get("/v1/accounts/user_1/balance-alert", headers=keys.header("read"))
    cleared = http.put(
        "/v1/accounts/user_1/balance-alert", json={"low": None}, headers=keys.header("admin")
    )

    assert never.json() == {
        "account_id": "user_1",
        "low": None,
        "default_low": None,
        "level": "ok",
    }
    assert made.status_code == 200, made.text
    assert (made.json()["low"], made.json()["level"]) == ("10", "low")
    assert shown.json() == made.json()
    assert (cleared.json()["low"], cleared.json()["level"]) == (None, "ok")
    assert cleared.json() == BalanceAlertOut.of(engine.balance_alert("user_1")).model_dump(
        mode="json"
    )


def test_set_balance_alert_answers_403_to_a_write_key(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    funded_account(engine, credits=5)

    response = http.put(
        "/v1/accounts/user_1/balance-alert", json={"low": "10"}, headers=keys.header("write")
    )

    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert engine.balance_alert("user_1").low is None


def test_set_balance_alert_answers_422_for_a_line_that_is_not_positive(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    funded_account(engine, credits=5)

    response = http.put(
        "/v1/accounts/user_1/balance-alert", json={"low": "-1"}, headers=keys.header("admin")
    )

    assert (response.status_code, response.json()["field"]) == (422, "low")
