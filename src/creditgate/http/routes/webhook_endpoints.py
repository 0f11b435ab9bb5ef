"""Outgoing webhooks: the app's endpoints, their delivery logs, and manual redelivery.

Admin keys only: an endpoint hears the events of every account, so registering one is the
operator's decision, and its delivery log shows every account's events. A delivery is sent
by the worker (`creditgate worker`), signed with the endpoint's secret, which the service
shows once: when the endpoint is created and when its secret is rotated.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from creditgate.domain.errors import InvalidInput, WebhookDeliveryNotFound, WebhookEndpointNotFound
from creditgate.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from creditgate.http.deps import Admin, Engines
from creditgate.http.problems import documented
from creditgate.schemas import (
    WebhookDeliveryOut,
    WebhookDeliveryPage,
    WebhookEndpointCreatedOut,
    WebhookEndpointIn,
    WebhookEndpointOut,
    WebhookEndpointUpdateIn,
    WebhookSecretOut,
)

router = APIRouter(prefix="/v1", tags=["webhook endpoints"])

EndpointId = Annotated[int, Path(ge=1, le=2**63 - 1, examples=[1])]
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1, examples=[1])]


@router.get("/webhook-endpoints", responses=documented())
def webhook_endpoints(engine: Engines, key: Admin) -> list[WebhookEndpointOut]:
    """Every webhook endpoint, oldest first."""
    return [WebhookEndpointOut.of(e) for e in engine.webhook_endpoints()]


@router.post("/webhook-endpoints", responses=documented(InvalidInput))
def create_webhook_endpoint(
    body: WebhookEndpointIn, engine: Engines, key: Admin
) -> WebhookEndpointCreatedOut:
    """Send events to a URL, signed in the Standard Webhooks scheme.

    The answer carries the endpoint's signing secret (`whsec_…`) this once: the receiver
    verifies each delivery with it. The endpoint hears the events written from now on.
    """
    endpoint, secret = engine.create_webhook_endpoint(
        body.url, event_types=body.event_types, description=body.description
    )
    return WebhookEndpointCreatedOut(endpoint=WebhookEndpointOut.of(endpoint), secret=secret)


@router.get("/webhook-endpoints/{endpoint_id}", responses=documented(WebhookEndpointNotFound))
def get_webhook_endpoint(
    endpoint_id: EndpointId, engine: Engines, key: Admin
) -> WebhookEndpointOut:
    """One webhook endpoint: where it sends, what, and whether it is failing or disabled."""
    return WebhookEndpointOut.of(engine.get_webhook_endpoint(endpoint_id))


@router.patch(
    "/webhook-endpoints/{endpoint_id}", responses=documented(WebhookEndpointNotFound, InvalidInput)
)
def update_webhook_endpoint(
    endpoint_id: EndpointId, body: WebhookEndpointUpdateIn, engine: Engines, key: Admin
) -> WebhookEndpointOut:
    """Change an endpoint; absent fields stay.

    `is_enabled: true` enables an endpoint that was disabled after failing for too long:
    its waiting deliveries are tried at once, in each account's order.
    """
    return WebhookEndpointOut.of(
        engine.update_webhook_endpoint(
            endpoint_id,
            url=body.url,
            description=body.description,
            event_types=body.event_types,
            is_enabled=body.is_enabled,
        )
    )


@router.delete(
    "/webhook-endpoints/{endpoint_id}",
    status_code=204,
    responses=documented(WebhookEndpointNotFound),
)
def delete_webhook_endpoint(endpoint_id: EndpointId, engine: Engines, key: Admin) -> Response:
    """Stop sending to an endpoint and forget its deliveries (the events stay)."""
    engine.delete_webhook_endpoint(endpoint_id)
    return Response(status_code=204)


@router.post(
    "/webhook-endpoints/{endpoint_id}/rotate-secret",
    responses=documented(WebhookEndpointNotFound),
)
def rotate_webhook_secret(endpoint_id: EndpointId, engine: Engines, key: Admin) -> WebhookSecretOut:
    """Give the endpoint a new signing secret, shown this once; the old one stops at once."""
    return WebhookSecretOut(secret=engine.rotate_webhook_secret(endpoint_id))


@router.get(
    "/webhook-endpoints/{endpoint_id}/deliveries",
    responses=documented(WebhookEndpointNotFound),
)
def webhook_deliveries(
    endpoint_id: EndpointId,
    engine: Engines,
    key: Admin,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> WebhookDeliveryPage:
    """The endpoint's delivery log, newest first: each event, its status and its attempts.

    Pass `next_cursor` back as `cursor` for the next page.
    """
    return WebhookDeliveryPage.of(
        engine.webhook_deliveries(endpoint_id, limit=limit, cursor=cursor)
    )


@router.post(
    "/webhook-deliveries/{delivery_id}/redeliver",
    responses=documented(WebhookDeliveryNotFound),
)
def redeliver_webhook(delivery_id: DeliveryId, engine: Engines, key: Admin) -> WebhookDeliveryOut:
    """Send a delivery again, delivered or not: it is due now, in its account's order."""
    return WebhookDeliveryOut.of(engine.redeliver_webhook(delivery_id))
