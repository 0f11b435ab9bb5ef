"""The service against its own OpenAPI document, fuzzed by schemathesis over real HTTP.

Each operation the document lists is called on a live server over the test's engine, with
an admin key and seeded data (the `demo` catalog, a funded account, an organization with a
member, a charge and a pending hold), and every answer is checked: no 5xx, a documented
status code, the documented content type, a body that matches the documented schema.

Half the generated requests name the seeded ids in their path, so they reach the engine's
logic; the others name ids schemathesis makes up, and reach the 404 and 422 paths. Generation
is positive only (requests the document says are valid): what a malformed request answers is
pinned by the explicit cases at the end.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from creditgate import Engine
from creditgate.app import create_app
from tests.conftest import IN_CI
from tests.servers import live

EXAMPLES_PER_OPERATION = int(os.environ.get("CREDITGATE_SCHEMA_EXAMPLES", "20"))
"""Generated requests per operation and backend, on top of the document's own examples."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

CONFIG: dict[str, Any] = {
    # The key is sent by the test; generated Authorization and X-API-Key values would only
    # exercise the 401 path, which tests/http covers.
    "generation": {"with-security-parameters": False},
}

OPERATIONS = [
    ("POST", "/v1/accounts"),
    ("GET", "/v1/accounts/{account_id}"),
    ("PATCH", "/v1/accounts/{account_id}"),
    ("GET", "/v1/accounts/{account_id}/balance"),
    ("GET", "/v1/accounts/{account_id}/balance_at"),
    ("GET", "/v1/accounts/{account_id}/lifetime"),
    ("GET", "/v1/accounts/{account_id}/entries"),
    ("POST", "/v1/accounts/{account_id}/check"),
    ("GET", "/v1/accounts/{account_id}/members"),
    ("PUT", "/v1/accounts/{account_id}/members/{member_id}"),
    ("DELETE", "/v1/accounts/{account_id}/members/{member_id}"),
    ("POST", "/v1/accounts/{account_id}/grants"),
    ("POST", "/v1/accounts/{account_id}/adjustments"),
    ("POST", "/v1/accounts/{account_id}/charge"),
    ("POST", "/v1/accounts/{account_id}/holds"),
    ("GET", "/v1/holds/{hold_id}"),
    ("POST", "/v1/holds/{hold_id}/extend"),
    ("POST", "/v1/holds/{hold_id}/settle"),
    ("POST", "/v1/holds/{hold_id}/release"),
    ("GET", "/v1/entries/{entry_id}"),
    ("POST", "/v1/entries/{entry_id}/refund"),
    ("POST", "/v1/transfers"),
    ("GET", "/v1/features"),
    ("POST", "/v1/features"),
    ("GET", "/v1/features/{feature}"),
    ("PATCH", "/v1/features/{feature}"),
    ("DELETE", "/v1/features/{feature}"),
    ("GET", "/v1/features/{feature}/prices"),
    ("POST", "/v1/features/{feature}/prices"),
    ("GET", "/v1/features/{feature}/prices/history"),
    ("POST", "/v1/features/{feature}/prices/retire"),
    ("POST", "/v1/quote"),
    ("GET", "/v1/catalog"),
    ("PUT", "/v1/catalog"),
    ("GET", "/v1/usage"),
    ("GET", "/v1/usage/totals"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("POST", "/v1/expire"),
    ("GET", "/v1/verify"),
]


@dataclass(frozen=True)
class Served:
    """A live server over the test's engine, its admin key, and the ids it was seeded with."""

    url: str
    headers: dict[str, str]
    ids: dict[str, object]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    """The OpenAPI document as a running server serves it, loaded once for the module."""
    path: Path = tmp_path_factory.mktemp("schema") / "schema.db"
    engine = Engine(f"sqlite:///{path}")
    try:
        with live(create_app(engine=engine)) as url:
            yield schemathesis.openapi.from_url(
                f"{url}/openapi.json", config=schemathesis.Config.from_dict(CONFIG)
            )
    finally:
        engine.close()


def _seed(engine: Engine) -> dict[str, object]:
    engine.seed("demo")
    engine.create_account("user_1")
    engine.grant("user_1", 1000, source="purchase")
    engine.create_account("org_1", owner_kind="organization")
    engine.grant("org_1", 1000, source="purchase")
    engine.add_member("org_1", "member_1", spend_cap=100)
    charged = engine.charge("user_1", feature="audio.speech", quantity=40)
    held = engine.hold("user_1", 5, ttl=__import__("datetime").timedelta(minutes=10))
    assert held.hold is not None
    return {
        "account_id": "user_1",
        "member_id": "member_1",
        "feature": "audio.speech",
        "hold_id": held.hold.id,
        "entry_id": charged.entry.id,
    }


@pytest.fixture
def served(engine: Engine) -> Iterator[Served]:
    """The app over the test's engine, seeded, on a free loopback port."""
    ids = _seed(engine)
    key = engine.create_key("admin", name="schemathesis")[1]
    with live(create_app(engine=engine)) as url:
        yield Served(url=url, headers={"Authorization": f"Bearer {key}"}, ids=ids)


def _cases(operation: Any, ids: dict[str, object]) -> st.SearchStrategy[Any]:
    names = {p.name for p in operation.path_parameters}
    seeded = {name: value for name, value in ids.items() if name in names}
    if "member_id" in names:
        seeded["account_id"] = "org_1"
    examples = operation.get_strategies_from_examples(path_parameters=seeded)
    fuzzed = [operation.as_strategy(path_parameters=seeded)] if seeded else []
    return st.one_of(*examples, *fuzzed, operation.as_strategy())


@pytest.mark.parametrize(
    ("method", "path"), [pytest.param(m, p, id=f"{m} {p}") for m, p in OPERATIONS]
)
def test_operation_answers_as_documented(
    api_schema: schemathesis.BaseSchema, served: Served, method: str, path: str
) -> None:
    operation = api_schema[path][method]

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=IN_CI,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_cases(operation, served.ids))
    def answers(case: Any) -> None:
        case.call_and_validate(base_url=served.url, headers=served.headers, checks=CHECKS)

    answers()


def test_schema_lists_every_operation_exercised(api_schema: schemathesis.BaseSchema) -> None:
    listed = {
        (operation.ok().method.upper(), operation.ok().path)
        for operation in api_schema.get_all_operations()
    }

    assert listed == set(OPERATIONS)


_ = httpx
