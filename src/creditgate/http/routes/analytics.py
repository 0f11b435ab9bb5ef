"""Usage analytics: one figure per route, over [since, until), as JSON or as CSV.

Each route answers JSON unless the request's `Accept` header names `text/csv` (with a
non-zero q): then the same figure as CSV, one header line of the JSON's field names and
one line per JSON item, rendered by `creditgate.csv_export` (which the admin console's
downloads share). Content negotiation rather than a `.csv` path keeps one route, one scope
and one test per figure.

The figures span every account, so they need an admin key, which is bound to no account:
a key bound to one account is refused with 403, whatever its scope.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from creditgate.csv_export import MEDIA_TYPE, attachment, models_csv
from creditgate.domain.errors import Forbidden, InvalidInput
from creditgate.domain.keys import ApiKey
from creditgate.domain.limits import TOP_ACCOUNTS_DEFAULT, TOP_ACCOUNTS_MAX
from creditgate.http.deps import Admin, Engines
from creditgate.http.problems import documented
from creditgate.schemas import (
    AccountSpendOut,
    FeatureSpendOut,
    GuestConversionOut,
    ModelGenerationsOut,
    ModelLatencyOut,
    ModelSpendOut,
    PackRevenueOut,
    SourceGrantsOut,
    WelcomeUsageOut,
)

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])

CSV = "text/csv"

Since = Annotated[
    datetime,
    Query(
        description="The range's start, included: ISO 8601 with its zone.",
        examples=["2026-01-01T00:00:00Z"],
    ),
]
Until = Annotated[
    datetime,
    Query(
        description="The range's end, excluded: after `since`, at most 366 days after it.",
        examples=["2026-02-01T00:00:00Z"],
    ),
]


def _responses() -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": "The figure as JSON, or as CSV when `Accept: text/csv` is sent.",
            "content": {CSV: {"schema": {"type": "string"}}},
        },
        **documented(Forbidden, InvalidInput),
    }


def every_account(key: ApiKey) -> None:
    """Refuse a key bound to one account: every figure covers every account.

    An admin key is never bound today (the key verbs refuse to make one), so the scope
    check refuses every bound key first; this keeps the figures closed to bound keys
    should that rule ever change.

    Raises:
        Forbidden: the key is bound to one account.
    """
    if key.account_id is not None:
        raise Forbidden("a key bound to one account cannot read analytics: they cover every one")


def _quality(params: Sequence[str]) -> float:
    """A media range's `q` (1 when absent; 0, refused, when unreadable)."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def wants_csv(accept: str) -> bool:
    """Whether an `Accept` header names `text/csv` with a q above zero."""
    for media_range in accept.split(","):
        media, *params = media_range.split(";")
        if media.strip().lower() == CSV and _quality(params) > 0:
            return True
    return False


def _answer(
    request: Request, figure: str, out: type[BaseModel], found: Sequence[BaseModel] | BaseModel
) -> Response:
    if wants_csv(request.headers.get("accept", "")):
        return Response(models_csv(out, found), media_type=MEDIA_TYPE, headers=attachment(figure))
    if isinstance(found, BaseModel):
        return JSONResponse(found.model_dump(mode="json"))
    return JSONResponse([item.model_dump(mode="json") for item in found])


@router.get("/spend_by_feature", response_model=list[FeatureSpendOut], responses=_responses())
def spend_by_feature(
    request: Request, engine: Engines, key: Admin, since: Since, until: Until
) -> Response:
    """Credits spent per UTC day and feature (usage events that succeeded)."""
    every_account(key)
    found = engine.spend_by_feature(since=since, until=until)
    return _answer(
        request, "spend_by_feature", FeatureSpendOut, [FeatureSpendOut.of(f) for f in found]
    )


@router.get("/spend_by_model", response_model=list[ModelSpendOut], responses=_responses())
def spend_by_model(
    request: Request, engine: Engines, key: Admin, since: Since, until: Until
) -> Response:
    """Credits spent per UTC day and model (usage events that succeeded)."""
    every_account(key)
    found = engine.spend_by_model(since=since, until=until)
    return _answer(request, "spend_by_model", ModelSpendOut, [ModelSpendOut.of(f) for f in found])


@router.get(
    "/generations_by_model", response_model=list[ModelGenerationsOut], responses=_responses()
)
def generations_by_model(
    request: Request, engine: Engines, key: Admin, since: Since, until: Until
) -> Response:
    """Usage events by model and outcome, with each model's failure rate."""
    every_account(key)
    found = engine.generations_by_model(since=since, until=until)
    rows = [ModelGenerationsOut.of(f) for f in found]
    return _answer(request, "generations_by_model", ModelGenerationsOut, rows)


@router.get("/latency_by_model", response_model=list[ModelLatencyOut], responses=_responses())
def latency_by_model(
    request: Request, engine: Engines, key: Admin, since: Since, until: Until
) -> Response:
    """Mean and nearest-rank p95 latency of each model's successful events."""
    every_account(key)
    found = engine.latency_by_model(since=since, until=until)
    rows = [ModelLatencyOut.of(f) for f in found]
    return _answer(request, "latency_by_model", ModelLatencyOut, rows)


@router.get("/grants_by_source", response_model=list[SourceGrantsOut], responses=_responses())
def grants_by_source(
    request: Request, engine: Engines, key: Admin, since: Since, until: Until
) -> Response:
    """Credits granted by lot source (welcome, plan cycle, purchase, promo, ...)."""
    every_account(key)
    found = engine.grants_by_source(since=since, until=until)
    rows = [SourceGrantsOut.of(f) for f in found]
    return _answer(request, "grants_by_source", SourceGrantsOut, rows)


@router.get("/revenue_by_pack", response_model=list[PackRevenueOut], responses=_responses())
def revenue_by_pack(
    request: Request, engine: Engines, key: Admin, since: Since, until: Until
) -> Response:
    """Paid purchases of packs by pack and currency, in minor units, dated by payment."""
    every_account(key)
    found = engine.revenue_by_pack(since=since, until=until)
    rows = [PackRevenueOut.of(f) for f in found]
    return _answer(request, "revenue_by_pack", PackRevenueOut, rows)


@router.get("/top_spenders", response_model=list[AccountSpendOut], responses=_responses())
def top_spenders(
    request: Request,
    engine: Engines,
    key: Admin,
    since: Since,
    until: Until,
    limit: Annotated[
        int, Query(ge=1, le=TOP_ACCOUNTS_MAX, description="How many accounts to list.")
    ] = TOP_ACCOUNTS_DEFAULT,
) -> Response:
    """The accounts that spent the most credits, most first (ties: the older account)."""
    every_account(key)
    found = engine.top_spenders(since=since, until=until, limit=limit)
    rows = [AccountSpendOut.of(f) for f in found]
    return _answer(request, "top_spenders", AccountSpendOut, rows)


@router.get("/guest_conversion", response_model=GuestConversionOut, responses=_responses())
def guest_conversion(
    request: Request, engine: Engines, key: Admin, since: Since, until: Until
) -> Response:
    """Guest sessions first seen in the range, and how many have signed up since."""
    every_account(key)
    found = engine.guest_conversion(since=since, until=until)
    return _answer(request, "guest_conversion", GuestConversionOut, GuestConversionOut.of(found))


@router.get("/welcome_usage", response_model=WelcomeUsageOut, responses=_responses())
def welcome_usage(
    request: Request, engine: Engines, key: Admin, since: Since, until: Until
) -> Response:
    """What became of the welcome credits granted in the range: spent, expired, unused."""
    every_account(key)
    found = engine.welcome_usage(since=since, until=until)
    return _answer(request, "welcome_usage", WelcomeUsageOut, WelcomeUsageOut.of(found))
