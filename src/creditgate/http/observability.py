"""Request ids, JSON logs, Prometheus metrics and the body guard: one ASGI middleware.

A plain ASGI middleware rather than Starlette's `BaseHTTPMiddleware`, which would copy
every response body through a second task: this one only watches the messages go by.

- Request id: the caller's `X-Request-ID` when it is short and printable, otherwise a new
  one; it is echoed in the response header, in problem bodies and in every log line.
- Body guard: a body larger than the limit answers 413, and a body that is not JSON
  answers 415, before any route reads it.
- Metrics: requests and latencies by route template (never by raw path, whose ids would
  explode the series), charges, 402s; pending holds are counted when scraped. With several
  workers, `PROMETHEUS_MULTIPROC_DIR` makes every worker's figures add up.
"""

import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from creditgate.http.problems import internal_error, problem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_REQUEST_ID_LENGTH_MAX = 200

REQUESTS = Counter(
    "creditgate_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "creditgate_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
CHARGES = Counter("creditgate_charges_total", "Charges that took credits")
REFUSALS = Counter("creditgate_insufficient_credits_total", "Spends answered 402")

log = logging.getLogger("creditgate.http")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the request's fields."""

    _fields = ("request_id", "method", "path", "status", "duration_ms", "key_prefix")

    def format(self, record: logging.LogRecord) -> str:  # noqa: D102
        line: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self._fields:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(level: str) -> None:
    """Send creditgate's and uvicorn's logs to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    for name in ("creditgate", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # The middleware logs each request with its id; uvicorn's access line would repeat it.
    logging.getLogger("uvicorn.access").disabled = True


def _request_id(scope: Scope) -> str:
    text = _header(scope, b"x-request-id")
    if text is not None and 0 < len(text) <= _REQUEST_ID_LENGTH_MAX and text.isprintable():
        return text
    return uuid.uuid4().hex


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class _TooLarge(Exception):
    pass


class _Overflow:
    """Whether the body grew past the limit while the app read it."""

    happened = False


class Observed:
    """The middleware: request id, body guard, metrics and one log line per request."""

    def __init__(self, app: ASGIApp, *, body_bytes_max: int) -> None:
        self.app = app
        self.body_bytes_max = body_bytes_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection's request, watched."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        is_started = False
        overflow = _Overflow()
        refusal = await self._refusal(scope, request_id)

        async def sending(message: Message) -> None:
            nonlocal status, is_started
            if message["type"] == "http.response.start":
                status = message["status"]
                is_started = True
                message.setdefault("headers", [])
                message["headers"].append((b"x-request-id", request_id.encode("latin-1")))
            await send(message)

        async def answering(message: Message) -> None:
            # A body that overflowed while the app read it gets our 413, whatever the app
            # made of the interrupted read (FastAPI calls it "error parsing the body").
            if not overflow.happened:
                await sending(message)
            elif message["type"] == "http.response.start":
                await self._too_large(request_id)(scope, receive, sending)

        try:
            if refusal is not None:
                await refusal(scope, receive, sending)
            else:
                await self.app(scope, self._bounded(receive, overflow), answering)
        except Exception as error:
            if is_started:
                raise
            await self._rescue(error, overflow, request_id)(scope, receive, sending)
        finally:
            self._observe(scope, status, time.perf_counter() - started, request_id)

    async def _refusal(self, scope: Scope, request_id: str) -> ASGIApp | None:
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return None
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.body_bytes_max:
            return self._too_large(request_id)
        if length == "0":
            return None
        # The admin console's pages post HTML forms; every API route takes JSON.
        is_form_page = scope["path"].startswith("/admin/")
        if not is_form_page and not _is_json(_header(scope, b"content-type")):
            return problem(
                415,
                code="unsupported_media_type",
                title="Unsupported media type",
                detail="send the body as application/json",
                request_id=request_id,
            )
        return None

    def _rescue(self, error: Exception, overflow: "_Overflow", request_id: str) -> ASGIApp:
        """The answer to an exception that escaped the app before it answered."""
        if overflow.happened:
            return self._too_large(request_id)
        # Answered here, inside this middleware, so the 500 carries the request id too.
        log.error("unexpected error", exc_info=error, extra={"request_id": request_id})
        return internal_error(request_id)

    def _too_large(self, request_id: str) -> ASGIApp:
        return problem(
            413,
            code="body_too_large",
            title="Body too large",
            detail=f"a body is at most {self.body_bytes_max} bytes",
            request_id=request_id,
        )

    def _bounded(self, receive: Receive, overflow: "_Overflow") -> Receive:
        """Count the body as it arrives: a chunked body has no length to check up front."""
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.body_bytes_max:
                    overflow.happened = True
                    raise _TooLarge
            return message

        return bounded

    def _observe(self, scope: Scope, status: int, elapsed_s: float, request_id: str) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        REQUESTS.labels(method, template, str(status)).inc()
        LATENCY.labels(method, template).observe(elapsed_s)
        if template == "/v1/accounts/{account_id}/charge" and status == 200:
            CHARGES.inc()
        if status == 402:
            REFUSALS.inc()
        log.info(
            "%s %s %d",
            method,
            scope["path"],
            status,
            extra={
                "request_id": request_id,
                "method": method,
                "path": scope["path"],
                "status": status,
                "duration_ms": round(elapsed_s * 1000, 3),
                "key_prefix": scope.get("state", {}).get("key_prefix"),
            },
        )


class PendingHolds(Collector):
    """The pending-holds gauge, read from the database when Prometheus scrapes."""

    def __init__(self, count: Callable[[], int]) -> None:
        self.count = count

    def collect(self) -> Any:  # noqa: D102
        gauge = GaugeMetricFamily("creditgate_holds_pending", "Holds pending now")
        gauge.add_metric([], self.count())
        yield gauge


def exposition(pending: Callable[[], int]) -> bytes:
    """The metrics text: this process's (or every worker's) counters, and pending holds."""
    registry = REGISTRY
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    gauges = CollectorRegistry()
    gauges.register(PendingHolds(pending))
    return generate_latest(registry) + generate_latest(gauges)
