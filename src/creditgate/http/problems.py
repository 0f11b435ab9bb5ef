"""Domain errors as RFC 9457 problem details: one status table, read along the class tree.

A body is `application/problem+json` with `type` (a stable URI reference, `/problems/<code>`),
`title`, `status`, `detail`, `code` and the error's typed fields, which the client reads
back into an equal exception. No stack trace reaches a caller: an unexpected exception is
logged with the request id and answered as a bare 500.
"""

import json
import logging
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
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


def _field(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _reason(error: Any) -> str:
    """Pydantic's message, without the "Value error, " its own validators' messages carry."""
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
    first = errors[0] if errors else {"loc": ("body",), "msg": "is invalid"}
    field = _field(tuple(first.get("loc", ())))
    reason = _reason(first)
    return problem(
        422,
        code=InvalidInput.code,
        title=InvalidInput.title,
        detail=f"{field}: {reason}",
        fields={
            "field": field,
            "reason": reason,
            "errors": [{"field": _field(tuple(e["loc"])), "reason": _reason(e)} for e in errors],
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
