"""Every error is an RFC 9457 problem: type, title, status, detail, code and request id."""

from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, StrictInt

from creditgate import Credits, Engine, InvalidInput
from creditgate.app import create_app
from creditgate.settings import Settings
from tests.factories import MINUTE, funded_account
from tests.http.fixtures import Service, fresh_id, service_fixture  # noqa: F401

MEDIA_TYPE = "application/problem+json"
Failing = Callable[[Service], httpx.Response]


def _padded(service: Service) -> httpx.Response:
    padding = b" " * Settings().body_bytes_max
    headers = {**service.keys.header("write"), "Content-Type": "application/json"}
    response: httpx.Response = service.http.post(
        "/v1/accounts/org_1/charge", content=padding + b"{}", headers=headers
    )
    return response


FAILURES: dict[str, tuple[Failing, int, str]] = {
    "malformed body": (
        lambda s: s.http.post(
            "/v1/accounts/org_1/charge",
            content=b"{",
            headers={**s.keys.header("write"), "Content-Type": "application/json"},
        ),
        400,
        "malformed_body",
    ),
    "no key": (lambda s: s.http.get("/v1/accounts/org_1"), 401, "unauthenticated"),
    "short of credits": (
        lambda s: s.http.post(
            "/v1/accounts/org_1/charge", json={"amount": "1000"}, headers=s.keys.header("write")
        ),
        402,
        "insufficient_credits",
    ),
    "scope too low": (
        lambda s: s.http.post("/v1/expire", headers=s.keys.header("write")),
        403,
        "forbidden",
    ),
    "unknown account": (
        lambda s: s.http.get("/v1/accounts/nobody", headers=s.keys.header("read")),
        404,
        "account_not_found",
    ),
    "unknown route": (
        lambda s: s.http.get("/v1/nothing-here", headers=s.keys.header("read")),
        404,
        "route_not_found",
    ),
    "wrong method": (
        lambda s: s.http.delete("/v1/transfers", headers=s.keys.header("admin")),
        405,
        "method_not_allowed",
    ),
    "feature exists": (
        lambda s: s.http.post(
            "/v1/features",
            json={"key": "image.generate", "name": "Again"},
            headers=s.keys.header("admin"),
        ),
        409,
        "feature_exists",
    ),
    "body too large": (_padded, 413, "body_too_large"),
    "not json": (
        lambda s: s.http.post(
            "/v1/accounts/org_1/charge",
            content=b"amount=1",
            headers={**s.keys.header("write"), "Content-Type": "text/plain"},
        ),
        415,
        "unsupported_media_type",
    ),
    "invalid amount": (
        lambda s: s.http.post(
            "/v1/accounts/org_1/charge", json={"amount": 1.5}, headers=s.keys.header("write")
        ),
        422,
        "invalid_input",
    ),
}


@pytest.mark.parametrize("case", FAILURES)
def test_error_answers_a_problem_of_its_status_and_code(service: Service, case: str) -> None:
    send, status, code = FAILURES[case]

    response = send(service)

    body = response.json()
    assert (response.status_code, body["status"], body["code"]) == (status, status, code)
    assert body["type"] == f"/problems/{code}"


@pytest.mark.parametrize("case", FAILURES)
def test_problem_is_served_as_application_problem_json(service: Service, case: str) -> None:
    send, _, _ = FAILURES[case]

    response = send(service)

    assert response.headers["Content-Type"] == MEDIA_TYPE


@pytest.mark.parametrize("case", FAILURES)
def test_problem_has_a_title_and_a_detail(service: Service, case: str) -> None:
    send, _, _ = FAILURES[case]

    response = send(service)

    title, detail = response.json()["title"], response.json()["detail"]
    assert isinstance(title, str)
    assert isinstance(detail, str)
    assert title.strip()
    assert detail.strip()


@pytest.mark.parametrize("case", FAILURES)
def test_problem_names_the_request_id_it_echoes(service: Service, case: str) -> None:
    send, _, _ = FAILURES[case]

    response = send(service)

    assert response.json()["request_id"] == response.headers["X-Request-ID"]


def test_insufficient_credits_problem_gives_amounts_as_decimal_strings(service: Service) -> None:
    available = service.engine.balance("org_1").available

    response = service.http.post(
        "/v1/accounts/org_1/charge", json={"amount": "1000"}, headers=service.keys.header("write")
    )

    body = response.json()
    assert (body["required"], body["available"], body["shortfall"]) == (
        "1000",
        str(available),
        str(Credits.parse("1000") - available),
    )
    assert body["available"] == "87.5"


def test_invalid_input_problem_names_the_field_and_the_reason(service: Service) -> None:
    response = service.http.post(
        "/v1/accounts/org_1/charge", json={"amount": "1.0001"}, headers=service.keys.header("write")
    )

    body = response.json()
    assert (body["field"], body["reason"]) == ("amount", "an amount has at most 3 decimal places")
    assert body["detail"] == "amount: an amount has at most 3 decimal places"


ENGINE_WORDS: dict[str, tuple[str, str, object, Callable[[Engine], object]]] = {
    "quantity of the wrong type": (
        "POST",
        "/v1/quote",
        {"feature": "image.generate", "quantity": "3"},
        lambda e: e.quote("image.generate", quantity="3"),
    ),
    "negative token count": (
        "POST",
        "/v1/quote",
        {"feature": "image.generate", "quantity": {"input": -1}},
        lambda e: e.quote("image.generate", quantity={"input": -1}),
    ),
    "account id empty": (
        "POST",
        "/v1/accounts",
        {"account_id": " "},
        lambda e: e.create_account(" "),
    ),
    "price minimum negative": (
        "POST",
        "/v1/features/image.generate/prices",
        {"rule": {"rule": "flat", "credits": "1"}, "minimum": "-1"},
        lambda e: e.set_price("image.generate", {"rule": "flat", "credits": "1"}, minimum="-1"),
    ),
    "price rule field bad": (
        "POST",
        "/v1/features/image.generate/prices",
        {"rule": {"rule": "per_block", "credits": "1", "block": 0}},
        lambda e: e.set_price("image.generate", {"rule": "per_block", "credits": "1", "block": 0}),
    ),
    "limit out of range": (
        "GET",
        "/v1/accounts/org_1/entries?limit=0",
        None,
        lambda e: e.history("org_1", limit=0),
    ),
    "limit not a number": (
        "GET",
        "/v1/usage?limit=many",
        None,
        lambda e: e.usage(limit="many"),  # type: ignore[arg-type]
    ),
    "enum value unknown": (
        "GET",
        "/v1/accounts/org_1/holds?status=won",
        None,
        lambda e: e.holds("org_1", status="won"),
    ),
    "id not a number": (
        "GET",
        "/v1/holds/abc",
        None,
        lambda e: e.get_hold("abc"),  # type: ignore[arg-type]
    ),
    "flag not a bool": (
        "PATCH",
        "/v1/accounts/org_1",
        {"is_frozen": "yes"},
        lambda e: e.update_account("org_1", is_frozen="yes"),  # type: ignore[arg-type]
    ),
}
"""Bad input over HTTP, and the same input given to the engine: most of it the service
judges before the engine does (a price's rule and minimum it leaves to the engine)."""


@pytest.mark.parametrize(
    ("method", "path", "body", "act"), list(ENGINE_WORDS.values()), ids=list(ENGINE_WORDS)
)
def test_invalid_input_problem_names_the_field_and_reason_the_engine_names(
    service: Service, method: str, path: str, body: object, act: Callable[[Engine], object]
) -> None:
    with pytest.raises(InvalidInput) as raised:
        act(service.engine)

    response = service.http.request(method, path, json=body, headers=service.keys.header("admin"))

    answer = response.json()
    assert (response.status_code, answer["field"], answer["reason"]) == (
        422,
        raised.value.field,
        raised.value.reason,
    )


def test_idempotency_conflict_problem_names_the_key(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)
    headers = {**keys.header("write"), "Idempotency-Key": "order-17"}
    http.post(f"/v1/accounts/{user}/charge", json={"amount": "1"}, headers=headers)

    response = http.post(f"/v1/accounts/{user}/charge", json={"amount": "2"}, headers=headers)

    assert response.headers["Content-Type"] == MEDIA_TYPE
    assert {k: response.json()[k] for k in ("type", "status", "code", "key")} == {
        "type": "/problems/idempotency_conflict",
        "status": 409,
        "code": "idempotency_conflict",
        "key": "order-17",
    }


def test_hold_not_pending_problem_keeps_the_http_status(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)
    hold = engine.hold(user, 5, ttl=MINUTE).hold
    assert hold is not None
    engine.release(hold.id)

    response = http.post(f"/v1/holds/{hold.id}/release", json={}, headers=keys.header("write"))

    assert (response.status_code, response.json()["status"]) == (409, 409)


def test_hold_not_pending_problem_names_the_hold_and_its_state(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)
    hold = engine.hold(user, 5, ttl=MINUTE).hold
    assert hold is not None
    engine.release(hold.id)

    response = http.post(f"/v1/holds/{hold.id}/release", json={}, headers=keys.header("write"))

    body = response.json()
    assert (body["code"], body["hold_id"]) == ("hold_not_pending", hold.id)
    assert "released" in body.values()


@pytest.fixture(scope="module")
def failing(service: Service) -> Iterator[TestClient]:
    """The app with one more route, which fails as a bug would."""
    app = create_app(engine=service.engine)

    @app.get("/v1/broken")
    def broken() -> None:
        raise RuntimeError("secret connection string postgresql://admin:hunter2@db")

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_unexpected_error_answers_a_bare_500_problem(failing: TestClient) -> None:
    response = failing.get("/v1/broken", headers={"X-Request-ID": "req-500"})

    assert response.status_code == 500
    assert response.headers["Content-Type"] == MEDIA_TYPE
    assert response.json() == {
        "type": "/problems/internal_error",
        "title": "Internal error",
        "status": 500,
        "detail": "the server failed; the request id names it in the server's log",
        "code": "internal_error",
        "request_id": "req-500",
    }


def test_unexpected_error_shows_no_traceback_or_exception_text(failing: TestClient) -> None:
    response = failing.get("/v1/broken")

    for leak in ("Traceback", "RuntimeError", "hunter2", "secret", "broken", ".py"):
        assert leak not in response.text


def test_unexpected_error_echoes_the_request_id_header(failing: TestClient) -> None:
    response = failing.get("/v1/broken", headers={"X-Request-ID": "req-500"})

    assert response.headers.get("X-Request-ID") == "req-500"


class Pair(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    a: int


class Either(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    size: StrictInt | Pair


@pytest.fixture(scope="module")
def unions(service: Service) -> Iterator[TestClient]:
    """The app with one more route, whose body holds a union of two types."""
    app = create_app(engine=service.engine)

    @app.post("/v1/either")
    def either(body: Either) -> None:
        return None

    with TestClient(app) as client:
        yield client


def test_invalid_input_problem_leaves_the_union_branches_out_of_the_field(
    unions: TestClient,
) -> None:
    response = unions.post("/v1/either", json={"size": "3"})

    body = response.json()
    assert (response.status_code, body["field"]) == (422, "size")
    assert [error["field"] for error in body["errors"]] == ["size"]


def test_invalid_input_problem_names_a_field_inside_a_union_branch(unions: TestClient) -> None:
    response = unions.post("/v1/either", json={"size": {"a": "x"}})

    assert [error["field"] for error in response.json()["errors"]] == ["size", "size.a"]
