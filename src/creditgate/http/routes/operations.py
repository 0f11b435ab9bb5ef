"""Health, readiness, metrics, and the operator's passes: expiry and verify."""

from fastapi import APIRouter, Response

from creditgate.http.deps import Admin, Engines
from creditgate.http.observability import exposition
from creditgate.http.problems import documented, problem
from creditgate.schemas import ExpirePassOut, VerifyReportOut

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Alive: the process answers. It does not touch the database."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database is unreachable or behind"}})
def readyz(engine: Engines) -> Response:
    """Ready: the database answers and its schema is at this version's head."""
    if engine.is_ready():
        return Response('{"status":"ready"}', media_type="application/json")
    return problem(
        503,
        code="not_ready",
        title="Not ready",
        detail="the database is unreachable or its schema is not at head",
    )


@router.get("/metrics", response_class=Response)
def metrics(engine: Engines) -> Response:
    """Prometheus metrics: requests, latencies, charges, 402s and pending holds."""
    return Response(exposition(engine.pending_holds), media_type="text/plain; version=0.0.4")


@router.post("/v1/expire", responses=documented(), tags=["operations"])
def expire(engine: Engines, key: Admin) -> ExpirePassOut:
    """Write the entries of every lot and hold that has fallen due (the expiry pass)."""
    return ExpirePassOut.of(engine.expire())


@router.get("/v1/verify", responses=documented(), tags=["operations"])
def verify(engine: Engines, key: Admin) -> VerifyReportOut:
    """Recompute every account from entries, lots and holds; report each mismatch."""
    return VerifyReportOut.of(engine.verify())
