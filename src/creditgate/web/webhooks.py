"""Outgoing webhooks: the endpoints, one endpoint's delivery log, and their forms.

An endpoint's signing secret is shown once, on the page that answers its creation or its
rotation, and never again (the engine does not give it back). The log is the engine's page
of deliveries, newest first, with a link to the older ones.
"""

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from creditgate.domain.errors import CreditgateError, Forbidden
from creditgate.domain.webhooks import ALL_EVENTS, EventType, WebhookEndpoint
from creditgate.web.console import (
    Admin,
    engine_of,
    page,
    read_form,
    refused,
    router,
    see,
)
from creditgate.web.sessions import Session

EVENT_FIELD = "event:"
"""Each event type is its own checkbox, `event:<type>`: the console reads one value a name."""

EVENT_CHOICES = (ALL_EVENTS, *(t.value for t in EventType))
"""What an endpoint may listen to, in the order the forms offer it."""


def _event_types(fields: dict[str, str]) -> list[str]:
    """The checked event types; none checked is left to the engine to refuse."""
    return [name.removeprefix(EVENT_FIELD) for name in fields if name.startswith(EVENT_FIELD)]


def _secret_page(
    request: Request, session: Session, endpoint: WebhookEndpoint, secret: str, heading: str
) -> HTMLResponse:
    # The secret is in this response only: never in a URL, never stored, never cached.
    context = {"endpoint": endpoint, "secret": secret, "heading": heading}
    response = page(request, "webhook_secret.html", session, context)
    response.headers["Cache-Control"] = "no-store"
    return response


def _webhooks_page(
    request: Request, session: Session, error: CreditgateError | None = None
) -> HTMLResponse:
    context = {
        "endpoints": engine_of(request).webhook_endpoints(),
        "choices": EVENT_CHOICES,
        "error": error,
    }
    return page(request, "webhooks.html", session, context)


def _webhook_page(
    request: Request,
    session: Session,
    endpoint_id: int,
    *,
    cursor: str | None = None,
    error: CreditgateError | None = None,
) -> HTMLResponse:
    engine = engine_of(request)
    try:
        context = {
            "endpoint": engine.get_webhook_endpoint(endpoint_id),
            "deliveries": engine.webhook_deliveries(endpoint_id, cursor=cursor),
            "choices": EVENT_CHOICES,
            "is_first_page": cursor is None,
            "error": error,
        }
    except CreditgateError as missing:
        return refused(request, missing)
    return page(request, "webhook.html", session, context)


@router.get("/webhooks")
def webhooks(request: Request, session: Admin) -> HTMLResponse:
    """Every webhook endpoint, and the form that adds one."""
    return _webhooks_page(request, session)


@router.post("/webhooks", response_model=None)
async def create_webhook(request: Request, session: Admin) -> Response:
    """Add an endpoint and show its signing secret on this page only."""
    try:
        fields = await read_form(request, session)
        endpoint, secret = engine_of(request).create_webhook_endpoint(
            fields.get("url", "").strip(),
            event_types=_event_types(fields),
            description=fields.get("description", "").strip() or None,
        )
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _webhooks_page(request, session, error)
    return _secret_page(request, session, endpoint, secret, "Webhook endpoint created")


@router.get("/webhooks/{endpoint_id}")
def webhook(request: Request, session: Admin, endpoint_id: int, cursor: str = "") -> HTMLResponse:
    """One endpoint: its settings, its forms and its delivery log."""
    return _webhook_page(request, session, endpoint_id, cursor=cursor or None)


@router.post("/webhooks/{endpoint_id}", response_model=None)
async def update_webhook(request: Request, session: Admin, endpoint_id: int) -> Response:
    """Change the URL, the description, the event types and whether the endpoint is active.

    An empty description keeps the one it has: the engine has no way to clear it.
    """
    try:
        fields = await read_form(request, session)
        engine_of(request).update_webhook_endpoint(
            endpoint_id,
            url=fields.get("url", "").strip(),
            description=fields.get("description", "").strip() or None,
            event_types=_event_types(fields),
            is_enabled=fields.get("is_enabled") == "true",
        )
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _webhook_page(request, session, endpoint_id, error=error)
    return see(f"/admin/webhooks/{endpoint_id}", "endpoint updated")


@router.post("/webhooks/{endpoint_id}/secret", response_model=None)
async def rotate_webhook_secret(request: Request, session: Admin, endpoint_id: int) -> Response:
    """A new signing secret, shown on this page only; the old one stops now."""
    try:
        await read_form(request, session)
        engine = engine_of(request)
        endpoint = engine.get_webhook_endpoint(endpoint_id)
        secret = engine.rotate_webhook_secret(endpoint_id)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _webhook_page(request, session, endpoint_id, error=error)
    return _secret_page(request, session, endpoint, secret, "Signing secret rotated")


@router.post("/webhooks/{endpoint_id}/delete", response_model=None)
async def delete_webhook(request: Request, session: Admin, endpoint_id: int) -> Response:
    """Stop sending to the endpoint and forget its deliveries."""
    try:
        await read_form(request, session)
        engine_of(request).delete_webhook_endpoint(endpoint_id)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _webhook_page(request, session, endpoint_id, error=error)
    return see("/admin/webhooks", f"endpoint {endpoint_id} deleted")


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver", response_model=None)
async def redeliver_webhook(
    request: Request, session: Admin, endpoint_id: int, delivery_id: int
) -> Response:
    """Send a delivery again, due now with a fresh backoff, delivered or not."""
    try:
        await read_form(request, session)
        delivery = engine_of(request).redeliver_webhook(delivery_id)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _webhook_page(request, session, endpoint_id, error=error)
    return see(f"/admin/webhooks/{delivery.endpoint_id}", f"delivery {delivery.id} is due now")
