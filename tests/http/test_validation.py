"""Bad requests: 422 naming the field at fault, 400, 413 and 415; none changes anything."""

from collections.abc import Iterator
from typing import Any

import pytest

from creditgate.settings import Settings
from tests.factories import funded_account
from tests.http.fixtures import (
    Json,
    Route,
    Service,
    fresh_id,
    route,
    route_ids,
    routes,
    service_fixture,  # noqa: F401
    snapshot,
)

BODIED = routes(lambda r: r.body is not None)
BODY_BYTES_MAX = Settings().body_bytes_max


def amount_case(route_id: str, field: str, kind: str, value: object) -> Any:
    """One bad amount in one field of one route's body."""
    return pytest.param(route(route_id), field, value, id=f"{route_id} {field} {kind}")


AMOUNT_FIELDS = [
    ("POST /v1/accounts", "floor", "1"),
    ("PATCH /v1/accounts/{account_id}", "floor", "1"),
    ("PUT /v1/accounts/{account_id}/members/{member_id}", "spend_cap", "-1"),
    ("POST /v1/accounts/{account_id}/grants", "amount", "-1"),
    ("POST /v1/accounts/{account_id}/adjustments", "amount", "0"),
    ("POST /v1/accounts/{account_id}/charge", "amount", "-1"),
    ("POST /v1/accounts/{account_id}/holds", "amount", "-1"),
    ("POST /v1/holds/{hold_id}/extend", "more", "-1"),
    ("POST /v1/holds/{hold_id}/settle", "actual", "-1"),
    ("POST /v1/entries/{entry_id}/refund", "amount", "-1"),
    ("POST /v1/transfers", "amount", "-1"),
    ("POST /v1/features/{feature}/prices", "minimum", "-1"),
    ("PUT /v1/accounts/{account_id}/balance-alert", "low", "0"),
]
"""Each amount a body carries, with a value of the right form but out of its range."""

BAD_AMOUNTS = [
    amount_case(route_id, field, kind, value)
    for route_id, field, out_of_range in AMOUNT_FIELDS
    for kind, value in [
        ("float", 1.5),
        ("excess_precision", "1.0001"),
        ("wrong_type", True),
        ("out_of_range", out_of_range),
    ]
]

WRONG_TYPES = [
    ("POST /v1/accounts", "account_id", 7),
    ("PATCH /v1/accounts/{account_id}", "is_frozen", "yes"),
    ("POST /v1/accounts/{account_id}/check", "feature", 7),
    ("PUT /v1/accounts/{account_id}/members/{member_id}", "spend_cap", {"credits": 1}),
    ("POST /v1/accounts/{account_id}/grants", "priority", "1"),
    ("POST /v1/accounts/{account_id}/adjustments", "reason", 5),
    ("POST /v1/accounts/{account_id}/charge", "member_id", 5),
    ("POST /v1/accounts/{account_id}/holds", "ttl_s", "300"),
    ("POST /v1/holds/{hold_id}/extend", "ttl_s", "300"),
    ("POST /v1/holds/{hold_id}/settle", "latency_ms", "5"),
    ("POST /v1/holds/{hold_id}/release", "failure", 5),
    ("POST /v1/entries/{entry_id}/refund", "reason", 5),
    ("POST /v1/transfers", "to_account_id", 5),
    ("POST /v1/features", "name", 5),
    ("PATCH /v1/features/{feature}", "is_active", "no"),
    ("POST /v1/features/{feature}/prices", "rule", "flat"),
    ("POST /v1/features/{feature}/prices/retire", "model", 5),
    ("POST /v1/quote", "at", "tomorrow"),
    ("POST /v1/plans", "prices", ["month", 1500]),
    ("PATCH /v1/plans/{plan}", "is_active", "no"),
    ("POST /v1/accounts/{account_id}/subscription", "plan", 5),
    ("POST /v1/promos", "max_redemptions", "10"),
    ("PATCH /v1/promos/{code}", "ends_at", 5),
    ("POST /v1/accounts/{account_id}/redeem", "code", 5),
    ("POST /v1/accounts/{account_id}/referral", "referrer", 5),
    ("POST /v1/packs", "price_minor", "1499"),
    ("PATCH /v1/packs/{pack}", "is_active", "no"),
    ("PUT /v1/accounts/{account_id}/auto-top-up", "failures_max", "3"),
    ("POST /v1/checkout", "success_url", 5),
    ("PUT /v1/accounts/{account_id}/balance-alert", "low", {"credits": 10}),
    ("POST /v1/webhook-endpoints", "url", 5),
    ("PATCH /v1/webhook-endpoints/{endpoint_id}", "is_enabled", "yes"),
    ("POST /v1/guests/consume", "session_id", 5),
    ("POST /v1/guests/link", "account_id", 5),
    ("POST /v1/widget-tokens", "ttl_s", "900"),
]
"""One field of each body given a value of the wrong JSON type."""

OBJECT_BODIES = [r for r in BODIED if r.id != "PUT /v1/catalog"]
"""The bodies with fixed fields (a catalog file is checked by the engine: test_catalog)."""

BAD_QUERIES = [
    ("GET /v1/accounts/{account_id}/balance_at", {}, "at"),
    ("GET /v1/accounts/{account_id}/balance_at", {"at": "2026-01-01T11:00:00"}, "at"),
    ("GET /v1/accounts/{account_id}/entries", {"limit": "0"}, "limit"),
    ("GET /v1/accounts/{account_id}/entries", {"kinds": "gift"}, "kinds"),
    ("GET /v1/accounts/{account_id}/entries", {"cursor": "garbage"}, "cursor"),
    ("GET /v1/accounts/{account_id}/lots", {"include_spent": "perhaps"}, "include_spent"),
    ("GET /v1/accounts/{account_id}/holds", {"status": "won"}, "status"),
    ("GET /v1/accounts/{account_id}/holds", {"limit": "0"}, "limit"),
    ("GET /v1/accounts/{account_id}/holds", {"cursor": "garbage"}, "cursor"),
    ("GET /v1/features/{feature}/prices", {"at": "noon"}, "at"),
    ("GET /v1/usage", {"limit": "501"}, "limit"),
    ("GET /v1/usage", {"outcome": "won"}, "outcome"),
    ("GET /v1/usage/totals", {"since": "yesterday"}, "since"),
    ("PUT /v1/catalog", {"dry_run": "perhaps"}, "dry_run"),
]
"""Query parameters out of their form or range."""

BAD_PATHS = [
    ("/v1/holds/0", "hold_id"),
    ("/v1/holds/abc", "hold_id"),
    ("/v1/entries/0", "entry_id"),
    ("/v1/entries/99999999999999999999", "entry_id"),
    ("/v1/features/" + "f" * 101, "feature"),
]


def call(
    service: Service, target: Route, body: Json | None, params: Json | None = None
) -> tuple[int, str]:
    """Call the route on ours with an admin key; answer the status and the field at fault.

    The query is the route's own unless `params` is given.
    """
    if params is None and target.params is not None:
        params = target.params(service.world.ours)
    response = service.http.request(
        target.method,
        target.url(service.world.ours),
        json=body,
        params=params,
        headers=service.keys.header("admin"),
    )
    return response.status_code, response.json().get("field", "")


def raw(
    service: Service, target: Route, content: bytes | Iterator[bytes], content_type: str | None
) -> tuple[int, str]:
    """Send bytes as the body of a call by an admin key; answer the status and the code."""
    headers = service.keys.header("admin")
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = service.http.request(
        target.method, target.url(service.world.ours), content=content, headers=headers
    )
    return response.status_code, response.json()["code"]


def valid_body(service: Service, target: Route) -> Json:
    assert target.body is not None
    return target.body(service.world.ours)


@pytest.mark.parametrize(("target", "field", "value"), BAD_AMOUNTS)
def test_route_answers_422_naming_the_field_when_an_amount_is_bad(
    service: Service, target: Route, field: str, value: object
) -> None:
    before = snapshot(service.engine)
    body = {**valid_body(service, target), field: value}

    answer = call(service, target, body)

    assert answer == (422, field)
    assert snapshot(service.engine) == before


@pytest.mark.parametrize("target", OBJECT_BODIES, ids=route_ids(OBJECT_BODIES))
def test_route_answers_422_naming_an_unknown_field(service: Service, target: Route) -> None:
    before = snapshot(service.engine)
    body = {**valid_body(service, target), "surprise": 1}

    answer = call(service, target, body)

    assert answer == (422, "surprise")
    assert snapshot(service.engine) == before


@pytest.mark.parametrize(
    ("target", "field", "value"),
    [pytest.param(route(r), f, v, id=f"{r} {f}") for r, f, v in WRONG_TYPES],
)
def test_route_answers_422_naming_a_field_of_the_wrong_type(
    service: Service, target: Route, field: str, value: object
) -> None:
    before = snapshot(service.engine)
    body = {**valid_body(service, target), field: value}

    answer = call(service, target, body)

    assert answer == (422, field)
    assert snapshot(service.engine) == before


def test_every_body_has_a_wrong_type_case() -> None:
    assert {r for r, _, _ in WRONG_TYPES} == {r.id for r in OBJECT_BODIES}


@pytest.mark.parametrize(
    ("target", "params", "field"),
    [pytest.param(route(r), p, f, id=f"{r} {p}") for r, p, f in BAD_QUERIES],
)
def test_route_answers_422_naming_a_bad_query_parameter(
    service: Service, target: Route, params: dict[str, str], field: str
) -> None:
    before = snapshot(service.engine)
    body = None if target.body is None else valid_body(service, target)

    answer = call(service, target, body, params)

    assert answer == (422, field)
    assert snapshot(service.engine) == before


@pytest.mark.parametrize(("path", "field"), BAD_PATHS)
def test_route_answers_422_naming_a_bad_path_parameter(
    service: Service, path: str, field: str
) -> None:
    response = service.http.get(path, headers=service.keys.header("admin"))

    assert (response.status_code, response.json()["field"]) == (422, field)


def test_quote_answers_422_naming_the_quantity_when_it_has_the_wrong_type(
    service: Service,
) -> None:
    body = {"feature": "image.generate", "quantity": "3"}

    answer = call(service, route("POST /v1/quote"), body)

    assert answer == (422, "quantity")


def test_set_price_answers_422_naming_the_rule_when_the_rule_is_unknown(
    service: Service,
) -> None:
    body = {"rule": {"rule": "auction"}}

    answer = call(service, route("POST /v1/features/{feature}/prices"), body)

    assert answer == (422, "rule.rule")


@pytest.mark.parametrize("target", BODIED, ids=route_ids(BODIED))
def test_route_answers_400_when_the_body_is_not_json(service: Service, target: Route) -> None:
    answer = raw(service, target, b'{"amount": ', "application/json")

    assert answer == (400, "malformed_body")


@pytest.mark.parametrize("target", BODIED, ids=route_ids(BODIED))
def test_route_answers_413_when_the_content_length_is_over_the_limit(
    service: Service, target: Route
) -> None:
    padded = b" " * BODY_BYTES_MAX + b"{}"

    answer = raw(service, target, padded, "application/json")

    assert answer == (413, "body_too_large")


@pytest.mark.parametrize("target", BODIED, ids=route_ids(BODIED))
def test_route_answers_413_when_a_chunked_body_grows_over_the_limit(
    service: Service, target: Route
) -> None:
    chunks = iter([b" " * (BODY_BYTES_MAX // 2)] * 2 + [b"{}"])

    answer = raw(service, target, chunks, "application/json")

    assert answer == (413, "body_too_large")


def test_charge_reads_a_chunked_body_under_the_limit(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)
    chunks = iter([b'{"amount": ', b'"2.5"}'])
    headers = {**keys.header("write"), "Content-Type": "application/json"}

    response = http.post(f"/v1/accounts/{user}/charge", content=chunks, headers=headers)

    assert (response.status_code, response.json()["credits_used"]) == (200, "2.5")
    assert str(engine.balance(user).balance) == "7.5"


@pytest.mark.parametrize("target", BODIED, ids=route_ids(BODIED))
def test_route_answers_415_when_the_body_is_not_declared_json(
    service: Service, target: Route
) -> None:
    answer = raw(service, target, b"{}", "text/plain")

    assert answer == (415, "unsupported_media_type")


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", None])
def test_charge_answers_415_when_the_body_is_of_another_or_no_media_type(
    service: Service, content_type: str | None
) -> None:
    answer = raw(service, route("POST /v1/accounts/{account_id}/charge"), b"{}", content_type)

    assert answer == (415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param(b'{"amount": ', "application/json", id="400 not json"),
        pytest.param(b" " * BODY_BYTES_MAX + b"{}", "application/json", id="413 too large"),
        pytest.param(b'{"amount": "1"}', "text/plain", id="415 not declared json"),
    ],
)
def test_refused_body_changes_nothing(service: Service, content: bytes, content_type: str) -> None:
    before = snapshot(service.engine)

    raw(service, route("POST /v1/accounts/{account_id}/charge"), content, content_type)

    assert snapshot(service.engine) == before


def test_charge_accepts_a_json_media_type_with_a_charset(service: Service) -> None:
    engine, http, keys = service.engine, service.http, service.keys
    user = fresh_id("user")
    funded_account(engine, user, 10)
    headers = {**keys.header("write"), "Content-Type": "application/json; charset=utf-8"}

    response = http.post(f"/v1/accounts/{user}/charge", content=b'{"amount": 1}', headers=headers)

    assert response.status_code == 200
    assert str(engine.balance(user).balance) == "9"
