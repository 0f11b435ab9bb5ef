"""The providers' webhook endpoints: verify on the raw body, then apply the event once.

No API key: a delivery proves itself by its signature. The answer is 200 with what the
event did (`applied`, `duplicate`, `no_change`, `recorded`, `mismatch`); a bad signature
is a 400 problem; an unexpected failure is a 500, which the provider retries, and the
event's claim was rolled back with the failed effect, so the retry applies it once.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from pydantic import SecretStr
from starlette.concurrency import run_in_threadpool

from creditgate.domain.errors import SignatureInvalid, Unavailable
from creditgate.domain.events import EventResult
from creditgate.engine import Engine
from creditgate.http.problems import documented
from creditgate.integrations import clerk_events, stripe_events
from creditgate.integrations.signatures import verify_stripe, verify_svix
from creditgate.schemas import EventResultOut
from creditgate.settings import Settings

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: answer
    for status, answer in documented(SignatureInvalid, Unavailable).items()
    if status in (400, 413, 415, 503)
}
"""No key: a delivery answers for its signature (400), its size and type, or a missing secret."""


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


async def _run(apply: Callable[[], EventResult]) -> EventResult:
    """Apply an event in a worker thread: the engine's calls block on the database."""
    return await run_in_threadpool(apply)


@router.post("/stripe", responses=_PROBLEMS)
async def stripe_webhook(
    request: Request,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> EventResultOut:
    """A Stripe event: a checkout paid or failed, a refund, a dispute."""
    settings: Settings = request.app.state.settings
    body = await request.body()
    data = verify_stripe(
        body,
        stripe_signature,
        _secret(settings.stripe_webhook_secret),
        tolerance_s=settings.webhook_tolerance_s,
    )
    engine: Engine = request.app.state.engine
    return EventResultOut.of(await _run(lambda: stripe_events.handle(engine, data)))


@router.post("/clerk", responses=_PROBLEMS)
async def clerk_webhook(request: Request) -> EventResultOut:
    """A Clerk event, delivered by Svix: `user.created` and `user.deleted`."""
    settings: Settings = request.app.state.settings
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    data = verify_svix(body, headers, _secret(settings.clerk_webhook_secret), provider="clerk")
    engine: Engine = request.app.state.engine
    message_id = headers["svix-id"]
    return EventResultOut.of(await _run(lambda: clerk_events.handle(engine, message_id, data)))
