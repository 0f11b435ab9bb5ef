"""The operator's passes over HTTP: the expiry pass and verify."""

from datetime import timedelta

from fastapi.testclient import TestClient

from creditgate import Engine, ManualClock
from creditgate.schemas import VerifyReportOut
from tests.factories import MINUTE, funded_account
from tests.http.conftest import Keys
from tests.http.fixtures import Service, service_fixture  # noqa: F401


def test_expire_writes_the_entries_of_holds_past_their_ttl(
    engine: Engine, http: TestClient, keys: Keys, clock: ManualClock
) -> None:
    funded_account(engine, "user_1", 10)
    engine.hold("user_1", 4, ttl=MINUTE)
    clock.advance(MINUTE + timedelta(seconds=1))

    response = http.post("/v1/expire", headers=keys.header("admin"))

    assert response.status_code == 200
    assert response.json() == {
        "accounts": 1,
        "lots_expired": 0,
        "holds_expired": 1,
        "credits_expired": "0",
        "cycles_granted": 0,
    }
    assert [e.kind for e in engine.history("user_1", limit=1).items] == ["expire"]


def test_expire_writes_nothing_when_nothing_is_due(service: Service) -> None:
    response = service.http.post("/v1/expire", headers=service.keys.header("admin"))

    assert response.status_code == 200
    assert response.json() == {
        "accounts": 0,
        "lots_expired": 0,
        "holds_expired": 0,
        "credits_expired": "0",
        "cycles_granted": 0,
    }


def test_verify_answers_a_clean_report_of_every_account(service: Service) -> None:
    response = service.http.get("/v1/verify", headers=service.keys.header("admin"))

    assert response.status_code == 200
    assert response.json() == VerifyReportOut.of(service.engine.verify()).model_dump(mode="json")
    assert (response.json()["accounts"], response.json()["is_clean"]) == (2, True)
