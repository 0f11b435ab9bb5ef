"""The drop-in widgets: their script, their tokens, and the few reads they make.

An app's back end mints a token with its API key (`POST /v1/widget-tokens`) and puts it in
the page; the widgets send it as `Authorization: Bearer cgw.…`. A token reads its own
account and nothing else, and its only write is starting a checkout that returns to the
URLs the back end chose. Browsers on the origins in `CREDITGATE_WIDGET_ORIGINS` may call
these routes (CORS); the API's other routes stay closed to pages.
"""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from creditgate.domain.errors import (
    AccountNotFound,
    FeatureNotFound,
    Forbidden,
    InvalidInput,
    PackNotFound,
    ProviderFailed,
    Unavailable,
)
from creditgate.domain.widgets import WidgetClaims
from creditgate.http.deps import Admin, Engines, Widget, Writer, reach
from creditgate.http.problems import documented
from creditgate.http.routes.packs import pack_checkout
from creditgate.integrations.stripe_gateway import StripeGateway
from creditgate.schemas import (
    CheckoutOut,
    CostsOut,
    PackOut,
    WidgetBalanceOut,
    WidgetCheckoutIn,
    WidgetKeysRotatedOut,
    WidgetTokenIn,
    WidgetTokenOut,
)

SCRIPT = Path(__file__).parent.parent / "static" / "widgets.js"
"""The web components, shipped in the package: no build step, no third-party script."""

router = APIRouter(prefix="/v1", tags=["widgets"])
script_router = APIRouter(include_in_schema=False)


def _account(claims: WidgetClaims) -> str:
    if claims.account_id is None:
        raise Forbidden("this widget token is a guest's: it reads no account")
    return claims.account_id


@script_router.get("/widgets.js")
def script() -> FileResponse:
    """The script that defines `<creditgate-balance>`, `-cost`, `-model-picker`, `-packs`."""
    return FileResponse(
        SCRIPT,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.post("/widget-tokens", responses=documented(AccountNotFound, InvalidInput))
def mint_widget_token(body: WidgetTokenIn, engine: Engines, key: Writer) -> WidgetTokenOut:
    """Mint a short-lived token for one account's widgets (no `account_id`: a guest's).

    Call it from the app's back end for each page and put the token in the page; the
    widgets read that account with it and nothing else. With `success_url` and
    `cancel_url`, the pack dialog may start a checkout that returns there.
    """
    account_id = None if body.account_id is None else reach(key, body.account_id)
    return WidgetTokenOut.of(
        engine.mint_widget_token(
            account_id,
            ttl_s=body.ttl_s,
            success_url=body.success_url,
            cancel_url=body.cancel_url,
        )
    )


@router.post("/widget-keys/rotate", responses=documented())
def rotate_widget_keys(engine: Engines, key: Admin) -> WidgetKeysRotatedOut:
    """Retire the keys that sign widget tokens: every token minted so far stops working."""
    return WidgetKeysRotatedOut(retired=engine.rotate_widget_keys())


@router.get("/widget/balance", responses=documented(AccountNotFound, Forbidden))
def widget_balance(engine: Engines, claims: Widget) -> WidgetBalanceOut:
    """The token's account: balance, held, available, and its level against its low line."""
    return WidgetBalanceOut.of(engine.widget_balance(_account(claims)))


@router.get("/widget/costs", responses=documented(AccountNotFound, FeatureNotFound, InvalidInput))
def widget_costs(
    engine: Engines,
    claims: Widget,
    feature: str,
    models: Annotated[list[str] | None, Query()] = None,
    quantity: int | None = None,
) -> CostsOut:
    """A feature's cost per model, each `sufficient`, `low`, `insufficient` or `guest`."""
    return CostsOut.of(
        engine.widget_costs(
            claims.account_id, feature, models=tuple(models or ()), quantity=quantity
        )
    )


@router.get("/widget/packs", responses=documented())
def widget_packs(engine: Engines, claims: Widget) -> list[PackOut]:
    """The packs a person can buy, in the purchase page's order (free packs are claimed)."""
    return [PackOut.of(p) for p in engine.packs() if not p.is_free_once]


@router.post(
    "/widget/checkout",
    responses=documented(
        AccountNotFound, PackNotFound, Forbidden, InvalidInput, ProviderFailed, Unavailable
    ),
)
def widget_checkout(
    body: WidgetCheckoutIn, request: Request, engine: Engines, claims: Widget
) -> CheckoutOut:
    """Open a checkout of a pack for the token's account; send the person to `url`."""
    account_id = _account(claims)
    if claims.success_url is None or claims.cancel_url is None:
        raise Forbidden("this widget token was minted without success_url and cancel_url")
    gateway: StripeGateway = request.app.state.stripe
    return pack_checkout(
        engine,
        gateway,
        account_id,
        body.pack,
        success_url=claims.success_url,
        cancel_url=claims.cancel_url,
    )
