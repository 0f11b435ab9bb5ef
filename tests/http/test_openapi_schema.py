"""The service against its own OpenAPI document: schemathesis over real HTTP, on each backend.

Every operation of the document is called on a live server over the test's engine, with an
admin key and seeded data (the `demo` catalog, a funded account, an organization with a
member, a charge, a pending and a released hold), and every answer is checked: no 5xx, a
documented status code, the documented content type, headers and body schema.

Requests are positive (valid by the document) and come from three sources: the document's
own examples, requests whose path names the seeded ids (so they reach the engine's logic),
and requests whose ids schemathesis makes up (so they reach the 404 and 422 paths). The
requests it found failing stay in `PINNED` and go first on every run. A malformed request
is checked by the explicit cases at the end, not generated.

Both backends run: the wire is the same, but what reaches the database is not (PostgreSQL
refuses NUL in text, and the two drivers fail differently on an integer past BIGINT), so a
value that slips past validation shows as a 500 on one backend only.

Bounded: `EXAMPLES_PER_OPERATION` generated requests per operation and backend, no
shrinking; derandomized when CI=true, so CI sees the same requests every run. Set
`CREDITGATE_SCHEMA_EXAMPLES` for a longer hunt.
"""

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from creditgate import Engine, OwnerKind
from creditgate.app import create_app
from creditgate.settings import Settings
from tests.conftest import IN_CI
from tests.fakes.signing import svix_secret
from tests.servers import live

EXAMPLES_PER_OPERATION = int(os.environ.get("CREDITGATE_SCHEMA_EXAMPLES", "15"))
"""Generated requests per operation and backend, besides the document's own examples."""

DOCUMENT = Path(__file__).parents[2] / "docs" / "openapi.json"
"""The reviewed document; `test_openapi_document.py` holds it equal to what is served."""

OPERATIONS = [
    (method.upper(), path)
    for path, item in json.loads(DOCUMENT.read_text())["paths"].items()
    for method in item
]

CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

CONFIG: dict[str, Any] = {
    # The test sends the key; made-up Authorization and X-API-Key values would reach only
    # the 401 path, which tests/http covers.
    "generation": {"with-security-parameters": False},
}

Operation = schemathesis.APIOperation[Any, Any, Any, Any]
Case = schemathesis.Case[Any]
Request = dict[str, Any]
"""What `APIOperation.Case` takes: path_parameters, query, body."""


@dataclass(frozen=True)
class Seeded:
    """The ids the test's database was seeded with."""

    account_id: str
    organization_id: str
    member_id: str
    feature: str
    entry_id: int
    hold_id: int
    released_hold_id: int

    def path_parameters(self, names: set[str]) -> dict[str, object]:
        """Seeded values for the path parameters of one operation."""
        values: dict[str, object] = {
            "account_id": self.organization_id if "member_id" in names else self.account_id,
            "member_id": self.member_id,
            "feature": self.feature,
            "entry_id": self.entry_id,
            "hold_id": self.hold_id,
        }
        return {name: value for name, value in values.items() if name in names}


_EDGE = "0001-01-01T00:00:00+01:00"
"""An instant whose UTC form falls before the year 1, past the end of Python's range."""

PINNED: dict[tuple[str, str], Callable[[Seeded], Request]] = {
    # A ttl_s past what a timedelta holds (500 from OverflowError before check_ttl).
    ("POST", "/v1/accounts/{account_id}/holds"): lambda s: {
        "path_parameters": {"account_id": s.account_id},
        "body": {"amount": "1", "ttl_s": 10**20},
    },
    ("POST", "/v1/holds/{hold_id}/extend"): lambda s: {
        "path_parameters": {"hold_id": s.hold_id},
        "body": {"more": "1", "ttl_s": 10**20},
    },
    # An ended hold (its 409 body carried the hold's status in the problem's `status`).
    ("POST", "/v1/holds/{hold_id}/release"): lambda s: {
        "path_parameters": {"hold_id": s.released_hold_id},
        "body": {},
    },
    ("POST", "/v1/holds/{hold_id}/settle"): lambda s: {
        "path_parameters": {"hold_id": s.released_hold_id},
        "body": {"actual": "1"},
    },
    # An instant at the edge of the range of times (500 from OverflowError in astimezone).
    ("GET", "/v1/accounts/{account_id}/balance_at"): lambda s: {
        "path_parameters": {"account_id": s.account_id},
        "query": {"at": _EDGE},
    },
    ("GET", "/v1/accounts/{account_id}/entries"): lambda s: {
        "path_parameters": {"account_id": s.account_id},
        "query": {"since": _EDGE},
    },
    ("GET", "/v1/usage"): lambda s: {"query": {"since": _EDGE}},
    ("GET", "/v1/usage/totals"): lambda s: {"query": {"until": _EDGE}},
    ("GET", "/v1/features/{feature}/prices"): lambda s: {
        "path_parameters": {"feature": s.feature},
        "query": {"at": _EDGE},
    },
}
"""Requests schemathesis found failing (since fixed), sent first on every run of their
operation, whatever generation draws."""


@dataclass(frozen=True)
class Served:
    """A live server over the test's engine, the admin key's header, the seeded ids."""

    url: str
    headers: dict[str, str]
    seeded: Seeded


@dataclass(frozen=True)
class Document:
    """The document as a running server serves it, and that server, seeded, on SQLite."""

    schema: schemathesis.BaseSchema
    served: Served


def _seed(engine: Engine) -> Seeded:
    engine.seed("demo")
    engine.create_account("user_1")
    engine.grant("user_1", 1000, source="purchase")
    engine.create_account("org_1", owner_kind=OwnerKind.ORGANIZATION)
    engine.grant("org_1", 1000, source="purchase")
    engine.add_member("org_1", "member_1", spend_cap=100)
    charged = engine.charge("user_1", feature="audio.speech", quantity=40)
    pending = engine.hold("user_1", 5, ttl=timedelta(minutes=10)).hold
    released = engine.hold("user_1", 5, ttl=timedelta(minutes=10)).hold
    assert pending is not None
    assert released is not None
    engine.release(released.id)
    return Seeded(
        account_id="user_1",
        organization_id="org_1",
        member_id="member_1",
        feature="audio.speech",
        entry_id=charged.entry.id,
        hold_id=pending.id,
        released_hold_id=released.id,
    )


@contextmanager
def _serving(engine: Engine) -> Iterator[Served]:
    seeded = _seed(engine)
    key = engine.create_key("admin", name="schemathesis")[1]
    # The webhooks' secrets are set: a delivery schemathesis makes up is refused for its
    # signature (400), as in production, not for a missing secret (503).
    settings = Settings(
        stripe_webhook_secret=SecretStr("whsec_schema_check"),
        clerk_webhook_secret=SecretStr(svix_secret()),
    )
    with live(create_app(settings, engine=engine)) as url:
        yield Served(url=url, headers={"Authorization": f"Bearer {key}"}, seeded=seeded)


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Document]:
    """The OpenAPI document loaded from a running server, once: loading costs a second.

    The server stays up for the module's checks that do not depend on the backend.
    """
    engine = Engine(f"sqlite:///{tmp_path_factory.mktemp('document') / 'document.db'}")
    try:
        with _serving(engine) as served:
            schema = schemathesis.openapi.from_url(
                f"{served.url}/openapi.json", config=schemathesis.Config.from_dict(CONFIG)
            )
            yield Document(schema=schema, served=served)
    finally:
        engine.close()


@pytest.fixture
def served(engine: Engine) -> Iterator[Served]:
    """The app over the test's engine, seeded, on a free loopback port."""
    with _serving(engine) as served:
        yield served


def _requests(operation: Operation, seeded: Seeded) -> st.SearchStrategy[Any]:
    """The document's examples and generated requests, on seeded ids and on made-up ones."""
    names = {parameter.name for parameter in operation.path_parameters}
    fixed = seeded.path_parameters(names)
    examples = operation.get_strategies_from_examples(path_parameters=fixed)
    on_seeded = [operation.as_strategy(path_parameters=fixed)] if fixed else []
    return st.one_of(*examples, *on_seeded, operation.as_strategy())


@pytest.mark.parametrize(
    ("method", "path"), [pytest.param(m, p, id=f"{m} {p}") for m, p in OPERATIONS]
)
def test_operation_answers_as_documented(
    document: Document, served: Served, method: str, path: str
) -> None:
    operation = document.schema[path][method]
    pinned = PINNED.get((method, path))

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=IN_CI,
        database=None,
        deadline=None,
        # Shrinking replays HTTP calls for minutes; schemathesis prints a curl line instead.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )
    @given(case=_requests(operation, served.seeded))
    def answers(case: Case) -> None:
        case.call_and_validate(base_url=served.url, headers=served.headers, checks=CHECKS)

    if pinned is not None:
        answers = example(case=operation.Case(**pinned(served.seeded)))(answers)

    answers()


def test_served_document_lists_every_operation_exercised(document: Document) -> None:
    served = httpx.get(f"{document.served.url}/openapi.json").json()

    listed = [(method.upper(), path) for path, item in served["paths"].items() for method in item]

    assert sorted(listed) == sorted(OPERATIONS)


MALFORMED: dict[str, tuple[bytes, str]] = {
    "invalid_json": (b'{"amount": ', "application/json"),
    "invalid_utf8": (b'{"amount": "\xff"}', "application/json"),
    "not_json": (b'{"amount": "1"}', "text/plain"),
    "too_large": (b'{"metadata": {"a": "' + b"x" * 70_000 + b'"}}', "application/json"),
}
"""Bodies generation never sends (it keeps to the document): each answers a 4xx problem."""


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_body_answers_a_documented_status(document: Document, kind: str) -> None:
    served = document.served
    operation = document.schema["/v1/accounts/{account_id}/charge"]["POST"]
    content, media_type = MALFORMED[kind]
    case = operation.Case(path_parameters={"account_id": served.seeded.account_id})

    response = httpx.post(
        f"{served.url}/v1/accounts/{served.seeded.account_id}/charge",
        content=content,
        headers={**served.headers, "Content-Type": media_type},
    )

    assert 400 <= response.status_code < 500
    case.validate_response(response, checks=CHECKS)
