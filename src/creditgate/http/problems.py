"""Domain errors as RFC 9457 problem details: one status table, read along the class tree.

A body is `application/problem+json` with `type` (a stable URI reference, `/problems/<code>`),
`title`, `status`, `detail`, `code` and the error's typed fields, which the client reads
back into an equal exception. No stack trace reaches a caller: an unexpected exception is
logged with the request id and answered as a bare 500.
"""

import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from creditgate.domain.errors import (
    Conflict,
    CreditgateError,
    Forbidden,
    GuestQuotaExceeded,
    InsufficientCredits,
    InvalidInput,
    NotFound,
    ProviderFailed,
    RateLimited,
    SignatureInvalid,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger("creditgate.http")

MEDIA_TYPE = "application/problem+json"

STATUS: dict[type[CreditgateError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    InsufficientCredits: 402,
    Unauthenticated: 401,
    Forbidden: 403,
    RateLimited: 429,
    GuestQuotaExceeded: 429,
    SignatureInvalid: 400,
    ProviderFailed: 502,
    Unavailable: 503,
    CreditgateError: 400,
}
"""The one table of statuses: an error takes the status of its nearest listed ancestor."""


def status_of(error: type[CreditgateError]) -> int:
    """The HTTP status of an error class, from its nearest ancestor in `STATUS`."""
    for cls in error.__mro__:
        if cls in STATUS:
            return STATUS[cls]
    raise AssertionError(f"{error.__name__} is not a CreditgateError")


def type_uri(code: str) -> str:
    """The stable `type` of a problem: a URI reference named for its code."""
    return f"/problems/{code}"


class ProblemDetails(BaseModel):
    """An RFC 9457 problem; the error's own fields (`required`, `field`, …) ride along."""

    model_config = {"extra": "allow"}
    type: str = Field(examples=["/problems/insufficient_credits"])
    title: str = Field(examples=["Insufficient credits"])
    status: int = Field(examples=[402])
    detail: str = Field(examples=["3 credits required, 1 available (2 short)"])
    code: str = Field(examples=["insufficient_credits"])
    request_id: str | None = None


def problem(
    status: int,
    *,
    code: str,
    title: str,
    detail: str,
    fields: dict[str, object] | None = None,
    headers: dict[str, str] | None = None,
    request_id: str | None = None,
) -> Response:
    """A problem response."""
    body: dict[str, Any] = {
        "type": type_uri(code),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **(fields or {}),
    }
    if request_id is not None:
        body["request_id"] = request_id
    return Response(
        json.dumps(body, default=_text, separators=(",", ":")),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def _text(value: object) -> str:
    """A field JSON has no type for: an instant in ISO 8601 (UTC as `Z`, as in bodies)."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def _request_id(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def from_error(error: CreditgateError, request_id: str | None = None) -> Response:
    """The problem response of a domain error."""
    headers = None
    if isinstance(error, Unauthenticated):
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(error, RateLimited | GuestQuotaExceeded):
        headers = {"Retry-After": str(error.retry_after_s)}
    return problem(
        status_of(type(error)),
        code=error.code,
        title=error.title,
        detail=error.detail,
        fields=error.fields(),
        headers=headers,
        request_id=request_id,
    )


_PLACES = ("body", "query", "path", "header", "cookie")

_ROW_ID_MAX = 2**63 - 1
"""The largest id a path takes: a row id is a signed 64-bit integer."""

_INTEGER_ERRORS = {
    "int_type",
    "int_parsing",
    "int_parsing_size",
    "int_from_float",
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
}
"""Pydantic's errors for a value that is not an integer within a parameter's bounds."""


def _field(error: Mapping[str, Any], body: object) -> str:
    """The field an error names, written as the caller wrote it.

    Pydantic's `loc` also names the branch of a union it tried (`int`, `TokenCountsWire`,
    `function-after[…]`): a part of a body's `loc` that the body does not hold is such a
    tag and is left out (the last part of a missing field excepted). A repeated query
    parameter carries no index on the wire, so its index is left out too (`kinds`, not
    `kinds.0`). A field named by the engine's own check (`quantity.input`) is taken as is.
    """
    loc = tuple(error.get("loc", ()))
    place, parts = (loc[0], loc[1:]) if loc and loc[0] in _PLACES else ("body", loc)
    kept: list[str] = []
    if place == "body":
        value: Any = body
        for index, part in enumerate(parts):
            held = (isinstance(value, dict) and part in value) or (
                isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
            )
            if held:
                value = value[part]
            elif not (index == len(parts) - 1 and error.get("type") == "missing"):
                continue  # a union's branch tag
            kept.append(str(part))
    else:
        kept = [str(part) for part in parts if not isinstance(part, int)]
    field = ".".join(kept) or "body"
    context = error.get("ctx") or {}
    judged = context.get("field") if error.get("type") == InvalidInput.code else None
    if isinstance(judged, str):
        parent, _, name = field.rpartition(".")
        if judged == name or judged.startswith(f"{name}."):
            return f"{parent}.{judged}" if parent else judged
    return field


def _bounds(request: Request, error: Mapping[str, Any]) -> tuple[int, int] | None:
    """The declared bounds of the integer path or query parameter an error names."""
    loc = tuple(error.get("loc", ()))
    route = request.scope.get("route")
    if len(loc) < 2 or loc[0] not in ("path", "query") or not isinstance(route, APIRoute):
        return None
    dependants = [route.dependant]
    while dependants:
        dependant = dependants.pop()
        dependants.extend(dependant.dependencies)
        params = dependant.path_params if loc[0] == "path" else dependant.query_params
        for param in params:
            if param.alias != loc[1] or param.field_info.annotation is not int:
                continue
            least = most = None
            for rule in param.field_info.metadata:
                least = getattr(rule, "ge", least)
                most = getattr(rule, "le", most)
            if isinstance(least, int) and isinstance(most, int):
                return least, most
    return None


def _reason(error: Mapping[str, Any], bounds: tuple[int, int] | None = None) -> str:
    """Why a value was refused, in the engine's words where the engine has words for it.

    The same bad input is refused by the engine embedded and by the service, and code
    written against either must see an equal `InvalidInput`: so a value judged by the
    engine's own check keeps its reason, an enum says `one of: …`, a flag `must be true or
    false`, and an integer parameter its range as the engine's checks of ids and limits
    word it. Anything else keeps Pydantic's message, without the "Value error, " that its
    validators' messages carry.
    """
    kind = error.get("type")
    context = error.get("ctx") or {}
    if kind == InvalidInput.code and "reason" in context:
        return str(context["reason"])
    if kind == "enum":
        allowed = re.findall(r"'([^']*)'", str(context.get("expected", "")))
        if allowed:
            return f"one of: {', '.join(allowed)}"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false"
    if kind in _INTEGER_ERRORS and bounds is not None:
        least, most = bounds
        if (least, most) == (1, _ROW_ID_MAX):
            return "must be a positive integer id"
        return f"an integer from {least} to {most}"
    return str(error.get("msg", "is invalid")).removeprefix("Value error, ")


async def _on_domain_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, CreditgateError)
    return from_error(error, _request_id(request))


async def _on_invalid_request(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    errors = error.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(
            400,
            code="malformed_body",
            title="Malformed body",
            detail="the body is not valid JSON",
            request_id=_request_id(request),
        )
    # One entry per field: the branches of a union each add an error for the same field.
    named: dict[str, str] = {}
    for each in errors or [{"loc": ("body",), "msg": "is invalid"}]:
        named.setdefault(_field(each, error.body), _reason(each, _bounds(request, each)))
    field, reason = next(iter(named.items()))
    return problem(
        422,
        code=InvalidInput.code,
        title=InvalidInput.title,
        detail=f"{field}: {reason}",
        fields={
            "field": field,
            "reason": reason,
            "errors": [{"field": f, "reason": r} for f, r in named.items()],
        },
        request_id=_request_id(request),
    )


async def _on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    # Starlette answers a body it cannot decode (bad UTF-8, say) with a bare 400.
    code = {400: "malformed_body", 404: "route_not_found", 405: "method_not_allowed"}.get(
        error.status_code, f"http_{error.status_code}"
    )
    return problem(
        error.status_code,
        code=code,
        title=str(error.detail),
        detail=str(error.detail),
        headers=dict(error.headers or {}),
        request_id=_request_id(request),
    )


def internal_error(request_id: str | None) -> Response:
    """The answer to a bug: a bare 500 that names the request, never the exception."""
    return problem(
        500,
        code="internal_error",
        title="Internal error",
        detail="the server failed; the request id names it in the server's log",
        request_id=request_id,
    )


async def _on_unexpected(request: Request, error: Exception) -> Response:
    request_id = _request_id(request)
    log.error("unexpected error", exc_info=error, extra={"request_id": request_id})
    return internal_error(request_id)


def install(app: FastAPI) -> None:
    """Answer every error of `app` as a problem."""
    app.add_exception_handler(CreditgateError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_invalid_request)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)


def documented(*errors: type[CreditgateError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the statuses these errors (and auth and validation) answer."""
    statuses = {400, 401, 403, 413, 415, 422, 429, *(status_of(e) for e in errors)}
    titles = {
        400: "The body is not valid JSON",
        401: "No valid API key",
        402: "Insufficient credits",
        403: "The key's scope is too low, or the account may not spend",
        413: "The body is larger than the service reads",
        415: "The body is not JSON",
        404: "Not found",
        409: "Conflict: an idempotency key reused, or a state that forbids the call",
        422: "Invalid input: the field at fault is named",
        429: "Too many requests: retry after `Retry-After` seconds",
        502: "The payment provider refused or failed the call",
        503: "Not configured or not reachable now: retry later",
    }
    return {
        status: {
            "model": ProblemDetails,
            "description": titles[status],
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
        for status in sorted(statuses)
    }
