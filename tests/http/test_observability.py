"""Request ids, Prometheus metrics, health and readiness, and JSON log lines."""

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from creditgate import Engine, ManualClock
from creditgate.app import create_app
from creditgate.http.observability import JsonFormatter
from creditgate.storage import migrate
from creditgate.storage.database import Database
from tests.factories import MINUTE, funded_account
from tests.http.fixtures import Service, fresh_database, fresh_id, service_fixture  # noqa: F401

BALANCE_ROUTE = "/v1/accounts/{account_id}/balance"
CHARGE_ROUTE = "/v1/accounts/{account_id}/charge"


def metrics(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample /metrics shows, by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """One sample's value, 0 when it has not been counted yet."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def is_generated(request_id: str) -> bool:
    """Whether a request id is one the service made: 32 hex digits."""
    return len(request_id) == 32 and all(c in "0123456789abcdef" for c in request_id)


def test_request_id_echoes_the_one_the_caller_sent(service: Service) -> None:
    headers = {**service.keys.header("read"), "X-Request-ID": "checkout-42"}

    response = service.http.get("/v1/accounts/org_1/balance", headers=headers)

    assert response.headers["X-Request-ID"] == "checkout-42"


def test_request_id_is_made_when_the_caller_sends_none(service: Service) -> None:
    headers = service.keys.header("read")

    first = service.http.get("/v1/accounts/org_1/balance", headers=headers)
    second = service.http.get("/v1/accounts/org_1/balance", headers=headers)

    ids = first.headers["X-Request-ID"], second.headers["X-Request-ID"]
    assert all(is_generated(i) for i in ids)
    assert ids[0] != ids[1]


@pytest.mark.parametrize("sent", ["r" * 201, "tab\there"], ids=["overlong", "unprintable"])
def test_request_id_is_replaced_when_it_is_not_sane(service: Service, sent: str) -> None:
    headers = {**service.keys.header("read"), "X-Request-ID": sent}

    response = service.http.get("/v1/accounts/org_1/balance", headers=headers)

    assert is_generated(response.headers["X-Request-ID"])


def test_request_id_of_200_characters_is_kept(service: Service) -> None:
    headers = {**service.keys.header("read"), "X-Request-ID": "r" * 200}

    response = service.http.get("/v1/accounts/org_1/balance", headers=headers)

    assert response.headers["X-Request-ID"] == "r" * 200


def test_metrics_count_requests_by_route_template_and_status(service: Service) -> None:
    before = metrics(service.http)
    labels = {"method": "GET", "route": BALANCE_ROUTE, "status": "200"}

    for _ in range(2):
        service.http.get("/v1/accounts/org_1/balance", headers=service.keys.header("read"))

    after = metrics(service.http)
    counted = value(after, "creditgate_http_requests_total", **labels)
    assert counted - value(before, "creditgate_http_requests_total", **labels) == 2
    assert not any("org_1" in dict(labels_).get("route", "") for _, labels_ in after)


def test_metrics_time_requests_in_a_latency_histogram(service: Service) -> None:
    before = metrics(service.http)
    labels = {"method": "GET", "route": BALANCE_ROUTE}

    service.http.get("/v1/accounts/org_1/balance", headers=service.keys.header("read"))

    after = metrics(service.http)
    name = "creditgate_http_request_duration_seconds"
    assert value(after, f"{name}_count", **labels) - value(before, f"{name}_count", **labels) == 1
    assert value(after, f"{name}_bucket", **labels, le="+Inf") == value(
        after, f"{name}_count", **labels
    )
    assert value(after, f"{name}_sum", **labels) > value(before, f"{name}_sum", **labels)


def test_metrics_count_a_charge(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)
    before = metrics(http)

    http.post(f"/v1/accounts/{user}/charge", json={"amount": "1"}, headers=keys.header("write"))

    after = metrics(http)
    assert value(after, "creditgate_charges_total") - value(before, "creditgate_charges_total") == 1


def test_metrics_count_a_402_and_no_charge(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 1)
    before = metrics(http)

    http.post(f"/v1/accounts/{user}/charge", json={"amount": "5"}, headers=keys.header("write"))

    after = metrics(http)
    refusals = "creditgate_insufficient_credits_total"
    assert (
        value(after, refusals) - value(before, refusals),
        value(after, "creditgate_charges_total") - value(before, "creditgate_charges_total"),
        value(after, "creditgate_http_requests_total", method="POST", route=CHARGE_ROUTE,
              status="402")
        - value(before, "creditgate_http_requests_total", method="POST", route=CHARGE_ROUTE,
                status="402"),
    ) == (1, 0, 1)  # fmt: skip


def test_metrics_gauge_the_pending_holds(engine: Engine, http: TestClient) -> None:
    funded_account(engine, "user_1", 10)
    holds = [engine.hold("user_1", 1, ttl=MINUTE).hold for _ in range(3)]
    assert holds[0] is not None
    engine.release(holds[0].id)

    samples = metrics(http)

    assert value(samples, "creditgate_holds_pending") == engine.pending_holds() == 2


def test_metrics_are_served_as_prometheus_text(service: Service) -> None:
    response = service.http.get("/metrics")

    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")


def test_healthz_answers_ok_without_a_key(service: Service) -> None:
    response = service.http.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_answers_ready_when_the_schema_is_at_head(service: Service) -> None:
    response = service.http.get("/readyz")

    assert (response.status_code, response.json()) == (200, {"status": "ready"})


@pytest.fixture
def behind(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, clock: ManualClock
) -> Iterator[TestClient]:
    """The app over a database of its own, migrated down to the revision before the keys."""
    with fresh_database(request, backend, tmp_path) as url:
        database = Database(url)
        with database.write() as conn:
            config = migrate.config()
            config.attributes["connection"] = conn
            command.downgrade(config, "0002")
        engine = Engine(database, clock=clock, upgrade=False)
        try:
            with TestClient(create_app(engine=engine), raise_server_exceptions=False) as client:
                yield client
        finally:
            database.dispose()


def test_readyz_answers_503_when_the_schema_is_behind_head(behind: TestClient) -> None:
    response = behind.get("/readyz")

    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_ready"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the service logs while the test runs, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("creditgate.http")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_log_is_one_json_object_per_line(service: Service, log_lines: io.StringIO) -> None:
    paths = ("/healthz", "/v1/accounts/org_1", "/nowhere")

    for path in paths:
        service.http.get(path, headers=service.keys.header("read"))

    lines = log_lines.getvalue().splitlines()
    assert [json.loads(line)["path"] for line in lines] == list(paths)
    assert all(isinstance(json.loads(line), dict) for line in lines)


def test_log_line_names_the_request(service: Service, log_lines: io.StringIO) -> None:
    headers = {**service.keys.header("read"), "X-Request-ID": "log-me"}

    service.http.get("/v1/accounts/org_1/balance", headers=headers)

    line = json.loads(log_lines.getvalue().splitlines()[-1])
    assert {k: line[k] for k in ("request_id", "method", "path", "status", "level")} == {
        "request_id": "log-me",
        "method": "GET",
        "path": "/v1/accounts/org_1/balance",
        "status": 200,
        "level": "info",
    }
    assert isinstance(line["duration_ms"], float | int)
    assert line["duration_ms"] >= 0
    assert line["key_prefix"] == service.keys.read.split("_")[1]
    assert service.keys.read not in log_lines.getvalue()
