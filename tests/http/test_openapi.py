"""The OpenAPI document: each operation says what it answers, and shows example bodies."""

from typing import Any

import pytest

from creditgate.app import create_app
from tests.http.fixtures import (
    ROUTES,
    SIGNED_ROUTES,
    TOKEN_ROUTES,
    Route,
    Service,
    route_ids,
    routes,
    service_fixture,  # noqa: F401
)

PROBLEM = "application/problem+json"
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/ProblemDetails"}
BODIED = routes(lambda r: r.body is not None)


@pytest.fixture(scope="module")
def document(service: Service) -> dict[str, Any]:
    """The service's OpenAPI document."""
    return create_app(engine=service.engine).openapi()


def operation(document: dict[str, Any], target: Route) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][target.path][target.method.lower()]
    return found


def resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its `$ref` followed."""
    if "$ref" not in schema:
        return schema
    found: dict[str, Any] = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return found


def test_document_lists_exactly_the_routes_under_v1(document: dict[str, Any]) -> None:
    listed = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        if path.startswith("/v1/")
        for method in operations
    }

    assert listed == {r.id for r in ROUTES} | set(SIGNED_ROUTES) | set(TOKEN_ROUTES)


@pytest.mark.parametrize("target", ROUTES, ids=route_ids(ROUTES))
def test_operation_documents_401_403_and_422_as_problems(
    document: dict[str, Any], target: Route
) -> None:
    responses = operation(document, target)["responses"]

    assert {
        status: responses.get(status, {}).get("content", {}).get(PROBLEM, {}).get("schema")
        for status in ("401", "403", "422")
    } == dict.fromkeys(("401", "403", "422"), PROBLEM_SCHEMA)


@pytest.mark.parametrize("target", ROUTES, ids=route_ids(ROUTES))
def test_operation_documents_every_error_status_it_answers(
    document: dict[str, Any], target: Route
) -> None:
    responses = operation(document, target)["responses"]

    missing = {str(s) for s in target.errors} - set(responses)

    assert missing == set()
    assert all(
        responses[str(s)]["content"][PROBLEM]["schema"] == PROBLEM_SCHEMA for s in target.errors
    )


@pytest.mark.parametrize("target", BODIED, ids=route_ids(BODIED))
def test_operation_with_a_body_documents_400_413_and_415_as_problems(
    document: dict[str, Any], target: Route
) -> None:
    responses = operation(document, target)["responses"]

    assert {
        status: responses.get(status, {}).get("content", {}).get(PROBLEM, {}).get("schema")
        for status in ("400", "413", "415")
    } == dict.fromkeys(("400", "413", "415"), PROBLEM_SCHEMA)


@pytest.mark.parametrize("target", ROUTES, ids=route_ids(ROUTES))
def test_operation_has_a_summary_and_a_description(document: dict[str, Any], target: Route) -> None:
    found = operation(document, target)

    assert found.get("summary", "").strip()
    assert found.get("description", "").strip()


@pytest.mark.parametrize("target", BODIED, ids=route_ids(BODIED))
def test_request_body_schema_has_examples(document: dict[str, Any], target: Route) -> None:
    media = operation(document, target)["requestBody"]["content"]["application/json"]

    schema = resolved(document, media["schema"])

    assert schema.get("examples") or media.get("examples") or media.get("example")


def test_problem_details_schema_has_the_rfc9457_members(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"]["ProblemDetails"]

    assert {"type", "title", "status", "detail", "code", "request_id"} <= set(schema["properties"])
