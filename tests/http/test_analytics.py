"""Analytics over HTTP: each figure's JSON is the engine's, its CSV the same figure.

One scene per module and backend (`analytics_scene`, read on its day 5): every request
here only reads.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from creditgate import Engine, Forbidden, ManualClock
from creditgate.app import create_app
from creditgate.domain.ids import AccountId
from creditgate.domain.keys import ApiKey, Scope
from creditgate.http.routes.analytics import every_account
from creditgate.schemas import (
    AccountSpendOut,
    FeatureSpendOut,
    GuestConversionOut,
    ModelGenerationsOut,
    ModelLatencyOut,
    ModelSpendOut,
    Out,
    PackRevenueOut,
    SourceGrantsOut,
    WelcomeUsageOut,
)
from creditgate.storage.database import Database
from tests.conftest import BACKENDS, START
from tests.factories import ANALYTICS_DAY_1, ANALYTICS_NOW, DAY, analytics_scene, funded_account
from tests.http.conftest import PEER, Keys
from tests.http.fixtures import ANALYTICS_RANGE, ANALYTICS_ROUTES, Route, fresh_database, route_ids

SINCE = ANALYTICS_DAY_1
UNTIL = ANALYTICS_DAY_1.replace(day=8)
RANGE = ANALYTICS_RANGE
FIGURES: dict[str, type[Out]] = {
    "spend_by_feature": FeatureSpendOut,
    "spend_by_model": ModelSpendOut,
    "generations_by_model": ModelGenerationsOut,
    "latency_by_model": ModelLatencyOut,
    "grants_by_source": SourceGrantsOut,
    "revenue_by_pack": PackRevenueOut,
    "top_spenders": AccountSpendOut,
    "guest_conversion": GuestConversionOut,
    "welcome_usage": WelcomeUsageOut,
}
CSV = {"Accept": "text/csv"}


@dataclass(frozen=True)
class Served:
    """The app over the analytics scene, with an admin key and a write key bound to user_1."""

    http: TestClient
    engine: Engine
    admin: dict[str, str]
    bound: dict[str, str]

    def expected(self, figure: str, **params: Any) -> Any:
        """The engine's figure as JSON: what the route must answer."""
        found = getattr(self.engine, figure)(since=SINCE, until=UNTIL, **params)
        out = FIGURES[figure]
        if isinstance(found, tuple):
            return [out.of(item).model_dump(mode="json") for item in found]
        return out.of(found).model_dump(mode="json")


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The scene on a database of its own, per backend, shared by the module's reads."""
    with fresh_database(request, request.param, tmp_path_factory.mktemp("analytics")) as url:
        database = Database(url)
        clock = ManualClock(START)
        engine = Engine(database, clock=clock, upgrade=False)
        for at, step in analytics_scene():
            clock.set(at)
            step(engine)
        clock.set(ANALYTICS_NOW)
        _, admin = engine.create_key(Scope.ADMIN, name="console")
        _, bound = engine.create_key(Scope.WRITE, name="widget", account_id="user_1")
        try:
            with TestClient(
                create_app(engine=engine), raise_server_exceptions=False, client=PEER
            ) as client:
                yield Served(
                    http=client,
                    engine=engine,
                    admin={"Authorization": f"Bearer {admin}"},
                    bound={"Authorization": f"Bearer {bound}"},
                )
        finally:
            database.dispose()


def test_spend_by_feature_answers_the_engines_figure(served: Served) -> None:
    response = served.http.get("/v1/analytics/spend_by_feature", params=RANGE, headers=served.admin)

    assert response.status_code == 200
    assert response.json() == served.expected("spend_by_feature")
    assert response.json()[0] == {
        "day": "2026-01-01",
        "feature": "image.generate",
        "events": 3,
        "credits": "10",
    }


def test_spend_by_model_answers_the_engines_figure(served: Served) -> None:
    response = served.http.get("/v1/analytics/spend_by_model", params=RANGE, headers=served.admin)

    assert response.status_code == 200
    assert response.json() == served.expected("spend_by_model")
    assert response.json()[0] == {"day": "2026-01-01", "model": None, "events": 2, "credits": "12"}


def test_generations_by_model_answers_the_engines_figure(served: Served) -> None:
    response = served.http.get(
        "/v1/analytics/generations_by_model", params=RANGE, headers=served.admin
    )

    assert response.status_code == 200
    assert response.json() == served.expected("generations_by_model")
    assert response.json()[1] == {
        "model": "flux-pro",
        "succeeded": 21,
        "failed": 1,
        "released": 0,
        "refused": 0,
        "generations": 22,
        "failure_rate": 1 / 22,
    }


def test_latency_by_model_answers_the_engines_figure(served: Served) -> None:
    response = served.http.get("/v1/analytics/latency_by_model", params=RANGE, headers=served.admin)

    assert response.status_code == 200
    assert response.json() == served.expected("latency_by_model")
    assert response.json()[0] == {
        "model": "flux-pro",
        "events": 20,
        "total_ms": 20100,
        "p95_ms": 1800,
        "average_ms": 1005.0,
    }


def test_grants_by_source_answers_the_engines_figure(served: Served) -> None:
    response = served.http.get("/v1/analytics/grants_by_source", params=RANGE, headers=served.admin)

    assert response.status_code == 200
    assert response.json() == served.expected("grants_by_source")
    assert [(g["source"], g["credits"]) for g in response.json()] == [
        ("bonus", "60"),
        ("plan_cycle", "100"),
        ("promo", "5"),
        ("purchase", "660"),
        ("referral", "5"),
        ("welcome", "150"),
    ]


def test_revenue_by_pack_answers_the_engines_figure(served: Served) -> None:
    response = served.http.get("/v1/analytics/revenue_by_pack", params=RANGE, headers=served.admin)

    assert response.status_code == 200
    assert response.json() == served.expected("revenue_by_pack")
    assert response.json()[1] == {
        "pack": "studio",
        "currency": "eur",
        "purchases": 1,
        "gross_minor": 4999,
        "refunded_minor": 1000,
        "net_minor": 3999,
    }


def test_top_spenders_answers_the_engines_figure_up_to_the_limit(served: Served) -> None:
    response = served.http.get(
        "/v1/analytics/top_spenders", params={**RANGE, "limit": 2}, headers=served.admin
    )

    assert response.status_code == 200
    assert response.json() == served.expected("top_spenders", limit=2)
    assert response.json() == [
        {"account_id": "user_1", "events": 22, "credits": "86"},
        {"account_id": "user_2", "events": 1, "credits": "25"},
    ]


def test_guest_conversion_answers_the_engines_figure(served: Served) -> None:
    response = served.http.get("/v1/analytics/guest_conversion", params=RANGE, headers=served.admin)

    assert response.status_code == 200
    assert response.json() == served.expected("guest_conversion")
    assert response.json() == {"sessions": 3, "linked": 2, "rate": 2 / 3}


def test_welcome_usage_answers_the_engines_figure(served: Served) -> None:
    response = served.http.get("/v1/analytics/welcome_usage", params=RANGE, headers=served.admin)

    assert response.status_code == 200
    assert response.json() == served.expected("welcome_usage")
    assert response.json() == {
        "lots": 4,
        "granted": "150",
        "spent": "96",
        "expired": "30",
        "unused": "24",
        "spent_share": 0.64,
    }


def as_cells(data: Any) -> list[dict[str, str]]:
    """JSON items as CSV cells: every value as text, null as an empty cell."""
    items = data if isinstance(data, list) else [data]
    return [{k: "" if v is None else str(v) for k, v in item.items()} for item in items]


def get(served: Served, route: Route, headers: dict[str, str], **params: Any) -> httpx.Response:
    response: httpx.Response = served.http.get(
        route.path, params={**RANGE, **params}, headers={**served.admin, **headers}
    )
    return response


@pytest.mark.parametrize("route", ANALYTICS_ROUTES, ids=route_ids(ANALYTICS_ROUTES))
def test_figure_as_csv_equals_the_json_figure(served: Served, route: Route) -> None:
    figure = route.path.rsplit("/", 1)[1]
    data = get(served, route, {}).json()

    response = get(served, route, CSV)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="{figure}.csv"'
    reader = csv.DictReader(io.StringIO(response.text))
    assert list(reader) == as_cells(data)
    assert reader.fieldnames == list(as_cells(data)[0])


def test_empty_figure_as_csv_is_its_header_line_alone(served: Served) -> None:
    response = served.http.get(
        "/v1/analytics/revenue_by_pack",
        params={"since": "2025-01-01T00:00:00Z", "until": "2025-02-01T00:00:00Z"},
        headers={**served.admin, **CSV},
    )

    assert response.status_code == 200
    assert response.text == "pack,currency,purchases,gross_minor,refunded_minor,net_minor\r\n"


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("text/csv;q=0", "application/json"),
        ("text/csv; q=0.0, application/json", "application/json"),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        ("text/html, text/csv;q=0.5", "text/csv; charset=utf-8"),
        ("TEXT/CSV", "text/csv; charset=utf-8"),
    ],
)
def test_figure_answers_csv_only_when_accept_names_it(
    served: Served, accept: str, media_type: str
) -> None:
    route = ANALYTICS_ROUTES[0]

    response = get(served, route, {"Accept": accept})

    assert response.headers["content-type"] == media_type


@pytest.mark.parametrize("route", ANALYTICS_ROUTES, ids=route_ids(ANALYTICS_ROUTES))
def test_figure_answers_403_to_a_key_bound_to_one_account(served: Served, route: Route) -> None:
    response = get(served, route, served.bound)

    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert "user_2" not in response.text


def test_figures_refuse_a_bound_key_even_of_admin_scope() -> None:
    key = ApiKey(
        id=1,
        prefix="cg_test",
        scope=Scope.ADMIN,
        name="widget",
        account_id=AccountId("user_1"),
        created_at=START,
        revoked_at=None,
    )

    with pytest.raises(Forbidden, match="cannot read analytics"):
        every_account(key)


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"since": "2026-01-08T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until", None),
        ({"since": "2026-01-01T00:00:00Z", "until": "2027-01-03T00:00:00Z"}, "until", None),
        ({"since": "2026-01-01T00:00:00", "until": "2026-01-08T00:00:00Z"}, "since", None),
        ({"until": "2026-01-08T00:00:00Z"}, "since", "Field required"),
        ({"since": "2026-01-01T00:00:00Z", "until": "soon"}, "until", None),
    ],
    ids=["reversed", "longer_than_366_days", "naive", "missing", "not_a_time"],
)
@pytest.mark.parametrize("route", ANALYTICS_ROUTES, ids=route_ids(ANALYTICS_ROUTES))
def test_figure_answers_422_naming_the_field_when_the_range_is_bad(
    served: Served, route: Route, params: dict[str, str], field: str, reason: str | None
) -> None:
    response = served.http.get(route.path, params=params, headers=served.admin)

    assert (response.status_code, response.json()["code"]) == (422, "invalid_input")
    assert response.json()["field"] == field
    assert reason is None or response.json()["reason"] == reason


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_top_spenders_answers_422_when_the_limit_is_out_of_bounds(
    served: Served, limit: str
) -> None:
    response = served.http.get(
        "/v1/analytics/top_spenders", params={**RANGE, "limit": limit}, headers=served.admin
    )

    assert (response.status_code, response.json()["field"]) == (422, "limit")


def test_csv_quotes_an_account_id_a_spreadsheet_would_run_as_a_formula(
    engine: Engine, http: TestClient, keys: Keys
) -> None:
    for account_id in ("=HYPERLINK(1)", "-1", "user_1"):
        funded_account(engine, account_id, 10)
        engine.charge(account_id, 1)
    since = START.isoformat()
    until = (START + DAY).isoformat()

    response = http.get(
        "/v1/analytics/top_spenders",
        params={"since": since, "until": until},
        headers={**keys.header("admin"), **CSV},
    )

    assert [row["account_id"] for row in csv.DictReader(io.StringIO(response.text))] == [
        "'=HYPERLINK(1)",
        "'-1",
        "user_1",
    ]
